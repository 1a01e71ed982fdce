"""The associates registry, staff credit and order lookup (issue 14), on an
in-memory StaffTables: refusals first (unknown, deactivated, re-registered
differently, bad ids and periods), then the figures."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from omni.words import Channel, OrderStatus
from services.common.errors import (
    AlreadyExists,
    BusinessRuleViolation,
    InvalidArgument,
    NotFound,
)
from services.orders import staff, use_cases
from services.orders.domain import associates as rules
from services.orders.domain.associates import Associate, CreditedOrder, CreditedRefund
from services.orders.domain.records import OrderRecord
from services.orders.staff import Staff
from tests.unit.test_orders_use_cases import (  # the orders use cases' fakes
    FakeJourneys,
    FakeProducts,
    FakeStorage,
    keyed,
    order_request,
)

NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)


class MemoryStaffTables:
    def __init__(self) -> None:
        self.rows: dict[str, Associate] = {}
        self.orders: list[CreditedOrder] = []
        self.refunds: list[CreditedRefund] = []
        self.periods: list[tuple[datetime | None, datetime]] = []

    async def register(self, associate: Associate) -> tuple[Associate, bool]:
        if associate.associate_id in self.rows:
            return self.rows[associate.associate_id], False
        stored = dataclasses.replace(associate, created_at=NOW)
        self.rows[associate.associate_id] = stored
        return stored, True

    async def get(self, associate_id: str) -> Associate | None:
        return self.rows.get(associate_id)

    async def list_associates(
        self, store_id: str, after_id: str | None, limit: int
    ) -> list[Associate]:
        found = sorted(
            (a for a in self.rows.values() if not store_id or a.store_id == store_id),
            key=lambda a: a.associate_id,
        )
        return [a for a in found if after_id is None or a.associate_id > after_id][:limit]

    async def deactivate(self, associate_id: str, at: datetime) -> Associate | None:
        found = self.rows.get(associate_id)
        if found is None:
            return None
        gone = dataclasses.replace(found, active=False, deactivated_at=found.deactivated_at or at)
        self.rows[associate_id] = gone
        return gone

    async def credited_orders(
        self, associate_ids: list[str], start: datetime | None, end: datetime
    ) -> list[CreditedOrder]:
        self.periods.append((start, end))
        return [o for o in self.orders if o.associate_id in associate_ids]

    async def credited_refunds(
        self, associate_ids: list[str], start: datetime | None, end: datetime
    ) -> list[CreditedRefund]:
        return [r for r in self.refunds if r.associate_id in associate_ids]

    async def find_orders(
        self,
        customer_id: str,
        status: OrderStatus | None,
        location_id: str,
        after: tuple[datetime, str] | None,
        limit: int,
    ) -> list[OrderRecord]:
        return []


@pytest.fixture
def tables() -> MemoryStaffTables:
    return MemoryStaffTables()


@pytest.fixture
def registry(tables: MemoryStaffTables) -> Staff:
    return Staff(tables, now=lambda: NOW)


# ---------------------------------------------------------------- the registry


async def test_registering_again_answers_the_record_and_another_name_or_store_is_refused(
    registry: Staff,
) -> None:
    first, created = await staff.create_associate(registry, Associate("A1", " Ada ", "S1"))
    assert created and first.name == "Ada" and first.active
    again, created_again = await staff.create_associate(registry, Associate("A1", "Ada", "S1"))
    assert (again, created_again) == (first, False)
    with pytest.raises(AlreadyExists):
        await staff.create_associate(registry, Associate("A1", "Ada", "S2"))
    with pytest.raises(AlreadyExists):
        await staff.create_associate(registry, Associate("A1", "Grace", "S1"))
    assert (await staff.get_associate(registry, "A1")).store_id == "S1"


@pytest.mark.parametrize(
    ("associate", "field"),
    [
        (Associate("", "Ada", "S1"), "associate_id"),
        (Associate("A 1", "Ada", "S1"), "associate_id"),
        (Associate("A1", "", "S1"), "name"),
        (Associate("A1", "x" * 201, "S1"), "name"),
        (Associate("A1", "Ada", ""), "store_id"),
        # A card number is never stored, not even as a name.
        (Associate("A1", "4111111111111111", "S1"), "name"),
    ],
)
async def test_a_bad_registration_names_its_field_and_stores_nothing(
    registry: Staff, tables: MemoryStaffTables, associate: Associate, field: str
) -> None:
    with pytest.raises(InvalidArgument) as refused:
        await staff.create_associate(registry, associate)
    assert field in [v.field for v in refused.value.violations]
    assert tables.rows == {}


async def test_deactivating_keeps_the_first_time_and_an_unknown_id_is_not_found(
    registry: Staff,
) -> None:
    await staff.create_associate(registry, Associate("A1", "Ada", "S1"))
    gone = await staff.deactivate_associate(registry, "A1")
    assert not gone.active and gone.deactivated_at == NOW
    later = Staff(registry.tables, now=lambda: NOW + timedelta(hours=1))
    assert (await staff.deactivate_associate(later, "A1")).deactivated_at == NOW
    with pytest.raises(NotFound):
        await staff.deactivate_associate(registry, "NOBODY")
    with pytest.raises(NotFound):
        await staff.get_associate(registry, "NOBODY")


async def test_only_an_active_registered_associate_may_be_credited(registry: Staff) -> None:
    await staff.create_associate(registry, Associate("A1", "Ada", "S1"))
    await staff.create_associate(registry, Associate("A2", "Grace", "S1"))
    await staff.deactivate_associate(registry, "A2")
    await staff.check_active(registry, "referral_associate_id", "A1")
    await staff.check_active(registry, "referral_associate_id", "")  # nobody named: fine
    for unknown in ("A2", "NOBODY"):
        with pytest.raises(BusinessRuleViolation) as refused:
            await staff.check_active(registry, "referral_associate_id", unknown)
        assert refused.value.reason == rules.UNKNOWN_ASSOCIATE
        assert refused.value.metadata == {
            "field": "referral_associate_id",
            "associate_id": unknown,
        }


async def test_a_placement_naming_an_unknown_referral_is_refused_before_anything_is_held(
    registry: Staff,
) -> None:
    await staff.create_associate(registry, Associate("A1", "Ada", "S1"))
    storage = FakeStorage()
    journeys = FakeJourneys(storage)
    deps = use_cases.Dependencies(
        storage=storage, journeys=journeys, products=FakeProducts(), staff=registry
    )
    for field, wanted in (
        ("referral_associate_id", dataclasses.replace(order_request(), referral_associate_id="X")),
        ("associate_id", dataclasses.replace(order_request(), associate_id="X", store_id="S1")),
    ):
        with pytest.raises(BusinessRuleViolation) as refused:
            await use_cases.place_order(deps, wanted, keyed("k-" + field))
        assert refused.value.metadata["field"] == field
    assert storage.state.orders == {} and journeys.calls == []

    credited = dataclasses.replace(order_request(), referral_associate_id="A1")
    order = await use_cases.place_order(deps, credited, keyed("k-ok"))
    assert order.referral_associate_id == "A1"
    assert rules.credited_associate(order.associate_id, order.referral_associate_id) == "A1"


async def test_associates_page_by_store_with_opaque_cursors(registry: Staff) -> None:
    for n in range(5):
        await staff.create_associate(registry, Associate(f"A{n}", f"P{n}", "S1"))
    await staff.create_associate(registry, Associate("B0", "Other", "S2"))
    first = await staff.list_associates(registry, "S1", 3, "")
    assert [a.associate_id for a in first.items] == ["A0", "A1", "A2"] and first.next_cursor
    rest = await staff.list_associates(registry, "S1", 3, first.next_cursor)
    assert [a.associate_id for a in rest.items] == ["A3", "A4"] and rest.next_cursor == ""
    with pytest.raises(InvalidArgument):
        await staff.list_associates(registry, "S1", 3, "not-a-cursor")
    with pytest.raises(InvalidArgument):
        await staff.list_associates(registry, "S1", 201, "")


# ---------------------------------------------------------------- staff sales


async def test_a_period_that_ends_before_it_starts_or_a_bad_store_is_refused(
    registry: Staff,
) -> None:
    with pytest.raises(InvalidArgument):
        await staff.staff_sales(registry, "S1", NOW, NOW - timedelta(days=1))
    with pytest.raises(InvalidArgument):
        await staff.staff_sales(registry, "", None, None)
    with pytest.raises(InvalidArgument):
        await staff.staff_sales(registry, "S 1", None, None)


async def test_staff_sales_credit_each_sale_once_by_channel_and_take_returns_off(
    registry: Staff, tables: MemoryStaffTables
) -> None:
    await staff.create_associate(registry, Associate("A1", "Ada", "S1"))
    await staff.create_associate(registry, Associate("A2", "Grace", "S1"))
    await staff.create_associate(registry, Associate("B1", "Elsewhere", "S2"))
    await staff.deactivate_associate(registry, "A2")  # past credit stays
    tables.orders = [
        CreditedOrder("A1", Channel.POS, 2000),
        CreditedOrder("A1", Channel.WEB, 5000),  # an online order that named A1
        CreditedOrder("A1", Channel.POS, 1000),
        CreditedOrder("A2", Channel.POS, 700),
        CreditedOrder("B1", Channel.POS, 9999),  # another store's associate
        CreditedOrder("A1", Channel.POS, 4242, currency="EUR"),  # not this store's currency
    ]
    tables.refunds = [CreditedRefund("A1", Channel.WEB, 1500)]
    sales, currency = await staff.staff_sales(registry, "S1", None, None)
    assert currency == "USD"
    assert tables.periods == [(None, NOW)]  # no end: until now
    by_id = {s.associate.associate_id: s for s in sales}
    assert list(by_id) == ["A1", "A2"]
    ada = by_id["A1"]
    assert (ada.total.orders_credited, ada.total.gross_minor) == (3, 8000)
    assert (ada.total.returned_minor, ada.total.net_minor) == (1500, 6500)
    assert ada.channels[Channel.POS].gross_minor == 3000
    assert ada.channels[Channel.WEB].net_minor == 3500
    assert by_id["A2"].total.net_minor == 700 and not by_id["A2"].associate.active


def test_an_associate_with_no_sales_is_listed_with_zero_figures() -> None:
    [only] = rules.staff_sales([Associate("A9", "New", "S1")], [], [])
    assert (only.total.orders_credited, only.total.net_minor, only.channels) == (0, 0, {})


def test_the_report_currency_is_the_one_most_orders_are_in() -> None:
    orders = [CreditedOrder("A", Channel.POS, 1, c) for c in ("EUR", "USD", "EUR")]
    assert rules.report_currency(orders) == "EUR"
    assert rules.report_currency([]) == "USD"
