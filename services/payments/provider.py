"""The payment provider seam: Stripe, Adyen or the development provider plug in here.

Every call carries a merchant reference (the caller's idempotency key) so that
after an ambiguous failure a retry can ask whether the provider already did it.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from services.common.errors import Unavailable
from services.payments.domain import Money

AUTHORIZE = "authorize"
CAPTURE = "capture"
VOID = "void"
REFUND = "refund"
# What a final capture gives back of the authorization (the dev provider's books).
RELEASE = "release"

APPROVED = "approved"
DECLINED = "declined"
UNAVAILABLE = "unavailable"


@dataclass(frozen=True)
class ProviderResult:
    outcome: str  # APPROVED, DECLINED or UNAVAILABLE
    provider_reference: str = ""
    card_brand: str = ""
    card_last4: str = ""


@dataclass(frozen=True)
class ProviderOperation:
    """One thing the provider did, as its own records show it."""

    operation: str
    amount: Money
    outcome: str  # "approved", "declined" or "error"
    at: datetime


class PaymentProvider(ABC):
    @abstractmethod
    def validate_token(self, token: str) -> None:
        """Raises InvalidArgument (field tender.token) for a token it cannot use."""

    @abstractmethod
    async def authorize(
        self, *, merchant_reference: str, reference: str, token: str, amount: Money
    ) -> ProviderResult: ...

    @abstractmethod
    async def capture(
        self,
        *,
        merchant_reference: str,
        reference: str,
        provider_reference: str,
        amount: Money,
        final: bool = False,
    ) -> ProviderResult:
        """Captures `amount`; a `final` capture also releases the rest of the
        authorization (Stripe's final capture, Adyen's partial capture)."""

    @abstractmethod
    async def void(
        self, *, merchant_reference: str, reference: str, provider_reference: str, amount: Money
    ) -> ProviderResult: ...

    @abstractmethod
    async def refund(
        self, *, merchant_reference: str, reference: str, provider_reference: str, amount: Money
    ) -> ProviderResult: ...

    @abstractmethod
    async def lookup(self, merchant_reference: str) -> ProviderResult | None:
        """The approved operation done earlier under this merchant reference, if any."""

    async def list_operations(self, reference: str) -> list[ProviderOperation]:
        """What the provider did for a reference; providers without that view say nothing."""
        return []


# How long to wait for the provider's answer; tok_slow answers in 3 s.
DEFAULT_TIMEOUT_SECONDS = 10.0


async def perform_once(
    provider: PaymentProvider,
    merchant_reference: str,
    perform: Callable[[], Awaitable[ProviderResult]],
    *,
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
) -> ProviderResult:
    """Performs an operation unless the provider already approved it under this reference.

    A call that times out is ambiguous (the provider may have acted before the
    answer was lost), so it is resolved by looking the merchant reference up,
    never guessed. UNAVAILABLE, or a timeout the lookup cannot resolve, becomes
    Unavailable: the caller's unit of work rolls back (its idempotency key is
    not kept) and a retry with the same key looks up first, then tries again.
    """
    earlier = await provider.lookup(merchant_reference)
    if earlier is not None:
        return earlier
    try:
        result = await asyncio.wait_for(perform(), timeout_seconds)
    except TimeoutError:
        earlier = await provider.lookup(merchant_reference)
        if earlier is not None:
            return earlier
        raise Unavailable(
            "the payment provider did not answer in time; retry with the same key"
        ) from None
    if result.outcome == UNAVAILABLE:
        raise Unavailable("the payment provider is unavailable; retry with the same key")
    return result
