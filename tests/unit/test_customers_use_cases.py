"""The customers use cases on an in-memory store: no PostgreSQL, no Temporal,
no sender. The fake keeps rows in dicts and a unit of work that is not
committed puts them back as they were, like the real one.

(Past ~400 lines: half of it is the fake store, one method per function of
the Store protocol, kept beside the tests that lean on its behaviour.)"""

from __future__ import annotations

import copy
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TypeVar, cast

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from omni.words import (
    ActivityKind,
    Channel,
    ContactChannel,
    IdentityKind,
    LoyaltyReason,
    NotificationKind,
    NotificationStatus,
    TimelineEventKind,
)
from services.common.db import UnitOfWork
from services.common.errors import BusinessRuleViolation, Conflict, InvalidArgument, NotFound
from services.common.paging import Page, cut_page
from services.common.plain_session import SqlSession
from services.customers import use_cases
from services.customers.domain import (
    Activity,
    Cart,
    CartLine,
    Customer,
    HistoryKey,
    Identity,
    LoyaltyEntry,
    MergeRecord,
    Notification,
    Preferences,
    TimelineEvent,
    version_mismatch,
)
from services.customers.use_cases import Dependencies

Item = TypeVar("Item")
START = datetime(2025, 6, 1, 9, 0, tzinfo=UTC)


@dataclass
class Rows:
    customers: dict[str, Customer] = field(default_factory=dict)
    merged_into: dict[str, str] = field(default_factory=dict)
    owners: dict[Identity, str] = field(default_factory=dict)
    # (customer, kind, reference) -> (seq, activity)
    activities: dict[tuple[str, str, str], tuple[int, Activity]] = field(default_factory=dict)
    events: dict[str, tuple[str, int, TimelineEvent]] = field(default_factory=dict)
    ledger: dict[str, tuple[str, LoyaltyEntry]] = field(default_factory=dict)
    carts: dict[str, Cart] = field(default_factory=dict)
    checkouts: dict[str, str] = field(default_factory=dict)
    notifications: dict[str, tuple[str, int, Notification]] = field(default_factory=dict)
    merges: dict[str, MergeRecord] = field(default_factory=dict)


def _page(
    rows: list[tuple[datetime, int, Item]], limit: int, after: HistoryKey | None
) -> Page[Item]:
    newest = sorted(rows, key=lambda row: (row[0], row[1]), reverse=True)
    if after is not None:
        newest = [row for row in newest if (row[0], row[1]) < (after.at, after.seq)]
    page = cut_page(newest[: limit + 1], limit, lambda row: HistoryKey(row[0], row[1]).cursor_key())
    return Page([row[2] for row in page.items], page.next_cursor)


