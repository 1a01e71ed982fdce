"""Each service's one access table (services/<name>/access.py): every RPC of
its proto has a line (a new RPC without one fails here), and the lines that
guard money, stock and personal data refuse the callers they must."""

from __future__ import annotations

from typing import Any

import grpc
import pytest

from omni.words import StockMovementReason
from services.common.access import AccessTable, allow
from services.common.identity import CallerIdentity, Role, service_identity, workflow_identity
from services.customers.access import ACCESS as CUSTOMERS
from services.inventory.access import ACCESS as INVENTORY
from services.orders.access import ACCESS as ORDERS
from services.payments.access import ACCESS as PAYMENTS

TABLES = {"inventory": INVENTORY, "orders": ORDERS, "customers": CUSTOMERS, "payments": PAYMENTS}

GUEST = CallerIdentity("g", Role.GUEST)
ALICE = CallerIdentity("alice", Role.CUSTOMER, customer_id="C-A")
CLERK_S1 = CallerIdentity("clerk", Role.ASSOCIATE, store_id="S1")
AGENT = CallerIdentity("agent", Role.AGENT)
ADMIN = CallerIdentity("admin", Role.ADMIN)
WORKFLOW = workflow_identity("order-1")
ORDERS_SERVICE = service_identity("orders")
PEOPLE = [GUEST, ALICE, CLERK_S1, AGENT, ADMIN]

DENIED = grpc.StatusCode.PERMISSION_DENIED
HIDDEN = grpc.StatusCode.NOT_FOUND


@pytest.mark.parametrize("name", TABLES)
def test_every_rpc_of_the_proto_has_exactly_one_rule(name: str) -> None:
    table = TABLES[name]
    assert table.missing_rules() == [], f"{name}/access.py has no rule for these RPCs"
    assert table.stale_rules() == [], f"{name}/access.py names RPCs its proto lacks"


def test_a_new_rpc_without_a_rule_is_reported_and_closed() -> None:
    rules = dict(PAYMENTS.rules)
    del rules["RefundPayment"]
    table = AccessTable(PAYMENTS.service, rules)
    assert table.missing_rules() == ["RefundPayment"]


class _Request:
    def __init__(self, **fields: Any) -> None:
        self.__dict__.update(fields)


async def refusal(table: AccessTable, rpc: str, caller: CallerIdentity, **fields: Any) -> Any:
    found = await table.refusal(f"/{table.service.full_name}/{rpc}", caller, _Request(**fields))
    return None if found is None else found.code


MONEY = ["AuthorizePayment", "CapturePayment", "VoidPayment", "ReauthorizePayment", "RefundPayment"]


@pytest.mark.parametrize("rpc", MONEY)
async def test_money_moves_only_for_workflows_and_the_orders_service(rpc: str) -> None:
    for person in PEOPLE:
        assert await refusal(PAYMENTS, rpc, person) == DENIED, person
    assert await refusal(PAYMENTS, rpc, service_identity("customers")) == DENIED
    assert await refusal(PAYMENTS, rpc, WORKFLOW) is None
    assert await refusal(PAYMENTS, rpc, ORDERS_SERVICE) is None


async def test_gift_cards_are_issued_by_admins_and_store_credit_read_by_its_owner() -> None:
    for person in (GUEST, ALICE, CLERK_S1, AGENT):
        assert await refusal(PAYMENTS, "IssueGiftCard", person) == DENIED
        assert await refusal(PAYMENTS, "ReloadGiftCard", person) == DENIED
    assert await refusal(PAYMENTS, "IssueGiftCard", ADMIN) is None
    assert await refusal(PAYMENTS, "ListStoreCredit", ALICE, customer_id="C-A") is None
    assert await refusal(PAYMENTS, "ListStoreCredit", GUEST, customer_id="C-A") == DENIED
    assert await refusal(PAYMENTS, "ListStoreCredit", CLERK_S1, customer_id="C-A") == DENIED
    assert await refusal(PAYMENTS, "ListProviderOperations", AGENT) == DENIED
    assert await refusal(PAYMENTS, "GetGiftCard", GUEST) == DENIED
    assert await refusal(PAYMENTS, "GetGiftCard", ALICE) is None


@pytest.mark.parametrize(
    "rpc", ["ReserveStock", "ReleaseReservation", "CommitReservation", "ConfirmReservation"]
)
async def test_reservations_only_for_workflows_and_the_orders_service(rpc: str) -> None:
    for person in PEOPLE:
        assert await refusal(INVENTORY, rpc, person) == DENIED, person
    assert await refusal(INVENTORY, rpc, WORKFLOW) is None
    assert await refusal(INVENTORY, rpc, ORDERS_SERVICE) is None


