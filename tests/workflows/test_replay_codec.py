"""Replaying through the payload codec (test_replay.py replays the recorded
plain histories through it): an encrypted history replays with the key and
not with another, and `python -m workflows.replay` does the same from a file."""

from __future__ import annotations

import asyncio
import gzip
import os
import subprocess
import sys
from pathlib import Path

from temporalio.client import WorkflowHistory
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer

from services.common.temporal_codec import CodecKeys, EncryptionCodec, data_converter, new_key
from tests.workflows.fakes import FakeServices
from tests.workflows.journeys import order, place, running_worker
from workflows.contracts.journeys import BOPIS_WORKFLOW, CancelInput
from workflows.worker import WORKFLOWS

ROOT = Path(__file__).resolve().parents[2]
HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json.gz"))


def load(path: Path) -> WorkflowHistory:
    return WorkflowHistory.from_json(path.name, gzip.decompress(path.read_bytes()).decode())


async def encrypted_history(env: WorkflowEnvironment) -> WorkflowHistory:
    fakes = FakeServices()
    async with running_worker(env.client, fakes) as queue:
        _, handle = await place(env.client, BOPIS_WORKFLOW, order(), queue)
        await handle.execute_update("cancel", CancelInput("replay test"))
        await handle.result()
        history = await handle.fetch_history()
    started = history.events[0].workflow_execution_started_event_attributes.input.payloads[0]
    assert started.metadata["encoding"] == b"binary/encrypted"
    assert b"tok_visa" not in started.data
    return history


async def test_an_encrypted_history_replays_with_the_key_and_not_with_another(
    env: WorkflowEnvironment,
) -> None:
    history = await encrypted_history(env)
    with_key = Replayer(workflows=WORKFLOWS, data_converter=data_converter())
    assert (
        await with_key.replay_workflow(history, raise_on_replay_failure=False)
    ).replay_failure is None

    other = EncryptionCodec(CodecKeys.from_env({"OMNI_CODEC_KEY": new_key()}))
    wrong_key = Replayer(workflows=WORKFLOWS, data_converter=data_converter(other))
    failed = await wrong_key.replay_workflow(history, raise_on_replay_failure=False)
    assert failed.replay_failure is not None


async def test_the_replay_command_replays_a_file_and_says_so(
    env: WorkflowEnvironment, tmp_path: Path
) -> None:
    history = await encrypted_history(env)
    path = tmp_path / "order.json"
    path.write_text(history.to_json())
    command = [sys.executable, "-m", "workflows.replay", str(path)]
    ok = await asyncio.to_thread(
        subprocess.run, command, cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert ok.stdout.startswith("ok")
    wrong = await asyncio.to_thread(
        subprocess.run,
        command,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "OMNI_CODEC_KEY": new_key()},
    )
    assert wrong.returncode == 1, wrong.stdout + wrong.stderr
    assert "FAILED" in wrong.stdout
