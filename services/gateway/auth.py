"""Bearer JWTs: who the caller is (sub, role, customer_id, store_id, channel).

Development signs and verifies with HS256 and JWT_SECRET; production verifies
tokens from an issuer with a PEM public key (RS256/ES256) or a JWKS URL.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Annotated, Any, Literal, get_args

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from services.gateway.problems import forbidden, unauthorized
from services.gateway.settings import DEV_JWT_SECRET, GatewaySettings

Role = Literal["guest", "customer", "associate", "agent", "admin"]
Channel = Literal["web", "app", "pos", "call_center", "marketplace"]
ROLES: tuple[str, ...] = get_args(Role)
CHANNELS: tuple[str, ...] = get_args(Channel)
DEFAULT_TTL_SECONDS = 12 * 3600
_ASYMMETRIC_ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384", "ES512"]


@dataclass(frozen=True)
class Principal:
    sub: str
    role: str
    customer_id: str = ""
    store_id: str = ""
    channel: str = ""

    def is_(self, *roles: str) -> bool:
        return self.role in roles


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
    """A development token (HS256); `ttl` in seconds."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if channel is not None and channel not in CHANNELS:
        raise ValueError(f"channel must be one of {', '.join(CHANNELS)}")
    now = int(time.time())
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
    def __init__(self, settings: GatewaySettings) -> None:
        self._settings = settings
        self._jwks = jwt.PyJWKClient(settings.jwt_jwks_url) if settings.jwt_jwks_url else None

    def _key_and_algorithms(self, token: str) -> tuple[Any, list[str]]:
        if self._jwks is not None:
            try:
                return self._jwks.get_signing_key_from_jwt(token).key, _ASYMMETRIC_ALGORITHMS
            except jwt.PyJWKClientError as error:
                raise InvalidToken("signing key not found") from error
        if self._settings.jwt_public_key:
            return self._settings.jwt_public_key, _ASYMMETRIC_ALGORITHMS
        return self._settings.jwt_secret, ["HS256"]

    def verify(self, token: str) -> Principal:
        try:
            key, algorithms = self._key_and_algorithms(token)
            options: Any = {
                "require": ["sub", "exp"],
                "verify_aud": bool(self._settings.jwt_audience),
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
        except jwt.ExpiredSignatureError as error:
            raise InvalidToken("token expired") from error
        except jwt.PyJWTError as error:
            raise InvalidToken("token invalid") from error
        role = claims.get("role")
        if role not in ROLES:
            raise InvalidToken("token has no valid role")
        channel = claims.get("channel") or ""
        if channel and channel not in CHANNELS:
            raise InvalidToken("token has an unknown channel")
        return Principal(
            sub=str(claims["sub"]),
            role=role,
            customer_id=str(claims.get("customer_id") or ""),
            store_id=str(claims.get("store_id") or ""),
            channel=channel,
        )


def bearer_token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


_bearer = HTTPBearer(auto_error=False, description="a JWT (`omni token` prints one)")


async def authenticate(
    request: Request,
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The FastAPI dependency every /v1 route uses: 401 unless a valid token."""
    token = bearer_token(request.headers.get("authorization"))
    if token is None:
        raise unauthorized("an Authorization: Bearer token is required")
    verifier: TokenVerifier = request.app.state.verifier
    try:
        return verifier.verify(token)
    except InvalidToken as error:
        raise unauthorized(str(error)) from error


def require_role(principal: Principal, *roles: str) -> None:
    """403 when the caller's role may not do this at all."""
    if principal.role not in roles:
        raise forbidden(f"role {principal.role} may not do this")


Caller = Annotated[Principal, Depends(authenticate)]
