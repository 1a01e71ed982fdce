"""Bearer JWTs: who the caller is (sub, role, customer_id, store_id, channel).

Development signs and verifies with HS256 and JWT_SECRET; production verifies
tokens from an issuer with a PEM public key (RS256/ES256) or a JWKS URL.

A request's token is verified once, by `AuthenticationMiddleware`, which
leaves the outcome (`Authentication`) in the request's state; the rate
limiter, the idempotency middleware and the routes' `Caller` dependency all
read it from there.
"""

from __future__ import annotations

import asyncio
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Literal, get_args
from urllib.parse import parse_qsl

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from jwt.types import Options
from starlette.types import ASGIApp, Receive, Scope, Send

from omni.orders.v1 import orders_pb2
from omni.words import Channel
from services.gateway.clients import call, forward_caller
from services.gateway.problems import Problem, forbidden, unauthorized
from services.gateway.settings import DEV_JWT_SECRET, GatewaySettings
from services.gateway.verified_tokens import VerifiedTokens

if TYPE_CHECKING:
    from jwt.algorithms import AllowedPublicKeys

Role = Literal["guest", "customer", "associate", "agent", "admin"]
ROLES: tuple[Role, ...] = get_args(Role)
DEFAULT_TTL_SECONDS = 12 * 3600
_ASYMMETRIC_ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384", "ES512"]
_UNKNOWN_KID_REFETCH_SECONDS = 10.0
# Where the middleware leaves a request's `Authentication` (scope["state"]).
_STATE_KEY = "authentication"


# The channel a token without one acts in: a store associate sells at the
# POS, an agent in the call centre, anyone else on the web.
DEFAULT_CHANNEL_BY_ROLE: dict[Role, Channel] = {
    "associate": Channel.POS,
    "agent": Channel.CALL_CENTER,
}


@dataclass(frozen=True)
class Principal:
    sub: str
    role: Role
    customer_id: str = ""
    store_id: str = ""
    channel: Channel | None = None
    # The token's exp (seconds since the epoch); 0 when unknown.
    expires_at: float = 0.0

    def is_(self, *roles: Role) -> bool:
        return self.role in roles

    @property
    def home_channel(self) -> Channel:
        """The token's channel, or its role's default (DEFAULT_CHANNEL_BY_ROLE)."""
        return self.channel or DEFAULT_CHANNEL_BY_ROLE.get(self.role, Channel.WEB)


class InvalidToken(Exception):
    """The token is missing a claim, badly signed, expired or not for us."""


