"""`omni up` as a developer uses it: data survives a restart, nothing is left behind."""

from __future__ import annotations

from pathlib import Path

import psutil

from stack.harness import stack_env, start_stack, stop_stack
from tests.e2e.api import Caller, money, token, unique


def test_data_survives_a_restart_and_stop_leaves_no_process(tmp_path: Path) -> None:
    first = start_stack(tmp_path, {**stack_env(tmp_path), "OMNI_SEED": "true"})
    pids = [child.pid for child in first.children]
    assert len(pids) >= 8, "postgres, temporal, four services, worker and gateway"
    admin = Caller(first.gateway_url, token("admin"))
    sku = unique("KEEP")
    created = admin.post(
        "/v1/products",
        {"sku": sku, "name": "Kept product", "price": money(100), "returnable_days": 30},
    )
    assert created.status_code == 201, created.text
    assert "demo data seeded" in first.output()
    assert stop_stack(first) == 0, first.output()
    assert [pid for pid in pids if psutil.pid_exists(pid)] == []

    second = start_stack(tmp_path, first.env)
    try:
        admin = Caller(second.gateway_url, token("admin"))
        again = admin.post(
            "/v1/products",
            {"sku": sku, "name": "Kept product", "price": money(100), "returnable_days": 30},
        )
        assert again.status_code == 409, again.text
        assert "demo data seeded" not in second.output()
        seeded = admin.get("/v1/locations")
        assert seeded.status_code == 200
        assert "S1" in seeded.text
        # The demo prices: S1's region is taxed, and US shipments name a method.
        methods = admin.get("/v1/shipping-methods")
        assert methods.status_code == 200, methods.text
        assert {"standard", "express"} <= {m["method_id"] for m in methods.json()["items"]}
        quoted = admin.post(
            "/v1/quotes",
            {
                "channel": "web",
                "lines": [{"sku": "SKU-MUG", "quantity": 1}],
                "fulfillment": {"type": "pickup", "location_id": "S1"},
            },
        )
        assert quoted.status_code == 200, quoted.text
        assert quoted.json()["totals"]["tax"]["amount_minor"] == 111  # 12.50 at 8.88 %
    finally:
        assert stop_stack(second) == 0, second.output()
