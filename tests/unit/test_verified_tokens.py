"""The gateway's verified-token cache (services/gateway/verified_tokens.py):
an entry serves only while its token is unexpired, the oldest goes first
when full, and a key change forgets every one."""

from __future__ import annotations

from services.gateway.auth import Principal
from services.gateway.verified_tokens import VerifiedTokens


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _principal(sub: str, expires_at: float) -> Principal:
    return Principal(sub=sub, role="customer", customer_id=sub, expires_at=expires_at)


def test_an_entry_serves_until_its_token_expires_with_the_leeway() -> None:
    clock = Clock(1_000.0)
    tokens = VerifiedTokens(leeway_seconds=30, clock=clock)
    kept = _principal("C1", expires_at=1_100.0)
    tokens.keep("t1", kept)
    assert tokens.get("t1") is kept
    clock.now = 1_129.9  # within exp + leeway: still good
    assert tokens.get("t1") is kept
    clock.now = 1_130.0  # where the full check refuses it too
    assert tokens.get("t1") is None
    assert len(tokens) == 0, "an expired entry is dropped"


def test_an_unknown_token_is_not_served() -> None:
    tokens = VerifiedTokens(leeway_seconds=0, clock=Clock(0.0))
    tokens.keep("t1", _principal("C1", expires_at=10.0))
    assert tokens.get("t1-but-another-string") is None


def test_when_full_the_oldest_verified_goes_first() -> None:
    tokens = VerifiedTokens(leeway_seconds=0, capacity=2, clock=Clock(0.0))
    for name in ("t1", "t2", "t3"):
        tokens.keep(name, _principal(name, expires_at=10.0))
    assert len(tokens) == 2
    assert tokens.get("t1") is None
    assert tokens.get("t2") is not None and tokens.get("t3") is not None


def test_forget_all_empties_it() -> None:
    tokens = VerifiedTokens(leeway_seconds=0, clock=Clock(0.0))
    tokens.keep("t1", _principal("C1", expires_at=10.0))
    tokens.forget_all()
    assert tokens.get("t1") is None