class FakeStore:
    """The `use_cases.Store` functions over `Rows`; the session is ignored."""

    def __init__(self) -> None:
        self.rows = Rows()
        self._seq = itertools.count(1)
        self._clock = (START + timedelta(minutes=n) for n in itertools.count())

    def _live(self, customer_id: str) -> str:
        if customer_id not in self.rows.customers:
            raise NotFound(f"customer {customer_id}", resource_type="customer", ids=[customer_id])
        return self.rows.merged_into.get(customer_id, customer_id)

    async def resolve(self, session: SqlSession, customer_id: str) -> str:
        return self._live(customer_id)

    async def get_customer(
        self, session: SqlSession, customer_id: str, *, lock: bool = False
    ) -> Customer:
        live_id = self._live(customer_id)
        held = [identity for identity, owner in self.rows.owners.items() if owner == live_id]
        return replace(self.rows.customers[live_id], identities=held)

    async def identity_owners(
        self, session: SqlSession, identities: list[Identity]
    ) -> dict[Identity, str]:
        return {i: self.rows.owners[i] for i in identities if i in self.rows.owners}

    async def add_identities(
        self, session: SqlSession, customer_id: str, identities: list[Identity]
    ) -> int:
        added = [i for i in identities if i not in self.rows.owners]
        self.rows.owners.update({i: customer_id for i in added})
        return len(added)

    async def insert_customer(
        self, session: SqlSession, customer_id: str, name: str, identities: list[Identity]
    ) -> bool:
        if any(i in self.rows.owners for i in identities):
            return False
        self.rows.customers[customer_id] = Customer(customer_id, name, created_at=START)
        await self.add_identities(session, customer_id, identities)
        return True

    async def update_preferences(
        self, session: SqlSession, customer_id: str, preferences: Preferences
    ) -> None:
        customer = self.rows.customers[customer_id]
        self.rows.customers[customer_id] = replace(customer, preferences=preferences)

    async def erase_customer(self, session: SqlSession, customer_id: str) -> None:
        rows = self.rows
        rows.owners = {i: owner for i, owner in rows.owners.items() if owner != customer_id}
        rows.notifications = {k: v for k, v in rows.notifications.items() if v[0] != customer_id}
        rows.carts.pop(customer_id, None)
        customer = rows.customers[customer_id]
        rows.customers[customer_id] = replace(
            customer, name="", preferences=Preferences(), erased=True
        )

    async def aliases_of(self, session: SqlSession, customer_id: str) -> list[str]:
        return sorted(d for d, s in self.rows.merged_into.items() if s == customer_id)

    async def record_activity(
        self, session: SqlSession, customer_id: str, activity: Activity
    ) -> Activity:
        key = (customer_id, activity.kind.value, activity.reference_id)
        seq, known = self.rows.activities.get(key, (next(self._seq), None))
        if known is not None:
            activity = replace(
                known,
                status=activity.status or known.status,
                channel=known.channel or activity.channel,
            )
        elif activity.occurred_at is None:
            activity = replace(activity, occurred_at=next(self._clock))
        self.rows.activities[key] = (seq, activity)
        return activity

    async def list_activities(
        self, session: SqlSession, customer_id: str, limit: int, after: HistoryKey | None
    ) -> Page[Activity]:
        rows = [
            (cast(datetime, a.occurred_at), seq, a)
            for (owner, _, _), (seq, a) in self.rows.activities.items()
            if owner == customer_id
        ]
        return _page(rows, limit, after)

    async def record_event(
        self, session: SqlSession, customer_id: str, event: TimelineEvent
    ) -> tuple[TimelineEvent, bool]:
        if event.event_id in self.rows.events:
            return self.rows.events[event.event_id][2], False
        stored = replace(event, at=event.at or next(self._clock), details={})
        self.rows.events[event.event_id] = (customer_id, next(self._seq), stored)
        return stored, True

    async def list_events(
        self, session: SqlSession, customer_id: str, limit: int, after: HistoryKey | None
    ) -> Page[TimelineEvent]:
        rows = [
            (cast(datetime, e.at), seq, e)
            for owner, seq, e in self.rows.events.values()
            if owner == customer_id
        ]
        return _page(rows, limit, after)

    async def record_loyalty_entry(
        self, session: SqlSession, customer_id: str, entry: LoyaltyEntry
    ) -> bool:
        if entry.entry_id in self.rows.ledger:
            return False
        self.rows.ledger[entry.entry_id] = (customer_id, replace(entry, at=next(self._clock)))
        customer = self.rows.customers[customer_id]
        self.rows.customers[customer_id] = replace(
            customer, loyalty_points=entry.balance_after, loyalty_debt=entry.debt_after
        )
        return True

    async def loyalty_history(self, session: SqlSession, customer_id: str) -> list[LoyaltyEntry]:
        entries = [e for owner, e in self.rows.ledger.values() if owner == customer_id]
        return sorted(entries, key=lambda e: (e.at or START, e.entry_id))

    async def get_cart(self, session: SqlSession, customer_id: str, *, lock: bool = False) -> Cart:
        return self.rows.carts.get(customer_id, Cart(customer_id=customer_id))

    async def put_cart(
        self,
        session: SqlSession,
        customer_id: str,
        lines: list[CartLine],
        channel: Channel | None,
        expected_version: int | None,
    ) -> Cart:
        current = await self.get_cart(session, customer_id)
        if expected_version is not None and expected_version != current.version:
            raise version_mismatch(expected_version, current)
        cart = Cart(customer_id, list(lines), channel, current.version + 1, next(self._clock))
        self.rows.carts[customer_id] = cart
        return cart

    async def delete_cart(self, session: SqlSession, customer_id: str) -> None:
        self.rows.carts.pop(customer_id, None)

    async def record_checkout(self, session: SqlSession, customer_id: str, order_id: str) -> bool:
        if order_id in self.rows.checkouts:
            return False
        self.rows.checkouts[order_id] = customer_id
        return True

    async def queue_notification(
        self, session: SqlSession, customer_id: str, message: Notification
    ) -> Notification:
        if message.notification_id not in self.rows.notifications:
            stored = replace(message, created_at=next(self._clock))
            self.rows.notifications[message.notification_id] = (
                customer_id,
                next(self._seq),
                stored,
            )
        return self.rows.notifications[message.notification_id][2]

    async def list_notifications(
        self, session: SqlSession, customer_id: str, limit: int, after: HistoryKey | None
    ) -> Page[Notification]:
        rows = [
            (cast(datetime, n.created_at), seq, n)
            for owner, seq, n in self.rows.notifications.values()
            if owner == customer_id
        ]
        return _page(rows, limit, after)

    async def merge_record(self, session: SqlSession, duplicate_id: str) -> MergeRecord | None:
        return self.rows.merges.get(duplicate_id)

    async def merges_into(self, session: SqlSession, survivor_id: str) -> list[MergeRecord]:
        return [m for m in self.rows.merges.values() if m.survivor_id == survivor_id]

    async def move_history(self, session: SqlSession, survivor_id: str, duplicate_id: str) -> None:
        rows = self.rows
        rows.owners = {i: survivor_id if o == duplicate_id else o for i, o in rows.owners.items()}
        for (owner, kind, reference), value in list(rows.activities.items()):
            if owner == duplicate_id:
                del rows.activities[(owner, kind, reference)]
                rows.activities.setdefault((survivor_id, kind, reference), value)
        for name in ("events", "notifications"):
            table = getattr(rows, name)
            for key, (owner, seq, item) in list(table.items()):
                if owner == duplicate_id:
                    table[key] = (survivor_id, seq, item)
        for key, (owner, entry) in list(rows.ledger.items()):
            if owner == duplicate_id:
                rows.ledger[key] = (survivor_id, entry)

    async def absorb(
        self,
        session: SqlSession,
        merge_id: str,
        survivor_id: str,
        duplicate_id: str,
        name: str,
        actor: str,
    ) -> MergeRecord:
        rows = self.rows
        rows.customers[survivor_id] = replace(rows.customers[survivor_id], name=name)
        rows.customers[duplicate_id] = Customer(duplicate_id, "")
        for alias, target in list(rows.merged_into.items()):
            if target == duplicate_id:
                rows.merged_into[alias] = survivor_id
        rows.merged_into[duplicate_id] = survivor_id
        record = MergeRecord(merge_id, survivor_id, duplicate_id, actor, next(self._clock))
        rows.merges[duplicate_id] = record
        return record


