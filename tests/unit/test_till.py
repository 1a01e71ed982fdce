"""Till sales (issue 14) on in-memory fakes: the till's tender rules
(services/orders/domain/till.py) and the direct path (services/orders/till.py):
held, authorized, sold as a pos_sale, paid, completed; every refusal giving
back what was taken; a crash after any step either given back or finished by
recovery, never lost or doubled; a retry of the key finding the same sale.

The same sale through the real stack: tests/e2e/test_till_sales.py."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import pytest

from omni.payments.v1 import payments_pb2
from omni.words import (
    Channel,
    FulfillmentStatus,
    FulfillmentType,
    OrderStatus,
    ReservationStatus,
    TenderType,
)
from services.common.errors import BusinessRuleViolation, InvalidArgument, Unavailable
from services.common.validation import Violations
from services.orders import use_cases
from services.orders.domain import till as rules
from services.orders.domain.placing import RequestedTender
from services.orders.domain.records import OrderRecord
from services.orders.placement import PLACEMENT_INTERRUPTED, Hold, Placing, recover_placements
from services.orders.till import Till
from services.orders.use_cases import Dependencies
from tests.unit.test_orders_placement import FakePayments, FakePlacements, FakeStock, answered
from tests.unit.test_orders_use_cases import (
    NOW,
    FakeJourneys,
    FakeProducts,
    FakeStorage,
    keyed,
    order_request,
)
from workflows.contracts.activities import PaymentInfo
from workflows.contracts.journeys import placement_hold_id

CASH = TenderType.CASH
GIFT = TenderType.GIFT_CARD
CARD = TenderType.CARD_PRESENT


def tender(kind: str, amount: int = 0, token: str = "", code: str = "") -> RequestedTender:
    return RequestedTender(kind, token=token, code=code, amount_minor=amount)


# --- the till's tender rules ---------------------------------------------------------


def test_cash_exact_and_over_records_what_is_due_and_the_change() -> None:
    assert rules.split([tender(CASH, 2160)], 2160) == rules.TenderSplit([2160], 0)
    assert rules.split([tender(CASH, 2500)], 2160) == rules.TenderSplit([2160], 340)
    assert rules.tender_problem([tender(CASH, 2500)], 2160) is None


def test_gift_card_then_cash_then_card_present_for_the_rest() -> None:
    tenders = [tender(CARD, token="tokp_approve"), tender(CASH, 1000), tender(GIFT, 1500, code="G")]
    assert rules.split(tenders, 4000) == rules.TenderSplit([1500, 1000, 1500], 0)
    assert rules.split([tender(GIFT, 1500, code="G"), tender(CARD, token="t")], 4000).amounts == [
        1500,
        2500,
    ]
    # A lone gift card without an amount pays it all.
    assert rules.split([tender(GIFT, code="G")], 900).amounts == [900]


def test_tenders_that_cannot_pay_are_named() -> None:
    assert rules.tender_problem([tender(CASH, 100)], 900) is not None
    assert rules.tender_problem([tender(GIFT, 1000, code="G"), tender(CASH, 50)], 900) is not None
    with pytest.raises(InvalidArgument) as short:
        rules.check_tenders_pay([tender(CASH, 100)], 900)
    assert [v.field for v in short.value.violations] == ["tenders"]


def test_a_till_takes_only_cash_card_present_and_gift_cards_in_shape() -> None:
    bad = Violations()
    rules.check_tenders(
        [
            tender(TenderType.CARD, token="tok_approve"),
            tender(CASH, 0),
            tender(CARD),
            tender(CARD, 5, token="t"),
            tender(CASH, 10),
        ],
        bad,
    )
    with pytest.raises(InvalidArgument) as raised:
        bad.raise_if_any()
    fields = [v.field for v in raised.value.violations]
    assert fields == [
        "tenders[0].type",
        "tenders[1].amount",
        "tenders[2].token",
        "tenders[3].amount",
        "tenders",
        "tenders",
    ]


# --- the direct path -------------------------------------------------------------------


@dataclass
class TillStock(FakeStock):
    """The fake inventory, with a hold sold as a pos_sale."""

    sold: dict[str, list[tuple[str, int]]] = field(default_factory=dict)

    async def sell(self, reservation_id: str) -> ReservationStatus | None:
        self.calls.append(f"sell {reservation_id}")
        hold = self.holds.get(reservation_id)
        if hold is None:
            return None
        if hold.status == ReservationStatus.ACTIVE:
            self.sold[reservation_id] = self.held_units[reservation_id]
            self.holds[reservation_id] = replace(hold, status=ReservationStatus.COMMITTED)
        return self.holds[reservation_id].status

    async def give_back(self, reservation_id: str) -> ReservationStatus | None:
        await self.release(reservation_id)
        hold = self.holds.get(reservation_id)
        return None if hold is None else hold.status


@dataclass
class TillPayments(FakePayments):
    captures: dict[str, tuple[str, int]] = field(default_factory=dict)
    refunds: dict[str, tuple[str, int]] = field(default_factory=dict)
    # The card_present sold at once: key -> its payment id.
    sold_cards: dict[str, str] = field(default_factory=dict)

    async def sell_card(
        self,
        key: str,
        reference: str,
        tender: RequestedTender,
        amount_minor: int,
        currency: str,
        channel: Channel,
    ) -> tuple[PaymentInfo, bytes]:
        assert tender.type == CARD, "only a card_present is sold at once"
        payment = await self.authorize(key, reference, tender, amount_minor, currency, channel)
        if key not in self.sold_cards:
            self.sold_cards[key] = payment.payment_id
            self.captures[f"{key}/capture"] = (payment.payment_id, amount_minor)
        now = self._as_now(payment)
        return now, answered(now, reference)

    async def capture(self, key: str, payment_id: str, amount_minor: int, currency: str) -> bytes:
        self.captures.setdefault(key, (payment_id, amount_minor))
        (payment,) = [p for p in self.by_key.values() if p.payment_id == payment_id]
        return answered(replace(payment, status="captured", captured_minor=amount_minor), "")

    async def refund(self, key: str, payment_id: str, amount_minor: int, currency: str) -> None:
        self.refunds.setdefault(key, (payment_id, amount_minor))

    def _as_now(self, p: PaymentInfo) -> PaymentInfo:
        if p.payment_id in self.voids:
            return replace(p, status="voided")
        if p.payment_id in self.sold_cards.values():
            refunded = sum(a for pid, a in self.refunds.values() if pid == p.payment_id)
            status = "refunded" if refunded >= p.authorized_minor else "captured"
            return replace(
                p, status=status, captured_minor=p.authorized_minor, refunded_minor=refunded
            )
        return p

    async def payments_of(self, reference: str) -> list[PaymentInfo]:
        return [
            self._as_now(p)
            for p in self.by_key.values()
            if p.payment_id.startswith(f"pay-order-{reference}/")
        ]

    async def listed(self, reference: str) -> list[payments_pb2.Payment]:
        return []

    @property
    def kept(self) -> list[str]:
        """Payments that still take money: not voided, not refunded in full."""
        refunded = {pid for pid, _ in self.refunds.values()}
        return [pid for pid in self.live if pid not in refunded]

    def captured_minor(self) -> int:
        """What the sale kept: cash recorded, captures less refunds."""
        cash = sum(
            p.authorized_minor for p in self.by_key.values() if p.tender_type == TenderType.CASH
        )
        captured = sum(amount for _, amount in self.captures.values())
        return cash + captured - sum(amount for _, amount in self.refunds.values())


@dataclass
class FakeHistory:
    recorded: list[str] = field(default_factory=list)
    down: bool = False

    async def record_sale(self, order: OrderRecord) -> None:
        if self.down:
            raise Unavailable("customers: down")
        if order.order_id not in self.recorded:
            self.recorded.append(order.order_id)


class Crash(Exception):
    """The process died after a step (the failpoint's kill, in memory)."""


@dataclass
class World:
    deps: Dependencies
    storage: FakeStorage
    stock: TillStock
    payments: TillPayments
    history: FakeHistory
    steps: list[str]
    crash_after: list[str]


@pytest.fixture
def world() -> World:
    storage = FakeStorage()
    stock = TillStock(available={("S1", "TEE-1"): 3})
    payments = TillPayments()
    history = FakeHistory()
    steps: list[str] = []
    crash_after: list[str] = []

    def checkpoint(step: str) -> None:
        steps.append(step)
        if step in crash_after:
            crash_after.remove(step)
            raise Crash(step)

    till = Till(stock, payments, history, checkpoint=checkpoint)
    placing = Placing(stock, payments, FakePlacements(stock, payments))
    deps = Dependencies(
        storage=storage,
        journeys=FakeJourneys(storage),
        products=FakeProducts(),
        now=lambda: NOW,
        placing=placing,
        till=till,
    )
    return World(deps, storage, stock, payments, history, steps, crash_after)


SPLIT = [tender(GIFT, 1000, code="GC-1"), tender(CARD, token="tokp_approve")]


async def sell(
    world: World,
    key: str = "k1",
    tenders: list[RequestedTender] | None = None,
    customer_id: str = "C1",
    quantity: int = 2,
) -> OrderRecord:
    request = replace(
        order_request(("TEE-1", quantity), tenders=tenders or SPLIT),
        fulfillment_type=FulfillmentType.CARRY_OUT,
        channel=Channel.POS,
        customer_id=customer_id,
        associate_id="A1",
        store_id="S1",
    )
    return await use_cases.place_order(world.deps, request, keyed(key))


def only_order(world: World) -> OrderRecord:
    (order,) = world.storage.state.orders.values()
    return order


async def test_a_sale_is_held_authorized_sold_paid_recorded_and_completed(world: World) -> None:
    order = await sell(world)
    oid = order.order_id
    assert order.status == OrderStatus.COMPLETED
    assert [(f.type, f.status) for f in order.fulfillments] == [
        (FulfillmentType.CARRY_OUT, FulfillmentStatus.PICKED_UP)
    ]
    assert world.stock.sold == {placement_hold_id(oid): [("TEE-1", 2)]}
    assert world.stock.available[("S1", "TEE-1")] == 1
    assert world.payments.captured_minor() == order.total.amount_minor == 5000
    assert world.history.recorded == [oid]
    assert world.steps == [
        "till/row",
        "till/hold",
        "till/authorize/0",
        "till/authorize/1",
        "till/sold",
        "till/paid",
        "till/history",
    ]
    # The same key again: the same sale, nothing taken twice.
    again = await sell(world)
    assert again.order_id == oid
    assert world.payments.captured_minor() == 5000
    assert len(world.stock.sold) == 1


async def test_a_walk_in_pays_cash_with_change_and_records_no_history(world: World) -> None:
    order = await sell(world, tenders=[tender(CASH, 6000)], customer_id="")
    assert order.status == OrderStatus.COMPLETED
    (cash,) = world.payments.by_key.values()
    assert (cash.tender_type, cash.authorized_minor) == (TenderType.CASH, 5000)
    assert world.history.recorded == []
    assert "5000 in cash" in order.events[-1].detail


async def test_a_declined_card_present_gives_everything_back(world: World) -> None:
    world.payments.declined_tokens.add("tokp_decline")
    tenders = [tender(GIFT, 1000, code="GC-1"), tender(CARD, token="tokp_decline")]
    with pytest.raises(BusinessRuleViolation) as declined:
        await sell(world, tenders=tenders)
    assert declined.value.reason == "PAYMENT_DECLINED"
    assert world.stock.active == [] and world.stock.sold == {}
    assert world.stock.available[("S1", "TEE-1")] == 3
    assert world.payments.live == []
    assert world.payments.captures == {}
    assert only_order(world).status == OrderStatus.REJECTED


async def test_sold_out_is_refused_with_nothing_taken(world: World) -> None:
    with pytest.raises(BusinessRuleViolation) as refused:
        await sell(world, quantity=4)
    assert refused.value.reason == "INSUFFICIENT_STOCK"
    assert world.payments.by_key == {}


@pytest.mark.parametrize("step", ["till/row", "till/hold", "till/authorize/0", "till/authorize/1"])
async def test_a_crash_before_the_sale_is_given_back_by_recovery(world: World, step: str) -> None:
    world.crash_after.append(step)
    with pytest.raises(Crash):
        await sell(world)
    oid = only_order(world).order_id
    world.storage.state.stale.add(oid)
    assert await recover_placements(world.deps, world.deps.placing) == 1  # type: ignore[arg-type]
    order = only_order(world)
    assert order.status == OrderStatus.REJECTED
    assert order.rejection_reason == PLACEMENT_INTERRUPTED
    assert world.stock.active == [] and world.stock.sold == {}
    assert world.stock.available[("S1", "TEE-1")] == 3
    assert world.payments.kept == []
    assert world.payments.captured_minor() == 0
    # Only the card_present is ever captured before the sale (at once, with
    # its authorization: till/authorize/1), and it is refunded, in full, once.
    card_sold = step == "till/authorize/1"
    assert len(world.payments.refunds) == int(card_sold)
    assert list(world.payments.sold_cards) == ([f"order-{oid}/authorize/1"] if card_sold else [])
    gift_card_held = step in ("till/authorize/0", "till/authorize/1")
    assert list(world.payments.voids) == (
        [f"pay-order-{oid}/authorize/0"] if gift_card_held else []
    )


@pytest.mark.parametrize("step", ["till/sold", "till/paid", "till/history"])
async def test_a_crash_after_the_sale_is_finished_by_recovery_once(world: World, step: str) -> None:
    world.crash_after.append(step)
    with pytest.raises(Crash):
        await sell(world)
    oid = only_order(world).order_id
    world.storage.state.stale.add(oid)
    assert await recover_placements(world.deps, world.deps.placing) == 1  # type: ignore[arg-type]
    order = only_order(world)
    assert order.status == OrderStatus.COMPLETED
    assert len(world.stock.sold) == 1
    assert world.stock.available[("S1", "TEE-1")] == 1
    assert world.payments.captured_minor() == 5000
    assert world.payments.voids == {}
    assert world.history.recorded == [oid]


async def test_a_retry_after_a_crash_after_the_sale_finds_the_same_sale(world: World) -> None:
    world.crash_after.append("till/sold")
    with pytest.raises(Crash):
        await sell(world)
    again = await sell(world)
    assert again.status == OrderStatus.COMPLETED
    assert world.payments.captured_minor() == 5000
    assert len(world.stock.sold) == 1


async def test_customers_down_after_the_sale_is_a_503_and_the_retry_completes_it(
    world: World,
) -> None:
    world.history.down = True
    with pytest.raises(Unavailable):
        await sell(world)
    assert only_order(world).status == OrderStatus.PENDING
    world.history.down = False
    again = await sell(world)
    assert again.status == OrderStatus.COMPLETED
    assert world.payments.captured_minor() == 5000


async def test_a_hold_given_back_by_recovery_before_a_slow_attempt_sells_is_refused(
    world: World,
) -> None:
    """Recovery released the hold while the first attempt stood still: the
    attempt's sale finds it released and gives its authorizations back."""
    original_sell = world.stock.sell

    async def released_first(reservation_id: str) -> ReservationStatus | None:
        await world.stock.give_back(reservation_id)
        return await original_sell(reservation_id)

    world.stock.sell = released_first  # type: ignore[method-assign]
    with pytest.raises(BusinessRuleViolation) as refused:
        await sell(world)
    assert refused.value.reason == PLACEMENT_INTERRUPTED
    assert world.payments.kept == []
    assert world.payments.captured_minor() == 0  # the card sold at once was refunded
    assert world.stock.sold == {}
    assert world.stock.holds[placement_hold_id(only_order(world).order_id)] == Hold(
        placement_hold_id(only_order(world).order_id), "S1", ReservationStatus.RELEASED
    )


async def test_the_card_present_is_read_last_so_a_refused_gift_card_costs_no_refund(
    world: World,
) -> None:
    """Listed first, the card is still sold after the gift card is held: the
    gift card's refusal comes before any money is captured."""
    original = world.payments.authorize

    async def gift_card_refused(*args: object, **kwargs: object) -> PaymentInfo:
        raise BusinessRuleViolation("GIFT_CARD_INSUFFICIENT_FUNDS", "the balance is too low")

    world.payments.authorize = gift_card_refused  # type: ignore[method-assign]
    with pytest.raises(BusinessRuleViolation) as refused:
        await sell(
            world, tenders=[tender(CARD, token="tokp_approve"), tender(GIFT, 1000, code="G")]
        )
    assert refused.value.reason == "GIFT_CARD_INSUFFICIENT_FUNDS"
    assert world.payments.sold_cards == {} and world.payments.refunds == {}
    assert world.stock.active == [] and world.stock.sold == {}
    world.payments.authorize = original  # type: ignore[method-assign]
    order = await sell(
        world, key="k2", tenders=[tender(CARD, token="tokp_approve"), tender(GIFT, 1000, code="G")]
    )
    assert order.status == OrderStatus.COMPLETED
    assert world.steps[-5:-3] == ["till/authorize/1", "till/authorize/0"]
    assert world.payments.captured_minor() == 5000


async def test_the_answer_is_the_sale_as_written_with_its_payments_as_answered(
    world: World,
) -> None:
    """No read back, no ListPayments: the completed order and each payment as
    payments last answered it, in the order payments made them (the gift
    card, the card, then the cash due); a retry of the key lists them."""
    request = replace(
        order_request(("TEE-1", 2), tenders=[*SPLIT[:1], tender(CASH, 1500), SPLIT[1]]),
        fulfillment_type=FulfillmentType.CARRY_OUT,
        channel=Channel.POS,
        customer_id="C1",
        associate_id="A1",
        store_id="S1",
    )
    placed = await use_cases.place_order_answered(world.deps, request, keyed("k1"))
    order = placed.order
    assert order == only_order(world)
    assert order.status == OrderStatus.COMPLETED
    assert [e.type for e in order.events][-2:] == ["placed", "completed"]
    assert placed.payments is not None
    shown = [payments_pb2.Payment.FromString(p) for p in placed.payments]
    oid = order.order_id
    assert [(p.payment_id, p.authorized.amount_minor) for p in shown] == [
        (f"pay-order-{oid}/authorize/0", 1000),
        (f"pay-order-{oid}/authorize/2", 2500),
        (f"pay-order-{oid}/till/cash", 1500),
    ]
    again = await use_cases.place_order_answered(world.deps, request, keyed("k1"))
    assert again.order.order_id == oid and again.payments is None
