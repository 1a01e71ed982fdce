"""Pickup-code lockout (issue 12, API.md Store work): after 5 wrong codes a
pickup is locked — even the right code is refused (PICKUP_LOCKED, a 409) —
until the customer (or an agent) asks for a new code, which is sent to them."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from omni.words import NotificationKind
from tests.workflows.fakes import FakeServices
from tests.workflows.journeys import keep_history, order, place, running_worker
from workflows.contracts.journeys import (
    BOPIS_WORKFLOW,
    CANCEL_UPDATE,
    ERROR_INVALID_STATE,
    ERROR_PICKUP_LOCKED,
    ERROR_WRONG_PICKUP_CODE,
    HANDOVER_UPDATE,
    PICK_UPDATE,
    PICKUP_CODE_UPDATE,
    STATUS_QUERY,
    ActionResult,
    CancelInput,
    HandoverInput,
    LineInput,
    OrderStatus,
    PickInput,
    PickupCodeInput,
)
from workflows.order.rules import PICKUP_CODE_ATTEMPTS


def codes_recorded(fakes: FakeServices) -> list[str]:
    return [
        p.fulfillments[0].pickup_code
        for p in fakes.order_progress
        if p.fulfillments and p.fulfillments[0].pickup_code
    ]


def wrong(code: str, n: int = 0) -> str:
    guess = f"{(int(code) + 1 + n) % 1_000_000:06d}"
    assert guess != code
    return guess


async def refused(handle: WorkflowHandle[Any, Any], update: str, argument: object) -> str:
    with pytest.raises(WorkflowUpdateFailedError) as error:
        await handle.execute_update(update, argument)
    cause = error.value.cause
    assert isinstance(cause, ApplicationError)
    return str(cause.type)


async def ready(
    env: WorkflowEnvironment, fakes: FakeServices, queue: str
) -> tuple[str, WorkflowHandle[Any, Any]]:
    wanted = order()
    oid = wanted.order_id
    placement, handle = await place(env.client, BOPIS_WORKFLOW, wanted, queue)
    assert placement.accepted
    await handle.execute_update(
        PICK_UPDATE, PickInput(f"{oid}-F1", [LineInput("SKU-A", 2), LineInput("SKU-B", 1)])
    )
    return f"{oid}-F1", handle


async def test_five_wrong_codes_lock_the_pickup_until_a_new_code(
    env: WorkflowEnvironment,
) -> None:
    fakes = FakeServices()
    async with running_worker(env.client, fakes) as queue:
        fid, handle = await ready(env, fakes, queue)
        code = codes_recorded(fakes)[-1]
        for n in range(PICKUP_CODE_ATTEMPTS):
            assert await refused(handle, HANDOVER_UPDATE, HandoverInput(fid, wrong(code, n))) == (
                ERROR_WRONG_PICKUP_CODE
            )
        # Locked: the right code is refused too, and nothing is captured.
        assert await refused(handle, HANDOVER_UPDATE, HandoverInput(fid, code)) == (
            ERROR_PICKUP_LOCKED
        )
        assert fakes.called("capture") == [] and fakes.called("commit") == []
        status = await handle.query(STATUS_QUERY, result_type=OrderStatus)
        assert status.status == "ready_for_pickup"

        issued = await handle.execute_update(
            PICKUP_CODE_UPDATE, PickupCodeInput(fid, "agent-1"), result_type=ActionResult
        )
        assert issued == ActionResult("ready_for_pickup", fid, "ready_for_pickup")
        new = codes_recorded(fakes)[-1]
        assert len(new) == 6 and new.isdigit()
        assert new != code
        # The customer is told the new code (once per issue), never the old one.
        [told] = [
            n for n in fakes.notifications.values() if n.notification_id.endswith("pickup_code/1")
        ]
        assert told.kind == NotificationKind.PICKUP_REMINDER
        assert told.details["pickup_code"] == new
        # Nothing the order's events say carries the code.
        assert all(new not in p.event_detail for p in fakes.order_progress)

        # The old code is wrong now; the new one hands over.
        assert await refused(handle, HANDOVER_UPDATE, HandoverInput(fid, code)) == (
            ERROR_WRONG_PICKUP_CODE
        )
        done = await handle.execute_update(
            HANDOVER_UPDATE, HandoverInput(fid, new, "amy"), result_type=ActionResult
        )
        assert done == ActionResult("completed", fid, "picked_up")
        await handle.result()
        await keep_history(handle, "five_wrong_codes_lock_the_pickup_until_a_new_code")
    assert len(fakes.called("capture")) == 1


async def test_concurrent_wrong_codes_never_get_more_than_five_tries(
    env: WorkflowEnvironment,
) -> None:
    fakes = FakeServices()
    async with running_worker(env.client, fakes) as queue:
        fid, handle = await ready(env, fakes, queue)
        code = codes_recorded(fakes)[-1]
        answers = await asyncio.gather(
            *(
                refused(handle, HANDOVER_UPDATE, HandoverInput(fid, wrong(code, n)))
                for n in range(12)
            )
        )
        assert answers.count(ERROR_WRONG_PICKUP_CODE) == PICKUP_CODE_ATTEMPTS
        assert answers.count(ERROR_PICKUP_LOCKED) == 12 - PICKUP_CODE_ATTEMPTS
        assert await refused(handle, HANDOVER_UPDATE, HandoverInput(fid, code)) == (
            ERROR_PICKUP_LOCKED
        )
        await handle.execute_update(CANCEL_UPDATE, CancelInput("test over"))
        await handle.result()
        await keep_history(handle, "concurrent_wrong_codes_get_five_tries")


async def test_wrong_codes_below_the_limit_do_not_lock_and_a_new_code_resets_the_count(
    env: WorkflowEnvironment,
) -> None:
    fakes = FakeServices()
    async with running_worker(env.client, fakes) as queue:
        fid, handle = await ready(env, fakes, queue)
        code = codes_recorded(fakes)[-1]
        for n in range(PICKUP_CODE_ATTEMPTS - 1):
            await refused(handle, HANDOVER_UPDATE, HandoverInput(fid, wrong(code, n)))
        await handle.execute_update(PICKUP_CODE_UPDATE, PickupCodeInput(fid, "cus"))
        new = codes_recorded(fakes)[-1]
        # The count starts again: four more wrong tries still leave it open.
        for n in range(PICKUP_CODE_ATTEMPTS - 1):
            assert await refused(handle, HANDOVER_UPDATE, HandoverInput(fid, wrong(new, n))) == (
                ERROR_WRONG_PICKUP_CODE
            )
        done = await handle.execute_update(
            HANDOVER_UPDATE, HandoverInput(fid, new), result_type=ActionResult
        )
        assert done.fulfillment_status == "picked_up"
        await handle.result()


async def test_a_new_code_only_for_a_pickup_that_is_ready(env: WorkflowEnvironment) -> None:
    fakes = FakeServices()
    async with running_worker(env.client, fakes) as queue:
        wanted = order()
        oid = wanted.order_id
        _, handle = await place(env.client, BOPIS_WORKFLOW, wanted, queue)
        # Not picked yet: no code to replace.
        assert await refused(handle, PICKUP_CODE_UPDATE, PickupCodeInput(f"{oid}-F1")) == (
            ERROR_INVALID_STATE
        )
        # Not this order's fulfillment.
        assert await refused(handle, PICKUP_CODE_UPDATE, PickupCodeInput(f"{oid}-F9")) == (
            ERROR_INVALID_STATE
        )
        assert fakes.notifications == {} or all(
            not n.notification_id.endswith("pickup_code/1") for n in fakes.notifications.values()
        )
        await handle.execute_update(CANCEL_UPDATE, CancelInput("test over"))
        await handle.result()
