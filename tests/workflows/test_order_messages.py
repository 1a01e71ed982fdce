"""What the journeys tell the customer about (issue 14): the placed, ready,
cancelled and shipped milestones carry the lines they concern, so the
customers service's confirmation and status messages can list them."""

from __future__ import annotations

from temporalio.testing import WorkflowEnvironment

from tests.workflows.fakes import FakeServices
from tests.workflows.journeys import order, place, running_worker
from workflows.contracts.journeys import (
    BOPIS_WORKFLOW,
    CANCEL_UPDATE,
    PICK_UPDATE,
    ActionResult,
    CancelInput,
    LineInput,
    PickInput,
)
from workflows.contracts.messages import MAX_LINES_LISTED, lines_text


def milestones(fakes: FakeServices) -> dict[str, dict[str, str]]:
    return {event.kind: dict(event.details) for event in fakes.timeline.values()}


async def test_placed_ready_and_cancelled_milestones_list_their_lines(
    env: WorkflowEnvironment,
) -> None:
    fakes = FakeServices()
    async with running_worker(env.client, fakes) as queue:
        wanted = order()
        oid = wanted.order_id
        placement, handle = await place(env.client, BOPIS_WORKFLOW, wanted, queue)
        assert placement.accepted, placement
        # A short pick: the ready message lists what was picked, not what was ordered.
        picked = await handle.execute_update(
            PICK_UPDATE,
            PickInput(f"{oid}-F1", [LineInput("SKU-A", 1), LineInput("SKU-B", 1)], "amy"),
            result_type=ActionResult,
        )
        assert picked.fulfillment_status == "ready_for_pickup"
        await handle.execute_update(
            CANCEL_UPDATE, CancelInput("changed my mind", "customer"), result_type=ActionResult
        )
        await handle.result()
    found = milestones(fakes)
    assert found["order_placed"]["lines"] == "2 x SKU-A, 1 x SKU-B"
    assert found["ready_for_pickup"]["lines"] == "1 x SKU-A, 1 x SKU-B"
    assert found["ready_for_pickup"]["pickup_code"]
    assert found["order_cancelled"]["lines"] == "2 x SKU-A, 1 x SKU-B"


def test_lines_text_leaves_out_empty_lines_and_cuts_a_long_basket() -> None:
    assert lines_text([("A", 2), ("B", 0), ("C", 1)]) == "2 x A, 1 x C"
    assert lines_text([]) == ""
    many = lines_text((f"S{n}", 1) for n in range(MAX_LINES_LISTED + 3))
    assert many.endswith(f"1 x S{MAX_LINES_LISTED - 1}, and 3 more")
