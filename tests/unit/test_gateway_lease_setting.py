"""The gateway's idempotency lease: long enough that a running request keeps
its key, short enough that a retry after a gateway crash reaches the orders
service before it gives the placement back (settings.py says why)."""

from __future__ import annotations

import pytest

from services.common.settings import SettingsError
from services.gateway.settings import GatewaySettings


def test_the_default_lease_outlives_a_request_and_ends_before_orders_recovers() -> None:
    settings = GatewaySettings()
    assert settings.idempotency_lease_seconds > settings.journey_timeout_seconds
    # services/orders: PLACEMENT_RECOVERY_AFTER_SECONDS defaults to 120.
    from services.orders.placement import DEFAULT_RECOVER_AFTER

    assert settings.idempotency_lease_seconds < DEFAULT_RECOVER_AFTER.total_seconds() / 2


@pytest.mark.parametrize("lease", ["30", "10"])
def test_a_lease_no_longer_than_a_request_is_refused(
    lease: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IDEMPOTENCY_LEASE_SECONDS", lease)
    with pytest.raises(SettingsError, match="IDEMPOTENCY_LEASE_SECONDS"):
        GatewaySettings()


def test_the_lease_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IDEMPOTENCY_LEASE_SECONDS", "60")
    assert GatewaySettings().idempotency_lease_seconds == 60.0
