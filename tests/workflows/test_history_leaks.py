"""Leak scan of stored Temporal histories (issue 12): a BOPIS journey with a
wrong code, a new pickup code and a handover, run through the production
payload codec; the history as the server stores it (fetched raw, not
decoded) holds neither the pickup codes, nor the card token, nor the
customer's address in any payload (ids — order, customer — are in the
workflow id and the search attributes by design: no personal data there)."""

from __future__ import annotations

from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import GetWorkflowExecutionHistoryRequest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from tests.workflows.fakes import FakeServices
from tests.workflows.journeys import order, place, running_worker
from workflows.contracts.journeys import (
    BOPIS_WORKFLOW,
    HANDOVER_UPDATE,
    PICK_UPDATE,
    PICKUP_CODE_UPDATE,
    SHIP_FROM_STORE_WORKFLOW,
    HandoverInput,
    LineInput,
    PickInput,
    PickupCodeInput,
    TenderInput,
)

TOKEN = "tok_approve_secret_token_7731"


async def test_a_stored_history_shows_no_code_token_or_customer(env: WorkflowEnvironment) -> None:
    fakes = FakeServices()
    async with running_worker(env.client, fakes) as queue:
        wanted = order(tenders=[TenderInput("card", token=TOKEN)])
        fid = f"{wanted.order_id}-F1"
        _, handle = await place(env.client, BOPIS_WORKFLOW, wanted, queue)
        await handle.execute_update(
            PICK_UPDATE, PickInput(fid, [LineInput("SKU-A", 2), LineInput("SKU-B", 1)])
        )
        first = fakes.order_progress[-1].fulfillments[0].pickup_code
        wrong = f"{(int(first) + 1) % 1_000_000:06d}"
        try:
            await handle.execute_update(HANDOVER_UPDATE, HandoverInput(fid, wrong))
        except WorkflowUpdateFailedError:
            pass
        await handle.execute_update(PICKUP_CODE_UPDATE, PickupCodeInput(fid, "cus"))
        second = fakes.order_progress[-1].fulfillments[0].pickup_code
        await handle.execute_update(HANDOVER_UPDATE, HandoverInput(fid, second))
        await handle.result()

        raw = b""
        token = b""
        while True:
            page = await env.client.workflow_service.get_workflow_execution_history(
                GetWorkflowExecutionHistoryRequest(
                    namespace=env.client.namespace,
                    execution=WorkflowExecution(workflow_id=handle.id),
                    next_page_token=token,
                )
            )
            raw += page.history.SerializeToString()
            token = page.next_page_token
            if not token:
                break
    # The scan means something: the history is there and carries the order's id
    # (workflow ids and search attributes are ids, by design).
    assert wanted.order_id.encode() in raw
    for secret in (first, second, wrong, TOKEN):
        assert secret.encode() not in raw, f"{secret} readable in the stored history"


async def _raw_history(env: WorkflowEnvironment, workflow_id: str) -> bytes:
    raw, token = b"", b""
    while True:
        page = await env.client.workflow_service.get_workflow_execution_history(
            GetWorkflowExecutionHistoryRequest(
                namespace=env.client.namespace,
                execution=WorkflowExecution(workflow_id=workflow_id),
                next_page_token=token,
            )
        )
        raw += page.history.SerializeToString()
        token = page.next_page_token
        if not token:
            return raw


async def test_a_shipments_address_is_not_readable_in_its_history(
    env: WorkflowEnvironment,
) -> None:
    fakes = FakeServices()
    async with running_worker(env.client, fakes) as queue:
        wanted = order(fulfillment_type="ship", tenders=[TenderInput("card", token=TOKEN)])
        # Accepted or not, the start input (with the address) is in the history.
        _, handle = await place(env.client, SHIP_FROM_STORE_WORKFLOW, wanted, queue)
        await handle.result()
        raw = await _raw_history(env, handle.id)
    assert wanted.order_id.encode() in raw
    assert wanted.address is not None
    for secret in (wanted.address.line1, wanted.address.city, TOKEN):
        assert secret.encode() not in raw, f"{secret} readable in the stored history"
