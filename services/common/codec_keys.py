"""The payload codec's keys, read from the environment (configuration in
services/common/temporal_codec.py). Kept apart from the codec so a process can
check its key at start without importing the Temporal SDK (the customers
service imports it only on the first cart change: docs/capacity.md).
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import os
from collections.abc import Mapping

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
