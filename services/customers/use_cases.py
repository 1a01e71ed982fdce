"""The customers service's application layer: one short function per RPC.

Each validates its input, opens one unit of work, loads through the store,
lets the domain decide, saves and commits; what may happen only after the
commit (delivering a message, telling a cart's reminder) comes last. Every
customer id is resolved through merges first, so a merged duplicate's id
keeps working everywhere (it answers as the survivor).

No call takes an idempotency key: every write is idempotent by its own
business key (event id, notification id, order id, the merged pair), and a
repeat answers what is true now (`recorded`/`checked_out` false).

The use cases get the store, the database and the adapters through
`Dependencies`, so unit tests run them on in-memory fakes.

(Past the house's ~400 lines on purpose: seventeen RPCs and the one Store
protocol they share; split, one service's application layer would be in
several places.)
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field, replace
from typing import Protocol, TypeVar

from omni.words import Channel, NotificationKind, StoreNotificationKind
from services.common.errors import InvalidArgument, Unavailable
from services.common.paging import Page, page_size
from services.common.plain_session import SessionUnitOfWork, SqlSession
from services.common.validation import Violations
from services.customers import domain
from services.customers.domain import (
    Activity,
    Cart,
    CartLine,
    Customer,
    CustomerExport,
    HistoryKey,
    Identity,
    LoyaltyEntry,
    MergeRecord,
    Notification,
    Preferences,
    TimelineEvent,
)
from services.customers.domain.store_notifications import (
    StoreNotification,
    compose_store_notification,
)

Item = TypeVar("Item")

CREATE_ATTEMPTS = 5
EXPORT_LIMIT = 10_000


class Store(Protocol):
    """The store functions the use cases call: `services.customers.store`, or a fake."""

    async def resolve(self, session: SqlSession, customer_id: str) -> str: ...
    async def get_customer(
        self, session: SqlSession, customer_id: str, *, lock: bool = False
    ) -> Customer: ...
    async def identity_owners(
        self, session: SqlSession, identities: list[Identity]
    ) -> dict[Identity, str]: ...
    async def add_identities(
        self, session: SqlSession, customer_id: str, identities: list[Identity]
    ) -> int: ...
    async def insert_customer(
        self, session: SqlSession, customer_id: str, name: str, identities: list[Identity]
    ) -> bool: ...
    async def update_preferences(
        self, session: SqlSession, customer_id: str, preferences: Preferences
    ) -> None: ...
    async def erase_customer(self, session: SqlSession, customer_id: str) -> None: ...
    async def aliases_of(self, session: SqlSession, customer_id: str) -> list[str]: ...
    async def record_activity(
        self, session: SqlSession, customer_id: str, activity: Activity
    ) -> Activity: ...
    async def list_activities(
        self, session: SqlSession, customer_id: str, limit: int, after: HistoryKey | None
    ) -> Page[Activity]: ...
    async def record_event(
        self, session: SqlSession, customer_id: str, event: TimelineEvent
    ) -> tuple[TimelineEvent, bool]: ...
    async def list_events(
        self, session: SqlSession, customer_id: str, limit: int, after: HistoryKey | None
    ) -> Page[TimelineEvent]: ...
    async def record_loyalty_entry(
        self, session: SqlSession, customer_id: str, entry: LoyaltyEntry
    ) -> bool: ...
    async def loyalty_history(
        self, session: SqlSession, customer_id: str
    ) -> list[LoyaltyEntry]: ...
    async def get_cart(
        self, session: SqlSession, customer_id: str, *, lock: bool = False
    ) -> Cart: ...
    async def put_cart(
        self,
        session: SqlSession,
        customer_id: str,
        lines: list[CartLine],
        channel: Channel | None,
        expected_version: int | None,
    ) -> Cart: ...
    async def delete_cart(self, session: SqlSession, customer_id: str) -> None: ...
    async def record_checkout(
        self, session: SqlSession, customer_id: str, order_id: str
    ) -> bool: ...
    async def queue_notification(
        self, session: SqlSession, customer_id: str, message: Notification
    ) -> Notification: ...
    async def list_notifications(
        self, session: SqlSession, customer_id: str, limit: int, after: HistoryKey | None
    ) -> Page[Notification]: ...
    async def merge_record(self, session: SqlSession, duplicate_id: str) -> MergeRecord | None: ...
    async def merges_into(self, session: SqlSession, survivor_id: str) -> list[MergeRecord]: ...
    async def move_history(
        self, session: SqlSession, survivor_id: str, duplicate_id: str
    ) -> None: ...
    async def absorb(
        self,
        session: SqlSession,
        merge_id: str,
        survivor_id: str,
        duplicate_id: str,
        name: str,
        actor: str,
    ) -> MergeRecord: ...


class StoreOutbox(Protocol):
    """Messages to a store's associates (the store outbox, issue 11)."""

    async def put_store_notification(
        self, session: SqlSession, message: StoreNotification
    ) -> StoreNotification: ...
    async def list_store_notifications(
        self, session: SqlSession, store_id: str, limit: int, after: HistoryKey | None
    ) -> Page[StoreNotification]: ...


