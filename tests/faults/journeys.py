"""Journeys driven the way channel apps drive them while things break, and the
faults themselves (SIGKILL a child of `omni up`, restart PostgreSQL).

A client here behaves as API.md asks a channel to: it retries a 503, a
502/504, a dropped connection or any answer with Retry-After with the same
Idempotency-Key, and never retries anything else. Every answer is tallied, so a scenario can
assert that nobody saw a 500 or a 503 without Retry-After.
"""

from __future__ import annotations

import os
import random
import signal
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import psutil

from stack.associates import registered_associate_token
from stack.harness import StackProcess, token
from tests.faults.invariants import Checker

RETRYABLE = {502, 503, 504}
# Long enough for a key whose gateway died mid-request to be taken over
# (IDEMPOTENCY_LEASE_SECONDS, 45 s) and the retry to finish.
STEP_DEADLINE_SECONDS = 200.0
# The fault suite's size: FAULTS_SIZE=long (make faults) or short (make test).
LONG = os.environ.get("FAULTS_SIZE", "short") == "long"


def size(short: int, long: int) -> int:
    return long if LONG else short


@dataclass
class Tally:
    """Every status a client saw, and the answers a channel must never see."""

    statuses: Counter[int] = field(default_factory=Counter)
    bad: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def saw(self, method: str, path: str, response: httpx.Response) -> None:
        with self.lock:
            self.statuses[response.status_code] += 1
            if response.status_code >= 500 and not (
                response.status_code == 503 and response.headers.get("retry-after")
            ):
                self.bad.append(f"{method} {path} -> {response.status_code}: {response.text[:200]}")


@dataclass
class Channel:
    """One caller (a token) that retries like a well-behaved app."""

    base_url: str
    bearer: str
    tally: Tally

    def request(
        self, method: str, path: str, body: Any = None, key: str | None = None, **params: Any
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.bearer}"}
        if method == "POST":
            headers["Idempotency-Key"] = key or str(uuid.uuid4())
        deadline = time.monotonic() + STEP_DEADLINE_SECONDS
        while True:
            try:
                response = httpx.request(
                    method,
                    self.base_url + path,
                    json=body,
                    params=params or None,
                    headers=headers,
                    timeout=60,
                )
            except httpx.TransportError:
                # The gateway itself restarting: the app retries the same key.
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
                continue
            self.tally.saw(method, path, response)
            # "Try again": a 503, a gateway restarting (502/504), or any answer
            # with Retry-After (429; 409 while the same key's request still runs).
            again = response.status_code in RETRYABLE or (
                response.status_code in (409, 429) and response.headers.get("retry-after")
            )
            if again and time.monotonic() < deadline:
                wait = float(response.headers.get("retry-after") or 0.5)
                time.sleep(min(wait, 1.0) * random.uniform(0.5, 1.0))
                continue
            return response

    def get(self, path: str, **params: Any) -> httpx.Response:
        return self.request("GET", path, **params)

    def post(self, path: str, body: Any, key: str | None = None) -> httpx.Response:
        return self.request("POST", path, body, key)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8].upper()}"


