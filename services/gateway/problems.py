"""RFC 9457 problem details: every error the gateway answers, and gRPC → HTTP.

Bodies never carry stack traces, request values or internal messages of
unexpected failures: the log has those.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

import grpc
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from services.common.grpc_errors import describe_rpc_error

logger = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"
TYPE_BASE = "https://omni.dev/problems/"
RETRY_AFTER_SECONDS = "1"

_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


def type_uri(slug: str) -> str:
    return TYPE_BASE + slug.lower().replace("_", "-")


class Problem(Exception):
    """Raised anywhere in a request; answered as application/problem+json."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        slug: str | None = None,
        errors: Sequence[tuple[str, str]] = (),
        reason: str = "",
        metadata: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.slug = slug or _TITLES.get(status, "error").lower().replace(" ", "-")
        self.errors = list(errors)
        self.reason = reason
        self.metadata = metadata or {}
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        # A JSON object: strings, a number, lists of objects.
        body: dict[str, Any] = {
            "type": type_uri(self.slug),
            "title": _TITLES.get(self.status, "Error"),
            "status": self.status,
            "detail": self.detail,
        }
        if self.errors:
            body["errors"] = [{"field": f, "message": m} for f, m in self.errors]
        if self.reason:
            body["reason"] = self.reason
        if self.metadata:
            body["metadata"] = self.metadata
        return body

    def response(self) -> Response:
        return problem_response(self)


def problem_response(problem: Problem) -> Response:
    return Response(
        content=json.dumps(problem.body()),
        status_code=problem.status,
        media_type=PROBLEM_CONTENT_TYPE,
        headers=problem.headers,
    )


def bad_request(field: str, message: str) -> Problem:
    return Problem(400, f"{field}: {message}", slug="validation-error", errors=[(field, message)])


def unauthorized(detail: str) -> Problem:
    return Problem(401, detail, slug="unauthorized", headers={"WWW-Authenticate": "Bearer"})


def forbidden(detail: str = "this role may not do that") -> Problem:
    return Problem(403, detail, slug="forbidden")


def not_found(what: str) -> Problem:
    return Problem(404, f"{what} not found", slug="not-found")


def problem_from_rpc_error(error: grpc.RpcError) -> Problem:
    """Maps a failed downstream call to the problem the caller sees."""
    info = describe_rpc_error(error)
    code = info.code
    if code == grpc.StatusCode.NOT_FOUND:
        return Problem(404, info.message or "not found", slug="not-found")
    if code == grpc.StatusCode.INVALID_ARGUMENT:
        return Problem(
            400,
            info.message or "invalid request",
            slug="validation-error",
            errors=[(v.field, v.message) for v in info.violations],
        )
    if code == grpc.StatusCode.FAILED_PRECONDITION:
        reason = info.reason or "BUSINESS_RULE_VIOLATION"
        # A rule about one field of the request (e.g. an unknown referral) names it.
        named = (info.metadata or {}).get("field", "")
        return Problem(
            422,
            info.message,
            slug=reason,
            reason=reason,
            metadata=info.metadata or None,
            errors=[(named, info.message)] if named else (),
        )
    if code in (grpc.StatusCode.ABORTED, grpc.StatusCode.ALREADY_EXISTS):
        reason = info.reason or ("ALREADY_EXISTS" if code == grpc.StatusCode.ALREADY_EXISTS else "")
        return Problem(
            409,
            info.message or "conflict",
            slug=reason or "conflict",
            reason=reason,
            metadata=info.metadata or None,
        )
    if code == grpc.StatusCode.RESOURCE_EXHAUSTED:
        return Problem(
            429,
            "too many requests, retry later",
            slug="rate-limited",
            headers={"Retry-After": RETRY_AFTER_SECONDS},
        )
    if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
        return Problem(
            503,
            "a dependency is unavailable, retry later",
            slug="dependency-unavailable",
            headers={"Retry-After": RETRY_AFTER_SECONDS},
        )
    logger.error("downstream call failed: %s %s", code, info.message)
    return Problem(502, "a dependency failed", slug="bad-gateway")


def _field_path(location: Sequence[int | str]) -> str:
    """("body", "lines", 0, "quantity") → "lines[0].quantity"."""
    path = ""
    for part in (
        location[1:]
        if location and location[0] in ("body", "query", "path", "header")
        else location
    ):
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += ("." if path else "") + str(part)
    return path or "body"


def validation_problem(error: RequestValidationError) -> Problem:
    errors = list(error.errors())
    if any(e.get("type") == "json_invalid" for e in errors):
        return Problem(400, "the request body is not valid JSON", slug="malformed-json")
    # Messages only: pydantic's `input` would echo the caller's values.
    pairs = [(_field_path(e.get("loc", ())), str(e.get("msg", "is invalid"))) for e in errors]
    detail = "; ".join(f"{f}: {m}" for f, m in pairs[:5])
    return Problem(400, detail or "invalid request", slug="validation-error", errors=pairs)


def install_handlers(app: FastAPI) -> None:
    async def on_problem(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Problem)
        return exc.response()

    async def on_validation(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        return validation_problem(exc).response()

    async def on_http(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        detail = {404: "no such resource", 405: "method not allowed on this resource"}.get(
            exc.status_code, str(exc.detail)
        )
        problem = Problem(exc.status_code, detail, headers=dict(exc.headers or {}))
        return problem.response()

    async def on_rpc_error(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, grpc.RpcError)
        return problem_from_rpc_error(exc).response()

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        logger.exception("unhandled error on %s %s", request.method, request.url.path)
        return Problem(500, "internal error", slug="internal-error").response()

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(grpc.RpcError, on_rpc_error)
    app.add_exception_handler(Exception, on_unexpected)
