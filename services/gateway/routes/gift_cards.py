"""Gift cards: admins issue them; anyone holding the code may look one up.

Store credit is a gift card issued to a customer by a refund; it is listed on
the customer (`store_credit` in GET /v1/customers/{id}), see
`store_credit_of` below.
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from omni.payments.v1 import payments_pb2
from services.gateway import mapping
from services.gateway.auth import Caller, require_role
from services.gateway.clients import call
from services.gateway.idempotency import downstream_key
from services.gateway.models import GiftCardIn, GiftCardOut, StoreCreditOut
from services.gateway.routes.deps import clients_of, settings_of

router = APIRouter(prefix="/v1/gift-cards", tags=["gift cards"])


@router.post("", status_code=201, response_model=GiftCardOut, response_model_exclude_none=True)
async def issue_gift_card(body: GiftCardIn, request: Request, principal: Caller) -> GiftCardOut:
    """Admin. A new card holding `initial_balance`; its code is what spends it."""
    require_role(principal, "admin")
    reply = await call(
        clients_of(request).payments.IssueGiftCard,
        payments_pb2.IssueGiftCardRequest(
            idempotency_key=downstream_key(request, principal.sub),
            initial_balance=mapping.money_message(body.initial_balance),
        ),
        deadline=settings_of(request).write_timeout_seconds,
    )
    return mapping.gift_card(reply.gift_card, with_history=False)


@router.get("/{code}", response_model=GiftCardOut)
async def get_gift_card(code: str, request: Request, principal: Caller) -> GiftCardOut:
    """Any signed-in role but a guest (a storefront's anonymous visitor cannot
    probe codes): holding the code is what entitles one to see it."""
    require_role(principal, "customer", "associate", "agent", "admin")
    reply = await call(
        clients_of(request).payments.GetGiftCard,
        payments_pb2.GetGiftCardRequest(code=code),
        deadline=settings_of(request).read_timeout_seconds,
    )
    return mapping.gift_card(reply.gift_card, with_history=True)


async def store_credit_of(request: Request, customer_id: str) -> list[StoreCreditOut]:
    """The customer's store credit accounts, for GET /v1/customers/{id}."""
    reply = await call(
        clients_of(request).payments.ListStoreCredit,
        payments_pb2.ListStoreCreditRequest(customer_id=customer_id),
        deadline=settings_of(request).read_timeout_seconds,
    )
    return [mapping.store_credit(card) for card in reply.store_credit]