@dataclass
class World:
    """A store, products with stock, and callers, made for one scenario."""

    stack: StackProcess
    tally: Tally
    checker: Checker
    lat: float = field(default_factory=lambda: random.uniform(-50, 50))
    lon: float = field(default_factory=lambda: random.uniform(-150, 150))
    skus: list[str] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)
    shipping_method: str | None = None

    @property
    def admin(self) -> Channel:
        return Channel(self.stack.gateway_url, token("admin"), self.tally)

    def channel(self, role: str, **claims: str) -> Channel:
        if role == "associate":
            # Issue 14: an associate token names a registered, active associate.
            bearer = registered_associate_token(
                self.stack.gateway_url, claims["store_id"], claims.get("channel", "pos")
            )
            return Channel(self.stack.gateway_url, bearer, self.tally)
        return Channel(self.stack.gateway_url, token(role, **claims), self.tally)

    def location(self, lat_offset: float = 0.0) -> str:
        location_id = unique("LOC")
        response = self.admin.post(
            "/v1/locations",
            {
                "location_id": location_id,
                "name": f"Store {location_id}",
                "kind": "store",
                "lat": self.lat + lat_offset,
                "lon": self.lon,
                "pickup_enabled": True,
                "ship_from_enabled": True,
                "daily_order_capacity": 10_000,
                "pickup_window_hours": 72,
                "pick_sla_minutes": 120,
            },
        )
        assert response.status_code == 201, response.text
        return location_id

    def product(self, cents: int = 1500) -> str:
        sku = unique("SKU")
        response = self.admin.post(
            "/v1/products",
            {
                "sku": sku,
                "name": f"Product {sku}",
                "price": {"amount_minor": cents, "currency": "USD"},
            },
        )
        assert response.status_code == 201, response.text
        self.skus.append(sku)
        return sku

    def receive(self, location_id: str, sku: str, quantity: int) -> None:
        response = self.admin.post(
            "/v1/inventory/adjustments",
            {"location_id": location_id, "sku": sku, "delta": quantity, "reason": "receipt"},
        )
        assert response.status_code == 201, response.text

    def customer(self) -> tuple[str, Channel]:
        guest = self.channel("guest", channel="web")
        email = f"{unique('shopper').lower()}@example.com"
        response = guest.post("/v1/customers", {"email": email, "phone": "", "name": "Shopper"})
        assert response.status_code == 201, response.text
        customer_id: str = response.json()["customer_id"]
        return customer_id, self.channel(
            "customer", customer_id=customer_id, channel="web", sub=f"customer-{customer_id}"
        )

    # -- journeys ------------------------------------------------------------

    def place(
        self,
        caller: Channel,
        customer_id: str,
        sku: str,
        quantity: int,
        fulfillment: dict[str, Any],
        card: str = "tok_approve",
        key: str | None = None,
        channel: str = "web",
    ) -> httpx.Response:
        key = key or str(uuid.uuid4())
        response = caller.post(
            "/v1/orders",
            {
                "customer_id": customer_id,
                "channel": channel,
                "lines": [{"sku": sku, "quantity": quantity}],
                "fulfillment": fulfillment,
                "payment": {"tenders": [{"type": "card", "token": card}]},
            },
            key=key,
        )
        if response.status_code == 201:
            self.checker.acknowledge({**response.json(), "customer_id": customer_id}, key)
        else:
            self.refusals.append(f"{response.status_code} {response.text[:300]}")
        return response

    def _fulfillment_of(self, caller: Channel, order_id: str) -> dict[str, Any]:
        deadline = time.monotonic() + STEP_DEADLINE_SECONDS
        while True:
            order = caller.get(f"/v1/orders/{order_id}")
            assert order.status_code == 200, order.text
            fulfillments = order.json()["fulfillments"]
            if fulfillments or time.monotonic() > deadline:
                assert fulfillments, order.text
                first: dict[str, Any] = fulfillments[0]
                return first
            time.sleep(0.3)

    def bopis(self, store: str, sku: str, card: str = "tok_approve") -> str | None:
        """Place, pick and collect; the order id, or None when placement was refused."""
        customer_id, customer = self.customer()
        placed = self.place(
            customer, customer_id, sku, 1, {"type": "pickup", "location_id": store}, card
        )
        if placed.status_code != 201:
            assert placed.status_code == 422, placed.text
            return None
        order_id: str = placed.json()["order_id"]
        associate = self.channel("associate", store_id=store, channel="pos")
        fulfillment = self._fulfillment_of(associate, order_id)
        fid = fulfillment["fulfillment_id"]
        picked = associate.post(
            f"/v1/fulfillments/{fid}/pick", {"lines": [{"sku": sku, "quantity_picked": 1}]}
        )
        assert picked.status_code == 200, picked.text
        code = self._pickup_code(customer, order_id)
        handed = associate.post(f"/v1/fulfillments/{fid}/handover", {"pickup_code": code})
        assert handed.status_code == 200, handed.text
        return order_id

    def _pickup_code(self, customer: Channel, order_id: str) -> str:
        deadline = time.monotonic() + STEP_DEADLINE_SECONDS
        while True:
            order = customer.get(f"/v1/orders/{order_id}").json()
            code = order["fulfillments"][0].get("pickup_code")
            if code or time.monotonic() > deadline:
                assert code, order
                return str(code)
            time.sleep(0.3)

    def _ensure_shipping_method(self) -> None:
        if self.shipping_method is None:
            method_id = unique("ground").lower()
            response = self.admin.post(
                "/v1/shipping-methods",
                {
                    "method_id": method_id,
                    "name": "Ground",
                    "price": {"amount_minor": 500, "currency": "USD"},
                    "countries": ["US"],
                },
            )
            assert response.status_code == 201, response.text
            self.shipping_method = method_id

    def ship(self, sku: str, card: str = "tok_approve") -> str | None:
        """Ship-from-store: place for an address near the stores, pick, ship."""
        self._ensure_shipping_method()
        customer_id, customer = self.customer()
        address = {
            "line1": "1 Main St",
            "city": "Town",
            "postal_code": "00001",
            "country": "US",
            "lat": self.lat,
            "lon": self.lon,
        }
        ship_to = {"type": "ship", "address": address, "shipping_method": self.shipping_method}
        placed = self.place(customer, customer_id, sku, 1, ship_to, card)
        if placed.status_code != 201:
            assert placed.status_code == 422, placed.text
            return None
        order_id: str = placed.json()["order_id"]
        fulfillment = self._fulfillment_of(self.admin, order_id)
        associate = self.channel("associate", store_id=fulfillment["location_id"], channel="pos")
        fid = fulfillment["fulfillment_id"]
        picked = associate.post(
            f"/v1/fulfillments/{fid}/pick", {"lines": [{"sku": sku, "quantity_picked": 1}]}
        )
        assert picked.status_code == 200, picked.text
        shipped = associate.post(
            f"/v1/fulfillments/{fid}/ship", {"carrier": "UPS", "tracking_number": unique("1Z")}
        )
        assert shipped.status_code == 200, shipped.text
        return order_id

    def bopis_then_return(self, store: str, sku: str) -> str | None:
        order_id = self.bopis(store, sku)
        if order_id is None:
            return None
        associate = self.channel("associate", store_id=store, channel="pos")
        created = associate.post(
            "/v1/returns",
            {
                "order_id": order_id,
                "lines": [{"sku": sku, "quantity": 1, "condition": "sellable"}],
                "method": "in_store",
                "location_id": store,
            },
        )
        assert created.status_code == 201, created.text
        return_id: str = created.json()["return_id"]
        self.checker.note_return(return_id)
        # The associate of the store had the goods in hand: the 201 says received.
        assert created.json()["status"] in ("received", "refunded"), created.text
        self.wait_return(return_id, "refunded")
        return order_id

    def wait_return(self, return_id: str, status: str) -> dict[str, Any]:
        deadline = time.monotonic() + STEP_DEADLINE_SECONDS
        body: dict[str, Any] = {}
        while time.monotonic() < deadline:
            body = self.admin.get(f"/v1/returns/{return_id}").json()
            if body.get("status") == status:
                return body
            time.sleep(0.3)
        raise AssertionError(f"return {return_id} stayed {body.get('status')}: {body}")