class FakeSession:
    def __init__(self, store: FakeStore) -> None:
        self._store = store
        self._before = copy.deepcopy(store.rows)

    async def commit(self) -> None:
        self._before = copy.deepcopy(self._store.rows)

    async def rollback(self) -> None:
        self._store.rows = copy.deepcopy(self._before)


class FakeDatabase:
    def __init__(self, store: FakeStore) -> None:
        self._store = store
        self.commits = 0

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[UnitOfWork]:
        session = FakeSession(self._store)
        uow = UnitOfWork(cast(AsyncSession, session))
        try:
            yield uow
        finally:
            if uow.committed:
                self.commits += 1
            else:
                await session.rollback()


@dataclass
class FakeReminders:
    told: list[tuple[str, int, int]] = field(default_factory=list)

    async def cart_changed(self, cart: Cart) -> None:
        self.told.append((cart.customer_id, cart.version, cart.items))


@dataclass
class FakeOutbox:
    """Delivers every queued message it is handed (the sender always accepts)."""

    delivered: list[Notification] = field(default_factory=list)

    async def deliver(self, customer: Customer, message: Notification) -> Notification:
        if message.status != NotificationStatus.QUEUED:
            return message
        self.delivered.append(message)
        return message.sent()


@dataclass
class World:
    deps: Dependencies
    store: FakeStore
    database: FakeDatabase
    reminders: FakeReminders
    outbox: FakeOutbox

    async def customer(self, email: str = "", phone: str = "", name: str = "Ada") -> Customer:
        customer, _ = await use_cases.create_customer(self.deps, email, phone, "", name)
        return customer


