"""Associates, staff credit and order lookup use cases (issue 14).

The registry lives in the orders database beside the orders it credits: the
staff-sales report is then one service's query over orders, returns and
associates, and a placement checks its associates without a network hop.
The gateway asks `get_associate` for the associate an associate token names
and refuses the token unless that associate is registered and active.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from omni.words import OrderStatus
from services.common.errors import InvalidArgument, NotFound
from services.common.paging import Page, cut_page, decode_cursor, page_size
from services.common.validation import Violations
from services.orders.domain import associates as rules
from services.orders.domain.associates import (
    Associate,
    CreditedOrder,
    CreditedRefund,
    StaffSales,
)
from services.orders.domain.records import OrderRecord


class StaffTables(Protocol):
    """store/staff.py over PostgreSQL; a fake in unit tests."""

    async def register(self, associate: Associate) -> tuple[Associate, bool]: ...
    async def get(self, associate_id: str) -> Associate | None: ...
    async def list_associates(
        self, store_id: str, after_id: str | None, limit: int
    ) -> list[Associate]: ...
    async def deactivate(self, associate_id: str, at: datetime) -> Associate | None: ...
    async def credited_orders(
        self, associate_ids: list[str], start: datetime | None, end: datetime
    ) -> list[CreditedOrder]: ...
    async def credited_refunds(
        self, associate_ids: list[str], start: datetime | None, end: datetime
    ) -> list[CreditedRefund]: ...
    async def find_orders(
        self,
        customer_id: str,
        status: OrderStatus | None,
        location_id: str,
        after: tuple[datetime, str] | None,
        limit: int,
    ) -> list[OrderRecord]: ...


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Staff:
    tables: StaffTables
    now: Callable[[], datetime] = field(default=_utc_now)


def _unknown(associate_id: str) -> NotFound:
    return NotFound(
        f"associate {associate_id} not found", resource_type="associate", ids=[associate_id]
    )


def _check_id(associate_id: str) -> None:
    bad = Violations()
    bad.check_id("associate_id", associate_id)
    bad.raise_if_any()


async def create_associate(staff: Staff, wanted: Associate) -> tuple[Associate, bool]:
    """(the associate, created): a repeat with the same name and store answers
    the record; another name or store is ALREADY_EXISTS."""
    wanted = rules.validate_new(wanted)
    found, created = await staff.tables.register(wanted)
    if created:
        return found, True
    return rules.same_registration(found, wanted), False


async def get_associate(staff: Staff, associate_id: str) -> Associate:
    _check_id(associate_id)
    found = await staff.tables.get(associate_id)
    if found is None:
        raise _unknown(associate_id)
    return found


async def list_associates(
    staff: Staff, store_id: str, limit: int, page_token: str
) -> Page[Associate]:
    size = page_size(limit, field="limit")
    key = decode_cursor(page_token, arity=1, field="page_token")
    after = str(key[0]) if key is not None else None
    rows = await staff.tables.list_associates(store_id, after, size + 1)
    return cut_page(rows, size, lambda a: (a.associate_id,))


async def deactivate_associate(staff: Staff, associate_id: str) -> Associate:
    _check_id(associate_id)
    found = await staff.tables.deactivate(associate_id, staff.now())
    if found is None:
        raise _unknown(associate_id)
    return found


async def check_active(staff: Staff, field_name: str, associate_id: str) -> None:
    """For a placement: `associate_id` must be an active associate of the
    registry (UNKNOWN_ASSOCIATE, a 422, otherwise). Empty is fine."""
    if not associate_id:
        return
    found = await staff.tables.get(associate_id)
    if found is None or not found.active:
        raise rules.unknown_associate(field_name, associate_id)


async def staff_sales(
    staff: Staff, store_id: str, start: datetime | None, end: datetime | None
) -> tuple[list[StaffSales], str]:
    """Every associate whose home store is `store_id` (active or not: past
    credit stays), with their credited sales in [start, end), and the
    currency they are in."""
    bad = Violations()
    bad.check_id("store_id", store_id)
    until = end or staff.now()
    if start is not None and start >= until:
        bad.add("period_start", "must be before period_end")
    bad.raise_if_any()
    people: list[Associate] = []
    after: str | None = None
    while True:
        batch = await staff.tables.list_associates(store_id, after, 200)
        people.extend(batch)
        if len(batch) < 200:
            break
        after = batch[-1].associate_id
    ids = [a.associate_id for a in people]
    orders = await staff.tables.credited_orders(ids, start, until)
    refunds = await staff.tables.credited_refunds(ids, start, until)
    currency = rules.report_currency(orders)
    return rules.staff_sales(people, orders, refunds, currency), currency


def _order_cursor(token: str) -> tuple[datetime, str] | None:
    key = decode_cursor(token, arity=2, field="page_token")
    if key is None:
        return None
    try:
        return datetime.fromisoformat(str(key[0])), str(key[1])
    except ValueError:
        raise InvalidArgument.field("page_token", "is not a cursor this service issued") from None


async def list_orders(
    staff: Staff,
    customer_id: str,
    status: OrderStatus | None,
    location_id: str,
    limit: int,
    page_token: str,
) -> Page[OrderRecord]:
    """Newest first. Nothing named is every order (agents and admins)."""
    size = page_size(limit, field="limit")
    after = _order_cursor(page_token)
    rows = await staff.tables.find_orders(customer_id, status, location_id, after, size + 1)
    return cut_page(rows, size, lambda o: (o.created_at.isoformat(), o.order_id))
