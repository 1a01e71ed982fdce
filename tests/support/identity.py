"""Signed caller identities for tests that call the services directly.

The services started by tests/support/processes.start_module share
TEST_IDENTITY_KEY. `trusted_channel(address)` signs, for each RPC, a caller
the service's own access table admits (an admin where admins may, else a
workflow, else the orders service), so a test calling CreateLocation and
ReserveStock on one stub needs no ceremony; pass `caller` to act as someone
in particular (the attack tests do).
"""

from __future__ import annotations

import grpc

from services.common.access import AccessTable
from services.common.identity import (
    CallerIdentity,
    IdentitySource,
    Role,
    aio_identity_interceptors,
    always,
    service_identity,
    sign,
    workflow_identity,
)

TEST_IDENTITY_KEY = "tests-only-identity-key-not-for-production-0123456789"
IDENTITY_ENV = {"OMNI_IDENTITY_KEY": TEST_IDENTITY_KEY}

ADMIN = CallerIdentity(sub="test-admin", role=Role.ADMIN)
WORKFLOW = workflow_identity("test")


def _tables() -> list[AccessTable]:
    from services.customers.access import ACCESS as customers
    from services.inventory.access import ACCESS as inventory
    from services.orders.access import ACCESS as orders
    from services.payments.access import ACCESS as payments

    return [inventory, orders, customers, payments]


def admitted_caller(method: str) -> CallerIdentity | None:
    """A caller the table of `method`'s service admits for it, without object rules."""
    for table in _tables():
        rule = table.rule_for(method)
        if rule is None:
            continue
        if Role.ADMIN in rule.roles:
            return ADMIN
        if Role.WORKFLOW in rule.roles:
            return WORKFLOW
        if rule.services:
            return service_identity(sorted(rule.services)[0])
        return ADMIN
    return None


def trusted_channel(
    address: str, caller: CallerIdentity | IdentitySource | None = None
) -> grpc.aio.Channel:
    """A plaintext channel signing `caller` (default: `admitted_caller`) on every RPC."""
    if caller is None:
        source: IdentitySource = admitted_caller
    elif isinstance(caller, CallerIdentity):
        source = always(caller)
    else:
        source = caller
    return grpc.aio.insecure_channel(
        address,
        interceptors=aio_identity_interceptors(source, TEST_IDENTITY_KEY.encode()),
    )


def signed_metadata(
    method: str, caller: CallerIdentity, key: str = TEST_IDENTITY_KEY, ttl: float = 60
) -> tuple[tuple[str, str], ...]:
    """The one metadata entry a service expects, for a call made by hand."""
    return (("omni-identity", sign(caller, method, key.encode(), ttl=ttl)),)
