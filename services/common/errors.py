"""Domain errors: what went wrong in business terms, with no transport in sight.

Domains and stores raise these; one gRPC interceptor (grpc_errors.py) maps them
to status codes with details, and the gateway maps those to problem+json.
"""

from __future__ import annotations

from dataclasses import dataclass


class DomainError(Exception):
    """Base of every error a service reports to its callers on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(DomainError):
    """The thing named does not exist (or the caller may not see it).

    `resource_type` and `ids` travel as google.rpc ResourceInfo, so a caller
    learns which ids were missing without reading the message."""

    def __init__(self, message: str, *, resource_type: str = "", ids: list[str] | None = None):
        super().__init__(message)
        self.resource_type = resource_type
        self.ids = ids or []


class AlreadyExists(DomainError):
    """A create named an id that is already taken."""


@dataclass(frozen=True)
class FieldViolation:
    field: str
    message: str


class InvalidArgument(DomainError):
    """The request is malformed; `violations` name the fields."""

    def __init__(self, message: str, violations: list[FieldViolation] | None = None) -> None:
        super().__init__(message)
        self.violations = violations or []

    @classmethod
    def field(cls, name: str, message: str) -> InvalidArgument:
        return cls(f"{name}: {message}", [FieldViolation(name, message)])


class BusinessRuleViolation(DomainError):
    """Well-formed but refused by a rule (not enough stock, card declined).

    `reason` is a stable UPPER_SNAKE code; `metadata` carries the particulars.
    """

    def __init__(self, reason: str, message: str, metadata: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.metadata = metadata or {}


class Conflict(DomainError):
    """The resource's state does not allow the action, or a key was reused."""

    def __init__(self, reason: str, message: str, metadata: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.metadata = metadata or {}


class Unavailable(DomainError):
    """A dependency is down; the caller may retry later."""
