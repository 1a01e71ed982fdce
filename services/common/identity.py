"""Who is calling a service, signed by whoever forwarded it and checked on every call.

The gateway has verified the caller's JWT; it forwards what it learnt (sub,
role, customer_id, store_id, channel) as one metadata entry, `omni-identity`:
a compact JSON blob with the method it is for and an expiry a minute away,
and an HMAC-SHA256 over it with OMNI_IDENTITY_KEY, a key only Omni's
processes hold. The workers sign a workflow identity the same way, and a
service calling another signs its own. One mechanism for all three callers,
so the services need neither JWKS nor the identity provider: a forwarded JWT
could not speak for a workflow or a service, and verifying it again would put
the issuer's keys and clock rules in every service.

The signature binds the method, so a captured value cannot be replayed to
another RPC, and it expires in IDENTITY_TTL_SECONDS; TLS (channels.py) keeps
it from being captured at all.

`IdentityInterceptor` (registered by services.common.server for every
service) refuses a call without a valid identity (UNAUTHENTICATED), checks
the service's access table (services/<name>/access.py, services/common/access.py)
and leaves the caller in `current_caller()` for the use cases.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import grpc

from services.common.grpc_errors import Handler, WrappingInterceptor

if TYPE_CHECKING:
    from services.common.access import AccessTable

METADATA_KEY = "omni-identity"
KEY_ENV = "OMNI_IDENTITY_KEY"
# During a rotation, services also accept identities signed with this one.
PREVIOUS_KEY_ENV = "OMNI_IDENTITY_KEY_PREVIOUS"
# Where `omni up` keeps the key it made, for `omni seed` and the tools.
KEY_FILE_NAME = "identity.key"
MIN_KEY_BYTES = 32
IDENTITY_TTL_SECONDS = 60
# Clocks of two pods may disagree this much.
LEEWAY_SECONDS = 5
_VERSION = 1
_VERIFIED_CACHE_SIZE = 10_000
_SIGNED_REUSE_SECONDS = IDENTITY_TTL_SECONDS / 2
_MAC_CONTEXT = b"omni-identity.v1."


class Role(StrEnum):
    """People (the gateway's token roles) and machines (workers, services)."""

    GUEST = "guest"
    CUSTOMER = "customer"
    ASSOCIATE = "associate"
    AGENT = "agent"
    ADMIN = "admin"
    WORKFLOW = "workflow"
    SERVICE = "service"


@dataclass(frozen=True)
class CallerIdentity:
    sub: str
    role: Role
    customer_id: str = ""
    store_id: str = ""
    channel: str = ""


def workflow_identity(workflow_id: str = "") -> CallerIdentity:
    """A worker's activity acting for the workflow `workflow_id`."""
    return CallerIdentity(
        sub=f"workflow:{workflow_id}" if workflow_id else "workflow", role=Role.WORKFLOW
    )


def service_identity(service: str) -> CallerIdentity:
    """A service calling another: `sub` is the calling service's name."""
    return CallerIdentity(sub=service, role=Role.SERVICE)


def always(caller: CallerIdentity) -> IdentitySource:
    """An identity source naming the same caller on every call."""
    return lambda _method: caller


class InvalidIdentity(Exception):
    """Missing, forged, expired, for another method, or naming no known role."""


class MissingIdentityKey(RuntimeError):
    pass


def identity_key(environ: Mapping[str, str] | None = None) -> bytes:
    """OMNI_IDENTITY_KEY (at least 32 bytes). No default: a process without it
    refuses to start, so no deployment runs on a key written in the repository."""
    env = os.environ if environ is None else environ
    key = env.get(KEY_ENV, "")
    if len(key.encode()) < MIN_KEY_BYTES:
        raise MissingIdentityKey(
            f"{KEY_ENV} must be set to a secret of at least {MIN_KEY_BYTES} bytes"
            " shared by the gateway, the workers and the services"
        )
    return key.encode()


def verification_keys(environ: Mapping[str, str] | None = None) -> tuple[bytes, ...]:
    """What a service accepts: OMNI_IDENTITY_KEY, and OMNI_IDENTITY_KEY_PREVIOUS
    while a rotation is under way (docs/runbook.md)."""
    env = os.environ if environ is None else environ
    current = identity_key(env)
    previous = env.get(PREVIOUS_KEY_ENV, "")
    if not previous:
        return (current,)
    return (current, identity_key({KEY_ENV: previous}))


def key_file_of(home: Path) -> Path:
    return home / KEY_FILE_NAME


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: bytes, blob: str) -> str:
    return _b64(hmac.new(key, _MAC_CONTEXT + blob.encode("ascii"), hashlib.sha256).digest())


def sign(
    caller: CallerIdentity,
    method: str,
    key: bytes,
    *,
    now: float | None = None,
    ttl: float = IDENTITY_TTL_SECONDS,
) -> str:
    """The metadata value for one call of `method` ("/pkg.Service/Method")."""
    issued = time.time() if now is None else now
    claims = {
        "v": _VERSION,
        "sub": caller.sub,
        "role": str(caller.role),
        "cid": caller.customer_id,
        "sid": caller.store_id,
        "ch": caller.channel,
        "m": method,
        "exp": int(issued + ttl),
    }
    blob = _b64(json.dumps(claims, separators=(",", ":"), sort_keys=True).encode())
    return f"{blob}.{_mac(key, blob)}"


