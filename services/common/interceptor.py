"""The one server interceptor every service registers: each concern's rule
stays in its own module, and this composes them once per method.

grpc.aio runs every registered interceptor's `intercept_service` on every
call, and OpenTelemetry's rebuilt the method's handler and proxied the
context each time; five of them cost more Python per call than a short RPC's
own work. Here the chain is one interceptor whose wrapped handler is built
the first time a method is called and reused after (WrappingInterceptor), so
a call pays only the wrappers themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from services.common.grpc_errors import Handler, WrappingInterceptor


class MethodWrapper(Protocol):
    """One concern (spans, errors, metrics, identity, card numbers) around a method."""

    def wrap_unary(self, method: str, behavior: Handler) -> Handler: ...

    def wrap_stream(self, method: str, behavior: Callable[..., Any]) -> Callable[..., Any]: ...


class ChainInterceptor(WrappingInterceptor):
    """`wrappers`, outermost first, around every method, composed once per method."""

    def __init__(self, wrappers: Sequence[MethodWrapper]) -> None:
        super().__init__()
        self._wrappers = tuple(wrappers)

    def wrap_unary(self, method: str, behavior: Handler) -> Handler:
        for wrapper in reversed(self._wrappers):
            behavior = wrapper.wrap_unary(method, behavior)
        return behavior

    def wrap_stream(self, method: str, behavior: Callable[..., Any]) -> Callable[..., Any]:
        for wrapper in reversed(self._wrappers):
            behavior = wrapper.wrap_stream(method, behavior)
        return behavior
