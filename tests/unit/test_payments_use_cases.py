"""The payments use cases on an in-memory store and a scripted provider: no PostgreSQL.

The fake store keeps payments and gift cards in dicts (balances through
domain.GiftCardBalance, the same rules the SQL applies); its transactions
roll every change back when the work raises, as PostgreSQL would, except a
RefusedAfterChanges, whose changes are kept.
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TypeVar, cast

import pytest
from google.protobuf.message import Message
from sqlalchemy.ext.asyncio import AsyncSession

from omni.common.v1 import common_pb2
from omni.payments.v1 import payments_pb2 as pb
from omni.words import (
    Channel,
    GiftCardEntryKind,
    GiftCardKind,
    PaymentStatus,
    ProviderOperationKind,
    ProviderOutcome,
    TenderType,
)
from services.common.errors import (
    BusinessRuleViolation,
    Conflict,
    DomainError,
    InvalidArgument,
    NotFound,
    Unavailable,
)
from services.common.idempotency import RefusedAfterChanges
from services.common.money import Money
from services.payments import domain, use_cases
from services.payments.adapters.provider import PaymentProvider, ProviderOperation, ProviderResult
from services.payments.domain import GiftCard, GiftCardBalance, GiftCardEntry, Payment
from services.payments.use_cases import App, PaymentPolicy

R = TypeVar("R")
NO_SESSION = cast(AsyncSession, None)  # the fake store needs none
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

# --- the fakes -------------------------------------------------------------------


@dataclass
class Card:
    kind: GiftCardKind
    currency: str
    balance: GiftCardBalance
    customer_id: str = ""
    history: list[GiftCardEntry] = field(default_factory=list)


@dataclass
class State:
    payments: dict[str, Payment] = field(default_factory=dict)
    identities: dict[str, tuple[str, TenderType, str]] = field(default_factory=dict)
    cards: dict[str, Card] = field(default_factory=dict)


class FakePayments:
    def __init__(self, state: State) -> None:
        self.state = state

    async def insert(self, session: object, payment: Payment, tender_identity: str) -> Payment:
        saved = replace(payment, created_at=NOW)
        self.state.payments[payment.payment_id] = saved
        identity = (payment.reference, payment.tender_type, tender_identity)
        self.state.identities[payment.payment_id] = identity
        return saved

    async def get(self, session: object, payment_id: str, *, lock: bool = False) -> Payment | None:
        return self.state.payments.get(payment_id)

    async def card_token(self, session: object, payment_id: str) -> str:
        return self.state.identities[payment_id][2]

    async def lock_tender(
        self, session: object, reference: str, tender_type: TenderType, tender_identity: str
    ) -> None:
        pass

    async def find_for_tender(
        self, session: object, reference: str, tender_type: TenderType, tender_identity: str
    ) -> Payment | None:
        for payment_id, identity in self.state.identities.items():
            if identity == (reference, tender_type, tender_identity):
                return self.state.payments[payment_id]
        return None

    async def list_for_reference(self, session: object, reference: str) -> list[Payment]:
        return [p for p in self.state.payments.values() if p.reference == reference]

    def _save(self, payment: Payment) -> Payment:
        self.state.payments[payment.payment_id] = payment
        return payment

    async def record_capture(
        self, session: object, after: Payment, amount: Money, released_minor: int = 0
    ) -> Payment:
        return self._save(after)

    async def record_refund(self, session: object, after: Payment, amount: Money) -> Payment:
        return self._save(after)

    async def record_void(self, session: object, payment_id: str) -> Payment:
        return self._save(domain.void(self.state.payments[payment_id]))

    async def record_expiry(self, session: object, payment_id: str) -> Payment:
        return self._save(domain.expire(self.state.payments[payment_id]))

    async def record_reauthorization(
        self,
        session: object,
        renewed: Payment,
        provider_reference: str,
        expires_at: datetime | None,
    ) -> Payment:
        return self._save(
            replace(renewed, provider_reference=provider_reference, expires_at=expires_at)
        )

    async def expire_lapsed(self, session: object, now: datetime, limit: int) -> list[Payment]:
        lapsed = [
            p
            for p in self.state.payments.values()
            if domain.is_expirable(p) and p.expires_at is not None and p.expires_at < now
        ]
        return [self._save(domain.expire(p)) for p in lapsed[:limit]]


class FakeGiftCards:
    def __init__(self, state: State) -> None:
        self.state = state

    def card(self, code: str) -> GiftCard | None:
        card = self.state.cards.get(code)
        if card is None:
            return None
        return GiftCard(
            code=code,
            kind=card.kind,
            currency=card.currency,
            balance_minor=card.balance.balance_minor,
            held_minor=card.balance.held_minor,
            customer_id=card.customer_id,
            history=tuple(card.history),
        )

    def _change(
        self,
        code: str,
        amount: Money,
        kind: GiftCardEntryKind,
        reference: str,
        change: Callable[[GiftCardBalance], GiftCardBalance],
    ) -> GiftCard:
        card = self.state.cards.get(code)
        if card is None:
            raise domain.gift_card_not_found()
        if card.currency != amount.currency:
            raise domain.wrong_gift_card_currency(card.currency)
        card.balance = change(card.balance)
        card.history.append(GiftCardEntry(kind, amount, reference))
        found = self.card(code)
        assert found is not None
        return found

    async def issue(self, session: object, code: str, initial_balance: Money) -> GiftCard:
        self.state.cards[code] = Card(
            GiftCardKind.GIFT_CARD,
            initial_balance.currency,
            GiftCardBalance(initial_balance.amount_minor),
            history=[GiftCardEntry(GiftCardEntryKind.ISSUE, initial_balance)],
        )
        found = self.card(code)
        assert found is not None
        return found

    async def credit(
        self,
        session: object,
        code: str,
        amount: Money,
        *,
        entry_kind: GiftCardEntryKind,
        reference: str = "",
    ) -> GiftCard:
        return self._change(
            code, amount, entry_kind, reference, lambda b: b.credit(amount.amount_minor)
        )

    async def hold(self, session: object, code: str, amount: Money, reference: str) -> GiftCard:
        return self._change(
            code, amount, GiftCardEntryKind.HOLD, reference, lambda b: b.hold(amount.amount_minor)
        )

    async def redeem_hold(
        self, session: object, code: str, amount: Money, reference: str
    ) -> GiftCard:
        return self._change(
            code,
            amount,
            GiftCardEntryKind.REDEEM,
            reference,
            lambda b: b.redeem(amount.amount_minor),
        )

    async def release_hold(
        self, session: object, code: str, amount: Money, reference: str
    ) -> GiftCard:
        return self._change(
            code,
            amount,
            GiftCardEntryKind.RELEASE,
            reference,
            lambda b: b.release(amount.amount_minor),
        )

    async def get(self, session: object, code: str) -> GiftCard | None:
        return self.card(code)


class FakeStoreCredit:
    def __init__(self, state: State) -> None:
        self.state = state

    async def account(self, session: object, customer_id: str, currency: str) -> str:
        code = f"SC-{customer_id}-{currency}"
        self.state.cards.setdefault(
            code, Card(GiftCardKind.STORE_CREDIT, currency, GiftCardBalance(0), customer_id)
        )
        return code

    async def list_for_customer(self, session: object, customer_id: str) -> list[GiftCard]:
        gift_cards = FakeGiftCards(self.state)
        return [
            found
            for code, card in sorted(self.state.cards.items())
            if card.kind is GiftCardKind.STORE_CREDIT and card.customer_id == customer_id
            if (found := gift_cards.card(code)) is not None
        ]


@dataclass
class FakeUnitOfWork:
    session: AsyncSession = NO_SESSION
    committed: bool = False

    async def commit(self) -> None:
        self.committed = True


class FakeTransactions:
    """One transaction at a time: a failed one puts the state back as it was."""

    def __init__(self, state: State) -> None:
        self.state = state

    def _restore(self, snapshot: State) -> None:
        self.state.payments, self.state.identities = snapshot.payments, snapshot.identities
        self.state.cards = snapshot.cards

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[FakeUnitOfWork]:
        snapshot = copy.deepcopy(self.state)
        uow = FakeUnitOfWork()
        yield uow
        if not uow.committed:
            self._restore(snapshot)

    async def run_once(
        self,
        key: str,
        request: Message,
        response_type: type[R],
        work: Callable[[AsyncSession], Awaitable[R]],
    ) -> R:
        snapshot = copy.deepcopy(self.state)
        try:
            return await work(NO_SESSION)
        except RefusedAfterChanges as kept:
            raise kept.refusal from None
        except Exception:
            self._restore(snapshot)
            raise


class FakeProvider(PaymentProvider):
    """tok_approve approves, tok_decline declines authorizations, tok_down is unavailable."""

    def __init__(self) -> None:
        self.done: list[ProviderOperation] = []
        self._tokens: dict[str, str] = {}

    def validate_token(self, token: str) -> None:
        if token not in ("tok_approve", "tok_decline", "tok_down", "tok_decline_reauth"):
            raise InvalidArgument.field("tender.token", "is not a test token")

    def _answer(self, kind: ProviderOperationKind, token: str, amount: Money) -> ProviderResult:
        if token == "tok_down":
            return ProviderResult(ProviderOutcome.ERROR)
        authorizing = kind is ProviderOperationKind.AUTHORIZE
        # tok_decline_reauth: approved once, declined when asked again.
        again = token == "tok_decline_reauth" and ProviderOperationKind.AUTHORIZE in self.kinds()
        declined = authorizing and (token == "tok_decline" or again)
        outcome = ProviderOutcome.DECLINED if declined else ProviderOutcome.APPROVED
        self.done.append(ProviderOperation(kind, amount, outcome, NOW))
        reference = f"prov-{len(self.done)}"
        self._tokens[reference] = token
        return ProviderResult(outcome, reference, "visa", "4242")

    async def authorize(
        self, *, merchant_reference: str, reference: str, token: str, amount: Money
    ) -> ProviderResult:
        return self._answer(ProviderOperationKind.AUTHORIZE, token, amount)

    async def capture(
        self,
        *,
        merchant_reference: str,
        reference: str,
        provider_reference: str,
        amount: Money,
        final: bool = False,
    ) -> ProviderResult:
        token = self._tokens[provider_reference]
        return self._answer(ProviderOperationKind.CAPTURE, token, amount)

    async def void(
        self, *, merchant_reference: str, reference: str, provider_reference: str, amount: Money
    ) -> ProviderResult:
        token = self._tokens[provider_reference]
        return self._answer(ProviderOperationKind.VOID, token, amount)

    async def refund(
        self, *, merchant_reference: str, reference: str, provider_reference: str, amount: Money
    ) -> ProviderResult:
        token = self._tokens[provider_reference]
        return self._answer(ProviderOperationKind.REFUND, token, amount)

    async def lookup(self, merchant_reference: str) -> ProviderResult | None:
        return None

    def kinds(self) -> list[str]:
        return [op.operation for op in self.done]


@dataclass
class World:
    state: State
    provider: FakeProvider
    clock: list[datetime]

    def app(self, policy: PaymentPolicy | None = None) -> App:
        return App(
            payments=FakePayments(self.state),
            gift_cards=FakeGiftCards(self.state),
            store_credit=FakeStoreCredit(self.state),
            transactions=FakeTransactions(self.state),
            provider=self.provider,
            policy=policy or PaymentPolicy(),
            clock=lambda: self.clock[0],
        )

    def balance(self, code: str) -> tuple[int, int]:
        balance = self.state.cards[code].balance
        return balance.balance_minor, balance.held_minor


@pytest.fixture
def world() -> World:
    return World(State(), FakeProvider(), [NOW])


@pytest.fixture
def app(world: World) -> App:
    return world.app()


# --- requests ------------------------------------------------------------------

_keys = iter(range(1, 1_000_000))


def key() -> str:
    return f"key-{next(_keys)}"


def usd(amount_minor: int) -> common_pb2.Money:
    return common_pb2.Money(amount_minor=amount_minor, currency="USD")


def card_request(
    amount_minor: int = 1000,
    token: str = "tok_approve",
    reference: str = "order-1",
    channel: Channel = Channel.WEB,
) -> pb.AuthorizePaymentRequest:
    return pb.AuthorizePaymentRequest(
        idempotency_key=key(),
        reference=reference,
        tender=pb.Tender(type=TenderType.CARD.to_proto(), token=token),
        amount=usd(amount_minor),
        channel=channel.to_proto(),
    )


def gift_card_request(code: str, amount_minor: int) -> pb.AuthorizePaymentRequest:
    return pb.AuthorizePaymentRequest(
        idempotency_key=key(),
        reference="order-g",
        tender=pb.Tender(type=TenderType.GIFT_CARD.to_proto(), code=code),
        amount=usd(amount_minor),
    )


async def authorize(app: App, request: pb.AuthorizePaymentRequest) -> pb.Payment:
    return (await use_cases.authorize_payment(app, request)).payment


async def capture(app: App, payment_id: str, amount_minor: int, final: bool = False) -> pb.Payment:
    request = pb.CapturePaymentRequest(
        idempotency_key=key(), payment_id=payment_id, amount=usd(amount_minor), final=final
    )
    return (await use_cases.capture_payment(app, request)).payment


async def void(app: App, payment_id: str) -> pb.Payment:
    request = pb.VoidPaymentRequest(idempotency_key=key(), payment_id=payment_id)
    return (await use_cases.void_payment(app, request)).payment


async def reauthorize(app: App, payment_id: str) -> pb.Payment:
    request = pb.ReauthorizePaymentRequest(idempotency_key=key(), payment_id=payment_id)
    return (await use_cases.reauthorize_payment(app, request)).payment


async def refund(
    app: App, payment_id: str, amount_minor: int, store_credit_for: str = ""
) -> pb.RefundPaymentResponse:
    request = pb.RefundPaymentRequest(
        idempotency_key=key(),
        payment_id=payment_id,
        amount=usd(amount_minor),
        to_store_credit=bool(store_credit_for),
        customer_id=store_credit_for,
    )
    return await use_cases.refund_payment(app, request)


async def issue(app: App, amount_minor: int) -> str:
    request = pb.IssueGiftCardRequest(idempotency_key=key(), initial_balance=usd(amount_minor))
    return (await use_cases.issue_gift_card(app, request)).gift_card.code


def amounts(payment: pb.Payment) -> tuple[PaymentStatus | None, int, int, int]:
    return (
        PaymentStatus.from_proto(payment.status),
        payment.authorized.amount_minor,
        payment.captured.amount_minor,
        payment.refunded.amount_minor,
    )


async def refusal(call: Awaitable[object]) -> DomainError:
    with pytest.raises(DomainError) as refused:
        await call
    return refused.value


def fields(error: DomainError) -> list[str]:
    assert isinstance(error, InvalidArgument)
    return [violation.field for violation in error.violations]


# --- authorize -------------------------------------------------------------------


async def test_a_card_authorization_lives_by_its_channel(app: App) -> None:
    web = await authorize(app, card_request(reference="order-web"))
    pos = await authorize(app, card_request(reference="order-pos", channel=Channel.POS))
    assert amounts(web) == (PaymentStatus.AUTHORIZED, 1000, 0, 0)
    assert (web.card_brand, web.card_last4) == ("visa", "4242")
    assert web.expires_at.ToDatetime(tzinfo=UTC) == NOW + timedelta(days=7)
    assert pos.expires_at.ToDatetime(tzinfo=UTC) == NOW + timedelta(days=2)


async def test_a_declined_card_stores_nothing(app: App, world: World) -> None:
    error = await refusal(authorize(app, card_request(token="tok_decline")))
    assert isinstance(error, BusinessRuleViolation)
    assert error.reason == "PAYMENT_DECLINED"
    assert world.state.payments == {}
    assert world.provider.kinds() == [ProviderOperationKind.AUTHORIZE]


async def test_an_unavailable_provider_stores_nothing(app: App, world: World) -> None:
    with pytest.raises(Unavailable):
        await authorize(app, card_request(token="tok_down"))
    assert world.state.payments == {}


async def test_an_unknown_token_never_reaches_the_provider(app: App, world: World) -> None:
    error = await refusal(authorize(app, card_request(token="tok_mystery")))
    assert fields(error) == ["tender.token"]
    assert world.provider.done == []


async def test_bad_authorize_requests_name_every_field(app: App) -> None:
    nothing = pb.AuthorizePaymentRequest(amount=usd(100))
    assert fields(await refusal(authorize(app, nothing))) == [
        "idempotency_key",
        "reference",
        "tender.type",
    ]
    no_token = card_request(token="")
    assert fields(await refusal(authorize(app, no_token))) == ["tender.token"]
    no_code = gift_card_request("", 100)
    assert fields(await refusal(authorize(app, no_code))) == ["tender.code"]
    free = card_request(amount_minor=0)
    assert fields(await refusal(authorize(app, free))) == ["amount.amount_minor"]


async def test_one_tender_gets_one_payment_per_reference(app: App) -> None:
    first = await authorize(app, card_request())
    error = await refusal(authorize(app, card_request()))
    assert isinstance(error, Conflict)
    assert (error.reason, error.metadata["payment_id"]) == (
        "PAYMENT_ALREADY_EXISTS",
        first.payment_id,
    )


async def test_cash_is_captured_at_once_and_refunded_without_the_provider(
    app: App, world: World
) -> None:
    request = pb.AuthorizePaymentRequest(
        idempotency_key=key(),
        reference="till-1",
        tender=pb.Tender(type=TenderType.CASH.to_proto()),
        amount=usd(1250),
    )
    cash = await authorize(app, request)
    assert amounts(cash) == (PaymentStatus.CAPTURED, 1250, 1250, 0)
    refunded = await refund(app, cash.payment_id, 250)
    assert amounts(refunded.payment) == (PaymentStatus.CAPTURED, 1250, 1250, 250)
    assert world.provider.done == []


# --- capture, void, refund --------------------------------------------------------


async def test_partial_captures_then_refunds_at_the_provider(app: App, world: World) -> None:
    payment = await authorize(app, card_request(1000))
    await capture(app, payment.payment_id, 400)
    captured = await capture(app, payment.payment_id, 600)
    assert amounts(captured) == (PaymentStatus.CAPTURED, 1000, 1000, 0)
    refunded = await refund(app, payment.payment_id, 1000)
    assert amounts(refunded.payment) == (PaymentStatus.REFUNDED, 1000, 1000, 1000)
    assert world.provider.kinds() == ["authorize", "capture", "capture", "refund"]


async def test_capturing_more_than_authorized_is_refused_and_changes_nothing(
    app: App, world: World
) -> None:
    payment = await authorize(app, card_request(1000))
    error = await refusal(capture(app, payment.payment_id, 1001))
    assert isinstance(error, Conflict)
    assert error.metadata["capturable_minor"] == "1000"
    assert world.state.payments[payment.payment_id].captured_minor == 0
    assert world.provider.kinds() == ["authorize"]


async def test_an_unknown_payment_is_bad_input(app: App) -> None:
    assert fields(await refusal(capture(app, "nope", 100))) == ["payment_id"]
    assert fields(await refusal(void(app, "nope"))) == ["payment_id"]


async def test_a_captured_payment_cannot_be_voided(app: App) -> None:
    payment = await authorize(app, card_request(1000))
    await capture(app, payment.payment_id, 100)
    error = await refusal(void(app, payment.payment_id))
    assert isinstance(error, Conflict)
    assert error.reason == "INVALID_PAYMENT_STATE"


async def test_void_releases_a_card_authorization(app: App, world: World) -> None:
    payment = await authorize(app, card_request(500))
    assert amounts(await void(app, payment.payment_id)) == (PaymentStatus.VOIDED, 500, 0, 0)
    assert world.provider.kinds() == ["authorize", "void"]


async def test_refunding_more_than_captured_is_refused(app: App) -> None:
    payment = await authorize(app, card_request(1000))
    await capture(app, payment.payment_id, 300)
    error = await refusal(refund(app, payment.payment_id, 301))
    assert isinstance(error, Conflict)
    assert error.metadata["refundable_minor"] == "300"


async def test_a_refund_to_store_credit_opens_an_account_not_the_provider(
    app: App, world: World
) -> None:
    payment = await authorize(app, card_request(2000))
    await capture(app, payment.payment_id, 2000)
    refunded = await refund(app, payment.payment_id, 800, store_credit_for="C-1")
    credit = refunded.store_credit
    assert (GiftCardKind.from_proto(credit.kind), credit.balance.amount_minor) == (
        GiftCardKind.STORE_CREDIT,
        800,
    )
    assert world.provider.kinds() == ["authorize", "capture"]
    listed = await use_cases.list_store_credit(app, pb.ListStoreCreditRequest(customer_id="C-1"))
    assert [c.code for c in listed.store_credit] == [credit.code]
    assert fields(await refusal(refund(app, payment.payment_id, 1, store_credit_for=" "))) == [
        "customer_id"
    ]


# --- gift cards ------------------------------------------------------------------


async def test_a_gift_card_is_held_redeemed_and_the_rest_released_by_a_final_capture(
    app: App, world: World
) -> None:
    code = await issue(app, 5000)
    held = await authorize(app, gift_card_request(code, 3000))
    assert world.balance(code) == (2000, 3000)
    captured = await capture(app, held.payment_id, 1800, final=True)
    assert (captured.captured.amount_minor, captured.released.amount_minor) == (1800, 1200)
    assert world.balance(code) == (3200, 0)
    await refund(app, held.payment_id, 800)
    assert world.balance(code) == (4000, 0)
    card = (await use_cases.get_gift_card(app, pb.GetGiftCardRequest(code=code))).gift_card
    assert [GiftCardEntryKind.from_proto(e.kind) for e in card.history] == [
        "issue",
        "hold",
        "redeem",
        "release",
        "refund",
    ]
    assert world.provider.done == []


async def test_a_gift_card_that_does_not_cover_the_amount_holds_nothing(
    app: App, world: World
) -> None:
    code = await issue(app, 1000)
    error = await refusal(authorize(app, gift_card_request(code, 1001)))
    assert isinstance(error, BusinessRuleViolation)
    assert error.reason == "INSUFFICIENT_GIFT_CARD_BALANCE"
    assert world.balance(code) == (1000, 0)
    assert world.state.payments == {}


async def test_an_unknown_gift_card_is_refused_or_not_found(app: App) -> None:
    error = await refusal(authorize(app, gift_card_request("GC-NONE", 100)))
    assert isinstance(error, BusinessRuleViolation)
    assert error.reason == "GIFT_CARD_NOT_FOUND"
    lookup = use_cases.get_gift_card(app, pb.GetGiftCardRequest(code="GC-NONE"))
    assert isinstance(await refusal(lookup), NotFound)


async def test_voiding_a_gift_card_payment_gives_the_hold_back(app: App, world: World) -> None:
    code = await issue(app, 1000)
    held = await authorize(app, gift_card_request(code, 600))
    assert amounts(await void(app, held.payment_id)) == (PaymentStatus.VOIDED, 600, 0, 0)
    assert world.balance(code) == (1000, 0)


async def test_a_reload_in_another_currency_is_bad_input(app: App, world: World) -> None:
    code = await issue(app, 100)
    request = pb.ReloadGiftCardRequest(
        idempotency_key=key(), code=code, amount=common_pb2.Money(amount_minor=5, currency="EUR")
    )
    assert fields(await refusal(use_cases.reload_gift_card(app, request))) == ["amount.currency"]
    assert world.balance(code) == (100, 0)


# --- expiry ----------------------------------------------------------------------


async def test_capturing_a_lapsed_card_authorization_authorizes_again_first(
    app: App, world: World
) -> None:
    payment = await authorize(app, card_request(1200))
    world.clock[0] = NOW + timedelta(days=8)
    assert amounts(await capture(app, payment.payment_id, 1200))[2] == 1200
    assert world.provider.kinds() == ["authorize", "authorize", "capture"]


async def test_without_renewal_a_lapsed_authorization_expires_and_is_refused(
    world: World,
) -> None:
    app = world.app(PaymentPolicy(reauthorize_expired=False))
    payment = await authorize(app, card_request(700))
    world.clock[0] = NOW + timedelta(days=8)
    error = await refusal(capture(app, payment.payment_id, 700))
    assert isinstance(error, BusinessRuleViolation)
    assert error.reason == "AUTHORIZATION_EXPIRED"
    # Refused, yet the expiry is kept.
    assert world.state.payments[payment.payment_id].status is PaymentStatus.EXPIRED
    assert world.provider.kinds() == ["authorize"]


async def test_the_sweep_expires_lapsed_holds_and_gives_them_back(world: World) -> None:
    app = world.app(PaymentPolicy(gift_card_hold_lifetime=timedelta(hours=1)))
    code = await issue(app, 1000)
    held = await authorize(app, gift_card_request(code, 700))
    assert await use_cases.expire_lapsed(app) == []
    world.clock[0] = NOW + timedelta(hours=2)
    expired = await use_cases.expire_lapsed(app)
    assert [(p.payment_id, p.status) for p in expired] == [(held.payment_id, PaymentStatus.EXPIRED)]
    assert world.balance(code) == (1000, 0)
    # Voiding what already expired is a harmless repeat.
    assert amounts(await void(app, held.payment_id))[0] is PaymentStatus.EXPIRED
    assert world.balance(code) == (1000, 0)


# --- reads -----------------------------------------------------------------------


async def test_reads_find_what_was_written_and_name_what_was_not(app: App) -> None:
    payment = await authorize(app, card_request(reference="order-r"))
    got = await use_cases.get_payment(app, pb.GetPaymentRequest(payment_id=payment.payment_id))
    assert got.payment == payment
    listed = await use_cases.list_payments(app, pb.ListPaymentsRequest(reference="order-r"))
    assert [p.payment_id for p in listed.payments] == [payment.payment_id]
    missing = await refusal(use_cases.get_payment(app, pb.GetPaymentRequest(payment_id="x")))
    assert isinstance(missing, NotFound)
    assert (missing.resource_type, missing.ids) == ("payment", ["x"])
    blank = use_cases.list_payments(app, pb.ListPaymentsRequest(reference=""))
    assert fields(await refusal(blank)) == ["reference"]


# --- re-authorization before the lapse (issue 11) ----------------------------------


async def test_a_reauthorization_takes_the_new_one_first_then_voids_the_old(
    app: App, world: World
) -> None:
    payment = await authorize(app, card_request(1200))
    old = world.state.payments[payment.payment_id]
    world.clock[0] = NOW + timedelta(days=6)
    renewed = await reauthorize(app, payment.payment_id)
    assert world.provider.kinds() == ["authorize", "authorize", "void"]
    saved = world.state.payments[payment.payment_id]
    assert saved.provider_reference != old.provider_reference
    assert saved.expires_at == NOW + timedelta(days=13)
    assert renewed.payment_id == payment.payment_id and amounts(renewed)[1] == 1200
    # The capture goes to the new authorization only.
    await capture(app, payment.payment_id, 1200, final=True)
    assert world.provider.kinds()[-1] == "capture"


async def test_a_declined_reauthorization_changes_nothing(app: App, world: World) -> None:
    payment = await authorize(app, card_request(800, token="tok_decline_reauth"))
    before = world.state.payments[payment.payment_id]
    error = await refusal(reauthorize(app, payment.payment_id))
    assert isinstance(error, BusinessRuleViolation) and error.reason == "PAYMENT_DECLINED"
    assert world.state.payments[payment.payment_id] == before
    assert world.provider.kinds() == ["authorize", "authorize"]


async def test_a_partly_captured_card_is_reauthorized_for_its_rest(app: App, world: World) -> None:
    payment = await authorize(app, card_request(1000))
    await capture(app, payment.payment_id, 400)
    await reauthorize(app, payment.payment_id)
    assert [op.amount.amount_minor for op in world.provider.done[-2:]] == [600, 600]
    assert await capture(app, payment.payment_id, 600, final=True)


async def test_tenders_that_never_lapse_answer_unchanged(app: App, world: World) -> None:
    code = await issue(app, 1000)
    held = await authorize(app, gift_card_request(code, 300))
    assert await reauthorize(app, held.payment_id) == held
    assert world.provider.kinds() == []


async def test_a_voided_or_fully_captured_card_is_not_reauthorized(app: App) -> None:
    voided = await authorize(app, card_request(300, reference="order-v"))
    await void(app, voided.payment_id)
    error = await refusal(reauthorize(app, voided.payment_id))
    assert isinstance(error, Conflict) and error.reason == "INVALID_PAYMENT_STATE"
    taken = await authorize(app, card_request(300, reference="order-c"))
    await capture(app, taken.payment_id, 300, final=True)
    assert isinstance(await refusal(reauthorize(app, taken.payment_id)), Conflict)
