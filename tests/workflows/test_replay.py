"""Histories recorded by earlier code replay on today's workflows: no server.

Each file in histories/ is one workflow run from the journey tests, recorded
at commit 2c76d4d (before workflows/order/journey.py was split into state,
rules, steps, reroute and updates). A change that would break workflows
already running (an activity called in another order, a patch dropped, a
renamed workflow or update) fails here as a NondeterminismError. When a
workflow changes on purpose, keep these and add histories of the new code.
To record them, give the journey test a `keep_history(handle, name)` call
(tests/workflows/journeys.py) and run it once with OMNI_RECORD_HISTORIES=1.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from services.common.temporal_codec import data_converter
from workflows.worker import WORKFLOWS

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json.gz"))
# Through the payload codec, as the worker runs: the recorded plain histories
# decode as they are, and ones recorded since (encrypted with the test key) too.
REPLAYER = Replayer(workflows=WORKFLOWS, data_converter=data_converter())


def load(path: Path) -> WorkflowHistory:
    return WorkflowHistory.from_json(path.name, gzip.decompress(path.read_bytes()).decode())


def test_there_are_histories_of_every_workflow() -> None:
    names = {path.name.removesuffix(".json.gz") for path in HISTORIES}
    assert len(names) >= 30
    assert {"place_pick_handover_captures_and_commits", "mail_return_waits_for_receipt"} <= names
    assert "an_idle_cart_gets_exactly_one_reminder" in names


@pytest.mark.parametrize("path", HISTORIES, ids=lambda path: path.name.removesuffix(".json.gz"))
async def test_history_replays(path: Path) -> None:
    result = await REPLAYER.replay_workflow(load(path), raise_on_replay_failure=False)
    assert result.replay_failure is None, result.replay_failure
