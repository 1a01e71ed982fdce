"""Issue 11 (returns): a mail return whose unit arrives damaged, through the
gateway. The damaged unit is not restocked (availability and on hand at the
receiving store unchanged), a damage movement of it is in the inventory
ledger, the refund still pays for it, and CheckInvariants stays healthy."""

from __future__ import annotations

import asyncio

import asyncpg

from stack.config import database_name
from stack.harness import StackProcess
from stack.postgres import SUPERUSER
from tests.e2e.api import Caller
from tests.e2e.test_journeys import (
    _wait_for_return_status,
    admin,
    associate_caller,
    available_at,
    collect_bopis,
    customer_caller,
    guest,
    make_location,
    receive_stock,
)

__all__ = ["admin", "guest"]  # the fixtures, shared with test_journeys


def damage_movements(stack: StackProcess, return_id: str) -> list[tuple[str, str, int]]:
    """The inventory ledger's damage movements of this return (read straight
    from the inventory database: no REST route lists movements)."""

    async def read() -> list[tuple[str, str, int]]:
        connection = await asyncpg.connect(
            host="127.0.0.1",
            port=int(stack.env["OMNI_PG_PORT"]),
            user=SUPERUSER,
            database=database_name("inventory"),
        )
        try:
            rows = await connection.fetch(
                "SELECT location_id, sku, delta FROM stock_movements"
                " WHERE reason = 'damage' AND reference = $1 ORDER BY movement_id",
                return_id,
            )
        finally:
            await connection.close()
        return [(row["location_id"], row["sku"], int(row["delta"])) for row in rows]

    return asyncio.run(read())


def test_mail_return_with_a_damaged_unit_is_written_off_not_restocked(
    stack: StackProcess, admin: Caller, guest: Caller
) -> None:
    bought = collect_bopis(stack, admin, guest)
    sku = bought["sku"]
    lat, lon = 47.6200, -122.3500
    store = make_location(admin, lat, lon)
    receive_stock(admin, store, sku, 1)
    customer = customer_caller(stack, bought["customer_id"])

    response = customer.post(
        "/v1/returns",
        {
            "order_id": bought["order_id"],
            "lines": [{"sku": sku, "quantity": 2, "condition": "sellable"}],
            "method": "mail",
        },
    )
    assert response.status_code == 201, response.text
    return_id = response.json()["return_id"]
    _wait_for_return_status(customer, return_id, "awaiting_receipt")

    associate = associate_caller(stack, store)
    received = associate.post(
        f"/v1/returns/{return_id}/receive",
        {
            "location_id": store,
            "lines": [
                {"sku": sku, "quantity": 1, "condition": "sellable"},
                {"sku": sku, "quantity": 1, "condition": "damaged"},
            ],
        },
    )
    assert received.status_code in (200, 201), received.text
    returned = _wait_for_return_status(customer, return_id, "refunded")
    # Both units are refunded (the customer paid for them; damage is ours).
    assert sum(r["amount"]["amount_minor"] for r in returned["refunds"]) == 3000

    # One unit back on the shelf (1 + 1), the damaged one not.
    assert available_at(guest, sku, store, lat, lon) == 2
    assert damage_movements(stack, return_id) == [(store, sku, 1), (store, sku, -1)]
    report = admin.get("/v1/inventory/invariants", skus=sku)
    assert report.status_code == 200, report.text
    assert report.json()["healthy"], report.json()