def verify(
    value: str, method: str, key: bytes | tuple[bytes, ...], *, now: float | None = None
) -> CallerIdentity:
    """The caller `value` names, if one of `key` signed it for `method` and it is current."""
    return _verified(value, method, key, now)[0]


def _verified(
    value: str, method: str, key: bytes | tuple[bytes, ...], now: float | None
) -> tuple[CallerIdentity, int]:
    """(the caller, when the value expires)."""
    blob, dot, mac = value.partition(".")
    keys = (key,) if isinstance(key, bytes) else key
    signed = any(hmac.compare_digest(mac.encode(), _mac(k, blob).encode()) for k in keys)
    if not dot or not blob or not signed:
        raise InvalidIdentity("caller identity is not signed by Omni")
    try:
        claims = json.loads(_unb64(blob))
        expires = int(claims["exp"])
        role = Role(claims["role"])
        caller = CallerIdentity(
            sub=str(claims["sub"]),
            role=role,
            customer_id=str(claims.get("cid", "")),
            store_id=str(claims.get("sid", "")),
            channel=str(claims.get("ch", "")),
        )
    except (ValueError, KeyError, TypeError) as error:
        raise InvalidIdentity("caller identity is malformed") from error
    if claims.get("v") != _VERSION:
        raise InvalidIdentity("caller identity has an unknown version")
    if claims.get("m") != method:
        raise InvalidIdentity("caller identity was signed for another method")
    moment = time.time() if now is None else now
    if expires < moment - LEEWAY_SECONDS:
        raise InvalidIdentity("caller identity expired")
    if expires > moment + IDENTITY_TTL_SECONDS + LEEWAY_SECONDS:
        raise InvalidIdentity("caller identity lives too long")
    if not caller.sub:
        raise InvalidIdentity("caller identity names nobody")
    return caller, expires


# -- the caller of the call being served --------------------------------------

_current: ContextVar[CallerIdentity | None] = ContextVar("omni_caller", default=None)


def current_caller() -> CallerIdentity:
    """Who called the RPC being served (IdentityInterceptor verified it)."""
    caller = _current.get()
    if caller is None:
        raise LookupError("no verified caller: not inside an RPC served by IdentityInterceptor")
    return caller


def caller_or_none() -> CallerIdentity | None:
    """The verified caller inside an RPC; None outside one (use-case unit tests)."""
    return _current.get()


def actor_of(claimed: str) -> str:
    """Who a record says acted. A person is who their signed identity says,
    whatever the request's `actor` field claims; a workflow or a service acts
    for someone it names (or, naming nobody, for itself)."""
    caller = _current.get()
    if caller is None:
        return claimed
    if caller.role in (Role.WORKFLOW, Role.SERVICE):
        return claimed or caller.sub
    return caller.sub


@contextmanager
def acting_as(caller: CallerIdentity) -> Iterator[None]:
    """Makes `caller` the current caller (the interceptor; use-case unit tests)."""
    token = _current.set(caller)
    try:
        yield
    finally:
        _current.reset(token)


def _is_ours(method: str) -> bool:
    """Omni's own RPCs; health and reflection stay open to probes and grpcurl."""
    return method.startswith("/omni.")


class IdentityInterceptor(WrappingInterceptor):
    """UNAUTHENTICATED without a valid identity; PERMISSION_DENIED (or NOT_FOUND
    for someone else's object) when the access table says no."""

    def __init__(self, access: AccessTable, keys: bytes | tuple[bytes, ...]) -> None:
        super().__init__()
        self._access = access
        self._key = keys
        # Verified (method, value) pairs until they expire: a caller's repeated
        # calls skip the HMAC and JSON work.
        self._verified: dict[tuple[str, str], tuple[CallerIdentity, float]] = {}

    def _caller(self, method: str, context: grpc.aio.ServicerContext) -> CallerIdentity:
        values = [v for k, v in context.invocation_metadata() or () if k == METADATA_KEY]
        if len(values) != 1 or not isinstance(values[0], str):
            raise InvalidIdentity("a signed caller identity is required")
        value = values[0]
        now = time.time()
        cached = self._verified.get((method, value))
        if cached is not None and cached[1] >= now:
            return cached[0]
        caller, expires = _verified(value, method, self._key, now)
        if len(self._verified) >= _VERIFIED_CACHE_SIZE:
            self._verified.clear()
        # Until it expires, as `verify` counts (with the leeway).
        self._verified[(method, value)] = (caller, expires + LEEWAY_SECONDS)
        return caller

    async def _admit(
        self, method: str, request: Any, context: grpc.aio.ServicerContext
    ) -> CallerIdentity:
        try:
            caller = self._caller(method, context)
        except InvalidIdentity as error:
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, str(error))
            raise  # abort raises; this is for the type checker
        refusal = await self._access.refusal(method, caller, request)
        if refusal is not None:
            await context.abort(refusal.code, refusal.message)
        return caller

    def wrap_unary(self, method: str, behavior: Handler) -> Handler:
        if not _is_ours(method):
            return behavior

        async def checked(request: Any, context: grpc.aio.ServicerContext) -> Any:
            caller = await self._admit(method, request, context)
            with acting_as(caller):
                return await behavior(request, context)

        return checked

    def wrap_stream(self, method: str, behavior: Callable[..., Any]) -> Callable[..., Any]:
        if not _is_ours(method):
            return behavior

        async def checked(request: Any, context: grpc.aio.ServicerContext) -> Any:
            caller = await self._admit(method, request, context)
            with acting_as(caller):
                async for item in behavior(request, context):
                    yield item

        return checked


