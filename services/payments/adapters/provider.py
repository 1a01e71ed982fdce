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
from functools import partial

from omni.words import ProviderOperationKind, ProviderOutcome
from services.common.errors import Unavailable
from services.common.money import Money


@dataclass(frozen=True)
class ProviderResult:
    # ERROR: unavailable, nothing done; the same merchant reference may try again.
    outcome: ProviderOutcome
    provider_reference: str = ""
    card_brand: str = ""
    card_last4: str = ""


@dataclass(frozen=True)
class ProviderOperation:
    """One thing the provider did, as its own records show it."""

    operation: ProviderOperationKind
    amount: Money
    outcome: ProviderOutcome
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
    never guessed. ERROR, or a timeout the lookup cannot resolve, becomes
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
    if result.outcome is ProviderOutcome.ERROR:
        raise Unavailable("the payment provider is unavailable; retry with the same key")
    return result


async def authorize_once(
    provider: PaymentProvider,
    *,
    merchant_reference: str,
    reference: str,
    token: str,
    amount: Money,
    timeout_seconds: float,
) -> ProviderResult:
    return await perform_once(
        provider,
        merchant_reference,
        lambda: provider.authorize(
            merchant_reference=merchant_reference, reference=reference, token=token, amount=amount
        ),
        timeout_seconds=timeout_seconds,
    )


async def follow_up_once(
    provider: PaymentProvider,
    operation: ProviderOperationKind,
    *,
    merchant_reference: str,
    reference: str,
    provider_reference: str,
    amount: Money,
    final: bool = False,
    timeout_seconds: float,
) -> ProviderResult:
    """Capture, void or refund of an authorization, once per merchant reference."""
    calls: dict[ProviderOperationKind, Callable[..., Awaitable[ProviderResult]]] = {
        ProviderOperationKind.CAPTURE: partial(provider.capture, final=final),
        ProviderOperationKind.VOID: provider.void,
        ProviderOperationKind.REFUND: provider.refund,
    }
    call = calls[operation]
    return await perform_once(
        provider,
        merchant_reference,
        lambda: call(
            merchant_reference=merchant_reference,
            reference=reference,
            provider_reference=provider_reference,
            amount=amount,
        ),
        timeout_seconds=timeout_seconds,
    )
