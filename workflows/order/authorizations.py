"""Authorizations that never lapse while the order lives (issue 11).

Payments gives each card authorization its expires_at (7 days card-not-present,
2 days at a till: PAYMENTS_CARD_*_AUTHORIZATION_HOURS); gift cards, store credit
and cash never lapse. While the order is live, the journey keeps one timer at
the earliest renewal: REAUTHORIZE_LEAD before the lapse, or when a quarter of
the authorization's life is left if that is sooner. A pickup collected or a
shipment shipped before then needs none. A renewal is ReauthorizePayment under
a key derived here (`order-<id>/reauthorize/<tender>/<n>`): payments takes the
new authorization first, then voids the old one, and keeps the payment id, so
the saga's void of that tender still undoes whatever is live (never two).

A declined renewal: a `payment_action_required` event, the customer told
(payment_needed, with the deadline), and the order waits for a new tender
(the new_payment update, refused when none is asked for) until the deadline
(OrderInput.payment_deadline_hours, default 48 h); a handover or shipment
meanwhile is refused (INVALID_STATE, 409). The new tenders are authorized for
what the old one still had to pay (each void pushed before its call), then the
old one is voided (released by a final capture of nothing when partly
captured). A new tender declined too: nothing kept, still waiting. No new
tender by the deadline: the order is cancelled with everything given back.

A renewal that fails otherwise (payments unreachable for the activity's hour,
an unknown answer) is tried again later with the same key (NeedsAttention
meanwhile) until the authorization lapses; a capture after that renews it
itself (payments' reauthorize_expired_authorizations).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

from workflows.order import visibility
from workflows.order.policies import BEST_EFFORT_RETRY, refusal, refused_for_good, run_activity
from workflows.order.steps import OrderJourney

with workflow.unsafe.imports_passed_through():
    from omni.words import NotificationKind, TenderType
    from workflows.activities.customers import CustomerActivities
    from workflows.activities.payments import PaymentActivities
    from workflows.contracts.activities import (
        AuthorizeInput,
        CaptureInput,
        NotificationInput,
        PaymentInfo,
        ReauthorizeInput,
    )
    from workflows.contracts.journeys import (
        ERROR_INVALID_STATE,
        CancelInput,
        NewPaymentInput,
        OrderInput,
    )
    from workflows.order import rules
    from workflows.order.state import Tender

# Runs started before the journey renewed authorizations replay without it.
REAUTHORIZE_PATCH = "reauthorize-before-lapse"
# How long before the lapse a renewal happens (sooner for short lifetimes).
REAUTHORIZE_LEAD = timedelta(hours=24)
# A renewal whose answer never came is asked again (same key) after this.
RETRY_RENEWAL_AFTER = timedelta(minutes=30)
# How long a declined renewal waits for a new tender (OrderInput.payment_deadline_hours 0).
DEFAULT_PAYMENT_DEADLINE = timedelta(hours=48)
# New tenders of attempt n are numbered n*100 + their position in the request.
NEW_TENDER_INDEX = 100
# The refusal type of a new payment whose tenders cannot pay what is owed (422).
ERROR_INVALID_TENDERS = "INVALID_TENDERS"
PAYMENT_NEEDED_REASON = (
    "the order is waiting for a new payment (its card could not be authorized again)"
)


def renewal_time(expires_at: datetime, now: datetime) -> datetime:
    """When an authorization that lapses at `expires_at` is renewed."""
    lead = min(REAUTHORIZE_LEAD, max(expires_at - now, timedelta(0)) / 4)
    return expires_at - lead


def payment_deadline(order: OrderInput) -> timedelta:
    if order.payment_deadline_hours > 0:
        return timedelta(hours=order.payment_deadline_hours)
    return DEFAULT_PAYMENT_DEADLINE


def expiry_of(payment: PaymentInfo) -> datetime | None:
    """When a card authorization lapses; None for tenders that never do."""
    if payment.tender_type != TenderType.CARD or not payment.expires_at:
        return None
    return datetime.fromisoformat(payment.expires_at)


def owed_by(tender: Tender) -> int:
    """What the tender's authorization still holds for the order."""
    return max(0, tender.payment.authorized_minor - tender.captured_minor)


def waiting_for_payment(journey: OrderJourney) -> bool:
    return journey.authorizations.asking is not None and not journey.finished


def _refused(message: str, journey: OrderJourney) -> ApplicationError:
    return ApplicationError(
        message, {"status": journey.status}, type=ERROR_INVALID_STATE, non_retryable=True
    )


def check_new_payment(journey: OrderJourney, request: NewPaymentInput) -> Tender:
    """The tender the new payment replaces; INVALID_STATE unless one is asked
    for, INVALID_TENDERS when the tenders cannot pay what it owed."""
    asking = journey.authorizations.asking
    if journey.finished or asking is None:
        raise _refused("the order is not waiting for a new payment", journey)
    old = next(t for t in journey.tenders if t.index == asking)
    if not request.tenders:
        problem: str | None = "at least one tender is required"
    else:
        problem = rules.tender_problem(request.tenders, owed_by(old))
    if problem is not None:
        raise ApplicationError(problem, type=ERROR_INVALID_TENDERS, non_retryable=True)
    return old


