"""Reservations: holds of stock for an order at one location, and how they end."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from omni.words import Channel, ReservationStatus, StockMovementReason
from services.common.errors import BusinessRuleViolation, Conflict
from services.common.validation import Violations
from services.inventory.domain.locations import MAX_TEXT
from services.inventory.domain.stock import Line, StockMovement, check_lines, merge_lines

MAX_TTL_SECONDS = 30 * 24 * 3600


@dataclass(frozen=True)
class ReservationRequest:
    reservation_id: str
    order_id: str
    location_id: str
    lines: tuple[Line, ...]
    channel: Channel | None
    ttl_seconds: int

    def fingerprint(self) -> str:
        """Same parameters (lines merged) give the same fingerprint."""
        canonical = {
            "order_id": self.order_id,
            "location_id": self.location_id,
            "lines": [[line.sku, line.quantity] for line in merge_lines(self.lines)],
            "channel": self.channel or "",
            "ttl_seconds": self.ttl_seconds,
        }
        return hashlib.sha256(json.dumps(canonical, sort_keys=True).encode()).hexdigest()


def check_reservation_request(request: ReservationRequest) -> None:
    violations = Violations()
    violations.check_text(
        "reservation_id", request.reservation_id, required=True, max_length=MAX_TEXT
    )
    violations.check_text("order_id", request.order_id, max_length=MAX_TEXT)
    violations.check_id("location_id", request.location_id)
    check_lines(violations, "lines", request.lines, allow_zero=False)
    if not 0 <= request.ttl_seconds <= MAX_TTL_SECONDS:
        violations.add("ttl_seconds", f"must be between 0 and {MAX_TTL_SECONDS}")
    violations.raise_if_any()


def check_reservation_id(reservation_id: str) -> None:
    violations = Violations()
    violations.check_text("reservation_id", reservation_id, required=True, max_length=MAX_TEXT)
    violations.raise_if_any()


# What a committed reservation may be sold as (issue 14: a till sale is a pos_sale).
COMMIT_REASONS = (StockMovementReason.COMMIT, StockMovementReason.POS_SALE)


def check_commit_lines(
    reservation_id: str,
    lines: Sequence[Line],
    reason: StockMovementReason | None = StockMovementReason.COMMIT,
) -> None:
    violations = Violations()
    violations.check_text("reservation_id", reservation_id, required=True, max_length=MAX_TEXT)
    if lines:
        check_lines(violations, "lines", lines, allow_zero=True)
    if reason not in COMMIT_REASONS:
        violations.add("reason", "must be unspecified (commit) or pos_sale")
    violations.raise_if_any()


@dataclass(frozen=True)
class Reservation:
    """A hold as callers see it; once committed, `lines` are the quantities sold."""

    reservation_id: str
    order_id: str
    location_id: str
    lines: tuple[Line, ...]
    status: ReservationStatus
    expires_at: datetime | None = None


@dataclass(frozen=True)
class ReservedLine:
    sku: str
    quantity: int
    committed_quantity: int = 0


@dataclass(frozen=True)
class HeldReservation:
    """A reservation as stored: its fingerprint, its lines, and whether its
    soft hold has run out by the database's clock."""

    reservation_id: str
    order_id: str
    location_id: str
    status: ReservationStatus
    fingerprint: str
    lines: tuple[ReservedLine, ...]  # sku order
    expires_at: datetime | None = None
    expired: bool = False


def shown(held: HeldReservation) -> Reservation:
    if held.status is ReservationStatus.COMMITTED:
        lines = tuple(Line(r.sku, r.committed_quantity) for r in held.lines if r.committed_quantity)
    else:
        lines = tuple(Line(r.sku, r.quantity) for r in held.lines)
    return Reservation(
        reservation_id=held.reservation_id,
        order_id=held.order_id,
        location_id=held.location_id,
        lines=lines,
        status=held.status,
        expires_at=held.expires_at,
    )


# --- reserving -------------------------------------------------------------------


@dataclass(frozen=True)
class ReserveOutcome:
    """What the one reserving statement did: made the hold now; or not, because
    the id exists, a line is short, or the location or a sku does not exist."""

    created: bool
    expires_at: datetime | None = None
    short_skus: tuple[str, ...] = ()
    unknown_reference: bool = False
    # The location has used its daily_order_capacity for the store's day
    # (a fulfillment only: a hold with a TTL never counts); 0 when not.
    full_at_capacity: int = 0


