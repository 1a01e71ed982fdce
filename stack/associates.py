"""`omni token --role associate`: the associates registry's side of it (issue 14).

An associate token must name a registered, active associate. With
`--associate-id` the token is minted for that associate (their home store
from the registry when `--store-id` is not given); without it, a development
associate of the store (`dev-associate-<store>`) is registered first, as an
admin of the running stack, so the token it prints is accepted."""

from __future__ import annotations

import grpc

from omni.orders.v1 import orders_pb2, orders_pb2_grpc
from services.common.channels import channel_credentials, tls_from_env
from services.common.identity import CallerIdentity, Role, identified_sync_channel

REGISTRAR = CallerIdentity(sub="omni-token", role=Role.ADMIN)


def development_associate_id(store_id: str) -> str:
    return f"dev-associate-{store_id}"


def _orders(
    address: str, identity_key: bytes
) -> tuple[grpc.Channel, orders_pb2_grpc.OrdersServiceStub]:
    tls = tls_from_env()
    plain = (
        grpc.insecure_channel(address)
        if tls is None
        else grpc.secure_channel(address, channel_credentials(tls))
    )
    channel = identified_sync_channel(plain, REGISTRAR, identity_key)
    return channel, orders_pb2_grpc.OrdersServiceStub(channel)


def register_development_associate(
    address: str, identity_key: bytes, store_id: str, timeout: float = 10.0
) -> orders_pb2.Associate:
    """Registers (or finds) the store's development associate."""
    channel, orders = _orders(address, identity_key)
    with channel:
        reply = orders.CreateAssociate(
            orders_pb2.CreateAssociateRequest(
                associate=orders_pb2.Associate(
                    associate_id=development_associate_id(store_id),
                    name=f"Development associate ({store_id})",
                    store_id=store_id,
                )
            ),
            timeout=timeout,
        )
    return reply.associate


def registered_associate(
    address: str, identity_key: bytes, associate_id: str, timeout: float = 10.0
) -> orders_pb2.Associate:
    """The registry's record (grpc.RpcError NOT_FOUND for an unknown id)."""
    channel, orders = _orders(address, identity_key)
    with channel:
        reply = orders.GetAssociate(
            orders_pb2.GetAssociateRequest(associate_id=associate_id), timeout=timeout
        )
    return reply.associate


def registered_associate_token(
    gateway_url: str, store_id: str, channel: str = "pos", associate_id: str = ""
) -> str:
    """For tests and benchmarks against a harness stack: registers an
    associate of `store_id` through the admin API (a new one unless
    `associate_id` is given) and returns a token naming them. A 502/503/504
    (a service restarting: the fault suite kills them) or a dropped
    connection is tried again with the same key for up to a minute; the same
    registration again answers 200."""
    import uuid

    import httpx

    from stack.harness import token
    from stack.http_retry import ride_out

    associate_id = associate_id or f"assoc-{uuid.uuid4().hex[:10]}"
    headers = {"Authorization": "Bearer " + token("admin"), "Idempotency-Key": str(uuid.uuid4())}
    body = {"associate_id": associate_id, "name": f"Associate {associate_id}", "store_id": store_id}
    response = ride_out(
        lambda: httpx.post(gateway_url + "/v1/associates", json=body, headers=headers, timeout=30)
    )
    if response.status_code not in (200, 201):
        raise RuntimeError(f"could not register associate {associate_id}: {response.text}")
    return token("associate", sub=associate_id, store_id=store_id, channel=channel)