def check_not_waiting(journey: OrderJourney) -> None:
    """A handover or shipment would capture on an authorization that is going:
    refused (409) until the new tender is in."""
    if waiting_for_payment(journey):
        raise _refused(PAYMENT_NEEDED_REASON, journey)


# ------------------------------------------------------------------ the watch


async def watch_authorizations(journey: OrderJourney) -> None:
    """Main loop task: renews each card authorization before it lapses, asks for
    a new tender when a renewal is declined, cancels at that deadline. Ends
    with the order."""
    watch = journey.authorizations
    while not journey.finished:
        now = workflow.now()
        for tender in journey.tenders:
            expires = expiry_of(tender.payment)
            if expires is not None and tender.index not in watch.renew_at:
                if tender.index not in watch.replaced:
                    watch.renew_at[tender.index] = renewal_time(expires, now)
        if watch.asking is not None:
            await _await_new_tender(journey)
            continue
        changed = _changed_since(journey, watch.version)
        due = [
            at
            for index, at in watch.renew_at.items()
            if index not in watch.replaced and index not in watch.settled
        ]
        if not due:
            await workflow.wait_condition(changed)
            continue
        left = min(due) - now
        if left > timedelta(0):
            try:
                await workflow.wait_condition(changed, timeout=left)
                continue
            except TimeoutError:
                pass
        await _renew_due(journey)


def _changed_since(journey: OrderJourney, version: int) -> Callable[[], bool]:
    return lambda: journey.finished or journey.authorizations.version != version


async def _renew_due(journey: OrderJourney) -> None:
    watch = journey.authorizations
    for tender in list(journey.tenders):
        at = watch.renew_at.get(tender.index)
        if at is None or at > workflow.now() or tender.index in watch.replaced:
            continue
        if tender.index in watch.settled or journey.finished or watch.asking is not None:
            continue
        if owed_by(tender) <= 0:
            watch.settled.add(tender.index)
            continue
        await _renew(journey, tender)


async def _renew(journey: OrderJourney, tender: Tender) -> None:
    watch = journey.authorizations
    number = watch.renewals.get(tender.index, 0) + 1
    request = ReauthorizeInput(
        idempotency_key=journey.key(f"reauthorize/{tender.index}/{number}"),
        payment_id=tender.payment.payment_id,
    )
    try:
        renewed: PaymentInfo = await run_activity(PaymentActivities.reauthorize, request)
    except ActivityError as error:
        reason, message, _ = refusal(error)
        if refused_for_good(error) and reason == "PAYMENT_DECLINED":
            watch.renewals[tender.index] = number
            watch.settled.add(tender.index)
            await _ask_for_tender(journey, tender, message)
            return
        if refused_for_good(error) and reason not in ("INTERNAL", "UNKNOWN"):
            # Nothing left to renew: captured, voided or lapsed meanwhile.
            workflow.logger.warning("authorization not renewed: %s: %s", reason, message)
            watch.settled.add(tender.index)
            return
        # Unknown outcome, or payments unreachable: the same key again later,
        # while the authorization still lives.
        workflow.logger.error(
            "renewal of tender %d failed (%s); trying again", tender.index, reason
        )
        visibility.flag_needs_attention(f"reauthorize {tender.index}: {reason}")
        watch.failing = True
        expires = expiry_of(tender.payment)
        now = workflow.now()
        if expires is None or now >= expires:
            watch.settled.add(tender.index)
            return
        watch.renew_at[tender.index] = now + min(
            RETRY_RENEWAL_AFTER, max((expires - now) / 2, timedelta(seconds=1))
        )
        return
    if watch.failing:
        watch.failing = False
        visibility.clear_needs_attention()
    watch.renewals[tender.index] = number
    tender.payment.expires_at = renewed.expires_at
    expires = expiry_of(renewed)
    if expires is None:
        watch.settled.add(tender.index)
    else:
        watch.renew_at[tender.index] = renewal_time(expires, workflow.now())
    until = f" until {expires:%Y-%m-%d %H:%M UTC}" if expires else ""
    await journey.record(
        f"reauthorized/{tender.index}/{number}",
        "payment_reauthorized",
        f"tender {tender.index} authorized again{until}",
        [],
    )


async def _ask_for_tender(journey: OrderJourney, tender: Tender, why: str) -> None:
    watch = journey.authorizations
    async with journey.lock:
        if journey.finished:
            return
        watch.asking = tender.index
        watch.asks += 1
        deadline = workflow.now() + payment_deadline(journey.order)
        watch.deadline = deadline
        watch.version += 1
        when = f"{deadline:%Y-%m-%d %H:%M UTC}"
        await journey.record(
            f"payment_action_required/{watch.asks}",
            "payment_action_required",
            f"the card could not be authorized again ({why}); a new payment is needed by {when}",
            [],
        )
        try:
            await run_activity(
                CustomerActivities.send_notification,
                NotificationInput(
                    customer_id=journey.order.customer_id,
                    notification_id=journey.key(f"notify/payment_needed/{watch.asks}"),
                    kind=NotificationKind.PAYMENT_NEEDED,
                    reference_id=journey.order.order_id,
                    details={"order_id": journey.order.order_id, "deadline": when},
                ),
                retry=BEST_EFFORT_RETRY,
            )
        except ActivityError as error:
            workflow.logger.warning("payment_needed not sent: %s", refusal(error)[0])