def new_reservation(request: ReservationRequest, expires_at: datetime | None) -> Reservation:
    return Reservation(
        reservation_id=request.reservation_id,
        order_id=request.order_id,
        location_id=request.location_id,
        lines=tuple(merge_lines(request.lines)),
        status=ReservationStatus.ACTIVE,
        expires_at=expires_at,
    )


def existing_reservation(request: ReservationRequest, held: HeldReservation | None) -> Reservation:
    """The reservation a retry asks for again; Conflict when its id was used otherwise."""
    if held is None or held.fingerprint != request.fingerprint():
        raise Conflict(
            "RESERVATION_ID_REUSED",
            f"reservation {request.reservation_id} exists with other parameters",
            {"reservation_id": request.reservation_id},
        )
    return shown(held)


def shortage_metadata(shortages: Sequence[tuple[str, int, int]]) -> dict[str, str]:
    """`{"sku:ABC": "available=3 requested=5"}` for each (sku, available, requested)."""
    return {
        f"sku:{sku}": f"available={available_now} requested={requested}"
        for sku, available_now, requested in shortages
    }


def insufficient_stock(
    request: ReservationRequest, short_skus: Sequence[str], available: Mapping[str, int]
) -> BusinessRuleViolation:
    """The refusal naming each short line and how much the channel has of it now."""
    wanted = {line.sku: line.quantity for line in merge_lines(request.lines)}
    shortages = [(sku, available.get(sku, 0), wanted[sku]) for sku in short_skus]
    return BusinessRuleViolation(
        "INSUFFICIENT_STOCK",
        f"not enough stock at {request.location_id} for "
        + ", ".join(sku for sku, _, _ in shortages),
        {"location_id": request.location_id, **shortage_metadata(shortages)},
    )


STORE_AT_CAPACITY = "STORE_AT_CAPACITY"


def store_at_capacity(location_id: str, capacity: int | str) -> BusinessRuleViolation:
    """The refusal naming the store whose daily order capacity is used up."""
    return BusinessRuleViolation(
        STORE_AT_CAPACITY,
        f"store {location_id} has used its daily order capacity ({capacity}) for today",
        {"location_id": location_id, "daily_order_capacity": str(capacity)},
    )


# --- ending a reservation ------------------------------------------------------------


@dataclass(frozen=True)
class Settlement:
    """How an active reservation ends: its final status and, per sku in sku
    order, how much is sold and how much of the hold goes back."""

    status: ReservationStatus
    sold: dict[str, int]
    released: dict[str, int]
    # What the ledger calls the sale: commit (a fulfillment), or pos_sale (a
    # till sale, issue 14).
    reason: StockMovementReason = StockMovementReason.COMMIT

    def movements(self, held: HeldReservation) -> list[StockMovement]:
        actor = f"order:{held.order_id}" if held.order_id else ""
        return [
            StockMovement(
                held.location_id,
                sku,
                self.reason,
                -sold,
                actor,
                held.reservation_id,
            )
            for sku, sold in self.sold.items()
            if sold
        ]


def _give_back(held: HeldReservation, status: ReservationStatus) -> Settlement:
    return Settlement(
        status=status,
        sold={line.sku: 0 for line in held.lines},
        released={line.sku: line.quantity for line in held.lines},
    )


def settle_release(held: HeldReservation) -> Settlement | None:
    """None when the reservation is final already: releasing it again changes nothing."""
    if held.status is not ReservationStatus.ACTIVE:
        return None
    return _give_back(
        held, ReservationStatus.EXPIRED if held.expired else ReservationStatus.RELEASED
    )


def settle_commit(
    held: HeldReservation,
    requested: Sequence[Line],
    reason: StockMovementReason = StockMovementReason.COMMIT,
) -> Settlement | None:
    """Sells the requested quantities (everything when none) and gives back the
    rest, recorded under `reason`. None when final already; a hold whose time
    ran out only expires."""
    if held.status is not ReservationStatus.ACTIVE:
        return None
    if held.expired:
        return _give_back(held, ReservationStatus.EXPIRED)
    plan = plan_commit(held.lines, requested)
    return Settlement(ReservationStatus.COMMITTED, plan.sold, plan.released, reason)


