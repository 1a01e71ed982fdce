"""The payload codec's key and the codec server's token for a development stack.

OMNI_CODEC_KEY / OMNI_CODEC_AUTH_TOKEN when set; otherwise `omni up` makes a
random one of each, once, in OMNI_HOME/codec.key and OMNI_HOME/codec.token
(readable by their owner only), so each developer's histories are encrypted
with their own key and no key is written in the repository. The token is what
`temporal workflow show --codec-auth "Bearer $(cat .omni/codec.token)"` sends.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from services.common.temporal_codec import KEY_ENV, new_key

TOKEN_ENV = "OMNI_CODEC_AUTH_TOKEN"


def _kept(path: Path, make: str) -> str:
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(make)
    return make


def stack_codec_key(home: Path) -> str:
    return os.environ.get(KEY_ENV, "") or _kept(home / "codec.key", new_key())


def stack_codec_token(home: Path) -> str:
    return os.environ.get(TOKEN_ENV, "") or _kept(home / "codec.token", secrets.token_urlsafe(32))
