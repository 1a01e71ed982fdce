"""The one place where domain errors become gRPC statuses, and back.

Server side: `ErrorInterceptor` turns DomainError into a status with
google.rpc details (BadRequest field violations, ErrorInfo reason), and a
lost database connection (PostgreSQL restarting, failing over, unreachable)
into UNAVAILABLE, which callers retry; anything else unexpected is INTERNAL,
which they do not. Client
side: `describe_rpc_error` reads those details back for the gateway and the
workflow activities.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import grpc
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2

from services.common.errors import (
    AlreadyExists,
    BusinessRuleViolation,
    Conflict,
    DomainError,
    FieldViolation,
    InvalidArgument,
    NotFound,
    Unavailable,
)

logger = logging.getLogger(__name__)

ERROR_DOMAIN = "omni"
_DETAILS_KEY = "grpc-status-details-bin"

_STATUS_BY_ERROR: list[tuple[type[DomainError], grpc.StatusCode]] = [
    (NotFound, grpc.StatusCode.NOT_FOUND),
    (AlreadyExists, grpc.StatusCode.ALREADY_EXISTS),
    (InvalidArgument, grpc.StatusCode.INVALID_ARGUMENT),
    (BusinessRuleViolation, grpc.StatusCode.FAILED_PRECONDITION),
    (Conflict, grpc.StatusCode.ABORTED),
    (Unavailable, grpc.StatusCode.UNAVAILABLE),
]


def status_code_for(error: DomainError) -> grpc.StatusCode:
    for error_type, code in _STATUS_BY_ERROR:
        if isinstance(error, error_type):
            return code
    return grpc.StatusCode.UNKNOWN


def to_status_proto(error: DomainError) -> tuple[grpc.StatusCode, status_pb2.Status]:
    code = status_code_for(error)
    status = status_pb2.Status(code=code.value[0], message=error.message)
    if isinstance(error, InvalidArgument) and error.violations:
        bad_request = error_details_pb2.BadRequest(
            field_violations=[
                error_details_pb2.BadRequest.FieldViolation(field=v.field, description=v.message)
                for v in error.violations
            ]
        )
        detail = any_pb2.Any()
        detail.Pack(bad_request)
        status.details.append(detail)
    if isinstance(error, NotFound) and error.resource_type:
        resource = error_details_pb2.ResourceInfo(
            resource_type=error.resource_type,
            resource_name=",".join(error.ids),
            description=error.message,
        )
        detail = any_pb2.Any()
        detail.Pack(resource)
        status.details.append(detail)
    if isinstance(error, BusinessRuleViolation | Conflict):
        info = error_details_pb2.ErrorInfo(
            reason=error.reason, domain=ERROR_DOMAIN, metadata=error.metadata
        )
        detail = any_pb2.Any()
        detail.Pack(info)
        status.details.append(detail)
    return code, status


Handler = Callable[[Any, grpc.aio.ServicerContext], Awaitable[Any]]

# What SQLAlchemy and asyncpg raise when the database connection is gone or
# cannot be had now: the same request can succeed once it is back. Looked up
# in sys.modules, not imported: an error of a library that was never loaded
# cannot be raised, and the processes without a database (the worker, the
# gateway's clients) need not pay ~26 MB RSS for SQLAlchemy (issue 15).
_SQLALCHEMY_LOST = ("OperationalError", "InterfaceError")
_ASYNCPG_LOST = (
    "PostgresConnectionError",  # 08xxx, ConnectionDoesNotExistError
    "InterfaceError",  # "connection is closed"
    "AdminShutdownError",  # 57P01: a fast shutdown or restart
    "CrashShutdownError",  # 57P02
    "CannotConnectNowError",  # 57P03: starting up
)
_LOST_MESSAGE = "the service's database is unavailable, retry"
_BUSY_MESSAGE = "the service is at capacity, retry later"


def _loaded(module: str, names: tuple[str, ...]) -> tuple[type[BaseException], ...]:
    loaded = sys.modules.get(module)
    if loaded is None:
        return ()
    return tuple(getattr(loaded, name) for name in names)


def _chain(error: BaseException) -> Iterator[BaseException]:
    """`error` and what it wraps: SQLAlchemy keeps the driver's error as
    .orig, the driver's own as __cause__."""
    statement_error = _loaded("sqlalchemy.exc", ("StatementError",))
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        orig = (
            getattr(current, "orig", None)
            if statement_error and isinstance(current, statement_error)
            else None
        )
        pending.extend((orig, current.__cause__, current.__context__))


def is_connection_lost(error: BaseException) -> bool:
    """Whether `error` (or what it wraps) says the database connection was
    lost or cannot be had now, rather than that the request or the code is wrong."""
    lost = (
        *_loaded("sqlalchemy.exc", _SQLALCHEMY_LOST),
        *_loaded("asyncpg.exceptions", _ASYNCPG_LOST),
        OSError,  # ConnectionError, refused, reset, unreachable
    )
    dbapi_error = _loaded("sqlalchemy.exc", ("DBAPIError",))
    for current in _chain(error):
        if (
            dbapi_error
            and isinstance(current, dbapi_error)
            and getattr(current, "connection_invalidated", False)
        ):
            return True
        if isinstance(current, lost):
            return True
    return False


