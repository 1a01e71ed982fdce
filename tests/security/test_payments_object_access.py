"""ListPayments and ListStoreCredit check the object, not only the role
(issue 12): a customer lists only their own orders' payments and their own
store credit, an associate only payments of orders their store may see —
checked by the payments service itself, whatever the gateway asked."""

from __future__ import annotations

from typing import Any, cast

import pytest

from omni.payments.v1 import payments_pb2 as pb
from services.common.errors import NotFound
from services.common.identity import CallerIdentity, Role, acting_as
from services.payments.access import ACCESS, check_reference_visible

LIST_CREDIT = "/omni.payments.v1.PaymentsService/ListStoreCredit"
LIST_PAYMENTS = "/omni.payments.v1.PaymentsService/ListPayments"

ALICE = CallerIdentity(sub="u-alice", role=Role.CUSTOMER, customer_id="C-A")
BOB = CallerIdentity(sub="u-bob", role=Role.CUSTOMER, customer_id="C-B")
# Alice's token minted before C-A0 was merged into C-A.
ALICE_OLD = CallerIdentity(sub="u-alice", role=Role.CUSTOMER, customer_id="C-A0")
AGENT = CallerIdentity(sub="agent-1", role=Role.AGENT)
ASSOCIATE_S1 = CallerIdentity(sub="A1", role=Role.ASSOCIATE, store_id="S1")
WORKER = CallerIdentity(sub="order-O1", role=Role.WORKFLOW)


async def same_customer(mine: str, theirs: str) -> bool:
    survivors = {"C-A0": "C-A", "C-A": "C-A", "C-B": "C-B"}
    return survivors.get(mine) is not None and survivors.get(mine) == survivors.get(theirs)


class OrdersAsCaller:
    """What orders.GetOrder answers the caller it is forwarded: O-A is Alice's
    (placed at S1), O-B is Bob's (placed at S2)."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, CallerIdentity | None]] = []

    async def __call__(self, reference: str) -> bool:
        from services.common.identity import caller_or_none

        caller = caller_or_none()
        self.asked.append((reference, caller))
        owner = {"O-A": ("C-A", "S1"), "O-B": ("C-B", "S2")}.get(reference)
        if owner is None or caller is None:
            return False
        if caller.role == Role.CUSTOMER:
            return await same_customer(caller.customer_id, owner[0])
        if caller.role == Role.ASSOCIATE:
            return caller.store_id == owner[1]
        return True


@pytest.mark.parametrize(
    ("caller", "customer_id", "refused"),
    [
        (ALICE, "C-A", False),
        (ALICE, "C-B", True),
        (BOB, "C-A", True),
        (ALICE_OLD, "C-A", False),  # a merged duplicate's token reads the survivor's
        (AGENT, "C-B", False),
        (WORKER, "C-B", False),
        (ASSOCIATE_S1, "C-A", True),  # associates never read store credit
    ],
)
async def test_store_credit_only_the_customers_own(
    caller: CallerIdentity, customer_id: str, refused: bool
) -> None:
    table = ACCESS.with_same_customer(same_customer)
    refusal = await table.refusal(
        LIST_CREDIT, caller, pb.ListStoreCreditRequest(customer_id=customer_id)
    )
    assert (refusal is not None) == refused, refusal


async def test_store_credit_without_a_merge_resolver_is_still_strict() -> None:
    refusal = await ACCESS.refusal(LIST_CREDIT, ALICE, pb.ListStoreCreditRequest(customer_id="C-B"))
    assert refusal is not None


@pytest.mark.parametrize(
    ("caller", "reference", "visible"),
    [
        (ALICE, "O-A", True),
        (ALICE, "O-B", False),
        (BOB, "O-A", False),
        (ALICE_OLD, "O-A", True),
        (ASSOCIATE_S1, "O-A", True),
        (ASSOCIATE_S1, "O-B", False),
        (ALICE, "O-unknown", False),
    ],
)
async def test_payments_of_an_order_only_for_who_may_see_the_order(
    caller: CallerIdentity, reference: str, visible: bool
) -> None:
    orders = OrdersAsCaller()
    with acting_as(caller):
        if visible:
            await check_reference_visible(orders, reference)
        else:
            with pytest.raises(NotFound):
                await check_reference_visible(orders, reference)
    # The orders service was asked as this caller, so its own object check decides.
    assert orders.asked == [(reference, caller)]


@pytest.mark.parametrize("caller", [AGENT, WORKER, CallerIdentity("orders", Role.SERVICE)])
async def test_agents_workflows_and_the_orders_service_are_not_asked_about(
    caller: CallerIdentity,
) -> None:
    orders = OrdersAsCaller()
    with acting_as(caller):
        await check_reference_visible(orders, "O-B")
    assert orders.asked == []


async def test_the_servicer_refuses_before_reading(monkeypatch: Any) -> None:
    from services.payments import use_cases
    from services.payments.service import PaymentsServicer

    read: list[str] = []

    async def list_payments(app: Any, request: Any) -> Any:
        read.append(request.reference)
        return pb.ListPaymentsResponse()

    monkeypatch.setattr(use_cases, "list_payments", list_payments)
    servicer = PaymentsServicer(app=cast(Any, None), orders=OrdersAsCaller())
    with acting_as(BOB), pytest.raises(NotFound):
        await servicer.ListPayments(pb.ListPaymentsRequest(reference="O-A"), None)
    with acting_as(ALICE):
        await servicer.ListPayments(pb.ListPaymentsRequest(reference="O-A"), None)
    assert read == ["O-A"]