def settled(held: HeldReservation, settlement: Settlement) -> Reservation:
    """The reservation as it is once the settlement is saved."""
    committed = settlement.status is ReservationStatus.COMMITTED
    return shown(
        HeldReservation(
            reservation_id=held.reservation_id,
            order_id=held.order_id,
            location_id=held.location_id,
            status=settlement.status,
            fingerprint=held.fingerprint,
            lines=tuple(
                ReservedLine(line.sku, line.quantity, settlement.sold[line.sku] if committed else 0)
                for line in held.lines
            ),
            expires_at=held.expires_at,
        )
    )


# --- giving back part of a reservation ----------------------------------------------

RELEASE_EXCEEDS_HOLD = "RELEASE_EXCEEDS_HOLD"


def check_release_lines(reservation_id: str, idempotency_key: str, lines: Sequence[Line]) -> None:
    violations = Violations()
    violations.check_text("reservation_id", reservation_id, required=True, max_length=MAX_TEXT)
    violations.check_text("idempotency_key", idempotency_key, required=True, max_length=MAX_TEXT)
    if not lines:
        violations.add("lines", "name at least one line to release")
    else:
        check_lines(violations, "lines", lines, allow_zero=False)
        seen: set[str] = set()
        for index, line in enumerate(lines):
            if line.sku in seen:
                violations.add(f"lines[{index}].sku", f"{line.sku} is listed twice")
            seen.add(line.sku)
    violations.raise_if_any()


def plan_release_lines(held: HeldReservation, lines: Sequence[Line]) -> dict[str, int]:
    """Per sku, in sku order: what goes back. Refuses a reservation that is no
    longer holding (final, or a soft hold that ran out) and a line that asks
    for more than is held (or is not held at all): all lines or none."""
    if held.status is not ReservationStatus.ACTIVE or held.expired:
        status = ReservationStatus.EXPIRED if held.expired else held.status
        raise Conflict(
            "INVALID_STATE",
            f"reservation {held.reservation_id} is {status}: nothing is held to release",
            {"status": str(status)},
        )
    holding = {line.sku: line.quantity for line in held.lines}
    too_much = [line for line in lines if line.quantity > holding.get(line.sku, 0)]
    if too_much:
        raise release_exceeds_hold(held, too_much[0], holding.get(too_much[0].sku, 0))
    return {line.sku: line.quantity for line in sorted(lines, key=lambda line: line.sku)}


def release_exceeds_hold(held: HeldReservation, line: Line, holding: int) -> BusinessRuleViolation:
    return BusinessRuleViolation(
        RELEASE_EXCEEDS_HOLD,
        f"{line.sku}: cannot release {line.quantity}, reservation"
        f" {held.reservation_id} holds {holding}",
        {"sku": line.sku, "held": str(holding), "requested": str(line.quantity)},
    )


@dataclass(frozen=True)
class CommitPlan:
    """Per sku, in sku order: how much is sold and how much of the hold goes back."""

    sold: dict[str, int]
    released: dict[str, int]


def plan_commit(reserved: Sequence[ReservedLine], requested: Sequence[Line]) -> CommitPlan:
    """Commits the requested quantities (everything when none), releases the rest."""
    held = {line.sku: line.quantity for line in reserved}
    if not requested:
        sold = dict(held)
    else:
        violations = Violations()
        sold = {sku: 0 for sku in held}
        for index, line in enumerate(requested):
            if line.sku not in held:
                violations.add(f"lines[{index}].sku", f"{line.sku} is not in the reservation")
                continue
            sold[line.sku] += line.quantity
            if sold[line.sku] > held[line.sku]:
                violations.add(
                    f"lines[{index}].quantity",
                    f"{line.sku}: cannot sell more than the {held[line.sku]} reserved",
                )
        violations.raise_if_any()
    ordered = sorted(held)
    return CommitPlan(
        sold={sku: sold[sku] for sku in ordered},
        released={sku: held[sku] - sold[sku] for sku in ordered},
    )
