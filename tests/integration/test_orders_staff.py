"""The associates registry, staff-credit figures and order lookup (issue 14)
against real PostgreSQL with the orders migrations: concurrent registrations
of one id make one associate, the credit query counts what it must and
nothing else, and lookups page and filter as the gateway promises."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import pytest

from omni.words import Channel, OrderStatus, ReturnStatus
from services.common.errors import AlreadyExists, BusinessRuleViolation
from services.common.plain_session import PlainDatabase
from services.orders import staff
from services.orders.domain.associates import Associate
from services.orders.staff import Staff
from services.orders.store.staff import PostgresStaffTables
from services.orders.store.tables import fulfillments, orders, returns

T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def database_url(migrated_database: Callable[[str], str]) -> str:
    return migrated_database("orders")


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[PlainDatabase]:
    db = await PlainDatabase.open(database_url, 12)
    yield db
    await db.close()


@pytest.fixture
def registry(database: PlainDatabase) -> Staff:
    return Staff(PostgresStaffTables(database))


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


async def add_order(
    database: PlainDatabase,
    *,
    total: int,
    at: datetime,
    associate_id: str = "",
    referral: str = "",
    store_id: str = "",
    channel: Channel = Channel.POS,
    status: OrderStatus = OrderStatus.COMPLETED,
    customer_id: str = "C1",
    fulfilled_from: str = "",
) -> str:
    order_id = unique("O")
    async with database.unit_of_work() as uow:
        await uow.session.execute(
            orders.insert().values(
                order_id=order_id,
                customer_id=customer_id,
                channel=str(channel),
                status=str(status),
                currency="USD",
                total_minor=total,
                fulfillment_type="pickup",
                associate_id=associate_id,
                store_id=store_id,
                referral_associate_id=referral,
                workflow_id=f"order-{order_id}",
                created_at=at,
            )
        )
        if fulfilled_from:
            await uow.session.execute(
                fulfillments.insert().values(
                    fulfillment_id=f"{order_id}-f1",
                    order_id=order_id,
                    type="pickup",
                    location_id=fulfilled_from,
                    status="pending",
                    lines=[],
                )
            )
        await uow.commit()
    return order_id


async def add_return(
    database: PlainDatabase, order_id: str, refund: int, at: datetime, status: ReturnStatus
) -> None:
    async with database.unit_of_work() as uow:
        await uow.session.execute(
            returns.insert().values(
                return_id=unique("R"),
                order_id=order_id,
                customer_id="C1",
                channel="pos",
                status=str(status),
                method="in_store",
                currency="USD",
                refund_minor=refund,
                lines=[],
                workflow_id="return-x",
                updated_at=at,
            )
        )
        await uow.commit()


# ---------------------------------------------------------------- races


async def test_concurrent_registrations_of_one_id_make_one_associate(registry: Staff) -> None:
    associate_id = unique("A")
    answers = await asyncio.gather(
        *(staff.create_associate(registry, Associate(associate_id, "Ada", "S1")) for _ in range(10))
    )
    assert sum(created for _, created in answers) == 1
    assert len({(a.associate_id, a.created_at) for a, _ in answers}) == 1


async def test_concurrent_registrations_of_one_id_for_two_people_leave_one_and_refuse_the_other(
    registry: Staff,
) -> None:
    associate_id = unique("A")
    outcomes = await asyncio.gather(
        *(
            staff.create_associate(registry, Associate(associate_id, name, "S1"))
            for name in ("Ada", "Grace") * 5
        ),
        return_exceptions=True,
    )
    kept = await staff.get_associate(registry, associate_id)
    refused = [o for o in outcomes if isinstance(o, BaseException)]
    assert all(isinstance(o, AlreadyExists) for o in refused)
    assert len(refused) == 5  # every registration under the other name
    assert all(a.name == kept.name for a, _ in (o for o in outcomes if isinstance(o, tuple)))


async def test_deactivation_racing_itself_keeps_one_time_and_refuses_credit_from_then_on(
    registry: Staff,
) -> None:
    associate_id = unique("A")
    await staff.create_associate(registry, Associate(associate_id, "Ada", "S1"))
    await staff.check_active(registry, "referral_associate_id", associate_id)
    answers = await asyncio.gather(
        *(staff.deactivate_associate(registry, associate_id) for _ in range(6))
    )
    assert len({a.deactivated_at for a in answers}) == 1 and not any(a.active for a in answers)
    with pytest.raises(BusinessRuleViolation):
        await staff.check_active(registry, "referral_associate_id", associate_id)


# ---------------------------------------------------------------- staff sales


async def test_staff_sales_count_credited_orders_in_the_period_and_take_refunds_off(
    registry: Staff, database: PlainDatabase
) -> None:
    store = unique("S")
    ada, grace = unique("ADA"), unique("GRACE")
    await staff.create_associate(registry, Associate(ada, "Ada", store))
    await staff.create_associate(registry, Associate(grace, "Grace", store))
    day = timedelta(days=1)
    till = await add_order(database, total=2000, at=T0, associate_id=ada, store_id=store)
    online = await add_order(
        database, total=5000, at=T0 + timedelta(hours=1), referral=ada, channel=Channel.WEB
    )
    # Placed by Grace at the till although an online referral named Ada: Grace's.
    await add_order(database, total=300, at=T0, associate_id=grace, referral=ada, store_id=store)
    # Not counted: cancelled, never shown (pending, rejected), outside the period.
    for status in (OrderStatus.CANCELLED, OrderStatus.PENDING, OrderStatus.REJECTED):
        await add_order(database, total=99_000, at=T0, associate_id=ada, status=status)
    await add_order(database, total=77_000, at=T0 - day, associate_id=ada)
    await add_order(database, total=66_000, at=T0 + day, associate_id=ada)
    # A refunded return in the period of an order from before it still comes off;
    # one not yet refunded, or refunded after the period, does not.
    earlier = await add_order(database, total=1000, at=T0 - 3 * day, associate_id=ada)
    await add_return(database, earlier, 400, T0 + timedelta(hours=2), ReturnStatus.REFUNDED)
    await add_return(database, online, 1500, T0 + timedelta(hours=3), ReturnStatus.REFUNDED)
    await add_return(database, till, 2000, T0 + timedelta(hours=3), ReturnStatus.RECEIVED)
    await add_return(database, till, 2000, T0 + 2 * day, ReturnStatus.REFUNDED)

    sales, currency = await staff.staff_sales(registry, store, T0, T0 + day)
    assert currency == "USD"
    by_id = {s.associate.associate_id: s for s in sales}
    assert set(by_id) == {ada, grace}
    figures = by_id[ada].total
    assert (figures.orders_credited, figures.gross_minor) == (2, 7000)
    assert (figures.returned_minor, figures.net_minor) == (1900, 5100)
    assert by_id[ada].channels[Channel.WEB].net_minor == 3500
    assert by_id[ada].channels[Channel.POS].returned_minor == 400
    assert by_id[grace].total.gross_minor == 300


async def test_an_associate_of_another_store_is_not_in_this_stores_report(
    registry: Staff, database: PlainDatabase
) -> None:
    here, there = unique("S"), unique("S")
    ada = unique("ADA")
    await staff.create_associate(registry, Associate(ada, "Ada", there))
    await add_order(database, total=2000, at=T0, associate_id=ada, store_id=here)
    sales, _ = await staff.staff_sales(registry, here, None, None)
    assert sales == []


# ---------------------------------------------------------------- order lookup


async def test_orders_are_found_by_customer_status_and_store_newest_first_in_pages(
    registry: Staff, database: PlainDatabase
) -> None:
    customer, store = unique("C"), unique("S")
    ids = [
        await add_order(
            database,
            total=100 + n,
            at=T0 + timedelta(minutes=n),
            customer_id=customer,
            fulfilled_from=store if n % 2 == 0 else "",
            store_id=store if n == 1 else "",
            status=OrderStatus.PLACED if n < 4 else OrderStatus.COMPLETED,
        )
        for n in range(5)
    ]
    await add_order(database, total=1, at=T0, customer_id=customer, status=OrderStatus.PENDING)

    first = await staff.list_orders(registry, customer, None, "", 2, "")
    assert [o.order_id for o in first.items] == [ids[4], ids[3]] and first.next_cursor
    rest = await staff.list_orders(registry, customer, None, "", 10, first.next_cursor)
    assert [o.order_id for o in rest.items] == [ids[2], ids[1], ids[0]]
    assert rest.next_cursor == ""

    placed = await staff.list_orders(registry, customer, OrderStatus.PLACED, "", 10, "")
    assert [o.order_id for o in placed.items] == [ids[3], ids[2], ids[1], ids[0]]
    at_store = await staff.list_orders(registry, "", None, store, 10, "")
    assert [o.order_id for o in at_store.items] == [ids[4], ids[2], ids[1], ids[0]]
    assert at_store.items[0].fulfillments[0].location_id == store
