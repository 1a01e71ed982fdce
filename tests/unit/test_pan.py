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


def _by_the_regex_alone(value: str) -> bool:
    import re

    from services.common import pan

    for match in pan._STANDALONE_DIGITS.finditer(value):
        digits = re.sub(r"[ \-]", "", match.group())
        if 13 <= len(digits) <= 19 and passes_luhn(digits):
            return True
    return False


def test_the_digit_count_shortcut_never_changes_the_answer() -> None:
    """Fewer than 13 digits answers False without the regex (issue 15: every
    request string passes here); on 20,000 random strings of digits,
    separators and letters, around the 13-digit edge, it agrees with the regex."""
    rng = random.Random(15)
    alphabet = "0123456789" * 4 + " -" + "abcxyz_/"
    caught = 0
    for _ in range(20_000):
        value = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        if rng.random() < 0.2:
            value += "4111111111111111"[: rng.randint(12, 16)]
        expected = _by_the_regex_alone(value)
        caught += expected
        assert looks_like_card_number(value) == expected, value
    assert caught  # the sample does reach the regex's True answers
