"""Tokens already verified, so a caller's next request skips the signature.

Checking a JWT's signature and claims was ~7 % of the gateway's CPU per
availability lookup (the hottest read); a caller sends the same token on
every request until it expires. An entry holds the `Principal` a successful
verification produced and is used only while the token is unexpired (with
the configured leeway) and the verification keys are those it was checked
with: a JWKS refresh that changes the keys starts over. Failed verifications
are never kept, so a forged or tampered token (another string) is always
checked in full.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from services.gateway.auth import Principal

# Enough for every caller active within a token's life on one replica at
# flash-sale rates; each entry is a token string and a small dataclass.
MAX_VERIFIED_TOKENS = 10_000


class VerifiedTokens:
    def __init__(
        self,
        leeway_seconds: float,
        *,
        capacity: int = MAX_VERIFIED_TOKENS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._leeway = leeway_seconds
        self._capacity = capacity
        self._clock = clock
        self._entries: dict[str, Principal] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, token: str) -> Principal | None:
        """The token's caller if it was verified and is unexpired, else None
        (an expired entry is dropped: the full check then says why)."""
        principal = self._entries.get(token)
        if principal is None:
            return None
        if self._clock() >= principal.expires_at + self._leeway:  # as the full check
            del self._entries[token]
            return None
        return principal

    def keep(self, token: str, principal: Principal) -> None:
        if len(self._entries) >= self._capacity:
            # The oldest verified first (dicts keep insertion order).
            del self._entries[next(iter(self._entries))]
        self._entries[token] = principal

    def forget_all(self) -> None:
        """The verification keys changed: every token is checked again."""
        self._entries.clear()