def mint_token(
    secret: str,
    sub: str,
    role: str,
    customer_id: str | None = None,
    store_id: str | None = None,
    channel: str | None = None,
    ttl: float = DEFAULT_TTL_SECONDS,
) -> str:
    """A development token (HS256); `ttl` in seconds. `role` and `channel` are
    the caller's words (a command line's, a test's), checked here."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if channel is not None and Channel.parse(channel) is None:
        raise ValueError(f"channel must be one of {', '.join(Channel)}")
    now = int(time.time())
    # JSON claims: any JSON value may sit in a token.
    claims: dict[str, Any] = {"sub": sub, "role": role, "iat": now, "exp": now + int(ttl)}
    for name, value in (("customer_id", customer_id), ("store_id", store_id), ("channel", channel)):
        if value:
            claims[name] = value
    return jwt.encode(claims, secret, algorithm="HS256")


def mint_dev_token(
    role: str,
    sub: str | None = None,
    customer_id: str | None = None,
    store_id: str | None = None,
    channel: str | None = None,
    ttl_seconds: float = DEFAULT_TTL_SECONDS,
) -> str:
    """What `omni token` prints: signed with JWT_SECRET (or the dev default)."""
    secret = os.environ.get("JWT_SECRET") or DEV_JWT_SECRET
    subject = sub or "-".join(p for p in ("dev", role, customer_id or store_id or "") if p)
    return mint_token(secret, subject, role, customer_id, store_id, channel, ttl_seconds)


class TokenVerifier:
    """Production: RS/ES tokens of the configured issuer and audience, with a
    PEM public key or keys from a JWKS URL (fetched off the event loop, kept
    `jwt_jwks_refresh_seconds`). Development only: HS256 with JWT_SECRET.
    Every token needs sub, iat and exp, and may live at most
    `jwt_max_lifetime_seconds`."""

    def __init__(
        self, settings: GatewaySettings, *, clock: Callable[[], float] = time.time
    ) -> None:
        self._settings = settings
        self._clock = clock
        self._jwks = (
            jwt.PyJWKClient(settings.jwt_jwks_url, cache_keys=False)
            if settings.jwt_jwks_url
            else None
        )
        self._jwks_keys: dict[str, AllowedPublicKeys] = {}
        self._jwks_fetched_at = -math.inf
        self._jwks_lock = asyncio.Lock()
        self._verified = VerifiedTokens(settings.jwt_leeway_seconds, clock=clock)

    async def authenticate(self, token: str) -> Principal:
        """`verify`, after fetching the JWKS (in a thread) when the token's
        key is unknown or the keys are stale."""
        if self._jwks is not None:
            await self._refresh_keys(_kid_of(token))
        return self.verify(token)

    async def _refresh_keys(self, kid: str) -> None:
        assert self._jwks is not None
        jwks = self._jwks
        async with self._jwks_lock:
            age = time.monotonic() - self._jwks_fetched_at
            stale = age > self._settings.jwt_jwks_refresh_seconds
            # An unknown kid fetches again, at most every few seconds: a flood
            # of made-up kids cannot hammer the identity provider.
            unknown = kid not in self._jwks_keys and age > _UNKNOWN_KID_REFETCH_SECONDS
            if not (stale or unknown):
                return
            self._jwks_fetched_at = time.monotonic()
            try:
                keys = await asyncio.to_thread(jwks.get_signing_keys, True)
            except jwt.PyJWKClientError:
                return  # keep the keys we had; an unknown kid stays unknown
            fetched = {key.key_id or "": key.key for key in keys}
            if fetched != self._jwks_keys:
                # A key withdrawn (or replaced) must stop its tokens at once.
                self._verified.forget_all()
            self._jwks_keys = fetched

    def _key_and_algorithms(self, token: str) -> tuple[AllowedPublicKeys | str, list[str]]:
        if self._jwks is not None:
            key = self._jwks_keys.get(_kid_of(token))
            if key is None:
                raise InvalidToken("signing key not found")
            return key, _ASYMMETRIC_ALGORITHMS
        if self._settings.jwt_public_key:
            return self._settings.jwt_public_key, _ASYMMETRIC_ALGORITHMS
        if not self._settings.is_development:
            # create_app refuses this configuration; never fall back to the secret.
            raise InvalidToken("no verification key configured")
        return self._settings.jwt_secret, ["HS256"]

    def verify(self, token: str) -> Principal:
        """The token's caller; no I/O (JWKS keys come from `authenticate`).
        A token verified before and still unexpired is not checked again
        (verified_tokens.py)."""
        known = self._verified.get(token)
        if known is not None:
            return known
        principal = self._verify_in_full(token)
        self._verified.keep(token, principal)
        return principal

    def _verify_in_full(self, token: str) -> Principal:
        try:
            key, algorithms = self._key_and_algorithms(token)
            options: Options = {
                "require": ["sub", "exp", "iat"],
                # Checked below on this verifier's clock, the one its
                # verified tokens expire by.
                "verify_exp": False,
                "verify_aud": bool(self._settings.jwt_audience),
                "verify_iss": bool(self._settings.jwt_issuer),
            }
            claims = jwt.decode(
                token,
                key,
                algorithms=algorithms,
                issuer=self._settings.jwt_issuer or None,
                audience=self._settings.jwt_audience or None,
                leeway=self._settings.jwt_leeway_seconds,
                options=options,
            )
        except jwt.PyJWTError as error:
            raise InvalidToken("token invalid") from error
        expires_at = claims["exp"]
        if not isinstance(expires_at, int | float) or isinstance(expires_at, bool):
            raise InvalidToken("token invalid")
        if expires_at <= self._clock() - self._settings.jwt_leeway_seconds:
            raise InvalidToken("token expired")
        lifetime = float(expires_at) - float(claims["iat"])
        if lifetime > self._settings.jwt_max_lifetime_seconds:
            raise InvalidToken("token lives too long")
        role = next((r for r in ROLES if r == claims.get("role")), None)
        if role is None:
            raise InvalidToken("token has no valid role")
        channel = None
        if claims.get("channel"):
            channel = Channel.parse(str(claims["channel"]))
            if channel is None:
                raise InvalidToken("token has an unknown channel")
        return Principal(
            sub=str(claims["sub"]),
            role=role,
            customer_id=str(claims.get("customer_id") or ""),
            store_id=str(claims.get("store_id") or ""),
            channel=channel,
            expires_at=float(expires_at),
        )


def _kid_of(token: str) -> str:
    try:
        return str(jwt.get_unverified_header(token).get("kid") or "")
    except jwt.PyJWTError:
        return ""


def bearer_token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


@dataclass(frozen=True)
class Authentication:
    """What a request's Authorization header proved: who is calling, or why
    not (`problem` is empty when no bearer token was sent at all)."""

    principal: Principal | None = None
    problem: str = ""

    @property
    def caller_key(self) -> str | None:
        """`sub:<sub>` for a verified caller (rate limits)."""
        return None if self.principal is None else "sub:" + self.principal.sub


async def authenticate_headers(
    verifier: TokenVerifier, authorization: str | None
) -> Authentication:
    token = bearer_token(authorization)
    if token is None:
        return Authentication()
    try:
        return Authentication(principal=await verifier.authenticate(token))
    except InvalidToken as error:
        return Authentication(problem=str(error))


class AuthenticationMiddleware:
    """Verifies the bearer token once per request, before the rate limiter,
    and leaves the `Authentication` in the request's state."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            authorization = None
            for name, value in scope.get("headers", []):
                if name.lower() == b"authorization":
                    authorization = value.decode("latin-1")
                    break
            if authorization is None and scope["path"] in QUERY_TOKEN_PATHS:
                authorization = _query_token(scope)
            verifier: TokenVerifier = scope["app"].state.verifier
            state = scope.setdefault("state", {})
            state[_STATE_KEY] = await authenticate_headers(verifier, authorization)
            # The services check again who is calling (signed gRPC metadata).
            forward_caller(state[_STATE_KEY].principal)
        await self.app(scope, receive, send)