def _store_outbox() -> StoreOutbox:
    from services.customers.store import store_notifications

    return store_notifications


class Transactions(Protocol):
    def unit_of_work(self) -> AbstractAsyncContextManager[SessionUnitOfWork]: ...


class Reminders(Protocol):
    """adapters.reminders.CartReminders: best effort, never raises."""

    async def cart_changed(self, cart: Cart) -> None: ...


# Delivers a message just queued (adapters.outbox.OutboxDrainer.deliver).
Deliver = Callable[[Customer, Notification], Awaitable[Notification]]


def _new_id() -> str:
    return str(uuid.uuid4())


@dataclass(frozen=True)
class Dependencies:
    database: Transactions
    store: Store
    reminders: Reminders
    deliver: Deliver
    # Points per whole currency unit of a completed order.
    points_per_unit: int = 1
    new_id: Callable[[], str] = field(default=_new_id)
    # The store outbox (services/customers/store/store_notifications.py).
    store_outbox: StoreOutbox = field(default_factory=_store_outbox)


# ------------------------------------------------------------------ identity


async def create_customer(
    deps: Dependencies,
    email: str,
    phone: str,
    loyalty_card: str,
    name: str,
    *,
    leave_matched_unchanged: bool = False,
) -> tuple[Customer, bool]:
    """The customer holding one of the identities, or a new one; True when
    created. `leave_matched_unchanged`: a match gets none of the new identities
    (a guest's or another customer's call must not change someone's record)."""
    identities = domain.identities_from(email, phone, loyalty_card)
    name = domain.validate_name(name)
    async with deps.database.unit_of_work() as uow:
        found = await _match_or_create(
            deps, uow.session, identities, name, attach=not leave_matched_unchanged
        )
        await uow.commit()
    return found


async def _match_or_create(
    deps: Dependencies,
    session: SqlSession,
    identities: list[Identity],
    name: str,
    *,
    attach: bool = True,
) -> tuple[Customer, bool]:
    store = deps.store
    for _ in range(CREATE_ATTEMPTS):
        owners = await store.identity_owners(session, identities)
        matched = domain.choose_match(identities, owners)
        if matched is not None:
            if attach:
                new = [i for i in identities if i not in owners]
                await store.add_identities(session, matched, new)
            return await store.get_customer(session, matched), False
        customer_id = deps.new_id()
        # A concurrent create may win an identity: then match theirs.
        if await store.insert_customer(session, customer_id, name, identities):
            return await store.get_customer(session, customer_id), True
    raise Unavailable("the customer's identities kept changing; retry")


async def get_customer(deps: Dependencies, customer_id: str) -> tuple[Customer, list[str]]:
    """The customer (the survivor, for a merged id) and the ids merged into it."""
    domain.validate_customer_id(customer_id)
    async with deps.database.unit_of_work() as uow:
        customer = await deps.store.get_customer(uow.session, customer_id)
        return customer, await deps.store.aliases_of(uow.session, customer.customer_id)


async def find_customers(
    deps: Dependencies, email: str, phone: str, loyalty_card: str
) -> list[Customer]:
    """Who holds any of these identities (exact, after normalizing), merged
    ids resolved, each once, erased customers left out."""
    identities = domain.identities_from(email, phone, loyalty_card)
    found: list[Customer] = []
    async with deps.database.unit_of_work() as uow:
        owners = await deps.store.identity_owners(uow.session, identities)
        seen: set[str] = set()
        for identity in identities:
            owner = owners.get(identity)
            if owner is None:
                continue
            customer = await deps.store.get_customer(uow.session, owner)
            if customer.customer_id in seen or customer.erased:
                continue
            seen.add(customer.customer_id)
            found.append(customer)
    return found


