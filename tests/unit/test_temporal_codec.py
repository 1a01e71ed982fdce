"""The payload codec (services/common/temporal_codec.py): what it hides, what it
refuses, and that payloads written before it still decode."""

from __future__ import annotations

import base64

import pytest
from temporalio.api.common.v1 import Payload

from services.common.temporal_codec import (
    ENCODING,
    KEY_ID,
    CodecError,
    CodecKeys,
    EncryptionCodec,
    data_converter,
    key_id_of,
    new_key,
    parse_key,
)
from workflows.contracts.journeys import LineInput, OrderInput, TenderInput

SECRET_TOKEN = "tok_visa_4242_SECRET"
GIFT_CODE = "GIFT-CODE-0001-SECRET"


def codec_with(key: str, key_id: str = "", previous: str = "") -> EncryptionCodec:
    env = {"OMNI_CODEC_KEY": key, "OMNI_CODEC_KEY_ID": key_id, "OMNI_CODEC_PREVIOUS_KEYS": previous}
    return EncryptionCodec(CodecKeys.from_env(env))


def an_order() -> OrderInput:
    return OrderInput(
        order_id="ord_1",
        customer_id="cus_1",
        channel="web",
        currency="EUR",
        lines=[LineInput("SKU-1", 2, 1000)],
        tenders=[
            TenderInput("gift_card", code=GIFT_CODE, amount_minor=500),
            TenderInput("card", SECRET_TOKEN),
        ],
        fulfillment_type="pickup",
        pickup_location_id="S1",
    )


async def test_round_trip_hides_tokens_and_codes_and_gives_them_back() -> None:
    converter = data_converter(codec_with(new_key()))
    [payload] = await converter.encode([an_order()])
    raw = payload.SerializeToString()
    assert payload.metadata["encoding"] == ENCODING
    for secret in (SECRET_TOKEN, GIFT_CODE, "cus_1", "json/plain"):
        assert secret.encode() not in raw
    [order] = await converter.decode([payload], [OrderInput])
    assert order == an_order()


async def test_each_encryption_uses_a_fresh_nonce() -> None:
    codec = codec_with(new_key())
    plain = Payload(metadata={"encoding": b"json/plain"}, data=b'"same"')
    first, second = await codec.encode([plain, plain])
    assert first.data[:12] != second.data[:12]
    assert first.data != second.data


async def test_a_wrong_key_with_the_same_id_is_refused() -> None:
    sealed = await codec_with(new_key(), "k1").encode([Payload(data=b"x")])
    with pytest.raises(CodecError, match="failed authentication"):
        await codec_with(new_key(), "k1").decode(sealed)


async def test_an_unknown_key_id_is_refused() -> None:
    sealed = await codec_with(new_key()).encode([Payload(data=b"x")])
    with pytest.raises(CodecError, match="no codec key with id"):
        await codec_with(new_key()).decode(sealed)


@pytest.mark.parametrize("position", [0, 5, 12, 20, -1])
async def test_tampered_ciphertext_is_refused(position: int) -> None:
    codec = codec_with(new_key())
    [sealed] = await codec.encode([Payload(metadata={"encoding": b"json/plain"}, data=b'"hi"')])
    data = bytearray(sealed.data)
    data[position] ^= 0x01
    tampered = Payload(metadata=dict(sealed.metadata), data=bytes(data))
    with pytest.raises(CodecError):
        await codec.decode([tampered])


async def test_a_relabelled_key_id_is_refused() -> None:
    """The key id is bound as associated data: moving a payload under another
    id (even one whose key is known) fails."""
    old, new = new_key(), new_key()
    codec = codec_with(new, "k2", previous=f"k1={old}")
    [sealed] = await codec.encode([Payload(data=b"x")])
    relabelled = Payload(metadata={**sealed.metadata, KEY_ID: b"k1"}, data=sealed.data)
    with pytest.raises(CodecError):
        await codec.decode([relabelled])


async def test_a_truncated_payload_is_refused() -> None:
    codec = codec_with(new_key(), "k1")
    short = Payload(metadata={"encoding": ENCODING, KEY_ID: b"k1"}, data=b"tiny")
    with pytest.raises(CodecError, match="too short"):
        await codec.decode([short])


async def test_unencrypted_legacy_payloads_decode_as_they_are() -> None:
    converter = data_converter(codec_with(new_key()))
    legacy = converter.payload_converter.to_payloads([an_order()])
    assert legacy[0].metadata["encoding"] == b"json/plain"
    [order] = await converter.decode(legacy, [OrderInput])
    assert order == an_order()


async def test_rotation_previous_keys_still_decrypt_and_the_new_one_encrypts() -> None:
    old, new = new_key(), new_key()
    before = codec_with(old)
    [sealed_before] = await before.encode([Payload(data=b"before")])
    after = codec_with(new, previous=old)
    [plain] = await after.decode([sealed_before])
    assert plain.data == b"before"
    [sealed_after] = await after.encode([Payload(data=b"after")])
    assert sealed_after.metadata[KEY_ID].decode() == key_id_of(base64.b64decode(new))
    with pytest.raises(CodecError):
        await before.decode([sealed_after])


async def test_an_already_encrypted_payload_is_not_encrypted_twice() -> None:
    codec = codec_with(new_key())
    [once] = await codec.encode([Payload(data=b"x")])
    [again] = await codec.encode([once])
    assert again == once


def test_a_missing_key_stops_the_process_with_a_clear_message() -> None:
    with pytest.raises(CodecError, match="OMNI_CODEC_KEY is not set"):
        CodecKeys.from_env({})


@pytest.mark.parametrize("bad", ["not base64!!", base64.b64encode(b"short").decode(), ""])
def test_a_malformed_key_is_refused(bad: str) -> None:
    with pytest.raises(CodecError):
        parse_key(bad) if bad else CodecKeys.from_env({"OMNI_CODEC_KEY": " "})


def test_keys_read_in_either_base64_alphabet_and_ids_never_reveal_them() -> None:
    raw = bytes(range(32))
    standard = base64.b64encode(raw).decode()
    urlsafe = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    assert parse_key(standard) == parse_key(urlsafe) == raw
    assert standard not in key_id_of(raw)
    assert CodecKeys.from_env({"OMNI_CODEC_KEY": standard}).current_id == key_id_of(raw)
