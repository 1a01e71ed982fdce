"""The orders service's own check on a store's reject, before the journey is asked.

Whether the fulfillment may be rejected in its status is the journey's rule
(workflows/order/rules.py, tested in tests/workflows/test_order_rules.py)."""

from __future__ import annotations

import pytest

from services.common.errors import InvalidArgument
from services.orders.domain import store_work


@pytest.mark.parametrize("reason", ["", "   ", "x" * 501])
def test_a_reject_needs_a_short_reason(reason: str) -> None:
    with pytest.raises(InvalidArgument):
        store_work.validate_reject_reason(reason)
    store_work.validate_reject_reason("cooler broke")
