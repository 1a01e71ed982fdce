"""The codec server (services/codec_server.py): Temporal's remote codec
protocol, its authorization check and CORS for the UI."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from google.protobuf import json_format
from starlette.testclient import TestClient
from temporalio.api.common.v1 import Payload, Payloads

from services.codec_server import MAX_BODY_BYTES, CodecServerSettings, create_app
from services.common.temporal_codec import CodecKeys, EncryptionCodec, new_key

TOKEN = "codec-test-token"
UI = "http://127.0.0.1:8233"
SECRET = b'{"token":"tok_SECRET_4242"}'


@pytest.fixture
def codec() -> EncryptionCodec:
    return EncryptionCodec(CodecKeys.from_env({"OMNI_CODEC_KEY": new_key()}))


def client_for(codec: EncryptionCodec, trusted: str = "") -> TestClient:
    settings = CodecServerSettings(
        omni_codec_auth_token=TOKEN,
        omni_codec_allowed_origins=UI,
        omni_codec_trusted_origins=trusted,
    )
    return TestClient(create_app(settings, codec))


def body_of(*payloads: Payload) -> dict[str, Any]:
    return json_format.MessageToDict(Payloads(payloads=list(payloads)))


def payloads_of(answer: dict[str, Any]) -> list[Payload]:
    return list(json_format.ParseDict(answer, Payloads()).payloads)


def plain() -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=SECRET)


BEARER = {"Authorization": f"Bearer {TOKEN}"}


async def test_decode_gives_back_what_the_codec_encrypted(codec: EncryptionCodec) -> None:
    [sealed] = await codec.encode([plain()])
    answer = client_for(codec).post("/decode", json=body_of(sealed), headers=BEARER)
    assert answer.status_code == 200
    assert payloads_of(answer.json()) == [plain()]


async def test_encode_then_decode_round_trips_and_hides_the_data(codec: EncryptionCodec) -> None:
    client = client_for(codec)
    encoded = client.post("/encode", json=body_of(plain()), headers=BEARER)
    assert encoded.status_code == 200
    assert base64.b64encode(SECRET).decode() not in encoded.text
    assert b"tok_SECRET" not in encoded.content
    decoded = client.post("/decode", json=encoded.json(), headers=BEARER)
    assert payloads_of(decoded.json()) == [plain()]


def test_unencrypted_payloads_decode_as_they_are(codec: EncryptionCodec) -> None:
    answer = client_for(codec).post("/decode", json=body_of(plain()), headers=BEARER)
    assert payloads_of(answer.json()) == [plain()]


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": f"Bearer {TOKEN}x"},
        # An origin that is allowed CORS is not trusted without a token.
        {"Origin": UI},
    ],
)
async def test_requests_without_the_token_are_refused(
    codec: EncryptionCodec, headers: dict[str, str]
) -> None:
    [sealed] = await codec.encode([plain()])
    client = client_for(codec)
    for path in ("/decode", "/encode"):
        answer = client.post(path, json=body_of(sealed), headers=headers)
        assert answer.status_code == 401
        assert b"tok_SECRET" not in answer.content


async def test_a_trusted_origin_needs_no_token_but_a_wrong_token_still_fails(
    codec: EncryptionCodec,
) -> None:
    [sealed] = await codec.encode([plain()])
    client = client_for(codec, trusted=UI)
    ok = client.post("/decode", json=body_of(sealed), headers={"Origin": UI})
    assert ok.status_code == 200
    assert payloads_of(ok.json()) == [plain()]
    assert ok.headers["access-control-allow-origin"] == UI
    other = client.post("/decode", json=body_of(sealed), headers={"Origin": "http://evil.test"})
    assert other.status_code == 401
    wrong = client.post(
        "/decode", json=body_of(sealed), headers={"Origin": UI, "Authorization": "Bearer no"}
    )
    assert wrong.status_code == 401


def test_cors_preflight_answers_the_ui_origin_only(codec: EncryptionCodec) -> None:
    client = client_for(codec)
    ok = client.options("/decode", headers={"Origin": UI, "Access-Control-Request-Method": "POST"})
    assert ok.status_code == 204
    assert ok.headers["access-control-allow-origin"] == UI
    assert "X-Namespace" in ok.headers["access-control-allow-headers"]
    assert "Authorization" in ok.headers["access-control-allow-headers"]
    refused = client.options(
        "/decode", headers={"Origin": "http://evil.test", "Access-Control-Request-Method": "POST"}
    )
    assert refused.status_code == 403
    assert "access-control-allow-origin" not in refused.headers


async def test_tampered_payloads_are_a_400_not_garbage(codec: EncryptionCodec) -> None:
    [sealed] = await codec.encode([plain()])
    tampered = Payload(
        metadata=dict(sealed.metadata), data=sealed.data[:-1] + bytes([sealed.data[-1] ^ 0x01])
    )
    answer = client_for(codec).post("/decode", json=body_of(tampered), headers=BEARER)
    assert answer.status_code == 400
    assert "failed authentication" in answer.json()["message"]


def test_malformed_and_oversized_bodies_are_refused(codec: EncryptionCodec) -> None:
    client = client_for(codec)
    bad = client.post("/decode", content=b'{"payloads": 7}', headers=BEARER)
    assert bad.status_code == 400
    big = client.post("/decode", content=b" " * (MAX_BODY_BYTES + 1), headers=BEARER)
    assert big.status_code == 413


def test_no_configured_token_accepts_no_bearer(codec: EncryptionCodec) -> None:
    settings = CodecServerSettings(omni_codec_auth_token="", omni_codec_trusted_origins="")
    client = TestClient(create_app(settings, codec))
    for header in ("Bearer ", "Bearer  ", "Bearer x"):
        answer = client.post("/decode", json=body_of(plain()), headers={"Authorization": header})
        assert answer.status_code == 401
