"""When the idempotency store cannot take another claim because its database
is unreachable or restarting, a POST is a 503 with Retry-After — never a
500 — and nothing downstream is called. (An exhausted connection pool is
load, not an outage: a 429, tests/unit/test_gateway_admission.py.)

Found by bench hot-sku (issue 15): 200 concurrent orders, pool 20 + 20
overflow, 147 answers were 500 (sqlalchemy.exc.TimeoutError from the claim,
which then held a connection for the whole request; issue 12 has since made
claims short).
"""

from __future__ import annotations

import pytest
import sqlalchemy.exc
from fastapi.testclient import TestClient

from services.gateway.idempotency import PreviousUse, StoredResponse
from tests.unit.gateway_fakes import (
    ORDER_BODY,
    bearer,
    fake_clients,
    make_app,
    orders_stub,
    payments_stub,
)

CUSTOMER = bearer("customer", sub="user-1", customer_id="C1")


class RefusingStore:
    """A key store whose every call fails the way an exhausted or unreachable
    database makes it fail."""

    def __init__(self, error: BaseException) -> None:
        self.error = error

    async def begin(
        self, owner: str, key: str, fingerprint: str, customer_id: str
    ) -> PreviousUse | None:
        raise self.error

    async def finish(self, owner: str, key: str, response: StoredResponse) -> None:
        raise self.error

    async def release(self, owner: str, key: str) -> None:
        raise self.error

    async def purge_older_than(self, hours: float) -> int:
        return 0

    async def erase_customer(self, customer_id: str) -> int:
        raise self.error


@pytest.mark.parametrize(
    "error",
    [
        sqlalchemy.exc.OperationalError("INSERT", {}, ConnectionRefusedError()),
        ConnectionRefusedError(),
    ],
)
def test_a_claim_the_store_cannot_take_is_a_503_with_retry_after(error: BaseException) -> None:
    orders = orders_stub()
    app = make_app(fake_clients(orders=orders, payments=payments_stub()), RefusingStore(error))
    client = TestClient(app)
    response = client.post(
        "/v1/orders", json=ORDER_BODY, headers={**CUSTOMER, "Idempotency-Key": "k-1"}
    )
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"]
    assert response.headers["content-type"].startswith("application/problem+json")
    assert orders.called("PlaceOrder") == []
