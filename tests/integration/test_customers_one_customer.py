"""One customer everywhere, on the real service and database: merge, timeline,
cart versions, loyalty, notifications, export and erasure."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import grpc
import pytest

from omni.customers.v1 import customers_pb2, customers_pb2_grpc
from omni.words import (
    ActivityKind,
    Channel,
    ContactChannel,
    IdentityKind,
    LoyaltyReason,
    NotificationKind,
    NotificationStatus,
    TimelineEventKind,
)
from services.common.grpc_errors import describe_rpc_error
from services.common.identity import CallerIdentity, Role
from tests.support.identity import signed_metadata, trusted_channel
from tests.support.ports import free_port
from tests.support.processes import start_module, stop_process, wait_grpc_healthy

Stub = customers_pb2_grpc.CustomersServiceStub
pb = customers_pb2


@pytest.fixture(scope="module")
def database_url(migrated_database: Callable[[str], str]) -> str:
    return migrated_database("customers")


@pytest.fixture(scope="module")
def customers_address(database_url: str, logs_dir: Path) -> Iterator[str]:
    port = free_port()
    process = start_module(
        "services.customers.main",
        {"DATABASE_URL": database_url, "GRPC_PORT": str(port), "CART_REMINDERS": "false"},
        logs_dir / "customers-one.log",
    )
    try:
        address = f"127.0.0.1:{port}"
        wait_grpc_healthy(address, process)
        yield address
    finally:
        stop_process(process)


@pytest.fixture
async def customers(customers_address: str) -> AsyncIterator[Stub]:
    async with trusted_channel(customers_address) as channel:
        yield customers_pb2_grpc.CustomersServiceStub(channel)


async def new_customer(customers: Stub, name: str = "Ada Shopper", **fields: Any) -> str:
    email = fields.pop("email", f"one.{uuid.uuid4().hex[:10]}@example.com")
    reply = await customers.CreateCustomer(
        pb.CreateCustomerRequest(email=email, name=name, **fields)
    )
    return str(reply.customer.customer_id)


def event(kind: str, reference: str, amount_minor: int = 0, **details: str) -> pb.TimelineEvent:
    return pb.TimelineEvent(
        event_id=f"{reference}/{kind}",
        kind=TimelineEventKind(kind).to_proto(),
        reference_id=reference,
        order_id=reference,
        channel=Channel.WEB.to_proto(),
        summary=kind,
        amount_minor=amount_minor,
        currency="USD",
        details=details,
    )


async def record(customers: Stub, customer_id: str, item: pb.TimelineEvent) -> bool:
    reply = await customers.RecordTimelineEvent(
        pb.RecordTimelineEventRequest(customer_id=customer_id, event=item)
    )
    return bool(reply.recorded)


async def put_cart(
    customers: Stub, customer_id: str, lines: dict[str, int], expected: int | None = None
) -> pb.Cart:
    reply = await customers.PutCart(
        pb.PutCartRequest(
            customer_id=customer_id,
            lines=[pb.CartLine(sku=sku, quantity=q) for sku, q in lines.items()],
            channel=Channel.WEB.to_proto(),
            expected_version=expected or 0,
            check_version=expected is not None,
        )
    )
    return reply.cart


async def profile(customers: Stub, customer_id: str) -> pb.Customer:
    return (await customers.GetCustomer(pb.GetCustomerRequest(customer_id=customer_id))).customer


def lines_of(cart: pb.Cart) -> dict[str, int]:
    return {line.sku: line.quantity for line in cart.lines}


async def test_the_same_event_recorded_twice_appears_once(customers: Stub) -> None:
    customer_id = await new_customer(customers)
    order_id = f"ord-{uuid.uuid4().hex[:8]}"
    assert await record(customers, customer_id, event("order_placed", order_id, 4200)) is True
    assert await record(customers, customer_id, event("order_placed", order_id, 4200)) is False
    assert await record(customers, customer_id, event("order_shipped", order_id, 4200)) is True
    assert await record(customers, customer_id, event("order_shipped", order_id, 4200)) is False
    timeline = await customers.ListTimeline(pb.ListTimelineRequest(customer_id=customer_id))
    kinds = [TimelineEventKind.from_proto(e.kind) for e in timeline.events]
    assert kinds == ["order_shipped", "order_placed"]
    # Points once, too: 42.00 USD completed is 42 points.
    assert (await profile(customers, customer_id)).loyalty_points == 42


async def test_a_clawback_beyond_the_balance_becomes_debt(customers: Stub) -> None:
    customer_id = await new_customer(customers)
    await record(customers, customer_id, event("order_completed", "ord-a", 1099))
    await record(customers, customer_id, event("refund_issued", "ret-a", 3000))
    erased_to_zero = await profile(customers, customer_id)
    assert (erased_to_zero.loyalty_points, erased_to_zero.loyalty_debt) == (0, 20)
    await record(customers, customer_id, event("order_completed", "ord-b", 2500))
    paid_off = await profile(customers, customer_id)
    assert (paid_off.loyalty_points, paid_off.loyalty_debt) == (5, 0)
    history = await customers.ListLoyaltyHistory(
        pb.ListLoyaltyHistoryRequest(customer_id=customer_id)
    )
    entries = [
        (LoyaltyReason.from_proto(e.reason), e.points, e.balance_after, e.debt_after)
        for e in history.entries
    ]
    assert entries == [
        ("accrual", 10, 10, 0),
        ("clawback", -30, 0, 20),
        ("accrual", 25, 5, 0),
    ]


async def test_two_writers_with_the_same_version_one_wins_one_conflicts(
    customers: Stub,
) -> None:
    customer_id = await new_customer(customers)
    first = await put_cart(customers, customer_id, {"SKU-1": 1}, expected=0)
    assert first.version == 1
    results = await asyncio.gather(
        put_cart(customers, customer_id, {"SKU-1": 2}, expected=1),
        put_cart(customers, customer_id, {"SKU-2": 5}, expected=1),
        return_exceptions=True,
    )
    won = [r for r in results if isinstance(r, pb.Cart)]
    lost = [r for r in results if isinstance(r, grpc.aio.AioRpcError)]
    assert len(won) == 1 and len(lost) == 1
    info = describe_rpc_error(lost[0])
    assert info.code == grpc.StatusCode.ABORTED
    assert info.reason == "CART_VERSION_MISMATCH"
    stored = (await customers.GetCart(pb.GetCartRequest(customer_id=customer_id))).cart
    assert stored.version == 2
    assert lines_of(stored) == lines_of(won[0])


async def test_a_guest_cart_merges_into_the_customers_cart(customers: Stub) -> None:
    customer_id = await new_customer(customers)
    await put_cart(customers, customer_id, {"SKU-A": 1, "SKU-B": 2})
    guest = [pb.CartLine(sku="SKU-B", quantity=1), pb.CartLine(sku="SKU-C", quantity=3)]
    request = pb.MergeGuestCartRequest(
        customer_id=customer_id, lines=guest, channel=Channel.APP.to_proto()
    )
    merged = (await customers.MergeGuestCart(request)).cart
    assert lines_of(merged) == {"SKU-A": 1, "SKU-B": 2, "SKU-C": 3}
    again = (await customers.MergeGuestCart(request)).cart
    assert again.version == merged.version


async def test_merge_moves_history_points_and_cart_and_keeps_an_alias(customers: Stub) -> None:
    online = await new_customer(customers, "Ada Online")
    phone_raw = f"(415) 555-{uuid.uuid4().int % 10_000:04d}"
    in_store = await new_customer(customers, "", email="", phone=phone_raw)
    for customer_id, order_id, amount in ((online, "ord-web", 2000), (in_store, "ord-pos", 1500)):
        await record(customers, customer_id, event("order_completed", order_id, amount))
        await customers.RecordActivity(
            pb.RecordActivityRequest(
                customer_id=customer_id,
                activity=pb.Activity(
                    kind=ActivityKind.ORDER.to_proto(), reference_id=order_id, status="completed"
                ),
            )
        )
    await put_cart(customers, online, {"SKU-1": 1})
    await put_cart(customers, in_store, {"SKU-1": 2, "SKU-2": 1})

    request = pb.MergeCustomersRequest(
        survivor_customer_id=online, duplicate_customer_id=in_store, actor="agent-7"
    )
    # The merge records who the signed identity says acted (agent-7).
    as_agent = signed_metadata(
        "/omni.customers.v1.CustomersService/MergeCustomers",
        CallerIdentity("agent-7", Role.AGENT),
    )
    merged = await customers.MergeCustomers(request, metadata=as_agent)
    again = await customers.MergeCustomers(request, metadata=as_agent)
    assert again.merge_id == merged.merge_id
    survivor = merged.customer
    assert survivor.customer_id == online
    assert survivor.loyalty_points == 35
    assert {IdentityKind.from_proto(i.kind) for i in survivor.identities} == {"email", "phone"}
    # The old id answers as the survivor, which lists it as an alias.
    assert (await profile(customers, in_store)).customer_id == online
    looked_up = await customers.GetCustomer(pb.GetCustomerRequest(customer_id=online))
    assert list(looked_up.aliases) == [in_store]
    history = await customers.ListActivities(pb.ListActivitiesRequest(customer_id=in_store))
    assert {a.reference_id for a in history.activities} == {"ord-web", "ord-pos"}
    cart = (await customers.GetCart(pb.GetCartRequest(customer_id=online))).cart
    assert lines_of(cart) == {"SKU-1": 2, "SKU-2": 1}
    # Matching by the phone now finds the survivor.
    matched = await customers.CreateCustomer(pb.CreateCustomerRequest(phone=phone_raw))
    assert matched.customer.customer_id == online and not matched.created
    export = await customers.ExportCustomer(pb.ExportCustomerRequest(customer_id=online))
    assert [(m.duplicate_customer_id, m.actor) for m in export.merges] == [(in_store, "agent-7")]
    assert list(export.aliases) == [in_store]


async def test_merge_refuses_itself_and_erased_customers(customers: Stub) -> None:
    customer_id = await new_customer(customers)
    other = await new_customer(customers)
    for survivor, duplicate in ((customer_id, customer_id),):
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await customers.MergeCustomers(
                pb.MergeCustomersRequest(
                    survivor_customer_id=survivor, duplicate_customer_id=duplicate
                )
            )
        assert describe_rpc_error(refused.value).reason == "MERGE_INTO_ITSELF"
    await customers.EraseCustomer(pb.EraseCustomerRequest(customer_id=other))
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await customers.MergeCustomers(
            pb.MergeCustomersRequest(survivor_customer_id=other, duplicate_customer_id=customer_id)
        )
    info = describe_rpc_error(refused.value)
    assert (info.code, info.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "CUSTOMER_ERASED")


async def test_malformed_identities_name_the_field(customers: Stub) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"email": "not-an-email"}, "email"),
        ({"phone": "12"}, "phone"),
    ]
    for fields, field in cases:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await customers.CreateCustomer(pb.CreateCustomerRequest(**fields))
        info = describe_rpc_error(refused.value)
        assert info.code == grpc.StatusCode.INVALID_ARGUMENT
        assert [v.field for v in info.violations] == [field]


async def test_messages_follow_preferences_and_marketing_consent(customers: Stub) -> None:
    customer_id = await new_customer(customers)
    await record(customers, customer_id, event("ready_for_pickup", "ord-p", pickup_code="123456"))

    async def send_cart_reminder(notification_id: str) -> pb.Notification:
        reply = await customers.SendNotification(
            pb.SendNotificationRequest(
                customer_id=customer_id,
                notification_id=notification_id,
                kind=NotificationKind.CART_REMINDER.to_proto(),
                details={"items": "2"},
            )
        )
        return reply.notification

    # No marketing consent yet: the reminder is kept but not sent.
    assert NotificationStatus.from_proto((await send_cart_reminder("r-1")).status) == "suppressed"
    await customers.UpdatePreferences(
        pb.UpdatePreferencesRequest(
            customer_id=customer_id,
            preferences=pb.Preferences(
                channels=[ContactChannel.EMAIL.to_proto()],
                marketing_consent=[ContactChannel.EMAIL.to_proto()],
            ),
        )
    )
    sent = await send_cart_reminder("r-2")
    status, channel = (
        NotificationStatus.from_proto(sent.status),
        ContactChannel.from_proto(sent.channel),
    )
    assert (status, channel) == ("sent", "email")
    assert (await send_cart_reminder("r-2")).notification_id == "r-2"
    listed = await customers.ListNotifications(pb.ListNotificationsRequest(customer_id=customer_id))
    statuses = [
        (n.notification_id, NotificationStatus.from_proto(n.status)) for n in listed.notifications
    ]
    assert statuses == [
        ("r-2", "sent"),
        ("r-1", "suppressed"),
        ("ord-p/ready_for_pickup/notify", "sent"),
    ]
    assert "123456" in listed.notifications[2].body


async def test_after_erase_no_personal_field_remains(customers: Stub, database_url: str) -> None:
    email = f"erase.{uuid.uuid4().hex[:10]}@example.com"
    phone = f"+1415555{uuid.uuid4().int % 10_000:04d}"
    name = f"Erin {uuid.uuid4().hex[:6]}"
    customer_id = await new_customer(customers, name, email=email, phone=phone)
    await record(customers, customer_id, event("order_completed", "ord-e", 1000))
    await put_cart(customers, customer_id, {"SKU-1": 1})

    erased = await customers.EraseCustomer(pb.EraseCustomerRequest(customer_id=customer_id))
    assert erased.customer.erased and erased.customer.name == ""
    export = await customers.ExportCustomer(pb.ExportCustomerRequest(customer_id=customer_id))
    assert [e.reference_id for e in export.timeline] == ["ord-e"]

    connection = await asyncpg.connect(database_url.replace("postgresql+asyncpg", "postgresql"))
    try:
        rows = []
        for table in ("customers", "customer_identities", "carts", "notifications"):
            rows += [str(dict(row)) for row in await connection.fetch(f"SELECT * FROM {table}")]
    finally:
        await connection.close()
    everything = "\n".join(rows)
    for personal in (email, phone, name):
        assert personal not in everything
    # The identity is free again: signing up with it makes a new customer.
    again = await customers.CreateCustomer(pb.CreateCustomerRequest(email=email))
    assert again.created and again.customer.customer_id != customer_id


async def checkout(customers: Stub, customer_id: str, order_id: str, *skus: str) -> bool:
    reply = await customers.CheckoutCart(
        pb.CheckoutCartRequest(
            customer_id=customer_id,
            order_id=order_id,
            lines=[pb.CartLine(sku=sku, quantity=1) for sku in skus],
        )
    )
    return bool(reply.checked_out)


async def test_checkout_takes_the_ordered_skus_out_once_per_order(customers: Stub) -> None:
    customer_id = await new_customer(customers)
    order_id = f"ord-{uuid.uuid4().hex[:8]}"
    await put_cart(customers, customer_id, {"A": 3, "B": 2})
    assert await checkout(customers, customer_id, order_id, "A") is True
    cart = (await customers.GetCart(pb.GetCartRequest(customer_id=customer_id))).cart
    assert lines_of(cart) == {"B": 2}

    # The shopper puts A back; a late retry of the same checkout leaves it there.
    await put_cart(customers, customer_id, {"A": 1, "B": 2})
    assert await checkout(customers, customer_id, order_id, "A") is False
    cart = (await customers.GetCart(pb.GetCartRequest(customer_id=customer_id))).cart
    assert lines_of(cart) == {"A": 1, "B": 2}

    with pytest.raises(grpc.aio.AioRpcError) as missing:
        await checkout(customers, customer_id, "", "A")
    assert missing.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert [v.field for v in describe_rpc_error(missing.value).violations] == ["order_id"]