async def merge_customers(
    deps: Dependencies, survivor_ref: str, duplicate_id: str, actor: str
) -> tuple[Customer, MergeRecord]:
    """Moves everything of the duplicate to the survivor. Asking again for the
    same pair returns the first merge's record and changes nothing."""
    violations = Violations()
    domain.check_customer_id(violations, "survivor_customer_id", survivor_ref)
    domain.check_customer_id(violations, "duplicate_customer_id", duplicate_id)
    violations.raise_if_any()
    store = deps.store
    cart: Cart | None = None
    async with deps.database.unit_of_work() as uow:
        survivor_id = await store.resolve(uow.session, survivor_ref)
        await store.resolve(uow.session, duplicate_id)  # NotFound for an unknown duplicate
        done = await store.merge_record(uow.session, duplicate_id)
        merge = domain.earlier_merge(done, survivor_id, duplicate_id)
        if merge is None:
            merge, cart = await _merge(deps, uow.session, survivor_id, duplicate_id, actor)
        customer = await store.get_customer(uow.session, survivor_id)
        await uow.commit()
    if cart is not None:
        await deps.reminders.cart_changed(cart)
        await deps.reminders.cart_changed(Cart(customer_id=duplicate_id))
    return customer, merge


async def _merge(
    deps: Dependencies, session: SqlSession, survivor_id: str, duplicate_id: str, actor: str
) -> tuple[MergeRecord, Cart | None]:
    """(the merge, the survivor's cart when the merge changed it)."""
    store = deps.store
    # Both rows locked in id order, so two crossing merges cannot deadlock.
    locked = {
        customer_id: await store.get_customer(session, customer_id, lock=True)
        for customer_id in sorted((survivor_id, duplicate_id))
    }
    merge_id = deps.new_id()
    plan = domain.plan_merge(
        merge_id,
        locked[survivor_id],
        locked[duplicate_id],
        await store.get_cart(session, survivor_id, lock=True),
        await store.get_cart(session, duplicate_id, lock=True),
    )
    await store.move_history(session, survivor_id, duplicate_id)
    if plan.points is not None:
        await store.record_loyalty_entry(session, survivor_id, plan.points)
    await store.delete_cart(session, duplicate_id)
    cart = None
    if plan.cart is not None:
        cart = await store.put_cart(session, survivor_id, plan.cart.lines, plan.cart.channel, None)
    actor = actor[: domain.MAX_TEXT_LENGTH]
    merge = await store.absorb(session, merge_id, survivor_id, duplicate_id, plan.name, actor)
    return merge, cart


async def update_preferences(
    deps: Dependencies, customer_id: str, preferences: Preferences
) -> Customer:
    domain.validate_customer_id(customer_id)
    domain.validate_preferences(preferences)
    async with deps.database.unit_of_work() as uow:
        customer = await deps.store.get_customer(uow.session, customer_id, lock=True)
        domain.ensure_not_erased(customer)
        await deps.store.update_preferences(uow.session, customer.customer_id, preferences)
        await uow.commit()
    return replace(customer, preferences=preferences)


# ------------------------------------------------------------------- history


async def record_activity(deps: Dependencies, customer_id: str, activity: Activity) -> Activity:
    domain.validate_customer_id(customer_id)
    domain.validate_activity(activity)
    async with deps.database.unit_of_work() as uow:
        live_id = await deps.store.resolve(uow.session, customer_id)
        recorded = await deps.store.record_activity(uow.session, live_id, activity)
        await uow.commit()
    return recorded


async def _history_page(
    deps: Dependencies,
    customer_id: str,
    limit: int,
    page_token: str,
    list_page: Callable[[SqlSession, str, int, HistoryKey | None], Awaitable[Page[Item]]],
) -> Page[Item]:
    """One page of a customer's history, newest first."""
    domain.validate_customer_id(customer_id)
    size = page_size(limit, field="limit")
    after = HistoryKey.from_cursor(page_token)
    async with deps.database.unit_of_work() as uow:
        live_id = await deps.store.resolve(uow.session, customer_id)
        return await list_page(uow.session, live_id, size, after)