def is_pool_exhausted(error: BaseException) -> bool:
    """Whether no pooled connection could be had in time: every one is busy
    with other requests (load), the database itself is fine."""
    timeout = _loaded("sqlalchemy.exc", ("TimeoutError",))
    return bool(timeout) and any(isinstance(current, timeout) for current in _chain(error))


async def _abort_unexpected(
    context: grpc.aio.ServicerContext, method: str, error: BaseException
) -> None:
    if is_pool_exhausted(error):
        # Load, not an outage: the gateway answers 429 with Retry-After.
        logger.warning("connection pool exhausted in %s", method)
        await context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, _BUSY_MESSAGE)
    if is_connection_lost(error):
        logger.warning("database connection lost in %s: %s", method, error)
        await context.abort(grpc.StatusCode.UNAVAILABLE, _LOST_MESSAGE)
    # Never leak a stack trace to the caller; the log has it.
    logger.exception("unhandled error in %s", method)
    await context.abort(grpc.StatusCode.INTERNAL, "internal error")


async def abort_with(context: grpc.aio.ServicerContext, error: DomainError) -> None:
    code, status = to_status_proto(error)
    await context.abort(
        code, error.message, trailing_metadata=((_DETAILS_KEY, status.SerializeToString()),)
    )


def _guard_unary(method: str, behavior: Handler) -> Handler:
    async def guarded(request: Any, context: grpc.aio.ServicerContext) -> Any:
        try:
            return await behavior(request, context)
        except DomainError as error:
            await abort_with(context, error)
        except (grpc.aio.AbortError, grpc.RpcError):
            raise
        except Exception as error:
            await _abort_unexpected(context, method, error)

    return guarded


def _guard_stream(method: str, behavior: Callable[..., Any]) -> Callable[..., Any]:
    async def guarded(request: Any, context: grpc.aio.ServicerContext) -> Any:
        try:
            async for item in behavior(request, context):
                yield item
        except DomainError as error:
            await abort_with(context, error)
        except (grpc.aio.AbortError, grpc.RpcError):
            raise
        except Exception as error:
            await _abort_unexpected(context, method, error)

    return guarded


class WrappingInterceptor(grpc.aio.ServerInterceptor):
    """An interceptor that wraps each method's behaviour once.

    The server asks the interceptors for a method's handler on every call;
    building a fresh wrapper each time cost more than a short RPC's own Python
    code, so the wrapped handler is kept per method (and rebuilt only if the
    handler underneath ever changes)."""

    def __init__(self) -> None:
        self._wrapped: dict[str, tuple[grpc.RpcMethodHandler, grpc.RpcMethodHandler]] = {}

    def wrap_unary(self, method: str, behavior: Handler) -> Handler:
        raise NotImplementedError

    def wrap_stream(self, method: str, behavior: Callable[..., Any]) -> Callable[..., Any]:
        raise NotImplementedError

    def _wrap(self, method: str, handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
        if handler.unary_unary is not None:
            return grpc.unary_unary_rpc_method_handler(
                self.wrap_unary(method, handler.unary_unary),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.unary_stream is not None:
            return grpc.unary_stream_rpc_method_handler(
                self.wrap_stream(method, handler.unary_stream),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        return handler

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        if handler is None:
            return handler
        method = handler_call_details.method
        cached = self._wrapped.get(method)
        if cached is not None and cached[0] is handler:
            return cached[1]
        wrapped = self._wrap(method, handler)
        self._wrapped[method] = (handler, wrapped)
        return wrapped


class ErrorInterceptor(WrappingInterceptor):
    """Maps DomainError raised by any servicer method to its gRPC status."""

    def wrap_unary(self, method: str, behavior: Handler) -> Handler:
        return _guard_unary(method, behavior)

    def wrap_stream(self, method: str, behavior: Callable[..., Any]) -> Callable[..., Any]:
        return _guard_stream(method, behavior)


@dataclass
class RpcErrorInfo:
    """What a caller needs to know about a failed RPC."""

    code: grpc.StatusCode
    message: str
    reason: str = ""
    metadata: dict[str, str] = field(default_factory=dict)
    violations: list[FieldViolation] = field(default_factory=list)
    # NOT_FOUND: which kind of thing, and which ids of it, were missing.
    resource_type: str = ""
    missing_ids: list[str] = field(default_factory=list)


def describe_rpc_error(error: grpc.aio.AioRpcError | grpc.RpcError) -> RpcErrorInfo:
    code: grpc.StatusCode = error.code()
    message: str = error.details() or ""
    info = RpcErrorInfo(code=code, message=message)
    trailing = error.trailing_metadata() or ()
    for key, value in trailing:
        if key != _DETAILS_KEY:
            continue
        status = status_pb2.Status.FromString(value)
        for detail in status.details:
            if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
                bad_request = error_details_pb2.BadRequest()
                detail.Unpack(bad_request)
                info.violations = [
                    FieldViolation(v.field, v.description) for v in bad_request.field_violations
                ]
            elif detail.Is(error_details_pb2.ResourceInfo.DESCRIPTOR):
                resource = error_details_pb2.ResourceInfo()
                detail.Unpack(resource)
                info.resource_type = resource.resource_type
                info.missing_ids = [i for i in resource.resource_name.split(",") if i]
            elif detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
                error_info = error_details_pb2.ErrorInfo()
                detail.Unpack(error_info)
                info.reason = error_info.reason
                info.metadata = dict(error_info.metadata)
    return info
