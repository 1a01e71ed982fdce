"""The messages milestones send (issue 14): every placed order is confirmed
with its lines and total; ready, shipped, cancelled and refunded messages
list the lines they concern; a milestone without lines says nothing about
items rather than printing a placeholder."""

from __future__ import annotations

import pytest

from omni.words import IdentityKind, NotificationKind, NotificationStatus, TimelineEventKind
from services.customers.domain import Customer, Identity
from services.customers.domain.history import TimelineEvent
from services.customers.domain.notifications import (
    NOTIFICATION_TEMPLATES,
    milestone_notification,
)

ADA = Customer(
    customer_id="C1",
    name="Ada",
    identities=[Identity(IdentityKind.EMAIL, "ada@example.com")],
)


def event(kind: TimelineEventKind, **details: str) -> TimelineEvent:
    return TimelineEvent(
        event_id=f"order-O1/timeline/{kind}",
        kind=kind,
        reference_id="O1",
        order_id="O1",
        amount_minor=3750,
        currency="USD",
        details=details,
    )


def test_every_placed_order_is_confirmed_with_its_lines_and_total() -> None:
    message = milestone_notification(
        ADA, event(TimelineEventKind.ORDER_PLACED, lines="2 x SKU-MUG, 1 x SKU-CAP")
    )
    assert message is not None
    assert message.kind == NotificationKind.ORDER_CONFIRMED
    assert message.status == NotificationStatus.QUEUED and not message.marketing
    assert "O1" in message.body and "2 x SKU-MUG, 1 x SKU-CAP" in message.body
    assert "37.50 USD" in message.body
    # Keyed by the milestone: a repeated milestone is the same message.
    assert message.notification_id == "order-O1/timeline/order_placed/notify"


@pytest.mark.parametrize(
    ("kind", "details"),
    [
        (TimelineEventKind.READY_FOR_PICKUP, {"pickup_code": "123456"}),
        (TimelineEventKind.ORDER_SHIPPED, {"carrier": "UPS", "tracking_number": "1Z"}),
        (TimelineEventKind.ORDER_CANCELLED, {}),
        (TimelineEventKind.REFUND_ISSUED, {}),
    ],
)
def test_status_messages_list_the_lines_they_concern(
    kind: TimelineEventKind, details: dict[str, str]
) -> None:
    message = milestone_notification(ADA, event(kind, lines="1 x SKU-MUG", **details))
    assert message is not None and "Items: 1 x SKU-MUG." in message.body
    bare = milestone_notification(ADA, event(kind, **details))
    assert bare is not None and "Items" not in bare.body and " - " not in bare.body


def test_an_erased_customer_is_confirmed_to_nobody() -> None:
    erased = Customer(customer_id="C2", name="", identities=[], erased=True)
    message = milestone_notification(erased, event(TimelineEventKind.ORDER_PLACED, lines="1 x A"))
    assert message is not None and message.status == NotificationStatus.SUPPRESSED


def test_every_kind_of_message_has_its_words() -> None:
    assert set(NOTIFICATION_TEMPLATES) == set(NotificationKind)


def test_a_cancel_of_some_lines_says_which_and_that_the_rest_goes_ahead() -> None:
    """Issue 11, line cancels: the customer is told which units were cancelled
    and what they will not pay, not that their order is gone."""
    part = milestone_notification(
        ADA, event(TimelineEventKind.ORDER_CANCELLED, lines="1 x SKU-MUG", scope="lines")
    )
    whole = milestone_notification(ADA, event(TimelineEventKind.ORDER_CANCELLED, lines="1 x A"))
    assert part is not None and whole is not None
    assert part.kind == whole.kind == NotificationKind.ORDER_CANCELLED
    assert part.subject == "Part of your order was cancelled"
    assert "Items: 1 x SKU-MUG." in part.body and "37.50 USD" in part.body
    assert "rest of the order goes ahead" in part.body
    assert "was cancelled." in whole.body and "rest" not in whole.body
