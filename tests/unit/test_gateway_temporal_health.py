"""The gateway asks Temporal's frontend whether it serves over the standard
gRPC health protocol (what temporalio's check_health sends), so it need not
load the Temporal SDK and its Rust runtime (~30 MB RSS; issue 15 footprint)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator

import grpc
import pytest
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from services.gateway.clients import TEMPORAL_HEALTH_SERVICE, connect
from services.gateway.settings import GatewaySettings
from stack.ports import free_port


@pytest.fixture(autouse=True)
def identity_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMNI_IDENTITY_KEY", "k" * 32)


@pytest.fixture
async def frontend() -> AsyncIterator[tuple[str, health.aio.HealthServicer]]:
    server = grpc.aio.server()
    servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    port = free_port()
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    try:
        yield f"127.0.0.1:{port}", servicer
    finally:
        await server.stop(None)


def _settings(temporal: str) -> GatewaySettings:
    nowhere = f"127.0.0.1:{free_port()}"
    return GatewaySettings(
        omni_env="development",
        temporal_address=temporal,
        inventory_addr=nowhere,
        orders_addr=nowhere,
        customers_addr=nowhere,
        payments_addr=nowhere,
        health_timeout_seconds=2.0,
    )


async def test_a_serving_frontend_is_ok_and_a_stopped_one_is_unavailable(
    frontend: tuple[str, health.aio.HealthServicer],
) -> None:
    address, servicer = frontend
    await servicer.set(TEMPORAL_HEALTH_SERVICE, health_pb2.HealthCheckResponse.SERVING)
    clients = connect(_settings(address))
    try:
        assert (await clients.health())["temporal"] == "ok"
        await servicer.set(TEMPORAL_HEALTH_SERVICE, health_pb2.HealthCheckResponse.NOT_SERVING)
        assert (await clients.health())["temporal"] == "unavailable"
    finally:
        await clients.close()


async def test_nothing_listening_is_unavailable() -> None:
    clients = connect(_settings(f"127.0.0.1:{free_port()}"))
    try:
        assert (await clients.health())["temporal"] == "unavailable"
    finally:
        await clients.close()


def test_the_gateway_does_not_load_the_temporal_sdk() -> None:
    code = (
        "import sys; from services.gateway.app import create_app; "
        "from services.gateway.clients import connect; "
        "print(sorted(m for m in sys.modules if m.startswith('temporalio')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert out.stdout.strip() == "[]", out.stdout