@pytest.fixture
def world() -> World:
    store = FakeStore()
    database = FakeDatabase(store)
    reminders, outbox = FakeReminders(), FakeOutbox()
    ids = (f"c{n}" for n in itertools.count(1))
    deps = Dependencies(
        database=database,
        store=store,
        reminders=reminders,
        deliver=outbox.deliver,
        points_per_unit=1,
        new_id=lambda: next(ids),
    )
    return World(deps, store, database, reminders, outbox)


def milestone(
    kind: TimelineEventKind, reference: str, amount_minor: int = 0, **details: str
) -> TimelineEvent:
    return TimelineEvent(
        event_id=f"{reference}/{kind}",
        kind=kind,
        reference_id=reference,
        order_id=reference,
        channel=Channel.WEB,
        amount_minor=amount_minor,
        currency="USD",
        details=details,
    )


def fields_of(refused: pytest.ExceptionInfo[InvalidArgument]) -> list[str]:
    return [violation.field for violation in refused.value.violations]


# ------------------------------------------------------------------ identity


async def test_the_same_email_in_another_case_is_the_same_customer_and_adds_the_phone(
    world: World,
) -> None:
    first, created = await use_cases.create_customer(world.deps, "Ada@Example.com", "", "", "")
    again, again_created = await use_cases.create_customer(
        world.deps, " ada@example.COM ", "(415) 555-2671", "", "Other"
    )
    assert (created, again_created) == (True, False)
    assert again.customer_id == first.customer_id
    assert {(i.kind, i.value) for i in again.identities} == {
        (IdentityKind.EMAIL, "ada@example.com"),
        (IdentityKind.PHONE, "+14155552671"),
    }


async def test_a_guests_match_attaches_nothing_to_the_matched_customer(world: World) -> None:
    # Issue 12: a guest naming someone's email must not add a phone to their record.
    first, _ = await use_cases.create_customer(world.deps, "ada@example.com", "", "", "Ada")
    again, created = await use_cases.create_customer(
        world.deps, "ada@example.com", "(415) 555-2671", "", "Mallory", leave_matched_unchanged=True
    )
    assert (again.customer_id, created) == (first.customer_id, False)
    assert {(i.kind, i.value) for i in again.identities} == {
        (IdentityKind.EMAIL, "ada@example.com")
    }
    third, created = await use_cases.create_customer(
        world.deps, "", "(415) 555-2671", "", "", leave_matched_unchanged=True
    )
    assert created and third.customer_id != first.customer_id


async def test_a_create_reports_every_malformed_identity_and_writes_nothing(
    world: World,
) -> None:
    with pytest.raises(InvalidArgument) as refused:
        await use_cases.create_customer(world.deps, "nope", "12", "", "")
    assert fields_of(refused) == ["email", "phone"]
    with pytest.raises(InvalidArgument) as empty:
        await use_cases.create_customer(world.deps, " ", "", "", "Nobody")
    assert fields_of(empty) == ["email"]
    assert world.store.rows.customers == {} and world.database.commits == 0


async def test_an_unknown_customer_is_not_found_with_its_id(world: World) -> None:
    with pytest.raises(NotFound) as missing:
        await use_cases.get_cart(world.deps, "c404")
    assert (missing.value.resource_type, missing.value.ids) == ("customer", ["c404"])
    with pytest.raises(InvalidArgument) as too_long:
        await use_cases.get_customer(world.deps, "x" * 37)
    assert fields_of(too_long) == ["customer_id"]


