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

import base64
import binascii
import dataclasses
import hashlib
import os
from collections.abc import Mapping, Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import DataConverter, PayloadCodec

ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"
NONCE_BYTES = 12
KEY_BYTES = 32

KEY_ENV = "OMNI_CODEC_KEY"
KEY_ID_ENV = "OMNI_CODEC_KEY_ID"
PREVIOUS_KEYS_ENV = "OMNI_CODEC_PREVIOUS_KEYS"


class CodecError(Exception):
    """A payload that cannot be decrypted (unknown key, tampered) or a bad key."""


def key_id_of(key: bytes) -> str:
    """The id a key gets when none is given: stable, and reveals nothing of it."""
    return "k-" + hashlib.sha256(key).hexdigest()[:8]


def parse_key(text: str) -> bytes:
    """32 bytes from base64 (standard or url-safe, padding optional)."""
    cleaned = text.strip()
    padded = cleaned + "=" * (-len(cleaned) % 4)
    try:
        key = base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError) as error:
        raise CodecError("a codec key must be base64") from error
    if len(key) != KEY_BYTES:
        raise CodecError(f"a codec key must be {KEY_BYTES} bytes (AES-256), got {len(key)}")
    return key


def new_key() -> str:
    """A fresh key in the form OMNI_CODEC_KEY takes."""
    return base64.b64encode(os.urandom(KEY_BYTES)).decode()


@dataclasses.dataclass(frozen=True)
class CodecKeys:
    """The key that encrypts (by id) and every key that may decrypt."""

    current_id: str
    keys: Mapping[str, bytes]

    @classmethod
    def of(
        cls, key: bytes, key_id: str = "", previous: Mapping[str, bytes] | None = None
    ) -> CodecKeys:
        current_id = key_id or key_id_of(key)
        return cls(current_id, {**(previous or {}), current_id: key})

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> CodecKeys:
        env = os.environ if environ is None else environ
        text = env.get(KEY_ENV, "")
        if not text.strip():
            raise CodecError(
                f"{KEY_ENV} is not set: Temporal payloads would be stored in plain text."
                f" Set it to 32 random bytes in base64 (`omni up` sets a development key)"
            )
        previous: dict[str, bytes] = {}
        for entry in (e.strip() for e in env.get(PREVIOUS_KEYS_ENV, "").split(",")):
            if not entry:
                continue
            head, sep, tail = entry.partition("=")
            # "id=key", or a bare key (whose only "=" is base64 padding).
            key_id, encoded = (head, tail) if sep and tail.strip("=") else ("", entry)
            old = parse_key(encoded)
            previous[key_id.strip() or key_id_of(old)] = old
        return cls.of(parse_key(text), env.get(KEY_ID_ENV, "").strip(), previous)


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