async def list_activities(
    deps: Dependencies, customer_id: str, limit: int, page_token: str
) -> Page[Activity]:
    return await _history_page(deps, customer_id, limit, page_token, deps.store.list_activities)


async def record_timeline_event(
    deps: Dependencies, customer_id: str, event: TimelineEvent
) -> tuple[TimelineEvent, bool]:
    """The event once (True when this call recorded it); with it, in the same
    unit of work, its loyalty points and its message (keyed by the event id)."""
    domain.validate_customer_id(customer_id)
    domain.validate_timeline_event(event)
    store = deps.store
    async with deps.database.unit_of_work() as uow:
        customer = await store.get_customer(uow.session, customer_id, lock=True)
        stored, recorded = await store.record_event(uow.session, customer.customer_id, event)
        entry = domain.entry_for_event(customer, event, deps.points_per_unit) if recorded else None
        if entry is not None:
            await store.record_loyalty_entry(uow.session, customer.customer_id, entry)
        message = domain.milestone_notification(customer, event)
        if message is not None:
            message = await store.queue_notification(uow.session, customer.customer_id, message)
        await uow.commit()
    if message is not None:
        await deps.deliver(customer, message)
    return stored, recorded


async def list_timeline(
    deps: Dependencies, customer_id: str, limit: int, page_token: str
) -> Page[TimelineEvent]:
    return await _history_page(deps, customer_id, limit, page_token, deps.store.list_events)


async def list_loyalty_history(deps: Dependencies, customer_id: str) -> list[LoyaltyEntry]:
    domain.validate_customer_id(customer_id)
    async with deps.database.unit_of_work() as uow:
        live_id = await deps.store.resolve(uow.session, customer_id)
        return await deps.store.loyalty_history(uow.session, live_id)


# ---------------------------------------------------------------------- cart


async def get_cart(deps: Dependencies, customer_id: str) -> Cart:
    domain.validate_customer_id(customer_id)
    async with deps.database.unit_of_work() as uow:
        live_id = await deps.store.resolve(uow.session, customer_id)
        return await deps.store.get_cart(uow.session, live_id)


async def put_cart(
    deps: Dependencies,
    customer_id: str,
    lines: list[CartLine],
    channel: Channel | None,
    expected_version: int | None,
) -> Cart:
    """Replaces the lines; with `expected_version`, only if nobody wrote since."""
    domain.validate_customer_id(customer_id)
    domain.validate_cart_lines(lines)
    if expected_version is not None and expected_version < 0:
        raise InvalidArgument.field("expected_version", "must not be negative")
    async with deps.database.unit_of_work() as uow:
        customer = await deps.store.get_customer(uow.session, customer_id)
        domain.ensure_not_erased(customer)
        cart = await deps.store.put_cart(
            uow.session, customer.customer_id, lines, channel, expected_version
        )
        await uow.commit()
    await deps.reminders.cart_changed(cart)
    return cart


async def merge_guest_cart(
    deps: Dependencies, customer_id: str, guest_lines: list[CartLine], channel: Channel | None
) -> Cart:
    """Folds a guest's cart into the customer's; a repeat changes nothing."""
    domain.validate_customer_id(customer_id)
    domain.validate_cart_lines(guest_lines)
    async with deps.database.unit_of_work() as uow:
        customer = await deps.store.get_customer(uow.session, customer_id)
        domain.ensure_not_erased(customer)
        current = await deps.store.get_cart(uow.session, customer.customer_id, lock=True)
        lines = domain.merge_cart_lines(current.lines, guest_lines)
        if lines == current.lines:
            return current
        cart = await deps.store.put_cart(
            uow.session, customer.customer_id, lines, channel or current.channel, None
        )
        await uow.commit()
    await deps.reminders.cart_changed(cart)
    return cart


