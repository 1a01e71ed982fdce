"""Placement taken by the orders service (services/orders/placement.py) on
in-memory fakes: the hold, the authorizations, the journey's start, every
refusal giving back what was taken, a retry of the key repeating the same
ids, and recovery taking over placements that stopped half way.

The same placement killed on the real stack: tests/faults/test_placement_crash.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import pytest

from omni.common.v1 import common_pb2
from omni.payments.v1 import payments_pb2
from omni.words import (
    Channel,
    FulfillmentStatus,
    FulfillmentType,
    OrderStatus,
    ReservationStatus,
    TenderType,
)
from services.common.errors import BusinessRuleViolation, Unavailable
from services.orders import use_cases
from services.orders.domain.placing import RequestedTender
from services.orders.domain.records import Address, OrderRecord
from services.orders.placement import PLACEMENT_INTERRUPTED, Hold, Placing, recover_placements
from services.orders.use_cases import Dependencies
from tests.unit.test_orders_use_cases import (
    NOW,
    FakeJourneys,
    FakeProducts,
    FakeStorage,
    keyed,
    order_request,
)
from workflows.contracts.activities import PaymentInfo
from workflows.contracts.journeys import (
    OrderInput,
    PlacedInput,
    authorization_key,
    placement_hold_id,
    void_key,
)


@dataclass
class FakeStock:
    available: dict[tuple[str, str], int] = field(default_factory=dict)
    holds: dict[str, Hold] = field(default_factory=dict)
    held_units: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    sourced: list[str] = field(default_factory=list)
    # What FindSources offers as a split when `sourced` is empty.
    splits: list[tuple[str, list[tuple[str, int]]]] = field(default_factory=list)
    down: bool = False

    async def sources(
        self, lines: list[tuple[str, int]], lat: float, lon: float, channel: Channel
    ) -> list[str]:
        return list(self.sourced)

    async def split(
        self,
        lines: list[tuple[str, int]],
        lat: float,
        lon: float,
        channel: Channel,
        max_locations: int,
    ) -> list[tuple[str, list[tuple[str, int]]]]:
        """The split option (`splits`; the split tests set it)."""
        return list(self.splits)

    async def hold(
        self,
        reservation_id: str,
        order_id: str,
        location_id: str,
        lines: list[tuple[str, int]],
        channel: Channel,
        ttl_seconds: int,
    ) -> Hold:
        self.calls.append(f"hold {reservation_id} at {location_id} for {ttl_seconds}s")
        if self.down:
            raise Unavailable("inventory: down")
        if reservation_id in self.holds:
            return self.holds[reservation_id]
        for sku, quantity in lines:
            if self.available.get((location_id, sku), 0) < quantity:
                raise BusinessRuleViolation("INSUFFICIENT_STOCK", f"{sku} sold out", {"sku": sku})
        for sku, quantity in lines:
            self.available[(location_id, sku)] -= quantity
        self.holds[reservation_id] = Hold(reservation_id, location_id, ReservationStatus.ACTIVE)
        self.held_units[reservation_id] = lines
        return self.holds[reservation_id]

    async def release(self, reservation_id: str) -> None:
        self.calls.append(f"release {reservation_id}")
        hold = self.holds.get(reservation_id)
        if hold is None or hold.status != ReservationStatus.ACTIVE:
            return
        for sku, quantity in self.held_units[reservation_id]:
            self.available[(hold.location_id, sku)] += quantity
        self.holds[reservation_id] = Hold(
            reservation_id, hold.location_id, ReservationStatus.RELEASED
        )

    @property
    def active(self) -> list[str]:
        return [
            h.reservation_id for h in self.holds.values() if h.status == ReservationStatus.ACTIVE
        ]


def answered(payment: PaymentInfo, reference: str) -> bytes:
    """The payment as payments would answer it (payments.v1.Payment)."""
    return payments_pb2.Payment(
        payment_id=payment.payment_id,
        reference=reference,
        authorized=common_pb2.Money(
            amount_minor=payment.authorized_minor, currency=payment.currency
        ),
    ).SerializeToString()


@dataclass
class FakePayments:
    by_key: dict[str, PaymentInfo] = field(default_factory=dict)
    voids: dict[str, str] = field(default_factory=dict)
    declined_tokens: set[str] = field(default_factory=set)
    ambiguous_once: set[str] = field(default_factory=set)

    async def authorize(
        self,
        key: str,
        reference: str,
        tender: RequestedTender,
        amount_minor: int,
        currency: str,
        channel: Channel,
    ) -> PaymentInfo:
        if key in self.by_key:
            return self.by_key[key]
        if tender.token in self.declined_tokens:
            raise BusinessRuleViolation("PAYMENT_DECLINED", "declined")
        payment = PaymentInfo(f"pay-{key}", tender.type, "authorized", currency, amount_minor)
        self.by_key[key] = payment
        if key in self.ambiguous_once:
            # Authorized, but the answer was lost.
            self.ambiguous_once.discard(key)
            raise Unavailable("payments: deadline exceeded")
        return payment

    async def authorize_answered(
        self,
        key: str,
        reference: str,
        tender: RequestedTender,
        amount_minor: int,
        currency: str,
        channel: Channel,
    ) -> tuple[PaymentInfo, bytes]:
        payment = await self.authorize(key, reference, tender, amount_minor, currency, channel)
        return payment, answered(payment, reference)

    async def void(self, key: str, payment_id: str) -> None:
        self.voids.setdefault(payment_id, key)

    @property
    def live(self) -> list[str]:
        return [p.payment_id for p in self.by_key.values() if p.payment_id not in self.voids]


@dataclass
class FakePlacements:
    """Temporal: one run per order id; the abandoned run gives everything back."""

    stock: FakeStock
    payments: FakePayments
    started: dict[str, OrderInput] = field(default_factory=dict)
    starts: list[str] = field(default_factory=list)
    # The next start_placed fails (Temporal unreachable): nothing started.
    down_once: bool = False

    async def start_placed(
        self, order: OrderRecord, tenders: list[RequestedTender], placed: PlacedInput, store_id: str
    ) -> bool:
        self.starts.append(f"placed {order.order_id}")
        if self.down_once:
            self.down_once = False
            raise Unavailable("temporal: unreachable")
        if order.order_id in self.started:
            return False
        self.started[order.order_id] = OrderInput(
            order.order_id, order.customer_id, order.channel, "USD", [], [], "pickup", placed=placed
        )
        return True

    async def start_abandoned(self, order: OrderRecord) -> bool:
        self.starts.append(f"abandoned {order.order_id}")
        if order.order_id in self.started:
            return False
        self.started[order.order_id] = OrderInput(
            order.order_id,
            order.customer_id,
            order.channel,
            "USD",
            [],
            [],
            "pickup",
            abandoned=True,
        )
        # What the abandoned journey does: release the hold, void every payment.
        await self.stock.release(placement_hold_id(order.order_id))
        for payment in self.payments.by_key.values():
            if payment.payment_id.startswith(f"pay-order-{order.order_id}/"):
                await self.payments.void("journey", payment.payment_id)
        return True

    async def started_with(self, order_id: str) -> OrderInput | None:
        return self.started.get(order_id)


@dataclass
class World:
    deps: Dependencies
    storage: FakeStorage
    stock: FakeStock
    payments: FakePayments
    placements: FakePlacements
    placing: Placing
    steps: list[str]


@pytest.fixture
def world() -> World:
    storage = FakeStorage()
    stock = FakeStock(available={("S1", "TEE-1"): 3, ("S2", "TEE-1"): 3})
    payments = FakePayments()
    placements = FakePlacements(stock, payments)
    steps: list[str] = []
    placing = Placing(stock, payments, placements, checkpoint=steps.append)
    deps = Dependencies(
        storage=storage,
        journeys=FakeJourneys(storage),
        products=FakeProducts(),
        now=lambda: NOW,
        placing=placing,
    )
    return World(deps, storage, stock, payments, placements, placing, steps)


GIFT_AND_CARD = [
    RequestedTender(TenderType.GIFT_CARD, code="GC-1", amount_minor=1000),
    RequestedTender(TenderType.CARD, token="tok_approve"),
]


async def place(
    world: World, key: str = "k1", tenders: list[RequestedTender] | None = None
) -> OrderRecord:
    return await use_cases.place_order(
        world.deps, order_request(("TEE-1", 2), tenders=tenders or GIFT_AND_CARD), keyed(key)
    )


def only_order(world: World) -> OrderRecord:
    (order,) = world.storage.state.orders.values()
    return order


async def test_a_placement_holds_authorizes_each_tender_starts_the_journey_and_reads_placed(
    world: World,
) -> None:
    order = await place(world)
    oid = order.order_id
    assert order.status == OrderStatus.PLACED
    assert world.stock.calls == [f"hold {placement_hold_id(oid)} at S1 for 900s"]
    assert world.stock.available[("S1", "TEE-1")] == 1
    # The gift card pays its amount, the card the rest, under keys from the order id.
    assert {k: p.authorized_minor for k, p in world.payments.by_key.items()} == {
        authorization_key(oid, 0): 1000,
        authorization_key(oid, 1): 4000,
    }
    placed = world.placements.started[oid].placed
    assert placed is not None
    assert (placed.location_id, placed.reservation_id) == ("S1", placement_hold_id(oid))
    assert [(t.index, t.payment.authorized_minor) for t in placed.tenders] == [(0, 1000), (1, 4000)]
    (fulfillment,) = order.fulfillments
    assert (fulfillment.fulfillment_id, fulfillment.location_id, fulfillment.status) == (
        f"{oid}-F1",
        "S1",
        FulfillmentStatus.PENDING,
    )
    assert [e.type for e in order.events] == ["placed"]
    assert world.steps == ["row", "hold", "authorize/0", "authorize/1", "start", "started"]
    # The journey's own `place` update is not used.
    assert world.deps.journeys.calls == []  # type: ignore[attr-defined]

    again = await place(world)
    assert again.order_id == oid
    assert world.placements.starts == [f"placed {oid}"]
    assert len(world.stock.calls) == 1


async def test_the_answer_carries_the_authorizations_as_payments_answered_them(
    world: World,
) -> None:
    """No ListPayments for the answer (issue 10): the placement keeps what
    each AuthorizePayment answered, in tender order; a retry of the key did
    not authorize, so it has none and the servicer lists them instead."""
    wanted = order_request(("TEE-1", 2), tenders=GIFT_AND_CARD)
    placed = await use_cases.place_order_answered(world.deps, wanted, keyed("k1"))
    oid = placed.order.order_id
    assert placed.order == only_order(world)
    assert placed.payments is not None
    shown = [payments_pb2.Payment.FromString(p) for p in placed.payments]
    assert [(p.payment_id, p.reference, p.authorized.amount_minor) for p in shown] == [
        (f"pay-{authorization_key(oid, 0)}", oid, 1000),
        (f"pay-{authorization_key(oid, 1)}", oid, 4000),
    ]

    again = await use_cases.place_order_answered(world.deps, wanted, keyed("k1"))
    assert again.order.order_id == oid and again.payments is None


async def test_a_retry_that_finds_its_journey_started_answers_without_payments(
    world: World,
) -> None:
    """The process died after the start: the retry's start finds the journey,
    so what it authorized is not what the journey holds for sure: listed."""
    order = await place(world)
    oid = order.order_id
    world.storage.state.orders[oid].status = OrderStatus.PENDING
    world.storage.state.orders[oid].fulfillments = []
    world.storage.state.orders[oid].events = []
    wanted = order_request(("TEE-1", 2), tenders=GIFT_AND_CARD)
    again = await use_cases.place_order_answered(world.deps, wanted, keyed("k1"))
    assert again.order.status == OrderStatus.PLACED and again.payments is None
    assert [f.fulfillment_id for f in again.order.fulfillments] == [f"{oid}-F1"]
    assert world.placements.starts == [f"placed {oid}", f"placed {oid}"]


async def test_a_start_that_fails_leaves_the_row_pending_though_it_was_written_alongside(
    world: World,
) -> None:
    """The placed row is written while the journey starts (placement speed)
    and committed only once it started: Temporal down at the start is a 503
    with the row still pending, nothing of `placed` kept; the retry of the key
    starts it once and records it."""
    world.placements.down_once = True
    with pytest.raises(Unavailable):
        await place(world)
    pending = only_order(world)
    assert (pending.status, pending.fulfillments, pending.events) == (OrderStatus.PENDING, [], [])

    placed = await place(world)
    assert placed.order_id == pending.order_id and placed.status == OrderStatus.PLACED
    assert [f.fulfillment_id for f in only_order(world).fulfillments] == [f"{placed.order_id}-F1"]
    assert [e.type for e in only_order(world).events] == ["placed"]
    assert list(world.placements.started) == [placed.order_id]


async def test_a_sold_out_sku_is_a_422_before_any_authorization_or_journey(world: World) -> None:
    world.stock.available[("S1", "TEE-1")] = 1
    with pytest.raises(BusinessRuleViolation) as refused:
        await place(world)
    assert refused.value.reason == "INSUFFICIENT_STOCK"
    assert refused.value.metadata == {"sku": "TEE-1"}
    assert world.payments.by_key == {}
    assert world.placements.starts == []
    assert only_order(world).status == OrderStatus.REJECTED

    # A retry of the key is told the same, without asking inventory again.
    with pytest.raises(BusinessRuleViolation) as again:
        await place(world)
    assert again.value.reason == "INSUFFICIENT_STOCK"
    assert len(world.stock.calls) == 1


async def test_a_declined_card_voids_the_gift_card_and_releases_the_hold(world: World) -> None:
    world.payments.declined_tokens.add("tok_decline")
    tenders = [GIFT_AND_CARD[0], RequestedTender(TenderType.CARD, token="tok_decline")]
    with pytest.raises(BusinessRuleViolation) as refused:
        await place(world, tenders=tenders)
    assert refused.value.reason == "PAYMENT_DECLINED"
    oid = only_order(world).order_id
    gift = world.payments.by_key[authorization_key(oid, 0)]
    assert world.payments.voids == {gift.payment_id: void_key(oid, 0)}
    assert world.payments.live == []
    assert world.stock.active == []
    assert world.stock.available[("S1", "TEE-1")] == 3
    assert world.placements.starts == []
    assert only_order(world).status == OrderStatus.REJECTED


async def test_an_answer_lost_at_authorize_is_a_503_and_the_retry_is_one_order_one_of_each(
    world: World,
) -> None:
    # The first order id is not known before; every card key is ambiguous once.
    real_authorize = world.payments.authorize

    async def lose_first_card_answer(key: str, *args: object, **kwargs: object) -> PaymentInfo:
        if key.endswith("/authorize/1") and not any(
            k.endswith("/authorize/1") for k in world.payments.by_key
        ):
            world.payments.ambiguous_once.add(key)
        return await real_authorize(key, *args, **kwargs)  # type: ignore[arg-type]

    world.payments.authorize = lose_first_card_answer  # type: ignore[method-assign]
    with pytest.raises(Unavailable):
        await place(world)
    assert only_order(world).status == OrderStatus.PENDING
    assert world.placements.starts == []

    order = await place(world)
    assert order.status == OrderStatus.PLACED
    assert len(world.payments.by_key) == 2
    assert world.stock.active == [placement_hold_id(order.order_id)]
    assert world.stock.available[("S1", "TEE-1")] == 1
    assert world.placements.starts == [f"placed {order.order_id}"]


async def test_an_attempt_that_finds_recovery_s_journey_gives_back_what_it_took(
    world: World,
) -> None:
    # Recovery started the abandoned journey while this attempt was authorizing.
    def recovery_wins(step: str) -> None:
        if step == "start":
            order = only_order(world)
            world.placements.started[order.order_id] = OrderInput(
                order.order_id, "C1", "web", "USD", [], [], "pickup", abandoned=True
            )

    object.__setattr__(world.placing, "checkpoint", recovery_wins)
    with pytest.raises(BusinessRuleViolation) as refused:
        await place(world)
    assert refused.value.reason == PLACEMENT_INTERRUPTED
    assert world.payments.live == []
    assert world.stock.active == []


async def test_an_attempt_that_finds_its_own_earlier_start_records_placed_at_its_location(
    world: World,
) -> None:
    with pytest.raises(Unavailable):
        # The first attempt started the journey, then its answer was lost.
        def lost_after_start(step: str) -> None:
            if step == "started":
                raise Unavailable("killed")

        object.__setattr__(world.placing, "checkpoint", lost_after_start)
        await place(world)
    object.__setattr__(world.placing, "checkpoint", lambda _step: None)
    order = await place(world)
    assert order.status == OrderStatus.PLACED
    assert order.fulfillments[0].location_id == "S1"
    assert world.placements.starts == [f"placed {order.order_id}"] * 2
    assert len(world.placements.started) == 1


async def test_recovery_gives_back_a_stalled_placement_and_a_retry_is_told_to_use_a_new_key(
    world: World,
) -> None:
    object.__setattr__(world.placing, "checkpoint", _die_after("authorize/0"))
    with pytest.raises(Unavailable):
        await place(world)
    oid = only_order(world).order_id
    assert world.payments.live and world.stock.active

    world.storage.state.stale.add(oid)
    assert await recover_placements(world.deps, world.placing) == 1
    assert world.placements.starts == [f"abandoned {oid}"]
    assert world.payments.live == []
    assert world.stock.active == []

    object.__setattr__(world.placing, "checkpoint", lambda _step: None)
    with pytest.raises(BusinessRuleViolation) as refused:
        await place(world)
    assert refused.value.reason == PLACEMENT_INTERRUPTED
    # Nothing was taken again.
    assert world.payments.live == [] and world.stock.active == []
    assert await recover_placements(world.deps, world.placing) == 0


async def test_recovery_records_placed_when_the_journey_had_started(world: World) -> None:
    object.__setattr__(world.placing, "checkpoint", _die_after("started"))
    with pytest.raises(Unavailable):
        await place(world)
    oid = only_order(world).order_id
    world.storage.state.stale.add(oid)
    assert await recover_placements(world.deps, world.placing) == 1
    order = world.storage.state.orders[oid]
    assert order.status == OrderStatus.PLACED
    assert order.fulfillments[0].location_id == "S1"
    # Its hold and authorizations stay: the journey owns them now.
    assert len(world.payments.live) == 2 and world.stock.active == [placement_hold_id(oid)]


async def test_a_retry_whose_hold_ran_out_is_given_back_by_an_abandoned_journey(
    world: World,
) -> None:
    object.__setattr__(world.placing, "checkpoint", _die_after("authorize/1"))
    with pytest.raises(Unavailable):
        await place(world)
    oid = only_order(world).order_id
    hold = world.stock.holds[placement_hold_id(oid)]
    world.stock.holds[hold.reservation_id] = Hold(
        hold.reservation_id, hold.location_id, ReservationStatus.EXPIRED
    )
    object.__setattr__(world.placing, "checkpoint", lambda _step: None)
    with pytest.raises(BusinessRuleViolation) as refused:
        await place(world)
    assert refused.value.reason == PLACEMENT_INTERRUPTED
    assert world.placements.starts == [f"abandoned {oid}"]
    assert world.payments.live == []


async def test_a_shipped_order_is_held_at_the_next_source_when_the_first_sold_out(
    world: World,
) -> None:
    world.stock.sourced = ["S1", "S2"]
    world.stock.available[("S1", "TEE-1")] = 0
    wanted = replace(
        order_request(("TEE-1", 2), tenders=GIFT_AND_CARD),
        fulfillment_type=FulfillmentType.SHIP,
        location_id="",
        address=Address("1 Main", "Town", "00001", "US", 1.0, 2.0),
    )
    order = await use_cases.place_order(world.deps, wanted, keyed("ship"))
    assert order.status == OrderStatus.PLACED
    assert order.fulfillments[0].location_id == "S2"


async def test_a_placement_with_inventory_down_is_a_503_and_takes_nothing(world: World) -> None:
    world.stock.down = True
    with pytest.raises(Unavailable):
        await place(world)
    assert only_order(world).status == OrderStatus.PENDING
    assert world.payments.by_key == {} and world.placements.starts == []


def _die_after(step: str) -> Callable[[str], None]:
    def checkpoint(reached: str) -> None:
        if reached == step:
            raise Unavailable(f"killed after {step}")

    return checkpoint
