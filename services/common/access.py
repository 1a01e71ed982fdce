"""Who may call which RPC of a service: the one table each service keeps in
services/<name>/access.py, checked by IdentityInterceptor before the servicer runs.

A rule names the roles that may call at all (others: PERMISSION_DENIED) and,
for people, the request fields that must be theirs: a customer acts only for
their own customer id (a merged duplicate's id counts when the service can
tell, via `same_customer`), an associate only at their own store. Someone
else's object is NOT_FOUND, as at the gateway: it does not say it exists.
Service callers are named: `services=("orders",)` admits only the orders
service's identity. An RPC with no rule is refused to everyone, so a new RPC
is closed until its line is written (each service's table test fails first).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import grpc
from google.protobuf.descriptor import ServiceDescriptor

from services.common.identity import CallerIdentity, Role

# Whether the customer ids `mine` and `theirs` are one customer (after merges).
SameCustomer = Callable[[str, str], Awaitable[bool]]

PEOPLE = (Role.GUEST, Role.CUSTOMER, Role.ASSOCIATE, Role.AGENT, Role.ADMIN)
STAFF = (Role.ASSOCIATE, Role.AGENT, Role.ADMIN)


@dataclass(frozen=True)
class Refusal:
    code: grpc.StatusCode
    message: str


# What else a rule asks of a request: None to let it through, else why not
# (PERMISSION_DENIED), e.g. the adjustment reasons an associate may post.
Check = Callable[[CallerIdentity, Any], str | None]


@dataclass(frozen=True)
class Allow:
    roles: frozenset[Role]
    own_customer: str = ""
    own_store: str = ""
    services: frozenset[str] = field(default_factory=frozenset)
    check: Check | None = None


def allow(
    *roles: Role,
    own_customer: str = "",
    own_store: str = "",
    services: Iterable[str] = (),
    check: Check | None = None,
) -> Allow:
    """`own_customer` / `own_store`: the request field (dotted for nested; a
    repeated field must hold the caller's id) a customer / an associate must own."""
    names = frozenset(services)
    every = frozenset(roles) | ({Role.SERVICE} if names else frozenset())
    return Allow(every, own_customer, own_store, names, check)


def _field(request: Any, path: str) -> Any:
    value = request
    for part in path.split("."):
        value = getattr(value, part)
    return value


def _denied(message: str) -> Refusal:
    return Refusal(grpc.StatusCode.PERMISSION_DENIED, message)


def _not_found(what: str) -> Refusal:
    return Refusal(grpc.StatusCode.NOT_FOUND, f"{what} not found")


class AccessTable:
    def __init__(
        self,
        service: ServiceDescriptor,
        rules: Mapping[str, Allow],
        same_customer: SameCustomer | None = None,
    ) -> None:
        self.service = service
        self.rules = dict(rules)
        self._same_customer = same_customer
        self._prefix = f"/{service.full_name}/"

    def with_same_customer(self, same_customer: SameCustomer) -> AccessTable:
        """The same table, resolving merged customer ids with `same_customer`."""
        return AccessTable(self.service, self.rules, same_customer)

    def rule_for(self, method: str) -> Allow | None:
        if not method.startswith(self._prefix):
            return None
        return self.rules.get(method[len(self._prefix) :])

    async def _owns_customer(self, caller: CallerIdentity, customer_id: str) -> bool:
        if not caller.customer_id or not customer_id:
            return False
        if customer_id == caller.customer_id:
            return True
        return self._same_customer is not None and await self._same_customer(
            caller.customer_id, customer_id
        )

    async def refusal(self, method: str, caller: CallerIdentity, request: Any) -> Refusal | None:
        """None when `caller` may make this call with this request."""
        rule = self.rule_for(method)
        if rule is None:
            return _denied(f"no access rule for {method}")
        if caller.role not in rule.roles:
            return _denied(f"role {caller.role} may not call {method.rsplit('/', 1)[-1]}")
        if caller.role == Role.SERVICE and caller.sub not in rule.services:
            return _denied(f"service {caller.sub} may not call {method.rsplit('/', 1)[-1]}")
        if caller.role == Role.CUSTOMER and rule.own_customer:
            value = _field(request, rule.own_customer)
            if isinstance(value, str):
                if not await self._owns_customer(caller, value):
                    return _not_found("customer")
            elif caller.customer_id not in list(value):
                return _not_found("customer")
        if caller.role == Role.ASSOCIATE and rule.own_store:
            value = _field(request, rule.own_store)
            if not caller.store_id or value != caller.store_id:
                return _not_found("location")
        if rule.check is not None and (why := rule.check(caller, request)) is not None:
            return _denied(why)
        return None

    def missing_rules(self) -> list[str]:
        """RPCs of the service's proto without a line in the table."""
        return [m.name for m in self.service.methods if m.name not in self.rules]

    def stale_rules(self) -> list[str]:
        """Lines naming an RPC the proto no longer has."""
        names = {m.name for m in self.service.methods}
        return [name for name in self.rules if name not in names]