# -- the calling side ---------------------------------------------------------

# Who calls `method` ("/pkg.Service/Method"); None sends no identity.
IdentitySource = Callable[[str], CallerIdentity | None]


def _method_name(method: str | bytes) -> str:
    return method.decode() if isinstance(method, bytes) else method


def _has_identity(metadata: Any) -> bool:
    return any(k == METADATA_KEY for k, _ in (metadata or ()))


class AioIdentity:
    """Signs the caller `source(method)` names, reusing a value for its first half-life."""

    def __init__(self, source: IdentitySource, key: bytes) -> None:
        self._source = source
        self._key = key
        # A signed value is reused for its first half-life (the same caller
        # calling the same method), then signed afresh.
        self._signed: dict[tuple[CallerIdentity, str], tuple[str, float]] = {}

    def _value(self, caller: CallerIdentity, method: str) -> str:
        now = time.time()
        cached = self._signed.get((caller, method))
        if cached is not None and cached[1] > now:
            return cached[0]
        value = sign(caller, method, self._key, now=now)
        if len(self._signed) >= _VERIFIED_CACHE_SIZE:
            self._signed.clear()
        self._signed[(caller, method)] = (value, now + _SIGNED_REUSE_SECONDS)
        return value

    def entry(self, method: str, metadata: Any) -> tuple[str, str] | None:
        """The metadata entry naming the caller of `method`; None to send nothing."""
        caller = self._source(method)
        # A call that carries a signed identity already keeps it (tests acting as someone).
        if caller is None or _has_identity(metadata):
            return None
        return (METADATA_KEY, self._value(caller, method))

    def _details(self, details: grpc.aio.ClientCallDetails) -> grpc.aio.ClientCallDetails:
        entry = self.entry(_method_name(details.method), details.metadata)
        if entry is None:
            return details
        return grpc.aio.ClientCallDetails(
            details.method,
            details.timeout,
            grpc.aio.Metadata(*(details.metadata or ()), entry),
            details.credentials,
            details.wait_for_ready,
        )


# grpc.aio files an interceptor under the first kind it is, so one class per kind.
class _AioUnaryIdentity(AioIdentity, grpc.aio.UnaryUnaryClientInterceptor):
    async def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        return await continuation(self._details(details), request)


class _AioStreamIdentity(AioIdentity, grpc.aio.UnaryStreamClientInterceptor):
    async def intercept_unary_stream(self, continuation: Any, details: Any, request: Any) -> Any:
        return await continuation(self._details(details), request)


def aio_stream_identity_interceptor(source: IdentitySource, key: bytes) -> Any:
    """The server-streaming half of `aio_identity_interceptors`."""
    return _AioStreamIdentity(source, key)


def aio_identity_interceptors(source: IdentitySource, key: bytes) -> list[Any]:
    """Client interceptors that sign `source(method)` (None: nothing) on every call."""
    return [_AioUnaryIdentity(source, key), _AioStreamIdentity(source, key)]


@dataclass(frozen=True)
class _SyncDetails(grpc.ClientCallDetails):
    method: str
    timeout: float | None
    metadata: Any
    credentials: Any
    wait_for_ready: Any
    compression: Any


class _SyncIdentityInterceptor(grpc.UnaryUnaryClientInterceptor, grpc.UnaryStreamClientInterceptor):
    def __init__(self, caller: CallerIdentity, key: bytes) -> None:
        self._caller = caller
        self._key = key

    def _details(self, details: Any) -> _SyncDetails:
        value = sign(self._caller, _method_name(details.method), self._key)
        pairs = [(k, v) for k, v in (details.metadata or ()) if k != METADATA_KEY]
        return _SyncDetails(
            details.method,
            details.timeout,
            (*pairs, (METADATA_KEY, value)),
            details.credentials,
            getattr(details, "wait_for_ready", None),
            getattr(details, "compression", None),
        )

    def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        return continuation(self._details(details), request)

    def intercept_unary_stream(self, continuation: Any, details: Any, request: Any) -> Any:
        return continuation(self._details(details), request)


def identified_sync_channel(
    channel: grpc.Channel, caller: CallerIdentity, key: bytes
) -> grpc.Channel:
    """A blocking channel whose every call carries `caller`, signed (seed, tools)."""
    return grpc.intercept_channel(channel, _SyncIdentityInterceptor(caller, key))
