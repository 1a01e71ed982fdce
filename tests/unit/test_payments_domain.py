"""The payment state machine: transitions, refusals and invariants."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from omni.words import Channel, TenderType
from services.common.errors import BusinessRuleViolation, Conflict, DomainError, InvalidArgument
from services.common.money import Money, validate_money
from services.common.pan import looks_like_card_number
from services.payments import domain
from services.payments.domain import Payment, Tender


def authorized(amount_minor: int = 1000, currency: str = "USD") -> Payment:
    return domain.authorized_payment(
        payment_id="pay-1",
        reference="order-1",
        tender=Tender(type=TenderType.CARD, token="tok_approve"),
        amount=Money(amount_minor, currency),
        card_brand="visa",
        card_last4="4242",
        provider_reference="dev_1",
    )


def usd(amount_minor: int) -> Money:
    return Money(amount_minor, "USD")


def test_partial_captures_add_up_to_the_authorized_amount() -> None:
    payment = domain.capture(authorized(1000), usd(300))
    payment = domain.capture(payment, usd(700))
    assert (payment.status, payment.captured_minor, payment.capturable_minor) == (
        "captured",
        1000,
        0,
    )


def test_capture_beyond_authorized_is_refused() -> None:
    payment = domain.capture(authorized(1000), usd(600))
    with pytest.raises(Conflict) as refused:
        domain.capture(payment, usd(401))
    assert refused.value.reason == "INVALID_PAYMENT_STATE"
    assert refused.value.metadata["capturable_minor"] == "400"


def test_a_final_capture_releases_the_rest() -> None:
    payment = domain.capture(authorized(1000), usd(300))
    final = domain.capture(payment, usd(200), final=True)
    assert (final.status, final.captured_minor, final.released_minor) == ("captured", 500, 500)
    assert final.capturable_minor == 0
    with pytest.raises(Conflict) as refused:
        domain.capture(final, usd(1))
    assert refused.value.metadata["capturable_minor"] == "0"
    # Everything captured can still be refunded; nothing released can.
    assert domain.refund(final, usd(500)).status == "refunded"


def test_a_final_capture_of_everything_releases_nothing() -> None:
    final = domain.capture(authorized(1000), usd(1000), final=True)
    assert (final.captured_minor, final.released_minor) == (1000, 0)


def test_voiding_an_expired_authorization_changes_nothing() -> None:
    expired = domain.expire(authorized())
    assert domain.void(expired) == expired


def test_an_expired_payment_needs_renewal_before_capture() -> None:
    now = datetime(2025, 1, 1, tzinfo=UTC)
    expired = domain.expire(authorized(800))
    assert domain.needs_renewal(expired, now)
    assert not domain.needs_renewal(authorized(), now)  # no expires_at
    renewed = domain.renewed(expired)
    assert (renewed.status, renewed.capturable_minor) == ("authorized", 800)
    assert domain.capture(renewed, usd(800)).status == "captured"


def test_a_lapsed_gift_card_hold_is_still_held_until_swept() -> None:
    now = datetime(2025, 1, 1, tzinfo=UTC)
    hold = domain.authorized_payment(
        payment_id="p",
        reference="o",
        tender=Tender(type=TenderType.GIFT_CARD, code="GC-A"),
        amount=usd(100),
        card_brand="",
        card_last4="",
        provider_reference="",
        expires_at=now - timedelta(hours=1),
    )
    assert domain.is_lapsed(hold, now)
    assert not domain.needs_renewal(hold, now)
    assert domain.needs_renewal(domain.expire(hold), now)


def test_partial_refunds_then_full_refund_ends_refunded() -> None:
    payment = domain.capture(authorized(1000), usd(800))
    payment = domain.refund(payment, usd(300))
    assert (payment.status, payment.refunded_minor) == ("captured", 300)
    payment = domain.refund(payment, usd(500))
    assert (payment.status, payment.refunded_minor, payment.refundable_minor) == (
        "refunded",
        800,
        0,
    )


def test_refund_beyond_captured_is_refused() -> None:
    payment = domain.capture(authorized(1000), usd(500))
    with pytest.raises(Conflict) as refused:
        domain.refund(payment, usd(501))
    assert refused.value.metadata["refundable_minor"] == "500"


def test_refund_before_capture_is_an_invalid_state() -> None:
    with pytest.raises(Conflict) as refused:
        domain.refund(authorized(), usd(1))
    assert refused.value.reason == "INVALID_PAYMENT_STATE"


def test_void_only_while_nothing_captured() -> None:
    assert domain.void(authorized()).status == "voided"
    with pytest.raises(Conflict):
        domain.void(domain.capture(authorized(), usd(1)))


@pytest.mark.parametrize(
    "action",
    [
        lambda p: domain.capture(p, usd(1)),
        lambda p: domain.refund(p, usd(1)),
        domain.void,
    ],
)
def test_a_voided_payment_accepts_nothing(action: Callable[[Payment], Payment]) -> None:
    with pytest.raises(Conflict):
        action(domain.void(authorized()))


def test_currency_must_match_the_payment() -> None:
    with pytest.raises(InvalidArgument) as refused:
        domain.capture(authorized(currency="USD"), Money(100, "EUR"))
    assert refused.value.violations[0].field == "amount.currency"


@pytest.mark.parametrize(
    ("money", "field"),
    [
        (Money(0, "USD"), "amount.amount_minor"),
        (Money(-5, "USD"), "amount.amount_minor"),
        (Money(5, "usd"), "amount.currency"),
        (Money(5, ""), "amount.currency"),
    ],
)
def test_amounts_must_be_positive_in_an_iso_currency(money: Money, field: str) -> None:
    with pytest.raises(InvalidArgument) as refused:
        validate_money(money, "amount")
    assert refused.value.violations[0].field == field


def test_expire_only_an_uncaptured_authorization() -> None:
    expired = domain.expire(authorized())
    assert expired.status == "expired"
    with pytest.raises(Conflict):
        domain.expire(domain.capture(authorized(), usd(1)))


def test_an_expired_authorization_is_never_captured() -> None:
    with pytest.raises(BusinessRuleViolation) as refused:
        domain.capture(domain.expire(authorized()), usd(1))
    assert refused.value.reason == "AUTHORIZATION_EXPIRED"


def test_card_present_authorizations_live_shorter() -> None:
    lifetimes = {"card_present": timedelta(days=2), "card_not_present": timedelta(days=7)}
    assert domain.authorization_lifetime(Channel.POS, **lifetimes) == timedelta(days=2)
    assert domain.authorization_lifetime(Channel.WEB, **lifetimes) == timedelta(days=7)
    assert domain.authorization_lifetime(None, **lifetimes) == timedelta(days=7)


def test_only_authorizations_with_an_expiry_lapse() -> None:
    now = datetime(2025, 1, 1, tzinfo=UTC)
    lapsing = authorized()
    assert not domain.is_lapsed(lapsing, now)  # no expires_at: a gift card hold
    dated = domain.authorized_payment(
        payment_id="p",
        reference="o",
        tender=Tender(type=TenderType.CARD, token="tok_approve"),
        amount=usd(100),
        card_brand="visa",
        card_last4="4242",
        provider_reference="dev",
        expires_at=now,
    )
    assert domain.is_lapsed(dated, now)
    assert not domain.is_lapsed(dated, now - timedelta(seconds=1))


def test_cash_is_captured_as_it_is_recorded() -> None:
    cash = domain.recorded_cash(payment_id="p", reference="o", amount=usd(500))
    assert (cash.status, cash.captured_minor, cash.capturable_minor) == ("captured", 500, 0)
    assert domain.refund(cash, usd(500)).status == "refunded"


def test_gift_card_codes_never_look_like_card_numbers() -> None:
    codes = {domain.new_gift_card_code() for _ in range(200)}
    assert len(codes) == 200
    assert not any(looks_like_card_number(code) for code in codes)


def test_gift_card_hold_redeem_release() -> None:
    card = domain.GiftCardBalance(1000).hold(600)
    assert card == domain.GiftCardBalance(400, 600)
    assert card.redeem(100).release(500) == domain.GiftCardBalance(900, 0)
    with pytest.raises(BusinessRuleViolation) as refused:
        card.hold(401)
    assert refused.value.reason == "INSUFFICIENT_GIFT_CARD_BALANCE"
    with pytest.raises(Conflict):
        card.redeem(601)


operations = st.lists(
    st.tuples(
        st.sampled_from(["capture", "final_capture", "refund", "void", "expire"]),
        st.integers(1, 1200),
    ),
    max_size=25,
)


@given(authorized_minor=st.integers(1, 1000), steps=operations)
def test_random_operation_sequences_keep_the_invariants(
    authorized_minor: int, steps: list[tuple[str, int]]
) -> None:
    payment = authorized(authorized_minor)
    for operation, amount_minor in steps:
        before = payment
        try:
            if operation in ("capture", "final_capture"):
                final = operation == "final_capture"
                payment = domain.capture(payment, usd(amount_minor), final=final)
            elif operation == "refund":
                payment = domain.refund(payment, usd(amount_minor))
            elif operation == "expire":
                payment = domain.expire(payment)
            else:
                payment = domain.void(payment)
        except DomainError:
            assert payment == before  # a refusal changes nothing
        assert 0 <= payment.refunded_minor <= payment.captured_minor <= payment.authorized_minor
        assert payment.captured_minor + payment.released_minor <= payment.authorized_minor
        if payment.released_minor:
            assert payment.capturable_minor == 0  # a final capture ends capturing
        assert payment.authorized_minor == authorized_minor
        if payment.status in ("voided", "expired"):
            assert payment.captured_minor == 0
        if payment.status == "refunded":
            assert payment.refunded_minor == payment.captured_minor > 0
        if payment.status == "captured":
            assert payment.captured_minor > 0
            assert payment.refunded_minor < payment.captured_minor
        if before.status in ("voided", "expired", "refunded"):
            assert payment == before  # terminal states stay put


ledger_steps = st.lists(
    st.tuples(st.sampled_from(["credit", "hold", "redeem", "release"]), st.integers(1, 700)),
    max_size=30,
)


@given(issued_minor=st.integers(1, 1000), steps=ledger_steps)
def test_random_gift_card_sequences_never_go_negative_and_lose_nothing(
    issued_minor: int, steps: list[tuple[str, int]]
) -> None:
    card = domain.GiftCardBalance(issued_minor)
    credited, redeemed = issued_minor, 0
    for operation, amount_minor in steps:
        before = card
        try:
            card = getattr(card, operation)(amount_minor)
        except DomainError:
            assert card == before
            continue
        if operation == "credit":
            credited += amount_minor
        if operation == "redeem":
            redeemed += amount_minor
        assert card.balance_minor >= 0 and card.held_minor >= 0
        # Every minor unit is spendable, held or spent: none appears or vanishes.
        assert card.balance_minor + card.held_minor + redeemed == credited
