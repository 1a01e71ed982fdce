"""The worker refuses to start without what the journeys need: the search
attributes they upsert (registered with their types) and the payload key."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import Client

from stack.temporal import TemporalDevServer
from tests.support.ports import free_port
from tests.support.processes import start_module, stop_process
from workflows.contracts.journeys import SEARCH_ATTRIBUTES

_TYPES = {
    "Keyword": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
    "Bool": IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
}


@pytest.fixture
def bare_server(logs_dir: Path) -> Iterator[TemporalDevServer]:
    """A dev server with none of the journeys' search attributes."""
    server = TemporalDevServer(
        port=free_port(), ui_port=free_port(), headless=True, search_attributes=False
    )
    server.start(logs_dir / "temporal-bare.log")
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


def run_worker(server: TemporalDevServer, log_path: Path, **env: str) -> int:
    worker = start_module(
        "workflows.worker",
        {"TEMPORAL_ADDRESS": server.address, "TEMPORAL_NAMESPACE": "default", **env},
        log_path,
    )
    try:
        return worker.wait(60)
    except subprocess.TimeoutExpired:
        stop_process(worker)
        pytest.fail("the worker started instead of refusing:\n" + log_path.read_text())


def messages(log_path: Path) -> list[str]:
    lines = log_path.read_text().splitlines()
    return [json.loads(line)["message"] for line in lines if line.startswith("{")]


async def register(server: TemporalDevServer, names: list[str]) -> None:
    client = await Client.connect(server.address)
    await client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace="default",
            search_attributes={name: _TYPES[SEARCH_ATTRIBUTES[name]] for name in names},
        )
    )


async def test_the_worker_refuses_to_start_naming_the_missing_search_attributes(
    bare_server: TemporalDevServer, logs_dir: Path
) -> None:
    # All but two registered: the message names exactly those two, with types.
    present = [n for n in SEARCH_ATTRIBUTES if n not in ("OrderStatus", "NeedsAttention")]
    await register(bare_server, present)
    log_path = logs_dir / "worker-missing-attributes.log"
    assert run_worker(bare_server, log_path) == 2, log_path.read_text()
    [refusal] = [m for m in messages(log_path) if m.startswith("worker cannot start")]
    assert "OrderStatus (Keyword)" in refusal
    assert "NeedsAttention (Bool)" in refusal
    assert "OrderId" not in refusal
    assert "--name OrderStatus --type Keyword" in refusal
    assert "worker polling" not in " ".join(messages(log_path))


async def test_a_search_attribute_of_the_wrong_type_is_refused_too(
    bare_server: TemporalDevServer, logs_dir: Path
) -> None:
    client = await Client.connect(bare_server.address)
    wrong = {name: _TYPES[kind] for name, kind in SEARCH_ATTRIBUTES.items()}
    wrong["NeedsAttention"] = IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD
    await client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(namespace="default", search_attributes=wrong)
    )
    log_path = logs_dir / "worker-wrong-type.log"
    assert run_worker(bare_server, log_path) == 2, log_path.read_text()
    [refusal] = [m for m in messages(log_path) if m.startswith("worker cannot start")]
    assert "NeedsAttention (Bool)" in refusal
    assert "OrderStatus" not in refusal


def test_the_worker_refuses_to_start_without_a_payload_key(
    bare_server: TemporalDevServer, logs_dir: Path
) -> None:
    log_path = logs_dir / "worker-no-key.log"
    assert run_worker(bare_server, log_path, OMNI_CODEC_KEY="") == 2, log_path.read_text()
    [refusal] = [m for m in messages(log_path) if m.startswith("worker cannot start")]
    assert "OMNI_CODEC_KEY is not set" in refusal
