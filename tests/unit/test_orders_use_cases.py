"""The orders use cases on an in-memory store and a fake journey client: no
PostgreSQL, no Temporal. The fakes keep to the contracts the real ones keep:
a unit of work rolls back unless committed, `run_once` answers a repeated key
with the first id or the first refusal, and the journey records its progress
in the store before its update returns."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import pytest

from omni.orders.v1 import orders_pb2
from omni.words import (
    Channel,
    FulfillmentStatus,
    FulfillmentType,
    ItemCondition,
    OrderStatus,
    ReturnMethod,
    ReturnStatus,
    TaskType,
    TenderType,
)
from services.common.errors import (
    BusinessRuleViolation,
    Conflict,
    InvalidArgument,
    NotFound,
    Unavailable,
)
from services.common.idempotency import key_reused, request_fingerprint
from services.common.money import Money
from services.orders import use_cases
from services.orders.domain.line_cancels import CancelledLine
from services.orders.domain.placing import (
    Catalog,
    CatalogPrice,
    OrderRequest,
    PricedOrder,
    RequestedLine,
    RequestedTender,
)
from services.orders.domain.progress import FulfillmentProgress, OrderProgress, ReturnProgress
from services.orders.domain.records import (
    Address,
    Event,
    FulfillmentLineRecord,
    FulfillmentRecord,
    OrderLineRecord,
    OrderRecord,
    RefundRecord,
    ReturnRecord,
    StoreTaskRecord,
    TaskCursor,
)
from services.orders.domain.returns import (
    RECEIVABLE_RETURN_STATUSES,
    ReturnRequest,
    ReturnRequestLine,
)
from services.orders.domain.store_work import PickedLine, TakenLine
from services.orders.use_cases import Dependencies, Keyed, Records
from workflows.contracts.journeys import ExchangeInput, PlacementResult

NOW = datetime(2026, 5, 10, 12, 0, tzinfo=UTC)
PRICES = {
    "TEE-1": CatalogPrice("TEE-1", Money(2500, "USD"), 30),
    "MUG-1": CatalogPrice("MUG-1", Money(1200, "USD"), 30),
}
SELLABLE = ItemCondition.SELLABLE


# ---------------------------------------------------------------- the fakes


@dataclass
class State:
    orders: dict[str, OrderRecord] = field(default_factory=dict)
    returns: dict[str, ReturnRecord] = field(default_factory=dict)
    released: set[str] = field(default_factory=set)
    # Placement taken by the orders service: pending orders whose lease ran
    # out (a test says which), and those recovery took over.
    stale: set[str] = field(default_factory=set)
    abandoned: set[str] = field(default_factory=set)


class FakeRecords:
    def __init__(self, state: State) -> None:
        self.state = state

    async def load_order(self, order_id: str, *, for_update: bool = False) -> OrderRecord | None:
        order = self.state.orders.get(order_id)
        return copy.deepcopy(order)

    async def insert_pending_order(
        self, order_id: str, workflow_id: str, request: OrderRequest, priced: PricedOrder
    ) -> OrderRecord:
        assert request.channel is not None and request.fulfillment_type is not None
        self.state.orders[order_id] = OrderRecord(
            order_id=order_id,
            customer_id=request.customer_id,
            channel=request.channel,
            status=OrderStatus.PENDING,
            total=priced.total,
            fulfillment_type=request.fulfillment_type,
            location_id=request.location_id,
            address=request.address,
            associate_id=request.associate_id,
            store_id=request.store_id,
            referral_associate_id=request.referral_associate_id,
            workflow_id=workflow_id,
            created_at=NOW,
            completed_at=None,
            lines=[
                OrderLineRecord(
                    line.sku, line.quantity, line.unit_price_minor, line.returnable_days, 0
                )
                for line in priced.lines
            ],
        )
        return copy.deepcopy(self.state.orders[order_id])

    async def mark_rejected(self, order_id: str, refusal: BusinessRuleViolation) -> None:
        order = self.state.orders[order_id]
        order.status = OrderStatus.REJECTED
        order.rejection_reason = refusal.reason
        order.rejection_message = refusal.message
        order.rejection_details = dict(refusal.metadata)

    async def renew_placement(self, order_id: str) -> bool:
        order = self.state.orders[order_id]
        if order.status != OrderStatus.PENDING or order_id in self.state.abandoned:
            return False
        self.state.stale.discard(order_id)
        return True

    async def claim_stale_placements(self, older_than: timedelta, limit: int) -> list[str]:
        claimed = sorted(
            order_id
            for order_id in self.state.stale
            if self.state.orders[order_id].status == OrderStatus.PENDING
        )[:limit]
        self.state.abandoned.update(claimed)
        self.state.stale.difference_update(claimed)
        return claimed

    async def mark_placed(
        self, order_id: str, fulfillment: FulfillmentRecord, event: Event
    ) -> bool:
        order = self.state.orders[order_id]
        if order.status != OrderStatus.PENDING:
            return False
        order.status = OrderStatus.PLACED
        order.fulfillments.append(fulfillment)
        order.events.append(event)
        return True

    async def record_placed(
        self,
        order_id: str,
        placed: list[FulfillmentRecord],
        event: Event,
        *,
        completed: Event | None = None,
    ) -> list[FulfillmentRecord] | None:
        if not await self.mark_placed(order_id, placed[0], event):
            return None
        for fulfillment in placed[1:]:
            await self.upsert_fulfillment(fulfillment)
        if completed is not None:
            await self.set_order_status(order_id, OrderStatus.COMPLETED)
            self.state.orders[order_id].events.append(completed)
        ids = {f.fulfillment_id for f in placed}
        return [
            copy.deepcopy(f)
            for f in self.state.orders[order_id].fulfillments
            if f.fulfillment_id in ids
        ]

    async def set_order_status(self, order_id: str, status: OrderStatus) -> None:
        order = self.state.orders[order_id]
        order.status = status
        if status == OrderStatus.COMPLETED and order.completed_at is None:
            order.completed_at = NOW

    async def upsert_fulfillment(self, fulfillment: FulfillmentRecord) -> None:
        order = self.state.orders[fulfillment.order_id]
        for index, known in enumerate(order.fulfillments):
            if known.fulfillment_id == fulfillment.fulfillment_id:
                order.fulfillments[index] = replace(
                    known,
                    status=fulfillment.status,
                    location_id=fulfillment.location_id or known.location_id,
                    lines=fulfillment.lines or known.lines,
                    pickup_code=fulfillment.pickup_code or known.pickup_code,
                )
                return
        order.fulfillments.append(fulfillment)

    async def append_order_event(self, order_id: str, event: Event) -> None:
        self.state.orders[order_id].events.append(event)

    async def change_address(self, order_id: str, address: Address) -> None:
        self.state.orders[order_id].address = address

    async def erase_addresses(self, customer_ids: list[str]) -> int:
        erased = 0
        for order in self.state.orders.values():
            if order.customer_id in customer_ids and order.address is not None:
                blank = replace(order.address, line1="", city="", postal_code="", lat=0.0, lon=0.0)
                if blank != order.address:
                    order.address = blank
                    erased += 1
        return erased

    def _fulfillment(self, fulfillment_id: str) -> FulfillmentRecord | None:
        for order in self.state.orders.values():
            for fulfillment in order.fulfillments:
                if fulfillment.fulfillment_id == fulfillment_id and order.visible:
                    return fulfillment
        return None

    async def load_fulfillment(self, fulfillment_id: str) -> FulfillmentRecord | None:
        return copy.deepcopy(self._fulfillment(fulfillment_id))

    async def mark_customer_arrived(self, fulfillment_id: str, note: str, at: datetime) -> bool:
        fulfillment = self._fulfillment(fulfillment_id)
        if (
            fulfillment is None
            or fulfillment.status != FulfillmentStatus.READY_FOR_PICKUP
            or fulfillment.arrived_at is not None
        ):
            return False
        fulfillment.arrived_at, fulfillment.arrival_note = at, note
        return True

    async def list_store_tasks(
        self, store_id: str, types: frozenset[TaskType], after: TaskCursor | None, limit: int
    ) -> list[StoreTaskRecord]:
        tasks = []
        for order in self.state.orders.values():
            for f in order.fulfillments if order.visible else []:
                ready = f.status == FulfillmentStatus.READY_FOR_PICKUP
                pick = f.status in (FulfillmentStatus.PENDING, FulfillmentStatus.PICKING)
                kind = TaskType.PICKUP if ready else TaskType.PICK
                if f.location_id == store_id and (ready or pick) and kind in types:
                    tasks.append(
                        StoreTaskRecord(
                            kind,
                            f.fulfillment_id,
                            order.order_id,
                            f.status,
                            f.lines,
                            f.updated_at,
                            f.arrived_at,
                        )
                    )
        tasks.sort(key=lambda t: (t.rank, t.since, t.task_id))
        if after is not None:
            tasks = [
                t
                for t in tasks
                if (t.rank, t.since, t.task_id) > (after.rank, after.since, after.task_id)
            ]
        return tasks[:limit]

    async def insert_return(self, record: ReturnRecord) -> None:
        self.state.returns[record.return_id] = record

    async def load_return(self, return_id: str) -> ReturnRecord | None:
        return copy.deepcopy(self.state.returns.get(return_id))

    async def reserve_returned_quantity(self, order_id: str, sku: str, quantity: int) -> bool:
        line = next(line for line in self.state.orders[order_id].lines if line.sku == sku)
        if line.quantity - line.quantity_cancelled - line.returned_quantity < quantity:
            return False
        line.returned_quantity += quantity
        return True

    async def release_returned_quantities(self, return_id: str) -> None:
        if return_id in self.state.released:
            return
        self.state.released.add(return_id)
        record = self.state.returns[return_id]
        for returned in record.lines:
            for line in self.state.orders[record.order_id].lines:
                if line.sku == returned.sku:
                    line.returned_quantity = max(line.returned_quantity - returned.quantity, 0)

    async def add_cancelled_quantities(self, order_id: str, lines: list[tuple[str, int]]) -> None:
        for sku, quantity in lines:
            for line in self.state.orders[order_id].lines:
                if line.sku == sku:
                    line.quantity_cancelled = min(line.quantity, line.quantity_cancelled + quantity)

    async def claim_receiving_location(self, return_id: str, location_id: str) -> bool:
        record = self.state.returns[return_id]
        if (
            record.method not in (ReturnMethod.MAIL, ReturnMethod.IN_STORE)
            or record.status not in RECEIVABLE_RETURN_STATUSES
        ):
            return False
        if record.location_id not in ("", location_id):
            return False
        record.location_id = location_id
        return True

    async def set_return_status(self, return_id: str, status: ReturnStatus) -> None:
        self.state.returns[return_id].status = status

    async def replace_refunds(self, return_id: str, refunds: list[RefundRecord]) -> None:
        self.state.returns[return_id].refunds = list(refunds)

    async def append_return_event(self, return_id: str, event: Event) -> None:
        self.state.returns[return_id].events.append(event)


class FakeUnitOfWork:
    def __init__(self, storage: FakeStorage) -> None:
        self.storage = storage
        self.committed = False

    @property
    def records(self) -> Records:
        return FakeRecords(self.storage.state)

    async def commit(self) -> None:
        self.committed = True


class FakeStorage:
    def __init__(self) -> None:
        self.state = State()
        # key -> (fingerprint, the id the work returned, or its refusal); kept
        # apart from the state, as a committed key outlives a rolled-back work.
        self.keys: dict[str, tuple[str, str | BusinessRuleViolation | Conflict]] = {}

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[FakeUnitOfWork]:
        before = copy.deepcopy(self.state)
        uow = FakeUnitOfWork(self)
        try:
            yield uow
        finally:
            if not uow.committed:
                self.state = before

    async def run_once(self, keyed: Keyed, work: Callable[[Records], Awaitable[str]]) -> str:
        fingerprint = request_fingerprint(keyed.request)
        if keyed.key in self.keys:
            seen, answer = self.keys[keyed.key]
            if seen != fingerprint:
                raise key_reused()
            if isinstance(answer, str):
                return answer
            raise answer
        before = copy.deepcopy(self.state)
        try:
            answer = await work(FakeRecords(self.state))
        except (BusinessRuleViolation, Conflict) as refused:
            self.state = before
            self.keys[keyed.key] = (fingerprint, refused)
            raise
        except Exception:
            self.state = before
            raise
        self.keys[keyed.key] = (fingerprint, answer)
        return answer

    async def claim_once(
        self, keyed: Keyed, answer: str, work: Callable[[Records], Awaitable[None]]
    ) -> str:
        async def claimed(records: Records) -> str:
            await work(records)
            return answer

        return await self.run_once(keyed, claimed)


class FakeJourneys:
    """Answers like the order workflow, writing its progress into the store."""

    def __init__(self, storage: FakeStorage) -> None:
        self.storage = storage
        self.calls: list[tuple[str, str]] = []
        # The idempotency key each action was forwarded with ("" without one).
        self.keys: list[tuple[str, str]] = []
        # What each handover said was taken; the arrivals told (id, note).
        self.taken: list[list[TakenLine]] = []
        self.arrivals: list[tuple[str, str]] = []
        self.placement = PlacementResult(True)
        self.refusal: Exception | None = None

    def _order(self, order_id: str) -> OrderRecord:
        return self.storage.state.orders[order_id]

    def _refuse(self) -> None:
        if self.refusal is not None:
            raise self.refusal

    async def place(
        self, order: OrderRecord, tenders: list[RequestedTender], store_id: str
    ) -> PlacementResult:
        self.calls.append(("place", order.order_id))
        self._refuse()
        if self.placement.accepted:
            stored = self._order(order.order_id)
            stored.status = OrderStatus.PLACED
            stored.fulfillments.append(
                FulfillmentRecord(
                    f"ful_{order.order_id}",
                    order.order_id,
                    order.fulfillment_type,
                    order.location_id,
                    FulfillmentStatus.PENDING,
                    [FulfillmentLineRecord(line.sku, line.quantity) for line in order.lines],
                    "4711",
                    "",
                    "",
                    NOW,
                )
            )
        return self.placement

    async def change_shipping_address(
        self, order_id: str, address: Address, actor: str, *, key: str = ""
    ) -> None:
        self.calls.append(("shipping_address", order_id))
        self.keys.append(("shipping_address", key))
        self._refuse()

    async def submit_payment(
        self, order_id: str, tenders: list[RequestedTender], actor: str, *, key: str = ""
    ) -> None:
        self.calls.append(("new_payment", order_id))
        self.keys.append(("new_payment", key))
        self._refuse()

    async def cancel(self, order_id: str, reason: str, actor: str, *, key: str = "") -> None:
        self.calls.append(("cancel", order_id))
        self.keys.append(("cancel", key))
        self._refuse()
        self._order(order_id).status = OrderStatus.CANCELLED

    async def cancel_lines(
        self, order_id: str, lines: list[CancelledLine], reason: str, actor: str, *, key: str = ""
    ) -> None:
        self.calls.append(("cancel_lines", order_id))
        self.keys.append(("cancel_lines", key))
        self._refuse()

    async def pick(
        self, fulfillment: FulfillmentRecord, lines: list[PickedLine], actor: str, *, key: str = ""
    ) -> None:
        self.calls.append(("pick", fulfillment.fulfillment_id))
        self.keys.append(("pick", key))
        self._refuse()
        for f in self._order(fulfillment.order_id).fulfillments:
            f.status = FulfillmentStatus.READY_FOR_PICKUP

    async def hand_over(
        self,
        fulfillment: FulfillmentRecord,
        pickup_code: str,
        actor: str,
        *,
        key: str = "",
        taken: list[TakenLine] | None = None,
    ) -> None:
        self.calls.append(("hand_over", fulfillment.fulfillment_id))
        self.keys.append(("hand_over", key))
        self.taken.append(list(taken or []))
        self._refuse()

    async def customer_arrived(self, fulfillment: FulfillmentRecord, note: str) -> None:
        self.calls.append(("customer_arrived", fulfillment.fulfillment_id))
        self.arrivals.append((fulfillment.fulfillment_id, note))
        self._refuse()

    async def ship(
        self,
        fulfillment: FulfillmentRecord,
        carrier: str,
        tracking_number: str,
        actor: str,
        *,
        key: str = "",
    ) -> None:
        self.calls.append(("ship", fulfillment.fulfillment_id))
        self.keys.append(("ship", key))
        self._refuse()

    async def reject(
        self, fulfillment: FulfillmentRecord, reason: str, actor: str, *, key: str = ""
    ) -> None:
        self.calls.append(("reject", fulfillment.fulfillment_id))
        self.keys.append(("reject", key))
        self._refuse()

    async def issue_pickup_code(self, fulfillment: FulfillmentRecord, actor: str) -> None:
        self.calls.append(("issue_pickup_code", fulfillment.fulfillment_id))
        self._refuse()

    async def start_return(
        self, record: ReturnRecord, exchange: ExchangeInput | None = None
    ) -> None:
        self.calls.append(("start_return", record.return_id))

    async def receive_return(
        self,
        record: ReturnRecord,
        location_id: str,
        lines: list[ReturnRequestLine],
        actor: str,
        *,
        key: str = "",
    ) -> None:
        self.calls.append(("receive_return", record.return_id))
        self.keys.append(("receive_return", key))
        self._refuse()
        self.storage.state.returns[record.return_id].status = ReturnStatus.REFUNDED


class FakeProducts:
    async def prices(self, skus: list[str]) -> Catalog:
        unknown = [sku for sku in skus if sku not in PRICES]
        if unknown:
            return Catalog({}, unknown=unknown)
        return Catalog({sku: PRICES[sku] for sku in skus})


@dataclass
class World:
    deps: Dependencies
    storage: FakeStorage
    journeys: FakeJourneys


@pytest.fixture
def world() -> World:
    storage = FakeStorage()
    journeys = FakeJourneys(storage)
    deps = Dependencies(
        storage=storage, journeys=journeys, products=FakeProducts(), now=lambda: NOW
    )
    return World(deps, storage, journeys)


def order_request(
    *lines: tuple[str, int], tenders: list[RequestedTender] | None = None
) -> OrderRequest:
    return OrderRequest(
        customer_id="C1",
        channel=Channel.WEB,
        lines=[RequestedLine(sku, quantity) for sku, quantity in (lines or [("TEE-1", 2)])],
        fulfillment_type=FulfillmentType.PICKUP,
        location_id="S1",
        address=None,
        tenders=tenders or [RequestedTender(TenderType.CARD, token="tok_approve")],
    )


def keyed(key: str, detail: str = "") -> Keyed:
    """A key and a request to fingerprint (its detail stands for the parameters)."""
    return Keyed(key, orders_pb2.PlaceOrderRequest(idempotency_key=key, customer_id=detail))


async def placed(world: World, key: str = "k1", *lines: tuple[str, int]) -> OrderRecord:
    return await use_cases.place_order(world.deps, order_request(*lines), keyed(key))


async def completed(world: World, *lines: tuple[str, int]) -> OrderRecord:
    order = await placed(world, "k-" + str(len(world.storage.state.orders)), *lines)
    stored = world.storage.state.orders[order.order_id]
    stored.status = OrderStatus.COMPLETED
    stored.fulfillments[0].status = FulfillmentStatus.PICKED_UP
    return order


# ---------------------------------------------------------------- placing


async def test_placing_answers_with_the_journeys_order_and_a_retry_does_not_place_twice(
    world: World,
) -> None:
    order = await placed(world, "k1", ("TEE-1", 2), ("MUG-1", 1), ("TEE-1", 1))
    assert order.status == OrderStatus.PLACED
    assert order.workflow_id == f"order-{order.order_id}"
    assert [(line.sku, line.quantity) for line in order.lines] == [("TEE-1", 3), ("MUG-1", 1)]
    assert order.total == Money(3 * 2500 + 1200, "USD")

    again = await placed(world, "k1", ("TEE-1", 2), ("MUG-1", 1), ("TEE-1", 1))
    assert again.order_id == order.order_id
    assert world.journeys.calls == [("place", order.order_id)]


async def test_a_refused_placement_stays_hidden_and_a_retry_answers_the_same(world: World) -> None:
    world.journeys.placement = PlacementResult(
        False, "INSUFFICIENT_STOCK", "no stock", {"sku": "TEE-1"}
    )
    with pytest.raises(BusinessRuleViolation) as refused:
        await placed(world)
    assert (refused.value.reason, refused.value.metadata) == (
        "INSUFFICIENT_STOCK",
        {"sku": "TEE-1"},
    )
    (order_id,) = world.storage.state.orders
    with pytest.raises(NotFound):
        await use_cases.get_order(world.deps, order_id)

    with pytest.raises(BusinessRuleViolation) as again:
        await placed(world)
    assert again.value.reason == "INSUFFICIENT_STOCK"
    assert world.journeys.calls == [("place", order_id)]


async def test_an_unknown_sku_is_named_and_nothing_is_stored(world: World) -> None:
    with pytest.raises(InvalidArgument) as caught:
        await placed(world, "k1", ("TEE-1", 1), ("NOPE-9", 1))
    assert [v.field for v in caught.value.violations] == ["lines[1].sku"]
    assert "NOPE-9" in caught.value.violations[0].message
    assert world.storage.state.orders == {} and world.journeys.calls == []


async def test_gift_cards_that_do_not_cover_the_total_are_refused_before_anything_is_held(
    world: World,
) -> None:
    gift = RequestedTender(TenderType.GIFT_CARD, code="G1", amount_minor=100)
    with pytest.raises(InvalidArgument) as caught:
        await use_cases.place_order(world.deps, order_request(tenders=[gift]), keyed("k1"))
    assert [v.field for v in caught.value.violations] == ["tenders"]
    assert world.storage.keys == {}


async def test_a_journey_that_cannot_be_reached_leaves_the_order_pending_for_the_retry(
    world: World,
) -> None:
    world.journeys.refusal = Unavailable("temporal is down")
    with pytest.raises(Unavailable):
        await placed(world)
    (order_id,) = world.storage.state.orders
    with pytest.raises(NotFound):
        await use_cases.get_order(world.deps, order_id)

    world.journeys.refusal = None
    order = await placed(world)
    assert (order.order_id, order.status) == (order_id, OrderStatus.PLACED)


async def test_a_request_without_a_key_is_refused(world: World) -> None:
    with pytest.raises(InvalidArgument) as caught:
        await use_cases.place_order(world.deps, order_request(), keyed(""))
    assert [v.field for v in caught.value.violations] == ["idempotency_key"]


# ---------------------------------------------------------------- actions


async def test_cancel_is_the_journeys_to_refuse(world: World) -> None:
    order = await placed(world)
    world.journeys.refusal = Conflict("INVALID_STATE", "cannot cancel an order that is shipped")
    with pytest.raises(Conflict):
        await use_cases.cancel_order(world.deps, order.order_id, "", "A1")
    world.journeys.refusal = None
    cancelled = await use_cases.cancel_order(world.deps, order.order_id, "", "A1")
    assert cancelled.status == OrderStatus.CANCELLED

    with pytest.raises(NotFound):
        await use_cases.cancel_order(world.deps, "ord_missing", "", "A1")
    assert ("cancel", "ord_missing") not in world.journeys.calls


async def test_store_actions_check_their_shape_and_kind_before_the_journey_is_asked(
    world: World,
) -> None:
    order = await placed(world)
    fid = order.fulfillments[0].fulfillment_id
    with pytest.raises(InvalidArgument) as caught:
        await use_cases.pick_fulfillment(world.deps, fid, [PickedLine("MUG-1", 1)], "A1")
    assert {v.field for v in caught.value.violations} == {"lines[0].sku"}
    with pytest.raises(Conflict) as refused:
        await use_cases.ship_fulfillment(world.deps, fid, "UPS", "1Z", "A1")
    assert refused.value.message == "only a ship fulfillment is shipped"
    with pytest.raises(InvalidArgument) as caught:
        await use_cases.ship_fulfillment(world.deps, fid, "UPS", "", "A1")
    assert [v.field for v in caught.value.violations] == ["tracking_number"]
    with pytest.raises(InvalidArgument):
        await use_cases.reject_fulfillment(world.deps, fid, "  ", "A1")
    with pytest.raises(NotFound):
        await use_cases.hand_over_fulfillment(world.deps, "ful_missing", "4711", "A1")
    assert [call for call, _ in world.journeys.calls] == ["place"]

    picked = await use_cases.pick_fulfillment(world.deps, fid, [PickedLine("TEE-1", 2)], "A1")
    assert picked.status == FulfillmentStatus.READY_FOR_PICKUP
    await use_cases.reject_fulfillment(world.deps, fid, "cooler broke", "A1")
    assert [call for call, _ in world.journeys.calls] == ["place", "pick", "reject"]


async def test_store_actions_forward_the_callers_key_and_nothing_without_one(
    world: World,
) -> None:
    """Defect 8: the key makes a retried action the same journey update."""
    order = await placed(world)
    fid = order.fulfillments[0].fulfillment_id
    await use_cases.pick_fulfillment(world.deps, fid, [PickedLine("TEE-1", 2)], "A1", key="k-p")
    await use_cases.hand_over_fulfillment(world.deps, fid, "4711", "A1", key="k-h")
    await use_cases.reject_fulfillment(world.deps, fid, "cooler broke", "A1")
    await use_cases.cancel_order(world.deps, order.order_id, "", "A1", key="k-c")
    assert world.journeys.keys == [
        ("pick", "k-p"),
        ("hand_over", "k-h"),
        ("reject", ""),
        ("cancel", "k-c"),
    ]
    with pytest.raises(InvalidArgument) as caught:
        await use_cases.pick_fulfillment(
            world.deps, fid, [PickedLine("TEE-1", 2)], "A1", key="k" * 1000
        )
    assert [v.field for v in caught.value.violations] == ["idempotency_key"]


async def test_a_customers_arrival_is_recorded_once_and_only_for_a_waiting_pickup(
    world: World,
) -> None:
    order = await placed(world)
    fid = order.fulfillments[0].fulfillment_id
    with pytest.raises(Conflict):
        await use_cases.mark_customer_arrived(world.deps, fid, "red car")
    await use_cases.pick_fulfillment(world.deps, fid, [PickedLine("TEE-1", 2)], "A1")
    with pytest.raises(InvalidArgument):
        await use_cases.mark_customer_arrived(world.deps, fid, "x" * 501)

    first = await use_cases.mark_customer_arrived(world.deps, fid, "red car")
    again = await use_cases.mark_customer_arrived(world.deps, fid, "still here")
    assert (first.arrived_at, first.arrival_note) == (NOW, "red car")
    assert (again.arrived_at, again.arrival_note) == (NOW, "red car")
    events = world.storage.state.orders[order.order_id].events
    assert [e.type for e in events] == ["customer_arrived"]
    # The journey is told each time with the first arrival's note (it keeps
    # the first; a retry re-sends a signal that may have been lost).
    assert world.journeys.arrivals == [(fid, "red car"), (fid, "red car")]


async def test_a_partial_handover_forwards_what_was_taken(world: World) -> None:
    order = await placed(world)
    fid = order.fulfillments[0].fulfillment_id
    await use_cases.pick_fulfillment(world.deps, fid, [PickedLine("TEE-1", 2)], "A1")
    await use_cases.hand_over_fulfillment(
        world.deps, fid, "123456", "A1", taken=[TakenLine("TEE-1", 1)]
    )
    await use_cases.hand_over_fulfillment(world.deps, fid, "123456", "A1")
    assert world.journeys.taken == [[TakenLine("TEE-1", 1)], []]


async def test_store_tasks_page_with_opaque_cursors(world: World) -> None:
    for index in range(3):
        order = await placed(world, f"k{index}")
        world.storage.state.orders[order.order_id].fulfillments[0].updated_at = NOW + timedelta(
            minutes=index
        )
    seen, token = [], ""
    while True:
        page = await use_cases.list_store_tasks(world.deps, "S1", None, 1, token)
        seen += [task.task_id for task in page.items]
        token = page.next_cursor
        if not token:
            break
    everything = await use_cases.list_store_tasks(world.deps, "S1", TaskType.PICK, 0, "")
    assert seen == [task.task_id for task in everything.items] and len(seen) == 3
    assert (await use_cases.list_store_tasks(world.deps, "S1", TaskType.PICKUP, 0, "")).items == []

    with pytest.raises(InvalidArgument) as caught:
        await use_cases.list_store_tasks(world.deps, "S1", None, 0, "not-a-cursor!")
    assert [v.field for v in caught.value.violations] == ["page_token"]
    with pytest.raises(InvalidArgument) as caught:
        await use_cases.list_store_tasks(world.deps, "S1", None, 1000, "")
    assert [v.field for v in caught.value.violations] == ["limit"]


# ---------------------------------------------------------------- returns


def return_request(
    order_id: str, quantity: int, method: ReturnMethod = ReturnMethod.IN_STORE
) -> ReturnRequest:
    return ReturnRequest(
        order_id=order_id,
        lines=[ReturnRequestLine("TEE-1", quantity, SELLABLE)],
        method=method,
        location_id="S2" if method == ReturnMethod.IN_STORE else "",
    )


async def test_a_return_holds_its_quantities_refunds_the_price_paid_and_starts_its_journey(
    world: World,
) -> None:
    order = await completed(world, ("TEE-1", 2))
    record = await use_cases.create_return(
        world.deps, return_request(order.order_id, 1), keyed("r1")
    )
    assert (record.status, record.refund, record.channel) == (
        ReturnStatus.REQUESTED,
        Money(2500, "USD"),
        Channel.WEB,
    )
    assert world.storage.state.orders[order.order_id].lines[0].returned_quantity == 1

    again = await use_cases.create_return(
        world.deps, return_request(order.order_id, 1), keyed("r1")
    )
    assert again.return_id == record.return_id
    assert world.storage.state.orders[order.order_id].lines[0].returned_quantity == 1

    with pytest.raises(BusinessRuleViolation) as refused:
        await use_cases.create_return(world.deps, return_request(order.order_id, 2), keyed("r2"))
    assert refused.value.reason == "RETURN_QUANTITY_EXCEEDED"
    assert len(world.storage.state.returns) == 1


async def test_nothing_is_returned_before_the_goods_reached_the_customer(world: World) -> None:
    order = await placed(world)
    with pytest.raises(Conflict) as refused:
        await use_cases.create_return(world.deps, return_request(order.order_id, 1), keyed("r1"))
    assert refused.value.reason == "INVALID_STATE"
    assert world.storage.state.returns == {}
    assert world.storage.state.orders[order.order_id].lines[0].returned_quantity == 0
    with pytest.raises(NotFound):
        await use_cases.create_return(world.deps, return_request("ord_missing", 1), keyed("r2"))


async def test_a_mail_return_is_received_at_one_location(world: World) -> None:
    order = await completed(world, ("TEE-1", 2))
    by_mail = await use_cases.create_return(
        world.deps, return_request(order.order_id, 2, ReturnMethod.MAIL), keyed("r1")
    )
    arrived = [ReturnRequestLine("TEE-1", 2, SELLABLE)]
    with pytest.raises(InvalidArgument) as caught:
        await use_cases.receive_return(
            world.deps, by_mail.return_id, "", [ReturnRequestLine("TEE-1", 3, None)], "A1"
        )
    assert [v.field for v in caught.value.violations] == [
        "location_id",
        "lines[0].condition",
        "lines[0].quantity",
    ]
    world.storage.state.returns[by_mail.return_id].location_id = "W2"
    with pytest.raises(Conflict):
        await use_cases.receive_return(world.deps, by_mail.return_id, "W1", arrived, "A1")
    received = await use_cases.receive_return(
        world.deps, by_mail.return_id, "W2", arrived, "A1", key="k-recv"
    )
    assert received.status == ReturnStatus.REFUNDED
    # Defect 8: the answer was lost and the associate retries with the same
    # key: the journey is asked again under that key (it answers the first
    # outcome), not refused here because the return is refunded by now.
    again = await use_cases.receive_return(
        world.deps, by_mail.return_id, "W2", arrived, "A1", key="k-recv"
    )
    assert again.status == ReturnStatus.REFUNDED
    assert world.journeys.keys[-2:] == [("receive_return", "k-recv")] * 2
    # Without a key (or a key the journey does not know) it is refused as before.
    with pytest.raises(Conflict) as refused:
        await use_cases.receive_return(world.deps, by_mail.return_id, "W2", arrived, "A1")
    assert "refunded" in refused.value.message
    world.journeys.refusal = Conflict("INVALID_STATE", "the order's journey has already ended")
    with pytest.raises(Conflict) as refused:
        await use_cases.receive_return(
            world.deps, by_mail.return_id, "W2", arrived, "A1", key="k-other"
        )
    assert "refunded" in refused.value.message
    world.journeys.refusal = None

    # Issue 12: an in-store return waits at its store (S2) until an associate
    # there receives it; no other location can.
    other = await completed(world, ("TEE-1", 1))
    in_store = await use_cases.create_return(
        world.deps, return_request(other.order_id, 1), keyed("r2")
    )
    one = [ReturnRequestLine("TEE-1", 1, SELLABLE)]
    with pytest.raises(Conflict):
        await use_cases.receive_return(world.deps, in_store.return_id, "W1", one, "A1")
    received = await use_cases.receive_return(world.deps, in_store.return_id, "S2", one, "A2")
    assert received.status == ReturnStatus.REFUNDED


# ---------------------------------------------------------------- progress


async def test_order_progress_applies_once_per_event(world: World) -> None:
    order = await placed(world)
    fid = order.fulfillments[0].fulfillment_id
    change = OrderProgress(
        "evt-1",
        order.order_id,
        OrderStatus.IN_FULFILLMENT,
        [FulfillmentProgress(fid, None, "", FulfillmentStatus.PICKING, [])],
        Event(NOW, "picking_started", "by A1"),
    )
    request = orders_pb2.RecordOrderProgressRequest(event_id="evt-1", order_id=order.order_id)
    first = await use_cases.record_order_progress(world.deps, change, request)
    second = await use_cases.record_order_progress(world.deps, change, request)
    assert first == second
    assert [e.type for e in second.events] == ["picking_started"]
    assert (second.status, second.fulfillments[0].status) == (
        OrderStatus.IN_FULFILLMENT,
        FulfillmentStatus.PICKING,
    )

    new_without_location = replace(
        change,
        event_id="evt-2",
        fulfillments=[FulfillmentProgress("ful_2", None, "", FulfillmentStatus.PENDING, [])],
    )
    with pytest.raises(InvalidArgument):
        await use_cases.record_order_progress(world.deps, new_without_location, request)
    with pytest.raises(InvalidArgument) as caught:
        await use_cases.record_order_progress(
            world.deps, replace(change, event_id="evt-3", status=OrderStatus.PENDING), request
        )
    assert [v.field for v in caught.value.violations] == ["status"]
    with pytest.raises(NotFound):
        await use_cases.record_order_progress(
            world.deps, replace(change, event_id="evt-4", order_id="ord_missing"), request
        )


async def test_a_rejected_return_gives_its_quantities_back_once(world: World) -> None:
    order = await completed(world, ("TEE-1", 2))
    record = await use_cases.create_return(
        world.deps, return_request(order.order_id, 2), keyed("r1")
    )
    request = orders_pb2.RecordReturnProgressRequest(event_id="evt-r", return_id=record.return_id)
    rejected = ReturnProgress("evt-r", record.return_id, ReturnStatus.REJECTED)
    await use_cases.record_return_progress(world.deps, rejected, request)
    await use_cases.record_return_progress(
        world.deps, replace(rejected, event_id="evt-r2"), request
    )
    assert world.storage.state.orders[order.order_id].lines[0].returned_quantity == 0

    refunded = ReturnProgress(
        "evt-refund",
        record.return_id,
        ReturnStatus.REFUNDED,
        refunds=[RefundRecord("pay_1", TenderType.CARD, Money(5000, ""), None)],
    )
    after = await use_cases.record_return_progress(world.deps, refunded, request)
    assert after.refunds[0].amount == Money(5000, "USD")


async def test_erasing_names_bad_ids_and_counts_what_changed(world: World) -> None:
    with pytest.raises(InvalidArgument) as caught:
        await use_cases.erase_personal_data(world.deps, ["C1", "x" * 129])
    assert [v.field for v in caught.value.violations] == ["customer_ids[1]"]
    assert await use_cases.erase_personal_data(world.deps, ["C1", "C1"]) == 0