# A browser's EventSource cannot send headers: the stream may take the token
# as ?access_token= (the gateway never logs query strings).
QUERY_TOKEN_PATHS = frozenset({"/v1/availability/stream"})


def _query_token(scope: Scope) -> str | None:
    for name, value in parse_qsl(scope.get("query_string", b"").decode("latin-1")):
        if name == "access_token" and value:
            return "Bearer " + value
    return None


def authentication_of(scope: Scope) -> Authentication:
    """The outcome `AuthenticationMiddleware` left for this request."""
    found: Authentication = scope["state"][_STATE_KEY]
    return found


_bearer = HTTPBearer(auto_error=False, description="a JWT (`omni token` prints one)")


async def authenticate(
    request: Request,
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The FastAPI dependency every /v1 route uses: 401 unless a valid token.
    (`_credentials` only puts the bearer scheme in the OpenAPI document.)"""
    found = authentication_of(request.scope)
    if found.principal is None:
        raise unauthorized(found.problem or "an Authorization: Bearer token is required")
    if found.principal.role == "associate":
        await check_registered_associate(request, found.principal)
    return found.principal


async def check_registered_associate(request: Request, principal: Principal) -> None:
    """An associate token must name a registered, active associate (API.md,
    Auth): 403 otherwise. Asked of the registry (the orders service) on every
    request, so a deactivation holds from the next request on, on every replica."""
    settings: GatewaySettings = request.app.state.settings
    try:
        reply = await call(
            request.app.state.clients.orders.GetAssociate,
            orders_pb2.GetAssociateRequest(associate_id=principal.sub),
            deadline=settings.read_timeout_seconds,
        )
    except Problem as problem:
        if problem.status in (400, 403, 404):
            raise forbidden(f"the token names no registered associate ({principal.sub})") from None
        raise
    if not reply.associate.active:
        raise forbidden(f"associate {principal.sub} is deactivated")


def require_role(principal: Principal, *roles: Role) -> None:
    """403 when the caller's role may not do this at all."""
    if principal.role not in roles:
        raise forbidden(f"role {principal.role} may not do this")


Caller = Annotated[Principal, Depends(authenticate)]