async def test_preferences_naming_a_channel_twice_are_refused(world: World) -> None:
    customer = await world.customer("pref@example.com")
    twice = Preferences((ContactChannel.EMAIL, ContactChannel.EMAIL))
    with pytest.raises(InvalidArgument) as refused:
        await use_cases.update_preferences(world.deps, customer.customer_id, twice)
    assert fields_of(refused) == ["preferences.channels"]
    kept = await use_cases.update_preferences(
        world.deps, customer.customer_id, Preferences((ContactChannel.SMS, ContactChannel.EMAIL))
    )
    assert kept.preferences.channels == (ContactChannel.SMS, ContactChannel.EMAIL)


# ---------------------------------------------------------- timeline, points


async def test_a_milestone_counts_once_and_a_refund_beyond_the_balance_becomes_debt(
    world: World,
) -> None:
    customer_id = (await world.customer("points@example.com")).customer_id
    completed = milestone(TimelineEventKind.ORDER_COMPLETED, "ord-1", 1099)
    assert (await use_cases.record_timeline_event(world.deps, customer_id, completed))[1]
    assert not (await use_cases.record_timeline_event(world.deps, customer_id, completed))[1]
    refund = milestone(TimelineEventKind.REFUND_ISSUED, "ret-1", 3000)
    await use_cases.record_timeline_event(world.deps, customer_id, refund)

    customer, _ = await use_cases.get_customer(world.deps, customer_id)
    assert (customer.loyalty_points, customer.loyalty_debt) == (0, 20)
    history = await use_cases.list_loyalty_history(world.deps, customer_id)
    assert [(e.reason, e.points, e.balance_after, e.debt_after) for e in history] == [
        (LoyaltyReason.ACCRUAL, 10, 10, 0),
        (LoyaltyReason.CLAWBACK, -30, 0, 20),
    ]
    # The refund tells the customer, with money in integer minor units.
    [message] = world.outbox.delivered
    assert message.kind is NotificationKind.REFUND_ISSUED
    assert message.body == "We refunded 30.00 USD for return ret-1."
    assert message.channel is ContactChannel.EMAIL


async def test_a_malformed_milestone_names_its_fields(world: World) -> None:
    customer_id = (await world.customer("bad@example.com")).customer_id
    bad = replace(milestone(TimelineEventKind.ORDER_PLACED, ""), event_id="", amount_minor=-1)
    with pytest.raises(InvalidArgument) as refused:
        await use_cases.record_timeline_event(world.deps, customer_id, bad)
    assert fields_of(refused) == ["event.event_id", "event.reference_id", "event.amount_minor"]
    assert world.store.rows.events == {}


async def test_history_pages_newest_first_with_an_opaque_cursor(world: World) -> None:
    customer_id = (await world.customer("pages@example.com")).customer_id
    for day in (3, 1, 5, 2, 4):
        activity = Activity(
            ActivityKind.ORDER, f"ord-{day}", occurred_at=START + timedelta(days=day)
        )
        await use_cases.record_activity(world.deps, customer_id, activity)
    seen: list[str] = []
    token = ""
    while True:
        page = await use_cases.list_activities(world.deps, customer_id, 2, token)
        seen += [a.reference_id for a in page.items]
        token = page.next_cursor
        if not token:
            break
    assert seen == ["ord-5", "ord-4", "ord-3", "ord-2", "ord-1"]

    with pytest.raises(InvalidArgument) as garbage:
        await use_cases.list_activities(world.deps, customer_id, 2, "not-a-cursor")
    assert fields_of(garbage) == ["page_token"]
    with pytest.raises(InvalidArgument) as too_many:
        await use_cases.list_activities(world.deps, customer_id, 500, "")
    assert fields_of(too_many) == ["limit"]


# ---------------------------------------------------------------------- cart


