"""The orders service's own checks on a store's reject, before the journey is asked."""

from __future__ import annotations

import pytest

from services.common.errors import Conflict, InvalidArgument
from services.orders import domain


@pytest.mark.parametrize("status", ["pending", "picking", "picked"])
def test_work_not_handed_over_can_be_rejected(status: str) -> None:
    domain.check_rejectable(status)


@pytest.mark.parametrize(
    "status", ["ready_for_pickup", "picked_up", "shipped", "cancelled", "rerouted"]
)
def test_ready_or_finished_work_cannot_be_rejected(status: str) -> None:
    with pytest.raises(Conflict) as refused:
        domain.check_rejectable(status)
    assert refused.value.reason == "INVALID_STATE"


@pytest.mark.parametrize("reason", ["", "   ", "x" * 501])
def test_a_reject_needs_a_short_reason(reason: str) -> None:
    with pytest.raises(InvalidArgument):
        domain.validate_reject_reason(reason)
    domain.validate_reject_reason("cooler broke")
