"""What the Temporal UI shows of a journey: its search attributes, its current
details and the summary of each activity call.

The one place that writes them (workflows call these, never
`workflow.upsert_search_attributes` directly), so `OrderStatus="ready_for_pickup"
AND StoreId="S1"` finds exactly the orders in that state at that store:
- `show_order(state)` after every status change and reroute (steps.py calls it
  from `record`, which every change goes through, and `show_adopted` when the
  orders service placed the order, which records `placed` itself);
- `flag_needs_attention(reason)` when a compensation keeps failing, and
  `clear_needs_attention()` once it went through (NeedsAttention is the signal
  an operator's saved view and alert watch).
Only ids and words: never a token, code, name or address.

An upsert is a command in the history: nothing is upserted when the value is
already there, and runs started before this module existed replay without
any (VISIBILITY_PATCH).
"""

from __future__ import annotations

from typing import Any

from temporalio import workflow
from temporalio.common import (
    SearchAttributeKey,
    SearchAttributeUpdate,
)

with workflow.unsafe.imports_passed_through():
    from omni.words import FulfillmentStatus, FulfillmentType
    from workflows.order.state import Fulfillment, OrderState

# Runs started before the order's status and type were upserted replay without.
VISIBILITY_PATCH = "visibility-search-attributes"
# Runs placed by the orders service before their placement was shown replay without.
ADOPTED_PATCH = "visibility-at-adoption"

ORDER_ID = SearchAttributeKey.for_keyword("OrderId")
CUSTOMER_ID = SearchAttributeKey.for_keyword("CustomerId")
CHANNEL = SearchAttributeKey.for_keyword("Channel")
STORE_ID = SearchAttributeKey.for_keyword("StoreId")
FULFILLMENT_TYPE = SearchAttributeKey.for_keyword("FulfillmentType")
ORDER_STATUS = SearchAttributeKey.for_keyword("OrderStatus")
NEEDS_ATTENTION = SearchAttributeKey.for_bool("NeedsAttention")

ATTENTION = "**needs attention**"

KEYS: tuple[SearchAttributeKey[Any], ...] = (
    ORDER_ID,
    CUSTOMER_ID,
    CHANNEL,
    STORE_ID,
    FULFILLMENT_TYPE,
    ORDER_STATUS,
    NEEDS_ATTENTION,
)


def working_location(state: OrderState) -> str:
    """The location doing the order's work now: the newest open fulfillment's
    (a reroute moves it), else the last one that had any, else the pickup store."""
    with_status = [f for f in state.fulfillments if f.status is not None]
    open_now = [f for f in with_status if f.is_open]
    if open_now:
        return open_now[-1].location_id
    delivered = [f for f in with_status if f.status != FulfillmentStatus.REROUTED]
    if delivered:
        return delivered[-1].location_id
    if state.fulfillments:
        return state.fulfillments[-1].location_id
    if state.fulfillment_type == FulfillmentType.PICKUP:
        return state.order.pickup_location_id
    return ""


def order_attributes(state: OrderState) -> dict[str, str]:
    """The keyword attributes of the order as it stands (pure: table-tested)."""
    return {
        ORDER_ID.name: state.order.order_id,
        CUSTOMER_ID.name: state.order.customer_id,
        CHANNEL.name: state.order.channel,
        STORE_ID.name: working_location(state),
        FULFILLMENT_TYPE.name: state.fulfillment_type,
        ORDER_STATUS.name: state.status,
    }


def current_details(state: OrderState) -> str:
    """The UI's "current details": the order's status and each fulfillment's."""
    lines = [f"**{state.status}** · {state.fulfillment_type} · {state.order.channel}"]
    lines += [_fulfillment_line(f) for f in state.fulfillments if f.status is not None]
    return "\n\n".join(lines)


def _fulfillment_line(fulfillment: Fulfillment) -> str:
    items = sum(line.quantity for line in fulfillment.lines)
    where = f"{fulfillment.fulfillment_id} at {fulfillment.location_id}"
    return f"{where}: {fulfillment.status} ({items} items)"


def _changed(wanted: dict[str, str]) -> list[SearchAttributeUpdate[Any]]:
    current = workflow.info().typed_search_attributes
    updates: list[SearchAttributeUpdate[Any]] = []
    for key in KEYS:
        if key.name not in wanted:
            continue
        value, now = wanted[key.name], current.get(key)
        if value == (now or ""):
            continue
        updates.append(key.value_set(value) if value else key.value_unset())
    return updates


def show_order(state: OrderState) -> None:
    """Upserts what changed of the order's search attributes and refreshes its
    current details. Deterministic: the same state gives the same commands."""
    details = current_details(state)
    if workflow.info().typed_search_attributes.get(NEEDS_ATTENTION) is True:
        details = f"{ATTENTION} (see the history)\n\n{details}"
    workflow.set_current_details(details)
    if not workflow.patched(VISIBILITY_PATCH):
        return
    updates = _changed(order_attributes(state))
    if updates:
        workflow.upsert_search_attributes(updates)


def show_adopted(state: OrderState) -> None:
    """show_order for an order the orders service placed (no `record` runs at
    its placement). Runs started before this call existed replay without it."""
    if workflow.patched(ADOPTED_PATCH):
        show_order(state)


def flag_needs_attention(reason: str) -> None:
    """A compensation keeps failing: NeedsAttention=true (once) and the reason
    in the current details. The caller logs and counts it too."""
    details = workflow.get_current_details()
    if details.startswith(ATTENTION):
        details = details.split("\n\n", 1)[-1]
    workflow.set_current_details(f"{ATTENTION}: {reason}\n\n{details}")
    if workflow.info().typed_search_attributes.get(NEEDS_ATTENTION) is not True:
        workflow.upsert_search_attributes([NEEDS_ATTENTION.value_set(True)])


def clear_needs_attention() -> None:
    """What needed attention went through: NeedsAttention=false (when it was set)."""
    if workflow.info().typed_search_attributes.get(NEEDS_ATTENTION) is True:
        workflow.upsert_search_attributes([NEEDS_ATTENTION.value_set(False)])


def activity_summary(activity: Any, argument: Any) -> str:
    """The one line shown on an activity's event in the UI: its name and the
    step key or reference it acts on (ids only, never a token or code)."""
    # The name the activity is registered under (e.g. inventory.reserve_stock).
    definition = getattr(activity, "__temporal_activity_definition", None)
    name = str(getattr(definition, "name", None) or getattr(activity, "__name__", activity))
    for field_name in (
        "idempotency_key",
        "reservation_id",
        "event_id",
        "notification_id",
        "order_id",
        "location_id",
        "return_id",
        "customer_id",
    ):
        value = getattr(argument, field_name, "")
        if isinstance(value, str) and value:
            return f"{name} · {value}"
    return name