async def _await_new_tender(journey: OrderJourney) -> None:
    watch = journey.authorizations
    assert watch.deadline is not None
    left = watch.deadline - workflow.now()
    if left > timedelta(0):
        try:
            await workflow.wait_condition(
                lambda: journey.finished or watch.asking is None, timeout=left
            )
            return
        except TimeoutError:
            pass
    async with journey.lock:
        if journey.finished or watch.asking is None:
            return
        hours = payment_deadline(journey.order).total_seconds() / 3600
        await journey.cancel(
            CancelInput(
                reason=f"no new payment within {hours:g} hours of a declined re-authorization"
            )
        )


# ------------------------------------------------------------ the new tender


async def take_new_payment(journey: OrderJourney, old: Tender, request: NewPaymentInput) -> None:
    """Under the journey's lock: authorizes the new tenders for what `old` still
    owed (a void pushed before each call), then gives `old` back. Raises the
    refusal (PAYMENT_DECLINED ...) with nothing kept; the order still waits."""
    watch = journey.authorizations
    watch.attempts += 1
    attempt = watch.attempts
    owed = owed_by(old)
    amounts = rules.tender_amounts(request.tenders, owed)
    taken: list[Tender] = []
    for position, (wanted, amount) in enumerate(zip(request.tenders, amounts, strict=True)):
        if amount <= 0:
            continue
        # Each attempt's tenders have indices (and so keys) of their own.
        index = NEW_TENDER_INDEX * attempt + position
        authorizing = AuthorizeInput(
            idempotency_key=journey.key(f"new-payment/{attempt}/authorize/{position}"),
            reference=journey.order.order_id,
            tender_type=wanted.type,
            amount_minor=amount,
            currency=journey.order.currency,
            token=wanted.token,
            code=wanted.code,
            channel=journey.order.channel,
        )
        known: list[PaymentInfo] = []
        # Pushed before the call: an authorization whose answer was lost may exist.
        journey.saga.push(
            f"payment/{index}", journey._void_authorization(index, authorizing, known)
        )
        try:
            payment: PaymentInfo = await run_activity(PaymentActivities.authorize, authorizing)
        except ActivityError as error:
            if refused_for_good(error):
                journey.saga.drop(f"payment/{index}")
            else:
                taken.append(Tender(index=index, payment=PaymentInfo("", wanted.type, "", "")))
            await _give_back(journey, taken, authorizing, known)
            reason, message, details = refusal(error)
            raise ApplicationError(
                f"the new payment was not accepted ({reason}: {message}); the order still waits",
                {"reason": reason, **details},
                type=reason if refused_for_good(error) else "PAYMENT_UNAVAILABLE",
                non_retryable=True,
            ) from None
        known.append(payment)
        taken.append(Tender(index=index, payment=payment))
    # The new authorizations are in: the old one goes (never two to capture).
    if old.captured_minor == 0:
        await journey.must(f"void {old.index}", journey._void(old.index, old.payment.payment_id))
        journey.saga.drop(f"payment/{old.index}")
    else:
        # What it captured stays (its refund on the saga); the rest goes.
        await journey.must(f"release {old.index}", _release_rest(journey, old))
    old.payment.authorized_minor = old.captured_minor
    watch.replaced.add(old.index)
    journey.tenders.extend(taken)
    watch.asking = None
    watch.deadline = None
    watch.version += 1
    kinds = ", ".join(t.payment.tender_type for t in taken)
    await journey.record(
        f"payment_updated/{attempt}",
        "payment_updated",
        f"new payment ({kinds}) authorized for {owed}; tender {old.index} given back",
        [],
    )


def _release_rest(journey: OrderJourney, old: Tender) -> Any:
    """A partly captured authorization: a final capture of nothing lets the rest go."""
    return lambda: run_activity(
        PaymentActivities.capture,
        CaptureInput(
            idempotency_key=journey.key(f"release/{old.index}"),
            payment_id=old.payment.payment_id,
            amount_minor=0,
            currency=journey.order.currency,
            final=True,
        ),
    )


async def _give_back(
    journey: OrderJourney,
    taken: list[Tender],
    last: AuthorizeInput,
    known: list[PaymentInfo],
) -> None:
    """A refused attempt keeps nothing: every authorization it made is voided
    (the one whose answer was lost asked again by its key)."""
    for tender in reversed(taken):
        name = f"payment/{tender.index}"
        if tender.payment.payment_id:
            undo = journey._void(tender.index, tender.payment.payment_id)
        else:
            undo = journey._void_authorization(tender.index, last, known)
        await journey.must(f"void {tender.index}", undo)
        journey.saga.drop(name)
