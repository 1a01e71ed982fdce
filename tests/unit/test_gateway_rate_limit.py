"""429 rate limiting at the gateway: per-caller token buckets on a fake clock."""

from __future__ import annotations

from fastapi.testclient import TestClient

from omni.orders.v1 import orders_pb2
from services.gateway.rate_limit import RateLimiter
from tests.unit.gateway_fakes import FakeStub, bearer, fake_clients, make_app

TASKS = "/v1/stores/S1/tasks"
RATE = 2.0
BURST = 3


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def limited_client(clock: FakeClock, rate: float = RATE, burst: int = BURST) -> TestClient:
    orders = FakeStub(ListStoreTasks=lambda r: orders_pb2.ListStoreTasksResponse())
    app = make_app(fake_clients(orders=orders))
    app.state.rate_limiter = RateLimiter(rate, burst, clock=clock)
    return TestClient(app)


def associate(sub: str) -> dict[str, str]:
    return bearer("associate", sub=sub, store_id="S1")


def test_a_burst_is_served_then_429_with_retry_after() -> None:
    client = limited_client(FakeClock())
    headers = associate("assoc-a")

    served = [client.get(TASKS, headers=headers).status_code for _ in range(BURST)]
    refused = client.get(TASKS, headers=headers)

    assert served == [200] * BURST
    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.headers["retry-after"] == "1"  # one request refills in 0.5 s
    assert refused.headers["traceparent"].startswith("00-")
    body = refused.json()
    assert (body["status"], body["reason"]) == (429, "RATE_LIMITED")


def test_other_callers_keep_their_own_bucket() -> None:
    client = limited_client(FakeClock())
    for _ in range(BURST):
        client.get(TASKS, headers=associate("assoc-a"))
    assert client.get(TASKS, headers=associate("assoc-a")).status_code == 429

    assert client.get(TASKS, headers=associate("assoc-b")).status_code == 200
    # Without a token the caller is its address: its own bucket, answered 401.
    assert client.get(TASKS).status_code == 401


def test_the_bucket_refills_with_time() -> None:
    clock = FakeClock()
    client = limited_client(clock)
    headers = associate("assoc-a")
    for _ in range(BURST):
        client.get(TASKS, headers=headers)
    assert client.get(TASKS, headers=headers).status_code == 429

    clock.now += 1 / RATE  # exactly one request's worth
    assert client.get(TASKS, headers=headers).status_code == 200
    assert client.get(TASKS, headers=headers).status_code == 429

    clock.now += 3600  # long idle: full again, never more than the burst
    statuses = [client.get(TASKS, headers=headers).status_code for _ in range(BURST + 1)]
    assert statuses == [200] * BURST + [429]


def test_requests_without_a_valid_token_share_the_address_bucket() -> None:
    client = limited_client(FakeClock())
    forged = [{"Authorization": f"Bearer forged-{n}"} for n in range(BURST)]
    assert [client.get(TASKS, headers=h).status_code for h in forged] == [401] * BURST

    assert client.get(TASKS, headers={"Authorization": "Bearer forged-x"}).status_code == 429
    # A caller with a valid token is not held back by the address's bucket.
    assert client.get(TASKS, headers=associate("assoc-a")).status_code == 200


def test_health_is_never_limited_and_metrics_are_not_on_the_public_port() -> None:
    # Issue 12: /metrics moved to its own port (METRICS_PORT).
    client = limited_client(FakeClock(), burst=1)
    for _ in range(5):
        assert client.get("/healthz").status_code == 200
    assert client.get("/metrics").status_code == 404


def test_zero_rate_disables_the_limit() -> None:
    client = limited_client(FakeClock(), rate=0)
    headers = associate("assoc-a")
    assert {client.get(TASKS, headers=headers).status_code for _ in range(20)} == {200}


def test_the_default_limit_comes_from_settings() -> None:
    app = make_app(fake_clients(), rate_limit_per_second=7, rate_limit_burst=9)
    limiter: RateLimiter = app.state.rate_limiter
    assert (limiter.rate_per_second, limiter.burst) == (7, 9)


def test_retry_after_is_the_wait_for_one_request_rounded_up() -> None:
    clock = FakeClock()
    limiter = RateLimiter(0.25, 1, clock=clock)
    assert limiter.take("a") == 0
    assert limiter.take("a") == 4.0  # one request per 4 s
    clock.now += 1
    assert limiter.take("a") == 3.0


def test_tracked_callers_are_bounded_dropping_the_least_recent() -> None:
    clock = FakeClock()
    limiter = RateLimiter(1, 1, clock=clock, max_callers=2)
    limiter.take("a")
    limiter.take("b")
    limiter.take("c")  # "a" is dropped: it starts again with a full bucket
    assert limiter.take("a") == 0
    assert limiter.take("c") > 0
