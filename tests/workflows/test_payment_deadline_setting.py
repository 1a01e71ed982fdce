"""The new-tender deadline is an orders-service setting (issue 11):
PAYMENT_DEADLINE_HOURS is validated when the service starts, carried by the
start input of every journey the service begins (the place update,
placement, recovery), and it is what the journey waits before cancelling an
order whose re-authorization was declined (time-skipping server)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from omni.words import Channel, FulfillmentType, OrderStatus, TenderType
from services.common.money import Money
from services.common.settings import SettingsError
from services.orders.adapters.journeys import TemporalJourneys
from services.orders.adapters.placement import TemporalPlacements
from services.orders.domain.placing import RequestedTender
from services.orders.domain.records import OrderLineRecord, OrderRecord
from services.orders.main import OrdersSettings
from tests.workflows.fakes import FakeServices
from tests.workflows.journeys import place, running_worker, unique
from workflows.contracts.journeys import (
    BOPIS_WORKFLOW,
    PICK_UPDATE,
    LineInput,
    OrderInput,
    PickInput,
    PlacedInput,
)

DATABASE = "postgresql+asyncpg://unused@127.0.0.1/unused"


def _settings(monkeypatch: pytest.MonkeyPatch, hours: str | None) -> OrdersSettings:
    monkeypatch.setenv("DATABASE_URL", DATABASE)
    if hours is None:
        monkeypatch.delenv("PAYMENT_DEADLINE_HOURS", raising=False)
    else:
        monkeypatch.setenv("PAYMENT_DEADLINE_HOURS", hours)
    return OrdersSettings()


def test_the_deadline_comes_from_the_environment_and_is_checked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert _settings(monkeypatch, None).payment_deadline_hours == 48.0
    assert _settings(monkeypatch, "6").payment_deadline_hours == 6.0
    # Fractional hours: a test stack may wait seconds.
    assert _settings(monkeypatch, "0.002").payment_deadline_hours == 0.002
    for bad in ("0", "-1", "721", "soon"):
        with pytest.raises(SettingsError, match="payment_deadline_hours"):
            _settings(monkeypatch, bad)


def _record(order_id: str) -> OrderRecord:
    return OrderRecord(
        order_id=order_id,
        customer_id=unique("cus"),
        channel=Channel.WEB,
        status=OrderStatus.PENDING,
        total=Money(1300, "USD"),
        fulfillment_type=FulfillmentType.PICKUP,
        location_id="store-1",
        address=None,
        associate_id="",
        store_id="",
        referral_associate_id="",
        workflow_id=f"order-{order_id}",
        created_at=datetime.now(UTC),
        completed_at=None,
        lines=[OrderLineRecord("SKU-A", 2, 500, 30, 0), OrderLineRecord("SKU-B", 1, 300, 30, 0)],
    )


class _StartingClient:
    """Keeps what each start_workflow was given (no server needed)."""

    def __init__(self) -> None:
        self.started: list[OrderInput] = []

    async def start_workflow(self, workflow: str, journey_input: OrderInput, **_: Any) -> None:
        self.started.append(journey_input)


async def test_every_start_the_service_makes_carries_the_setting() -> None:
    client = _StartingClient()

    async def connect() -> Any:
        return client

    journeys = TemporalJourneys(connect, payment_deadline_hours=6.0)
    placements = TemporalPlacements(journeys)
    tenders = [RequestedTender(TenderType.CARD, token="tok_visa")]
    record = _record(unique("ord"))
    assert journeys.order_input(record, tenders).payment_deadline_hours == 6.0
    placed = PlacedInput(location_id="store-1", reservation_id="r")
    assert await placements.start_placed(record, tenders, placed, "store-1")
    assert await placements.start_abandoned(_record(unique("ord")))
    assert [started.payment_deadline_hours for started in client.started] == [6.0, 6.0]
    # Unset (unit tests, older wiring): 0, the journey's own 48 h.
    assert TemporalJourneys(connect).order_input(record, tenders).payment_deadline_hours == 0.0


async def _eventually(check: Any, within: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


async def test_the_configured_deadline_is_what_the_journey_waits(env: WorkflowEnvironment) -> None:
    async def connect() -> Client:
        return env.client

    journeys = TemporalJourneys(connect, payment_deadline_hours=6.0)
    fakes = FakeServices(
        card_lifetime=timedelta(days=7),
        pickup_window_hours=400,
        declined_reauth_tokens={"tok_visa"},
    )
    oid = unique("ord")
    wanted = journeys.order_input(
        _record(oid), [RequestedTender(TenderType.CARD, token="tok_visa")]
    )
    async with running_worker(env.client, fakes) as queue:
        placement, handle = await place(env.client, BOPIS_WORKFLOW, wanted, queue)
        assert placement.accepted, placement
        await handle.execute_update(
            PICK_UPDATE, PickInput(f"{oid}-F1", [LineInput("SKU-A", 2), LineInput("SKU-B", 1)])
        )
        await env.sleep(timedelta(days=6, hours=1))  # past the renewal (day 6), declined
        await _eventually(
            lambda: any(p.event_type == "payment_action_required" for p in fakes.order_progress)
        )
        await env.sleep(timedelta(hours=4))  # 5 h into the 6: still waiting
        assert fakes.called("release") == []
        await env.sleep(timedelta(hours=2))  # past 6 h, long before the default 48
        final = await asyncio.wait_for(handle.result(), 60)
    assert final["status"] == "cancelled"
    assert "no new payment within 6 hours" in fakes.order_progress[-1].event_detail
    assert fakes.active_reservations == {}