async def test_a_stale_cart_version_conflicts_and_tells_no_reminder(world: World) -> None:
    customer_id = (await world.customer("cart@example.com")).customer_id
    first = await use_cases.put_cart(
        world.deps, customer_id, [CartLine("SKU-1", 1)], Channel.WEB, 0
    )
    assert first.version == 1
    with pytest.raises(Conflict) as stale:
        await use_cases.put_cart(world.deps, customer_id, [CartLine("SKU-2", 1)], None, 0)
    assert stale.value.reason == "CART_VERSION_MISMATCH"
    assert world.reminders.told == [(customer_id, 1, 1)]
    cart = await use_cases.get_cart(world.deps, customer_id)
    assert (cart.lines, cart.channel) == ([CartLine("SKU-1", 1)], Channel.WEB)


async def test_malformed_cart_lines_are_all_named(world: World) -> None:
    customer_id = (await world.customer("lines@example.com")).customer_id
    lines = [CartLine("A", 0), CartLine("A", 1), CartLine("", 1)]
    with pytest.raises(InvalidArgument) as refused:
        await use_cases.put_cart(world.deps, customer_id, lines, None, None)
    assert fields_of(refused) == [
        "lines[0].quantity",
        "lines[1].sku",
        "lines[2].sku",
    ]


async def test_checkout_takes_the_ordered_skus_out_once_per_order(world: World) -> None:
    customer_id = (await world.customer("checkout@example.com")).customer_id
    lines = [CartLine("A", 3), CartLine("B", 2)]
    await use_cases.put_cart(world.deps, customer_id, lines, Channel.APP, None)
    cart, changed = await use_cases.checkout_cart(world.deps, customer_id, "ord-9", ["A"])
    assert (cart.lines, changed) == ([CartLine("B", 2)], True)
    # Put back after the order: a retried checkout leaves it alone.
    await use_cases.put_cart(world.deps, customer_id, lines, Channel.APP, None)
    cart, changed = await use_cases.checkout_cart(world.deps, customer_id, "ord-9", ["A"])
    assert (cart.lines, changed) == (lines, False)
    with pytest.raises(InvalidArgument) as refused:
        await use_cases.checkout_cart(world.deps, customer_id, "", ["A"])
    assert fields_of(refused) == ["order_id"]


async def test_a_guest_cart_merged_twice_changes_the_cart_once(world: World) -> None:
    customer_id = (await world.customer("guest@example.com")).customer_id
    await use_cases.put_cart(world.deps, customer_id, [CartLine("A", 1)], Channel.WEB, None)
    guest = [CartLine("A", 2), CartLine("B", 1)]
    merged = await use_cases.merge_guest_cart(world.deps, customer_id, guest, None)
    again = await use_cases.merge_guest_cart(world.deps, customer_id, guest, None)
    assert merged.lines == [CartLine("A", 2), CartLine("B", 1)]
    assert (again.version, merged.channel) == (merged.version, Channel.WEB)
    assert len(world.reminders.told) == 2


# --------------------------------------------------------------------- merge


async def test_a_merge_moves_points_history_and_cart_and_a_repeat_changes_nothing(
    world: World,
) -> None:
    survivor = await world.customer("online@example.com", name="")
    duplicate = await world.customer("", "(415) 555-0100", name="Ada In Store")
    completed = milestone(TimelineEventKind.ORDER_COMPLETED, "ord-pos", 1500)
    await use_cases.record_timeline_event(world.deps, duplicate.customer_id, completed)
    await use_cases.put_cart(
        world.deps, duplicate.customer_id, [CartLine("B", 2)], Channel.POS, None
    )
    world.reminders.told.clear()

    merged, record = await use_cases.merge_customers(
        world.deps, survivor.customer_id, duplicate.customer_id, "agent-7"
    )
    assert (merged.customer_id, merged.name, merged.loyalty_points) == (
        survivor.customer_id,
        "Ada In Store",
        15,
    )
    assert {i.kind for i in merged.identities} == {IdentityKind.EMAIL, IdentityKind.PHONE}
    assert world.reminders.told == [(survivor.customer_id, 1, 2), (duplicate.customer_id, 0, 0)]
    timeline = await use_cases.list_timeline(world.deps, duplicate.customer_id, 0, "")
    assert [e.reference_id for e in timeline.items] == ["ord-pos"]

    _, again = await use_cases.merge_customers(
        world.deps, survivor.customer_id, duplicate.customer_id, "agent-7"
    )
    assert again.merge_id == record.merge_id
    assert len(world.reminders.told) == 2
    history = await use_cases.list_loyalty_history(world.deps, survivor.customer_id)
    assert [(e.reason, e.points) for e in history] == [
        (LoyaltyReason.ACCRUAL, 15),
        (LoyaltyReason.MERGE, 15),
    ]
    export = await use_cases.export_customer(world.deps, duplicate.customer_id)
    assert (export.aliases, [m.actor for m in export.merges]) == (
        [duplicate.customer_id],
        ["agent-7"],
    )


