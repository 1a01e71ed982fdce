"""The payload codec every Temporal client and worker of Omni uses: AES-256-GCM.

Workflow inputs, results, update arguments, activity arguments, failures'
details and summaries are encrypted before they leave the process, so card
tokens, gift-card codes, pickup codes and personal data never sit readable in
Temporal's histories. Engineers holding the key read them through the codec
server (services/codec_server.py), which the Temporal UI and
`temporal workflow show --codec-endpoint` call.

An encrypted payload is `{encoding: binary/encrypted, encryption-key-id: <id>}`
with data = 12-byte nonce + ciphertext + tag of the whole original Payload
(its metadata too), the key id bound as associated data. Keys rotate: the
current key encrypts, every key in OMNI_CODEC_PREVIOUS_KEYS still decrypts.
A payload that is not encrypted (histories from before the codec) decodes as
it is; one with an unknown key id or that fails authentication is refused.

Configuration (environment):
- OMNI_CODEC_KEY: the current key, 32 bytes in (url-safe or standard) base64.
  Required: a process without it stops at start (no silent plain text).
  `omni up` and the test harnesses set a development key.
- OMNI_CODEC_KEY_ID: its id (default: "k-" + the first 8 hex of its SHA-256).
- OMNI_CODEC_PREVIOUS_KEYS: keys that only decrypt, comma separated, each
  `id=base64` or just `base64` (id derived as above).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import DataConverter, PayloadCodec

from services.common.codec_keys import (
    KEY_BYTES,
    KEY_ENV,
    KEY_ID_ENV,
    PREVIOUS_KEYS_ENV,
    CodecError,
    CodecKeys,
    key_id_of,
    new_key,
    parse_key,
)

__all__ = [
    "KEY_BYTES",
    "KEY_ENV",
    "KEY_ID_ENV",
    "PREVIOUS_KEYS_ENV",
    "CodecError",
    "CodecKeys",
    "EncryptionCodec",
    "data_converter",
    "encryption_codec",
    "key_id_of",
    "new_key",
    "parse_key",
]

ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"
NONCE_BYTES = 12


class EncryptionCodec(PayloadCodec):
    """AES-256-GCM over each whole payload; see the module's docstring."""

    def __init__(self, keys: CodecKeys) -> None:
        self._keys = keys
        self._ciphers = {key_id: AESGCM(key) for key_id, key in keys.keys.items()}

    @property
    def key_id(self) -> str:
        return self._keys.current_id

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.encrypt(payload) for payload in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.decrypt(payload) for payload in payloads]

    def encrypt(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") == ENCODING:
            return payload  # already encrypted (never twice)
        key_id = self._keys.current_id
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._ciphers[key_id].encrypt(nonce, payload.SerializeToString(), key_id.encode())
        return Payload(
            metadata={"encoding": ENCODING, KEY_ID: key_id.encode()}, data=nonce + sealed
        )

    def decrypt(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") != ENCODING:
            # Written before the codec (or by a client without one): as it is.
            return payload
        key_id = payload.metadata.get(KEY_ID, b"").decode(errors="replace")
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise CodecError(f"no codec key with id {key_id!r} (rotated out, or a wrong key)")
        data = payload.data
        if len(data) <= NONCE_BYTES:
            raise CodecError("an encrypted payload too short to hold its nonce and tag")
        try:
            plain = cipher.decrypt(data[:NONCE_BYTES], data[NONCE_BYTES:], key_id.encode())
        except InvalidTag as error:
            raise CodecError(
                f"an encrypted payload failed authentication with key {key_id!r}"
                " (tampered, or encrypted with another key of that id)"
            ) from error
        original = Payload()
        original.ParseFromString(plain)
        return original


def encryption_codec(environ: Mapping[str, str] | None = None) -> EncryptionCodec:
    return EncryptionCodec(CodecKeys.from_env(environ))


def data_converter(codec: PayloadCodec | None = None) -> DataConverter:
    """Temporal's default converter with Omni's codec (from the environment
    unless given): pass it as `data_converter=` to every Client.connect."""
    return dataclasses.replace(
        DataConverter.default, payload_codec=codec if codec is not None else encryption_codec()
    )
