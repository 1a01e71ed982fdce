"""The card-number detector: catches card numbers, leaves ordinary ids alone."""

from __future__ import annotations

import hashlib
import random
import uuid

import pytest

from services.common.pan import looks_like_card_number, passes_luhn


@pytest.mark.parametrize(
    "value",
    [
        "4111111111111111",
        "4111 1111 1111 1111",
        "4111-1111-1111-1111",
        "card 5500 0000 0000 0004 please",
        "378282246310005",
        "tok:4242424242424242",
    ],
)
def test_card_numbers_are_caught(value: str) -> None:
    assert looks_like_card_number(value)


@pytest.mark.parametrize(
    "value",
    [
        "4111111111111112",  # fails Luhn
        "411111111111",  # 12 digits
        "41111111111111111111",  # 20 digits
        "tok_approve",
        "+1 212 555 0101",
        "ord_4111111111111111x",  # glued to letters: an id, not a card
        "a4111111111111111",
        "1234-5678-9012-3456-7890-1234",  # one 24-digit token
    ],
)
def test_other_values_pass(value: str) -> None:
    assert not looks_like_card_number(value)


def test_uuids_and_hashes_are_never_taken_for_card_numbers() -> None:
    rng = random.Random(20261123)
    for _ in range(20_000):
        identifier = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        assert not looks_like_card_number(identifier), identifier
        digest = hashlib.sha256(identifier.encode()).hexdigest()
        assert not looks_like_card_number(digest), digest


def test_luhn() -> None:
    assert passes_luhn("79927398713")
    assert not passes_luhn("79927398710")