async def test_stock_adjustments_only_at_the_associates_store() -> None:
    count = StockMovementReason.CYCLE_COUNT.to_proto()
    receipt = StockMovementReason.RECEIPT.to_proto()
    at_s1 = {"location_id": "S1", "reason": count}
    assert await refusal(INVENTORY, "AdjustStock", CLERK_S1, **at_s1) is None
    damage = StockMovementReason.DAMAGE.to_proto()
    assert (
        await refusal(INVENTORY, "AdjustStock", CLERK_S1, location_id="S1", reason=damage) is None
    )
    assert await refusal(INVENTORY, "AdjustStock", CLERK_S1, location_id="S2", reason=count) == (
        HIDDEN
    )
    # A receipt of 1000 at their own store is not an associate's to post.
    assert await refusal(INVENTORY, "AdjustStock", CLERK_S1, location_id="S1", reason=receipt) == (
        DENIED
    )
    for caller in (GUEST, ALICE, AGENT):
        assert await refusal(INVENTORY, "AdjustStock", caller, **at_s1) == DENIED
    for caller in (ADMIN, WORKFLOW):
        assert (
            await refusal(INVENTORY, "AdjustStock", caller, location_id="S2", reason=receipt)
            is None
        )


@pytest.mark.parametrize(
    "rpc", ["CreateLocation", "CreateProduct", "SetSafetyStock", "CheckInvariants"]
)
async def test_catalog_locations_and_safety_stock_are_admin_writes(rpc: str) -> None:
    for caller in (GUEST, ALICE, CLERK_S1, AGENT, WORKFLOW, ORDERS_SERVICE):
        assert await refusal(INVENTORY, rpc, caller) == DENIED, caller
    assert await refusal(INVENTORY, rpc, ADMIN) is None


async def test_orders_for_oneself_and_store_work_at_ones_store() -> None:
    place = {"customer_id": "C-A", "store_id": ""}
    assert await refusal(ORDERS, "PlaceOrder", ALICE, **place) is None
    assert await refusal(ORDERS, "PlaceOrder", ALICE, customer_id="C-B", store_id="") == HIDDEN
    assert await refusal(ORDERS, "PlaceOrder", GUEST, **place) == DENIED
    assert await refusal(ORDERS, "PlaceOrder", CLERK_S1, customer_id="C-B", store_id="S2") == (
        HIDDEN
    )
    assert await refusal(ORDERS, "ListStoreTasks", CLERK_S1, store_id="S2") == HIDDEN
    assert await refusal(ORDERS, "ReceiveReturn", CLERK_S1, location_id="S2") == HIDDEN
    assert await refusal(ORDERS, "ReceiveReturn", ALICE, location_id="S1") == DENIED
    for rpc in ("PickFulfillment", "HandoverFulfillment", "ShipFulfillment", "RejectFulfillment"):
        assert await refusal(ORDERS, rpc, ALICE) == DENIED
        assert await refusal(ORDERS, rpc, AGENT) == DENIED
    for rpc in ("RecordOrderProgress", "RecordReturnProgress"):
        for person in PEOPLE:
            assert await refusal(ORDERS, rpc, person) == DENIED
        assert await refusal(ORDERS, rpc, WORKFLOW) is None
    assert await refusal(ORDERS, "ErasePersonalData", ALICE, customer_ids=["C-B"]) == HIDDEN
    assert await refusal(ORDERS, "ErasePersonalData", CLERK_S1, customer_ids=["C-B"]) == DENIED
    # Associates reject their store's part; they do not cancel whole orders.
    assert await refusal(ORDERS, "CancelOrder", CLERK_S1) == DENIED
    assert await refusal(ORDERS, "CancelOrder", ALICE) is None


@pytest.mark.parametrize(
    "rpc",
    [
        "GetCustomer",
        "ListActivities",
        "ListTimeline",
        "GetCart",
        "PutCart",
        "MergeGuestCart",
        "ListNotifications",
        "UpdatePreferences",
        "ListLoyaltyHistory",
        "ExportCustomer",
        "EraseCustomer",
    ],
)
async def test_a_customer_record_is_its_owners_and_staffs(rpc: str) -> None:
    assert await refusal(CUSTOMERS, rpc, ALICE, customer_id="C-A") is None
    assert await refusal(CUSTOMERS, rpc, ALICE, customer_id="C-B") == HIDDEN
    assert await refusal(CUSTOMERS, rpc, GUEST, customer_id="C-A") == DENIED
    assert await refusal(CUSTOMERS, rpc, CLERK_S1, customer_id="C-A") == DENIED
    assert await refusal(CUSTOMERS, rpc, AGENT, customer_id="C-B") is None


