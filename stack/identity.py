"""The identity key of a development stack (services/common/identity.py).

OMNI_IDENTITY_KEY when set; otherwise `omni up` makes a random one, once, in
OMNI_HOME/identity.key (readable by its owner only), so each developer's stack
has its own and `omni seed` finds it. No key is written in the repository.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from services.common.identity import KEY_ENV, MIN_KEY_BYTES, key_file_of


def stack_identity_key(home: Path) -> str:
    configured = os.environ.get(KEY_ENV, "")
    if configured:
        return configured
    path = key_file_of(home)
    if path.exists():
        return path.read_text().strip()
    home.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(MIN_KEY_BYTES + 16)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(key)
    return key
