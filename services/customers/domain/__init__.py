"""The customers service's rules, no I/O: who a customer is (customers), their
history (history), points (loyalty), cart (carts), messages (notifications),
merging two records into one (merges) and what an export holds (export)."""

from services.customers.domain.carts import (
    Cart,
    CartLine,
    merge_cart_lines,
    validate_cart_lines,
    validate_checkout,
    version_mismatch,
    without_ordered,
)
from services.customers.domain.customers import (
    MAX_TEXT_LENGTH,
    Customer,
    Identity,
    Preferences,
    check_customer_id,
    choose_match,
    ensure_not_erased,
    identities_from,
    normalize_email,
    normalize_phone,
    validate_customer_id,
    validate_name,
    validate_preferences,
)
from services.customers.domain.export import CustomerExport
from services.customers.domain.history import (
    Activity,
    HistoryKey,
    TimelineEvent,
    validate_activity,
    validate_timeline_event,
)
from services.customers.domain.loyalty import LoyaltyEntry, entry_for_event
from services.customers.domain.merges import (
    MergeRecord,
    earlier_merge,
    plan_merge,
)
from services.customers.domain.notifications import (
    DeliveryRetry,
    Notification,
    address_for,
    compose_notification,
    milestone_notification,
    validate_notification_id,
)

__all__ = [
    "MAX_TEXT_LENGTH",
    "Activity",
    "Cart",
    "CartLine",
    "Customer",
    "CustomerExport",
    "DeliveryRetry",
    "HistoryKey",
    "Identity",
    "LoyaltyEntry",
    "MergeRecord",
    "Notification",
    "Preferences",
    "TimelineEvent",
    "address_for",
    "check_customer_id",
    "choose_match",
    "compose_notification",
    "earlier_merge",
    "ensure_not_erased",
    "entry_for_event",
    "identities_from",
    "merge_cart_lines",
    "milestone_notification",
    "normalize_email",
    "normalize_phone",
    "plan_merge",
    "validate_activity",
    "validate_cart_lines",
    "validate_checkout",
    "validate_customer_id",
    "validate_name",
    "validate_notification_id",
    "validate_preferences",
    "validate_timeline_event",
    "version_mismatch",
    "without_ordered",
]