async def test_merges_are_for_agents_and_admins_and_records_for_workflows() -> None:
    for caller in (GUEST, ALICE, CLERK_S1, WORKFLOW):
        assert await refusal(CUSTOMERS, "MergeCustomers", caller) == DENIED
    assert await refusal(CUSTOMERS, "MergeCustomers", AGENT) is None
    for rpc in ("RecordActivity", "RecordTimelineEvent", "SendNotification", "CheckoutCart"):
        for person in PEOPLE:
            assert await refusal(CUSTOMERS, rpc, person, customer_id="C-A") == DENIED


async def test_a_merged_duplicates_id_counts_as_the_customers_own() -> None:
    async def same(mine: str, theirs: str) -> bool:
        return {mine, theirs} == {"C-A", "C-A-old"}

    table = CUSTOMERS.with_same_customer(same)
    assert await refusal(table, "ExportCustomer", ALICE, customer_id="C-A-old") is None
    assert await refusal(table, "ExportCustomer", ALICE, customer_id="C-B") == HIDDEN


def test_allow_names_service_callers() -> None:
    rule = allow(Role.ADMIN, services=("orders",))
    assert rule.roles == {Role.ADMIN, Role.SERVICE}
    assert rule.services == {"orders"}


def test_an_associate_works_only_on_fulfillments_at_their_store() -> None:
    from services.common.errors import NotFound
    from services.common.identity import acting_as
    from services.orders.access import check_store_work

    with acting_as(CLERK_S1):
        check_store_work("F-1", "S1")
        with pytest.raises(NotFound) as hidden:
            check_store_work("F-2", "S2")
        assert hidden.value.ids == ["F-2"]
    with acting_as(ADMIN):
        check_store_work("F-2", "S2")
    check_store_work("F-2", "S2")  # outside an RPC (use-case unit tests): no caller to check


def _order(customer_id: str = "C-A", store_id: str = "", at: tuple[str, ...] = ()) -> Any:
    from types import SimpleNamespace

    return SimpleNamespace(
        order_id="O-1",
        customer_id=customer_id,
        store_id=store_id,
        fulfillments=[SimpleNamespace(location_id=location) for location in at],
    )


async def test_a_loaded_order_is_seen_by_its_customer_and_its_stores_only() -> None:
    from services.common.errors import NotFound
    from services.common.identity import acting_as
    from services.orders.access import check_order_visible

    async def merged(mine: str, theirs: str) -> bool:
        return {mine, theirs} == {"C-A", "C-A-old"}

    bob = CallerIdentity("bob", Role.CUSTOMER, customer_id="C-B")
    clerk_s2 = CallerIdentity("clerk2", Role.ASSOCIATE, store_id="S2")
    with acting_as(ALICE):
        await check_order_visible(_order("C-A"), None)
        await check_order_visible(_order("C-A-old"), merged)
        with pytest.raises(NotFound):
            await check_order_visible(_order("C-A-old"), None)
    with acting_as(bob), pytest.raises(NotFound):
        await check_order_visible(_order("C-A"), merged)
    with acting_as(CLERK_S1):
        await check_order_visible(_order(store_id="S1"), None)
        await check_order_visible(_order(at=("W1", "S1")), None)
    with acting_as(clerk_s2):
        with pytest.raises(NotFound):
            await check_order_visible(_order(store_id="S1", at=("S1",)), None)
        # Returns are taken at any store: only customers are checked there.
        await check_order_visible(_order(store_id="S1"), None, (Role.CUSTOMER,))
    for anyone in (AGENT, ADMIN, WORKFLOW):
        with acting_as(anyone):
            await check_order_visible(_order("C-Z", "S9"), None)


async def test_loaded_fulfillments_and_returns_follow_the_same_rules() -> None:
    from types import SimpleNamespace

    from services.common.errors import NotFound
    from services.common.identity import acting_as
    from services.orders.access import check_fulfillment_visible, check_return_visible

    fulfillment: Any = SimpleNamespace(fulfillment_id="F-1", order_id="O-1", location_id="S1")

    async def alices_order() -> Any:
        return _order("C-A")

    async def bobs_order() -> Any:
        return _order("C-B")

    with acting_as(ALICE):
        await check_fulfillment_visible(fulfillment, alices_order, None)
        with pytest.raises(NotFound) as hidden:
            await check_fulfillment_visible(fulfillment, bobs_order, None)
        assert hidden.value.resource_type == "fulfillment"
    with acting_as(CallerIdentity("clerk2", Role.ASSOCIATE, store_id="S2")):
        with pytest.raises(NotFound):
            await check_fulfillment_visible(fulfillment, alices_order, None)
    returned: Any = SimpleNamespace(return_id="R-1", customer_id="C-A", location_id="S1")
    with acting_as(ALICE):
        await check_return_visible(returned, None)
    with acting_as(CLERK_S1):
        await check_return_visible(returned, None)
    with acting_as(CallerIdentity("bob", Role.CUSTOMER, customer_id="C-B")):
        with pytest.raises(NotFound):
            await check_return_visible(returned, None)
