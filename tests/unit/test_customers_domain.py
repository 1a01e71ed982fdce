"""Customer identity normalization, activity validation and the history cursor."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from omni.customers.v1 import customers_pb2
from omni.words import ActivityKind, IdentityKind
from services.common.errors import InvalidArgument
from services.common.paging import encode_cursor
from services.customers import domain, mapping
from services.customers.domain import Activity, HistoryKey, Identity


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("  Ada.Lovelace@Example.COM ", "ada.lovelace@example.com"),
        ("x+tag@sub.example.co.uk", "x+tag@sub.example.co.uk"),
    ],
)
def test_email_is_trimmed_and_lower_cased(raw: str, normalized: str) -> None:
    assert domain.normalize_email(raw) == normalized


@pytest.mark.parametrize("raw", ["ada", "ada@", "@example.com", "ada@example", "a da@example.com"])
def test_implausible_email_is_invalid(raw: str) -> None:
    with pytest.raises(InvalidArgument) as refused:
        domain.normalize_email(raw)
    assert refused.value.violations[0].field == "email"


@pytest.mark.parametrize(
    "raw", ["(415) 555-2671", "415-555-2671", "+1 415 555 2671", "4155552671", "1-415-555-2671"]
)
def test_us_phone_formats_normalize_to_one_e164(raw: str) -> None:
    assert domain.normalize_phone(raw) == "+14155552671"


def test_foreign_phone_with_country_code_keeps_it() -> None:
    assert domain.normalize_phone("+44 20 7946 0958") == "+442079460958"


@pytest.mark.parametrize("raw", ["12", "not a phone", "+1 555"])
def test_invalid_phone_is_invalid(raw: str) -> None:
    with pytest.raises(InvalidArgument) as refused:
        domain.normalize_phone(raw)
    assert refused.value.violations[0].field == "phone"


def test_identities_need_an_email_or_a_phone() -> None:
    with pytest.raises(InvalidArgument):
        domain.identities_from(" ", "")
    assert domain.identities_from("A@B.io", "(415) 555-2671") == [
        Identity(IdentityKind.EMAIL, "a@b.io"),
        Identity(IdentityKind.PHONE, "+14155552671"),
    ]


def test_the_first_known_identity_chooses_the_customer() -> None:
    email = Identity(IdentityKind.EMAIL, "a@b.io")
    phone = Identity(IdentityKind.PHONE, "+14155552671")
    assert domain.choose_match([email, phone], {phone: "c2", email: "c1"}) == "c1"
    assert domain.choose_match([email, phone], {phone: "c2"}) == "c2"
    assert domain.choose_match([email, phone], {}) is None


@pytest.mark.parametrize(
    ("activity", "field"),
    [
        (Activity(kind=ActivityKind.ORDER, reference_id=""), "activity.reference_id"),
        (
            Activity(kind=ActivityKind.ORDER, reference_id="r1", status="x" * 201),
            "activity.status",
        ),
    ],
)
def test_invalid_activities_name_the_field(activity: Activity, field: str) -> None:
    with pytest.raises(InvalidArgument) as refused:
        domain.validate_activity(activity)
    assert refused.value.violations[0].field == field


def test_an_activity_of_no_known_kind_names_the_field() -> None:
    # "refund" is no ActivityKind: on the wire it can only arrive as unspecified.
    with pytest.raises(InvalidArgument) as refused:
        mapping.activity_from_proto(customers_pb2.Activity(reference_id="r1"))
    assert refused.value.violations[0].field == "activity.kind"


def test_history_cursor_round_trips_and_rejects_garbage() -> None:
    key = HistoryKey(datetime(2025, 3, 1, 12, 30, tzinfo=UTC), 42)
    assert HistoryKey.from_cursor(encode_cursor(key.cursor_key())) == key
    assert HistoryKey.from_cursor("") is None
    for garbage in ("not-a-token", encode_cursor(["yesterday", 1]), encode_cursor([1, 2])):
        with pytest.raises(InvalidArgument) as refused:
            HistoryKey.from_cursor(garbage)
        assert refused.value.violations[0].field == "page_token"
