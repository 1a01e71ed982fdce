"""Authorizations that never lapse while the order lives (issue 11), on the
time-skipping server: a card authorization (7 days here, as payments gives a
card-not-present one) is renewed before a long pickup window or a slow
shipment outlives it; a declined renewal asks the customer for a new tender
and the order waits (handover and ship refused) until the new tender is in -
captured on it only - or until the deadline, when it is cancelled with
everything given back. The renewal call fails and is retried with one key."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from tests.workflows.fakes import FakeServices, internal, unavailable
from tests.workflows.journeys import keep_history, order, place, running_worker
from workflows.contracts.journeys import (
    BOPIS_WORKFLOW,
    ERROR_INVALID_STATE,
    HANDOVER_UPDATE,
    NEW_PAYMENT_UPDATE,
    PICK_UPDATE,
    ActionResult,
    HandoverInput,
    LineInput,
    NewPaymentInput,
    PickInput,
    TenderInput,
)
from workflows.order.authorizations import renewal_time

DEADLINE_SECONDS = 15.0
ENDS_WITHIN = 60
ALL_LINES = [LineInput("SKU-A", 2), LineInput("SKU-B", 1)]
TOTAL = 1300
WEEK = timedelta(days=7)
TWO_DAYS = timedelta(hours=48)


def test_a_renewal_comes_a_day_before_the_lapse_or_with_a_quarter_of_its_life_left() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert renewal_time(now + WEEK, now) == now + timedelta(days=6)
    assert renewal_time(now + timedelta(hours=1), now) == now + timedelta(minutes=45)
    assert renewal_time(now, now) == now


async def eventually(check: Callable[[], bool]) -> None:
    """Activities run in real time: wait (bounded) for their effect."""
    deadline = asyncio.get_running_loop().time() + DEADLINE_SECONDS
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


def events(fakes: FakeServices, event_type: str) -> list[Any]:
    return [p for p in fakes.order_progress if p.event_type == event_type]


def pickup_code(fakes: FakeServices) -> str:
    codes = [f.pickup_code for p in fakes.order_progress for f in p.fulfillments if f.pickup_code]
    return codes[-1]


def card(fakes: FakeServices, token: str = "tok_visa") -> str:
    [payment_id] = [p for p, t in fakes.tokens.items() if t == token]
    return payment_id


async def ready_pickup(
    env: WorkflowEnvironment, fakes: FakeServices, queue: str
) -> tuple[str, WorkflowHandle[Any, Any]]:
    wanted = order()
    placement, handle = await place(env.client, BOPIS_WORKFLOW, wanted, queue)
    assert placement.accepted, placement
    await handle.execute_update(PICK_UPDATE, PickInput(f"{wanted.order_id}-F1", ALL_LINES))
    return wanted.order_id, handle


async def hand_over(handle: WorkflowHandle[Any, Any], oid: str, fakes: FakeServices) -> None:
    await handle.execute_update(
        HANDOVER_UPDATE, HandoverInput(f"{oid}-F1", pickup_code(fakes), "amy")
    )


async def new_payment(handle: WorkflowHandle[Any, Any], token: str, **kw: Any) -> ActionResult:
    result: ActionResult = await handle.execute_update(
        NEW_PAYMENT_UPDATE,
        NewPaymentInput([TenderInput("card", token=token)], actor="cus"),
        result_type=ActionResult,
        **kw,
    )
    return result


def refusal_type(failed: pytest.ExceptionInfo[WorkflowUpdateFailedError]) -> str:
    cause = failed.value.cause
    assert isinstance(cause, ApplicationError)
    return cause.type or ""


async def declined_and_waiting(
    env: WorkflowEnvironment, fakes: FakeServices, queue: str
) -> tuple[str, WorkflowHandle[Any, Any]]:
    oid, handle = await ready_pickup(env, fakes, queue)
    await env.sleep(timedelta(days=6, hours=1))  # past the renewal (day 6)
    await eventually(lambda: len(events(fakes, "payment_action_required")) == 1)
    return oid, handle


# ----------------------------------------------------------------- renewal


async def test_a_card_is_renewed_before_a_long_pickup_window_outlives_it(
    env: WorkflowEnvironment,
) -> None:
    fakes = FakeServices(card_lifetime=WEEK, pickup_window_hours=240)
    async with running_worker(env.client, fakes) as queue:
        oid, handle = await ready_pickup(env, fakes, queue)
        await env.sleep(timedelta(days=5, hours=23))
        assert fakes.called("reauthorize") == []
        await env.sleep(timedelta(hours=2))  # day 6 + 1 h: renewed
        await eventually(lambda: len(events(fakes, "payment_reauthorized")) == 1)
        await env.sleep(timedelta(days=2))  # day 8: the first authorization would have lapsed
        await hand_over(handle, oid, fakes)
        final = await asyncio.wait_for(handle.result(), ENDS_WITHIN)
        await keep_history(handle, "a_card_is_renewed_before_the_pickup_window_outlives_it")
    assert final["status"] == "completed"
    [renewal] = fakes.called("reauthorize")
    assert renewal.idempotency_key == f"order-{oid}/reauthorize/0/1"
    assert renewal.payment_id == card(fakes)
    [captured] = fakes.called("capture")
    assert (captured.payment_id, captured.amount_minor) == (card(fakes), TOTAL)
    assert fakes.called("void") == []


async def test_an_order_collected_in_time_is_never_renewed(env: WorkflowEnvironment) -> None:
    fakes = FakeServices(card_lifetime=WEEK, pickup_window_hours=72)
    async with running_worker(env.client, fakes) as queue:
        oid, handle = await ready_pickup(env, fakes, queue)
        await env.sleep(timedelta(hours=70))
        await hand_over(handle, oid, fakes)
        final = await asyncio.wait_for(handle.result(), ENDS_WITHIN)
        await env.sleep(timedelta(days=10))
    assert final["status"] == "completed"
    assert fakes.called("reauthorize") == []


# ------------------------------------------------------- failure injection


async def test_a_renewal_that_meets_an_unavailable_service_is_retried_once_done(
    env: WorkflowEnvironment,
) -> None:
    fakes = FakeServices(card_lifetime=WEEK, pickup_window_hours=240)

    async def down(_: Any) -> None:
        raise unavailable()

    fakes.on("reauthorize", down)
    fakes.on("reauthorize", down)
    async with running_worker(env.client, fakes) as queue:
        oid, handle = await ready_pickup(env, fakes, queue)
        await env.sleep(timedelta(days=6, hours=1))
        await eventually(lambda: len(events(fakes, "payment_reauthorized")) == 1)
        await hand_over(handle, oid, fakes)
        final = await asyncio.wait_for(handle.result(), ENDS_WITHIN)
    assert final["status"] == "completed"
    keys = {r.idempotency_key for r in fakes.called("reauthorize")}
    assert len(fakes.called("reauthorize")) == 3 and keys == {f"order-{oid}/reauthorize/0/1"}
    assert len([k for k in fakes.done if "/reauthorize/" in k]) == 1


async def test_a_renewal_whose_answer_was_lost_is_asked_again_with_the_same_key(
    env: WorkflowEnvironment,
) -> None:
    """INTERNAL after the effect (done, not told; not retried by the activity's
    policy): the journey asks again later with the same key - one renewal."""
    fakes = FakeServices(card_lifetime=WEEK, pickup_window_hours=240)

    async def lost(_: Any) -> None:
        raise internal()

    fakes.on("reauthorize", lost, after=True)
    async with running_worker(env.client, fakes) as queue:
        oid, handle = await ready_pickup(env, fakes, queue)
        await env.sleep(timedelta(days=6, minutes=10))
        await eventually(lambda: len(fakes.called("reauthorize")) == 1)
        assert events(fakes, "payment_reauthorized") == []
        await env.sleep(timedelta(hours=1))  # the retry, 30 min later
        await eventually(lambda: len(events(fakes, "payment_reauthorized")) == 1)
        await hand_over(handle, oid, fakes)
        final = await asyncio.wait_for(handle.result(), ENDS_WITHIN)
    assert final["status"] == "completed"
    assert [r.idempotency_key for r in fakes.called("reauthorize")] == [
        f"order-{oid}/reauthorize/0/1"
    ] * 2
    assert len([k for k in fakes.done if "/reauthorize/" in k]) == 1


# ------------------------------------------------------ a declined renewal


async def test_a_declined_renewal_waits_for_a_new_tender_then_captures_on_it_only(
    env: WorkflowEnvironment,
) -> None:
    fakes = FakeServices(
        card_lifetime=WEEK, pickup_window_hours=240, declined_reauth_tokens={"tok_visa"}
    )
    async with running_worker(env.client, fakes) as queue:
        oid, handle = await declined_and_waiting(env, fakes, queue)
        [asked] = [n for n in fakes.called("notify") if n.kind == "payment_needed"]
        assert asked.notification_id == f"order-{oid}/notify/payment_needed/1"
        assert set(asked.details) == {"order_id", "deadline"}
        # No handover while the authorization is going.
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await hand_over(handle, oid, fakes)
        assert refusal_type(refused) == ERROR_INVALID_STATE
        assert "waiting for a new payment" in str(refused.value.cause)
        answer = await new_payment(handle, "tok_new")
        assert answer.order_status == "ready_for_pickup"
        await hand_over(handle, oid, fakes)
        final = await asyncio.wait_for(handle.result(), ENDS_WITHIN)
        await keep_history(handle, "a_declined_renewal_waits_for_a_new_tender")
    assert final["status"] == "completed"
    old, new = card(fakes), card(fakes, "tok_new")
    assert [(a.token, a.amount_minor) for a in fakes.called("authorize")] == [
        ("tok_visa", TOTAL),
        ("tok_new", TOTAL),
    ]
    # New first, then the old one voided (once: the final settlement's void
    # of the replaced tender repeats the key); captured on the new one only.
    assert {(v.idempotency_key, v.payment_id) for v in fakes.called("void")} == {
        (f"order-{oid}/void/0", old)
    }
    assert [(c.payment_id, c.amount_minor) for c in fakes.called("capture")] == [(new, TOTAL)]
    names = [name for name, _ in fakes.calls if name in ("authorize", "void", "capture")]
    assert names[:3] == ["authorize", "authorize", "void"] and names.count("capture") == 1
    assert len(events(fakes, "payment_updated")) == 1


async def test_no_new_tender_by_the_deadline_cancels_with_everything_given_back(
    env: WorkflowEnvironment,
) -> None:
    fakes = FakeServices(
        card_lifetime=WEEK, pickup_window_hours=400, declined_reauth_tokens={"tok_visa"}
    )
    async with running_worker(env.client, fakes) as queue:
        oid, handle = await declined_and_waiting(env, fakes, queue)
        await env.sleep(timedelta(hours=45))  # declined at day 6: 46 h into the 48
        assert fakes.called("release") == []
        await env.sleep(timedelta(hours=3))  # past the 48-hour deadline
        final = await asyncio.wait_for(handle.result(), ENDS_WITHIN)
        await keep_history(handle, "no_new_tender_by_the_deadline_cancels")
    assert final["status"] == "cancelled"
    assert fakes.active_reservations == {}
    assert [r.reservation_id for r in fakes.called("release")] == [f"order-{oid}/reserve/store-1"]
    assert [v.payment_id for v in fakes.called("void")] == [card(fakes)]
    assert fakes.called("capture") == []
    assert "no new payment within 48 hours" in fakes.order_progress[-1].event_detail


async def test_two_new_payments_at_once_take_one(env: WorkflowEnvironment) -> None:
    fakes = FakeServices(
        card_lifetime=WEEK, pickup_window_hours=240, declined_reauth_tokens={"tok_visa"}
    )
    async with running_worker(env.client, fakes) as queue:
        oid, handle = await declined_and_waiting(env, fakes, queue)
        results = await asyncio.gather(
            new_payment(handle, "tok_one"), new_payment(handle, "tok_two"), return_exceptions=True
        )
        won = [r for r in results if isinstance(r, ActionResult)]
        lost = [r for r in results if isinstance(r, WorkflowUpdateFailedError)]
        assert len(won) == 1 and len(lost) == 1, results
        cause = lost[0].cause
        assert isinstance(cause, ApplicationError) and cause.type == ERROR_INVALID_STATE
        await hand_over(handle, oid, fakes)
        await asyncio.wait_for(handle.result(), ENDS_WITHIN)
    new_tokens = [a.token for a in fakes.called("authorize")][1:]
    assert len(new_tokens) == 1
    [captured] = fakes.called("capture")
    assert captured.payment_id == card(fakes, new_tokens[0])


async def test_a_new_payment_nobody_asked_for_is_refused(env: WorkflowEnvironment) -> None:
    fakes = FakeServices(card_lifetime=WEEK)
    async with running_worker(env.client, fakes) as queue:
        oid, handle = await ready_pickup(env, fakes, queue)
        calls = len(fakes.calls)
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await new_payment(handle, "tok_new")
        assert refusal_type(refused) == ERROR_INVALID_STATE
        assert len(fakes.calls) == calls
        await hand_over(handle, oid, fakes)
        await asyncio.wait_for(handle.result(), ENDS_WITHIN)


async def test_a_declined_new_tender_keeps_nothing_and_the_order_still_waits(
    env: WorkflowEnvironment,
) -> None:
    fakes = FakeServices(
        card_lifetime=WEEK,
        pickup_window_hours=240,
        declined_reauth_tokens={"tok_visa"},
        declined_tokens={"tok_bad"},
    )
    async with running_worker(env.client, fakes) as queue:
        oid, handle = await declined_and_waiting(env, fakes, queue)
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await new_payment(handle, "tok_bad")
        assert refusal_type(refused) == "PAYMENT_DECLINED"
        with pytest.raises(WorkflowUpdateFailedError):
            await hand_over(handle, oid, fakes)
        await new_payment(handle, "tok_good")
        await hand_over(handle, oid, fakes)
        final = await asyncio.wait_for(handle.result(), ENDS_WITHIN)
    assert final["status"] == "completed"
    keys = [a.idempotency_key for a in fakes.called("authorize")][1:]
    assert keys == [
        f"order-{oid}/new-payment/1/authorize/0",
        f"order-{oid}/new-payment/2/authorize/0",
    ]
    [captured] = fakes.called("capture")
    assert captured.payment_id == card(fakes, "tok_good")
