"""Gift cards and the development provider's record (API.md: Gift cards, Development)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from services.gateway.models.common import Body, Money


class GiftCardIn(Body):
    initial_balance: Money


class GiftCardEntryOut(BaseModel):
    kind: str = Field(description="issue, reload, hold, release, redeem or refund")
    amount: Money
    reference: str = Field(description="the order, for holds, redemptions and refunds")
    at: str | None = None


class GiftCardOut(BaseModel):
    code: str
    balance: Money = Field(description="what can still be spent, net of holds")
    history: list[GiftCardEntryOut] | None = None


class ProviderOperationOut(BaseModel):
    operation: str
    amount: Money | None = None
    outcome: str
    at: str | None = None