async def test_a_merge_into_itself_or_an_erased_customer_is_refused_and_changes_nothing(
    world: World,
) -> None:
    one = await world.customer("one@example.com")
    other = await world.customer("other@example.com")
    with pytest.raises(BusinessRuleViolation) as itself:
        await use_cases.merge_customers(world.deps, one.customer_id, one.customer_id, "")
    assert itself.value.reason == "MERGE_INTO_ITSELF"

    await use_cases.erase_customer(world.deps, other.customer_id)
    rows_before = copy.deepcopy(world.store.rows)
    with pytest.raises(BusinessRuleViolation) as erased:
        await use_cases.merge_customers(world.deps, other.customer_id, one.customer_id, "")
    assert (erased.value.reason, erased.value.metadata) == (
        "CUSTOMER_ERASED",
        {"customer_id": other.customer_id},
    )
    assert world.store.rows == rows_before
    with pytest.raises(BusinessRuleViolation):
        await use_cases.put_cart(world.deps, other.customer_id, [CartLine("A", 1)], None, None)


# ------------------------------------------------------------- notifications


async def test_marketing_waits_for_consent_and_a_notification_id_is_sent_once(
    world: World,
) -> None:
    customer_id = (await world.customer("consent@example.com")).customer_id

    async def remind(notification_id: str) -> Notification:
        return await use_cases.send_notification(
            world.deps,
            customer_id,
            notification_id,
            NotificationKind.CART_REMINDER,
            "cart",
            {"items": "2"},
        )

    assert (await remind("r-1")).status is NotificationStatus.SUPPRESSED
    consent = (ContactChannel.EMAIL,)
    await use_cases.update_preferences(world.deps, customer_id, Preferences(consent, consent))
    sent = await remind("r-2")
    assert (sent.status, sent.channel) == (NotificationStatus.SENT, ContactChannel.EMAIL)
    await remind("r-2")
    assert [m.notification_id for m in world.outbox.delivered] == ["r-2", "r-2"]
    listed = await use_cases.list_notifications(world.deps, customer_id, 0, "")
    assert [m.notification_id for m in listed.items] == ["r-2", "r-1"]
    with pytest.raises(InvalidArgument) as refused:
        await remind("")
    assert fields_of(refused) == ["notification_id"]


async def test_erase_removes_personal_data_and_ends_the_reminder(world: World) -> None:
    customer = await world.customer("erase@example.com", "(415) 555-0199", name="Erin")
    await use_cases.put_cart(
        world.deps, customer.customer_id, [CartLine("A", 1)], Channel.WEB, None
    )
    erased, aliases = await use_cases.erase_customer(world.deps, customer.customer_id)
    assert (erased.erased, erased.name, erased.identities, aliases) == (True, "", [], [])
    assert world.reminders.told[-1] == (customer.customer_id, 0, 0)
    assert (await use_cases.get_cart(world.deps, customer.customer_id)).lines == []
    again, created = await use_cases.create_customer(world.deps, "erase@example.com", "", "", "")
    assert created and again.customer_id != customer.customer_id