# -- faults -------------------------------------------------------------------


def children(stack: StackProcess, module: str) -> list[psutil.Process]:
    """The supervisor's live children running `python -m <module>` (or postgres)."""
    found = []
    for child in psutil.Process(stack.process.pid).children(recursive=False):
        try:
            cmdline = child.cmdline()
        except psutil.NoSuchProcess:
            continue
        if module == "postgres":
            if cmdline and cmdline[0].endswith("postgres"):
                found.append(child)
        elif module in cmdline and child.status() != psutil.STATUS_ZOMBIE:
            found.append(child)
    return found


def kill(stack: StackProcess, checker: Checker, module: str, sig: int = signal.SIGKILL) -> None:
    """Kills the child running `module`; waits until the supervisor started another."""
    running = children(stack, module)
    assert running, f"no {module} running"
    victim = running[0]
    checker.fault(f"{signal.Signals(sig).name} {module} (pid {victim.pid})")
    victim.send_signal(sig)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        alive = [c for c in children(stack, module) if c.pid != victim.pid]
        if alive:
            return
        time.sleep(0.1)
    raise AssertionError(f"{module} was not restarted:\n{stack.output()[-2000:]}")


def run_concurrently(jobs: Sequence[Callable[..., Any]], faults: Callable[[], None]) -> list[Any]:
    """Runs the journeys on threads while `faults` runs on this one; re-raises
    the first journey failure."""
    results: list[Any] = [None] * len(jobs)
    errors: list[BaseException] = []

    def runner(index: int, job: Callable[[], Any]) -> None:
        try:
            results[index] = job()
        except BaseException as error:  # reported below, with the others
            errors.append(error)

    threads = [
        threading.Thread(target=runner, args=(i, j), daemon=True) for i, j in enumerate(jobs)
    ]
    for thread in threads:
        thread.start()
    faults()
    for thread in threads:
        thread.join(STEP_DEADLINE_SECONDS * 4)
    assert not [t for t in threads if t.is_alive()], "a journey never finished"
    if errors:
        raise errors[0]
    return results
