"""The payment state machine: transitions, refusals and invariants."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.common.errors import Conflict, InvalidArgument
from services.payments import domain
from services.payments.domain import Money, Payment, Tender


def authorized(amount_minor: int = 1000, currency: str = "USD") -> Payment:
    return domain.authorized_payment(
        payment_id="pay-1",
        reference="order-1",
        tender=Tender(type=domain.CARD, token="tok_approve"),
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
        domain.validate_money(money, "amount")
    assert refused.value.violations[0].field == field


operations = st.lists(
    st.tuples(st.sampled_from(["capture", "refund", "void"]), st.integers(1, 1200)), max_size=25
)


@given(authorized_minor=st.integers(1, 1000), steps=operations)
def test_random_operation_sequences_keep_the_invariants(
    authorized_minor: int, steps: list[tuple[str, int]]
) -> None:
    payment = authorized(authorized_minor)
    for operation, amount_minor in steps:
        before = payment
        try:
            if operation == "capture":
                payment = domain.capture(payment, usd(amount_minor))
            elif operation == "refund":
                payment = domain.refund(payment, usd(amount_minor))
            else:
                payment = domain.void(payment)
        except Conflict:
            assert payment == before  # a refusal changes nothing
        assert 0 <= payment.refunded_minor <= payment.captured_minor <= payment.authorized_minor
        assert payment.authorized_minor == authorized_minor
        if payment.status == "voided":
            assert payment.captured_minor == 0
        if payment.status == "refunded":
            assert payment.refunded_minor == payment.captured_minor > 0
        if payment.status == "captured":
            assert payment.captured_minor > 0
            assert payment.refunded_minor < payment.captured_minor
        if before.status in ("voided", "refunded"):
            assert payment == before  # terminal states stay put
