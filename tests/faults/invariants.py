"""What must hold after any fault: nothing lost, duplicated, oversold, charged
twice or refunded twice. Read from outside, the way an auditor would: through
the gateway (admin), which reads each service over gRPC, and the development
payment provider's own book of what it did (`GET /v1/dev/provider/operations`,
ListProviderOperations), not payments' view of it.

A scenario `acknowledge`s every order a caller got a 201 for (and the
Idempotency-Key it used), `note_return`s every return it created, then calls
`Checker.check(skus)` once the journeys have settled; the `Verdict` prints the
line every fault scenario ends with and `assert_clean()` fails with the details.

Importable by the benches too (bench/hot_sku.py, bench/flash_sale.py).
"""

from __future__ import annotations

import json
import subprocess
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx

from omni.words import OrderStatus, ProviderOperationKind, ProviderOutcome, ReturnStatus
from stack.http_retry import ride_out

# An order in one of these has finished its journey; any other status must
# still have a running workflow (`order-<id>`) to count as progressing.
TERMINAL = {OrderStatus.COMPLETED, OrderStatus.CANCELLED, OrderStatus.SHIPPED}
RETURN_TERMINAL = {ReturnStatus.REFUNDED, ReturnStatus.REJECTED, ReturnStatus.EXPIRED}
_CARD_TENDERS = {"card", "card_present"}


@dataclass
class Verdict:
    scenario: str
    faults: list[str] = field(default_factory=list)
    orders: int = 0
    returns: int = 0
    lost: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    oversold: list[str] = field(default_factory=list)
    double_charges: list[str] = field(default_factory=list)
    over_refunds: list[str] = field(default_factory=list)
    uncompensated: list[str] = field(default_factory=list)
    stuck: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (
            self.lost
            or self.duplicated
            or self.oversold
            or self.double_charges
            or self.over_refunds
            or self.uncompensated
            or self.stuck
        )

    def line(self) -> str:
        return (
            f"{self.scenario}: faults injected {len(self.faults)}, orders {self.orders},"
            f" returns {self.returns}, lost {len(self.lost)}, duplicated {len(self.duplicated)},"
            f" oversold {len(self.oversold)}, double charges {len(self.double_charges)},"
            f" over-refunds {len(self.over_refunds)}, uncompensated {len(self.uncompensated)},"
            f" stuck {len(self.stuck)}"
        )

    def figures(self) -> dict[str, Any]:
        return {
            "faults": self.faults,
            "orders": self.orders,
            "returns": self.returns,
            **{
                name: len(getattr(self, name))
                for name in (
                    "lost",
                    "duplicated",
                    "oversold",
                    "double_charges",
                    "over_refunds",
                    "uncompensated",
                    "stuck",
                )
            },
        }

    def details(self) -> str:
        parts = []
        for name in (
            "lost",
            "duplicated",
            "oversold",
            "double_charges",
            "over_refunds",
            "uncompensated",
            "stuck",
        ):
            found = getattr(self, name)
            if found:
                parts.append(f"{name}: " + "; ".join(found[:10]))
        return "\n".join(parts)

    def assert_clean(self) -> None:
        print(self.line(), flush=True)
        assert self.clean, self.line() + "\n" + self.details()


def _amount(value: dict[str, Any] | None) -> int:
    return int(value["amount_minor"]) if value else 0


def _items(listing: dict[str, Any]) -> list[dict[str, Any]]:
    for key in ("orders", "items", "data"):
        if key in listing:
            items: list[dict[str, Any]] = listing[key]
            return items
    raise AssertionError(f"no list in {listing}")


