"""`omni retry-refund <return_id>` (stack/operations.py): the operator's way
to retry a refund_failed return now (API.md has no route for it, by design).
The real return journey on the time-skipping server, fake services."""

from __future__ import annotations

import asyncio
from typing import Any

from temporalio.testing import WorkflowEnvironment

from stack.cli import build_parser
from stack.operations import REFUNDED, REFUSED, STILL_REFUND_FAILED, retry_refund
from tests.workflows.fakes import FakeServices, refused
from tests.workflows.journeys import running_worker
from tests.workflows.test_returns import a_return, captured, start
from tests.workflows.test_returns_faults import LINES, receipt
from workflows.contracts.journeys import RECEIVE_UPDATE, ReturnStatus


def _refuse(fakes: FakeServices, times: int) -> None:
    """The next `times` refunds are refused (a hook runs once)."""

    async def decline(_: Any) -> None:
        raise refused("PAYMENT_DECLINED", "the provider refused the refund")

    for _ in range(times):
        fakes.on("refund", decline)


def test_the_command_is_there() -> None:
    args = build_parser().parse_args(["retry-refund", "ret_123"])
    assert args.return_id == "ret_123"


async def test_retrying_a_refund_failed_return_refunds_it(env: WorkflowEnvironment) -> None:
    fakes = FakeServices(payments={"pay-card": captured("pay-card", "card", 5000)})
    _refuse(fakes, 2)
    request = a_return("in_store", LINES)
    async with running_worker(env.client, fakes) as queue:
        handle = await start(env.client, request, queue)
        answer = await handle.execute_update(RECEIVE_UPDATE, receipt(), result_type=ReturnStatus)
        assert answer.status == "refund_failed"

        # Refused again: still refund_failed, nothing refunded, said so.
        again = await retry_refund(env.client, request.return_id)
        assert again.exit_status == STILL_REFUND_FAILED, again
        assert fakes.payments["pay-card"].refunded_minor == 0

        done = await retry_refund(env.client, request.return_id)
        assert done.exit_status == REFUNDED, done
        assert "1000" in done.message
        final = await asyncio.wait_for(handle.result(), 60)
    assert final["status"] == "refunded"
    # Refunded once, under a fresh key after each definite refusal.
    assert fakes.payments["pay-card"].refunded_minor == 1000
    keys = [r.idempotency_key for r in fakes.called("refund")]
    assert len(keys) == 3 and len(set(keys)) == 3

    # The journey has ended: nothing to retry, refused (and nothing refunded twice).
    after = await retry_refund(env.client, request.return_id)
    assert after.exit_status == REFUSED and "no running journey" in after.message
    assert fakes.payments["pay-card"].refunded_minor == 1000


async def test_a_return_that_is_not_refund_failed_or_unknown_is_refused(
    env: WorkflowEnvironment,
) -> None:
    fakes = FakeServices(payments={"pay-card": captured("pay-card", "card", 5000)})
    request = a_return("mail", LINES)
    async with running_worker(env.client, fakes) as queue:
        handle = await start(env.client, request, queue)
        waiting = await retry_refund(env.client, request.return_id)
        assert waiting.exit_status == REFUSED and "refund_failed" in waiting.message
        unknown = await retry_refund(env.client, "ret_nobody")
        assert unknown.exit_status == REFUSED
        await handle.terminate("test over")
    assert fakes.called("refund") == []