async def checkout_cart(
    deps: Dependencies, customer_id: str, order_id: str, ordered_skus: list[str]
) -> tuple[Cart, bool]:
    """The order's skus leave the cart, once per order (True when this call
    took lines out); a line put back after the order stays."""
    domain.validate_customer_id(customer_id)
    domain.validate_checkout(order_id, ordered_skus)
    store = deps.store
    async with deps.database.unit_of_work() as uow:
        live_id = await store.resolve(uow.session, customer_id)
        first_time = await store.record_checkout(uow.session, live_id, order_id)
        cart = await store.get_cart(uow.session, live_id, lock=True)
        lines = domain.without_ordered(cart.lines, ordered_skus)
        changed = first_time and lines != cart.lines
        if changed:
            cart = await store.put_cart(uow.session, live_id, lines, cart.channel, None)
        await uow.commit()
    if changed:
        await deps.reminders.cart_changed(cart)
    return cart, changed


# ------------------------------------------------------------- notifications


async def send_notification(
    deps: Dependencies,
    customer_id: str,
    notification_id: str,
    kind: NotificationKind,
    reference_id: str,
    details: dict[str, str],
) -> Notification:
    """Queues the message once per notification_id, then delivers it."""
    domain.validate_customer_id(customer_id)
    domain.validate_notification_id(notification_id)
    async with deps.database.unit_of_work() as uow:
        customer = await deps.store.get_customer(uow.session, customer_id)
        message = domain.compose_notification(
            notification_id, kind, reference_id, details, customer
        )
        message = await deps.store.queue_notification(uow.session, customer.customer_id, message)
        await uow.commit()
    return await deps.deliver(customer, message)


async def list_notifications(
    deps: Dependencies, customer_id: str, limit: int, page_token: str
) -> Page[Notification]:
    return await _history_page(deps, customer_id, limit, page_token, deps.store.list_notifications)


# ------------------------------------------------------------------- privacy


async def export_customer(deps: Dependencies, customer_id: str) -> CustomerExport:
    domain.validate_customer_id(customer_id)
    store = deps.store
    async with deps.database.unit_of_work() as uow:
        session = uow.session
        customer = await store.get_customer(session, customer_id)
        live_id = customer.customer_id
        return CustomerExport(
            customer=customer,
            activities=(await store.list_activities(session, live_id, EXPORT_LIMIT, None)).items,
            timeline=(await store.list_events(session, live_id, EXPORT_LIMIT, None)).items,
            cart=await store.get_cart(session, live_id),
            loyalty_history=await store.loyalty_history(session, live_id),
            notifications=(
                await store.list_notifications(session, live_id, EXPORT_LIMIT, None)
            ).items,
            merges=await store.merges_into(session, live_id),
            aliases=await store.aliases_of(session, live_id),
        )


async def erase_customer(deps: Dependencies, customer_id: str) -> tuple[Customer, list[str]]:
    """Removes personal data; the pseudonymous id and its history stay.
    (the erased customer, the ids merged into it, erased with it)."""
    domain.validate_customer_id(customer_id)
    store = deps.store
    async with deps.database.unit_of_work() as uow:
        live_id = await store.resolve(uow.session, customer_id)
        await store.erase_customer(uow.session, live_id)
        customer = await store.get_customer(uow.session, live_id)
        aliases = await store.aliases_of(uow.session, live_id)
        await uow.commit()
    # Its cart is gone: a pending reminder must not go out.
    await deps.reminders.cart_changed(Cart(customer_id=live_id))
    return customer, aliases


# ------------------------------------------------------------- store outbox


async def send_store_notification(
    deps: Dependencies,
    notification_id: str,
    store_id: str,
    kind: StoreNotificationKind | None,
    reference_id: str,
    details: dict[str, str],
) -> StoreNotification:
    """Stores a message to a store's associates once per notification_id (a
    repeat answers the first); the store reads it in its outbox."""
    message = compose_store_notification(notification_id, store_id, kind, reference_id, details)
    async with deps.database.unit_of_work() as uow:
        stored = await deps.store_outbox.put_store_notification(uow.session, message)
        await uow.commit()
    return stored


async def list_store_notifications(
    deps: Dependencies, store_id: str, limit: int, page_token: str
) -> Page[StoreNotification]:
    """A store's messages, newest first."""
    violations = Violations()
    violations.check_id("store_id", store_id)
    violations.raise_if_any()
    size = page_size(limit, field="limit")
    after = HistoryKey.from_cursor(page_token)
    async with deps.database.unit_of_work() as uow:
        return await deps.store_outbox.list_store_notifications(uow.session, store_id, size, after)