@dataclass
class Checker:
    """Collects what callers were told, then audits the stack against it."""

    gateway_url: str
    admin_token: str
    temporal_address: str | None = None
    temporal_cli: str | None = None
    scenario: str = "faults"
    acknowledged: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    customers: dict[str, str] = field(default_factory=dict)
    return_ids: set[str] = field(default_factory=set)
    faults: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._http = httpx.Client(
            base_url=self.gateway_url,
            headers={"Authorization": f"Bearer {self.admin_token}"},
            timeout=60,
        )

    # -- what the scenario saw ---------------------------------------------

    def acknowledge(self, order: dict[str, Any], key: str | None = None) -> None:
        """A 201 from POST /v1/orders: that order must exist exactly once."""
        order_id = order["order_id"]
        self.acknowledged[key or order_id].add(order_id)
        if order.get("customer_id"):
            self.customers[order_id] = order["customer_id"]

    def note_return(self, return_id: str) -> None:
        self.return_ids.add(return_id)

    def fault(self, description: str) -> None:
        self.faults.append(description)
        print(f"  fault: {description}", flush=True)

    # -- reading the stack --------------------------------------------------

    def _get(self, path: str, **params: Any) -> httpx.Response:
        """GET that rides out a restarting dependency (503) and, as a well-behaved
        client does, waits out a 429's Retry-After (the audit reads every order
        as one caller; a long run meets the gateway's rate limit)."""
        return ride_out(lambda: self._http.get(path, params=params), wait_out_429=True)

    def order(self, order_id: str) -> dict[str, Any] | None:
        response = self._get(f"/v1/orders/{order_id}")
        if response.status_code == 404:
            return None
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def provider_operations(self, order_id: str) -> list[dict[str, Any]]:
        response = self._get("/v1/dev/provider/operations", reference=order_id)
        assert response.status_code == 200, response.text
        operations: list[dict[str, Any]] = response.json()
        return operations

    def stock_violations(self, skus: Iterable[str]) -> list[dict[str, Any]]:
        """CheckInvariants (over gRPC, behind GET /v1/inventory/invariants)."""
        wanted = sorted(set(skus))
        response = self._get("/v1/inventory/invariants", skus=",".join(wanted))
        assert response.status_code == 200, response.text
        violations: list[dict[str, Any]] = response.json()["violations"]
        return violations

    def orders_of(self, customer_id: str) -> list[str]:
        """The customer's orders as GET /v1/customers/{id}/orders lists them."""
        found: list[str] = []
        cursor: str | None = None
        while True:
            params: dict[str, Any] = {"limit": 200}
            if cursor:
                params["cursor"] = cursor
            response = self._get(f"/v1/customers/{customer_id}/orders", **params)
            assert response.status_code == 200, response.text
            body = response.json()
            found += [
                a.get("order_id") or a["reference_id"]
                for a in _items(body)
                if a.get("kind") == "order"
            ]
            cursor = body.get("next_cursor")
            if not cursor:
                return found

    def workflow_running(self, workflow_id: str) -> bool:
        if not (self.temporal_address and self.temporal_cli):
            return True  # cannot tell from here: trust the status
        shown = subprocess.run(
            [
                self.temporal_cli,
                "workflow",
                "describe",
                "--workflow-id",
                workflow_id,
                "--address",
                self.temporal_address,
                "--output",
                "json",
            ],
            capture_output=True,
            text=True,
            timeout=30,
        )
        if shown.returncode != 0:
            return False
        described = json.loads(shown.stdout)
        info = described.get("workflowExecutionInfo", described)
        return "RUNNING" in str(info.get("status", "")).upper()

    # -- the audit ------------------------------------------------------------

    def settle(self, until: float = 120.0, *, statuses: Iterable[str] = ()) -> None:
        """Waits until no acknowledged order is still `pending` (answered but
        not yet visible) or in one of `statuses`; journeys waiting for people
        (ready for pickup) stay as they are."""
        waiting_for = {OrderStatus.PENDING, *statuses}
        deadline = time.monotonic() + until
        order_ids = {o for ids in self.acknowledged.values() for o in ids}
        while order_ids and time.monotonic() < deadline:
            order_ids = {
                o
                for o in order_ids
                if (found := self.order(o)) is not None and found["status"] in waiting_for
            }
            if order_ids:
                time.sleep(0.5)
        # The customer's side of a placed order is written after the answer
        # (the journey's confirm step): wait until each is listed once at least.
        unlisted = {o for ids in self.acknowledged.values() for o in ids if o in self.customers}
        while unlisted and time.monotonic() < deadline:
            owners = {self.customers[order_id] for order_id in unlisted}
            listed = {order_id for c in owners for order_id in self.orders_of(c)}
            unlisted -= listed
            if unlisted:
                time.sleep(0.5)

    def check(self, skus: Iterable[str]) -> Verdict:
        verdict = Verdict(self.scenario, faults=list(self.faults))
        order_ids = sorted({o for ids in self.acknowledged.values() for o in ids})
        verdict.orders = len(order_ids)
        verdict.returns = len(self.return_ids)
        for key, ids in self.acknowledged.items():
            if len(ids) > 1:
                verdict.duplicated.append(f"key {key} answered {sorted(ids)}")
        listed = Counter(o for c in set(self.customers.values()) for o in self.orders_of(c))
        for order_id in order_ids:
            self._check_order(order_id, listed, verdict)
        for return_id in sorted(self.return_ids):
            self._check_return(return_id, verdict)
        for violation in self.stock_violations(skus):
            verdict.oversold.append(
                f"{violation['location_id']}/{violation['sku']} {violation['rule']}:"
                f" {violation['actual']} (expected {violation['expected']})"
            )
        return verdict

    def _check_order(self, order_id: str, listed: Counter[str], verdict: Verdict) -> None:
        order = self.order(order_id)
        if order is None:
            verdict.lost.append(f"{order_id}: acknowledged, GET is 404")
            return
        customer = self.customers.get(order_id)
        if customer is not None and listed[order_id] != 1:
            verdict.duplicated.append(f"{order_id} listed {listed[order_id]} times for {customer}")
        status = order["status"]
        if status not in TERMINAL and not self.workflow_running(f"order-{order_id}"):
            verdict.stuck.append(f"{order_id} is {status} but order-{order_id} is not running")
        operations = self.provider_operations(order_id)
        approved: dict[str, int] = defaultdict(int)
        approved_count: Counter[str] = Counter()
        for operation in operations:
            if operation["outcome"] == ProviderOutcome.APPROVED:
                approved[operation["operation"]] += _amount(operation.get("amount"))
                approved_count[operation["operation"]] += 1
        authorized = approved[ProviderOperationKind.AUTHORIZE]
        captured = approved[ProviderOperationKind.CAPTURE]
        refunded = approved[ProviderOperationKind.REFUND]
        card_payments = [p for p in order["payments"] if p["tender_type"] in _CARD_TENDERS]
        if approved_count[ProviderOperationKind.AUTHORIZE] > max(len(card_payments), 1):
            verdict.double_charges.append(
                f"{order_id}: {approved_count[ProviderOperationKind.AUTHORIZE]} approved"
                f" authorizations for {len(card_payments)} card payment(s)"
            )
        if captured > authorized:
            verdict.double_charges.append(
                f"{order_id}: captured {captured} > authorized {authorized}"
            )
        if refunded > captured:
            verdict.over_refunds.append(f"{order_id}: refunded {refunded} > captured {captured}")
        if status == OrderStatus.CANCELLED:
            voided = approved_count[ProviderOperationKind.VOID] > 0
            released = approved_count[ProviderOperationKind.RELEASE] > 0
            settled = (captured == 0 and (authorized == 0 or voided or released)) or (
                captured > 0 and refunded >= captured
            )
            if not settled:
                verdict.uncompensated.append(
                    f"{order_id}: cancelled with authorized {authorized}, captured {captured},"
                    f" refunded {refunded}, voided {voided}"
                )
            held = [
                p["payment_id"]
                for p in order["payments"]
                if p["status"] == "authorized" and p["tender_type"] in _CARD_TENDERS
            ]
            if held:
                verdict.uncompensated.append(f"{order_id}: cancelled, payments {held} still held")

    def _check_return(self, return_id: str, verdict: Verdict) -> None:
        response = self._get(f"/v1/returns/{return_id}")
        if response.status_code == 404:
            verdict.lost.append(f"return {return_id}: created, GET is 404")
            return
        body = response.json()
        due = _amount(body.get("refund"))
        paid = [r for r in body["refunds"] if r["status"] not in ("failed", "declined")]
        total = sum(_amount(r.get("amount")) for r in paid)
        if total > due:
            verdict.over_refunds.append(f"return {return_id}: refunded {total} of {due} due")
        if body["status"] not in RETURN_TERMINAL:
            verdict.stuck.append(f"return {return_id} still {body['status']}")
