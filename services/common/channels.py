"""Client channels to other services: retries for transient failures, the
caller's signed identity on every call (identity.py), and TLS when
certificates are configured.

TLS: OMNI_TLS_CERT_FILE and OMNI_TLS_KEY_FILE (PEM) make every server listen
with TLS only and every client present that certificate; OMNI_TLS_CA_FILE is
what clients trust (and, on a server, makes client certificates required:
mutual TLS). Unset: plaintext, for the development stack.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from opentelemetry import trace

from services.common.identity import (
    AioIdentity,
    IdentitySource,
    aio_stream_identity_interceptor,
    identity_key,
)
from services.common.telemetry import (
    client_span,
    end_client_span,
    grpc_stream_client_interceptors,
    trace_headers,
)

CERT_ENV = "OMNI_TLS_CERT_FILE"
KEY_ENV = "OMNI_TLS_KEY_FILE"
CA_ENV = "OMNI_TLS_CA_FILE"


@dataclass(frozen=True)
class TlsFiles:
    certificate_chain: bytes
    private_key: bytes
    root_certificates: bytes | None


def tls_from_env(environ: Any = None) -> TlsFiles | None:
    """The configured certificate, key and CA, read once; None without them."""
    env = os.environ if environ is None else environ
    cert, key, ca = env.get(CERT_ENV, ""), env.get(KEY_ENV, ""), env.get(CA_ENV, "")
    if not cert and not key and not ca:
        return None
    if not cert or not key:
        raise RuntimeError(f"TLS needs both {CERT_ENV} and {KEY_ENV}")
    return TlsFiles(
        Path(cert).read_bytes(),
        Path(key).read_bytes(),
        Path(ca).read_bytes() if ca else None,
    )


def server_credentials(tls: TlsFiles) -> grpc.ServerCredentials:
    return grpc.ssl_server_credentials(
        [(tls.private_key, tls.certificate_chain)],
        root_certificates=tls.root_certificates,
        require_client_auth=tls.root_certificates is not None,
    )


def channel_credentials(tls: TlsFiles) -> grpc.ChannelCredentials:
    return grpc.ssl_channel_credentials(
        root_certificates=tls.root_certificates,
        private_key=tls.private_key,
        certificate_chain=tls.certificate_chain,
    )


# Retries UNAVAILABLE only: the call never reached a servicer, so repeating it
# is safe even without an idempotency key.
_SERVICE_CONFIG = json.dumps(
    {
        "methodConfig": [
            {
                "name": [{}],
                "retryPolicy": {
                    "maxAttempts": 4,
                    "initialBackoff": "0.1s",
                    "maxBackoff": "1s",
                    "backoffMultiplier": 2,
                    "retryableStatusCodes": ["UNAVAILABLE"],
                },
            }
        ]
    }
)


class _UnaryCalls(grpc.aio.UnaryUnaryClientInterceptor):
    """Every unary call: its client span, the trace context and the signed
    caller added in one copy of the metadata. One interceptor for both: each
    grpc.aio client interceptor is a layer of tasks and call objects per call,
    and OpenTelemetry's also ran a typing-Protocol filter on every call."""

    def __init__(
        self, identity: AioIdentity | None, provider: trace.TracerProvider | None = None
    ) -> None:
        self._identity = identity
        self._provider = provider

    async def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        method = details.method.decode() if isinstance(details.method, bytes) else details.method
        span = client_span(method, self._provider)
        extra = trace_headers(span) if span is not None else []
        if self._identity is not None and (entry := self._identity.entry(method, details.metadata)):
            extra.append(entry)
        if extra:
            details = grpc.aio.ClientCallDetails(
                details.method,
                details.timeout,
                grpc.aio.Metadata(*(details.metadata or ()), *extra),
                details.credentials,
                details.wait_for_ready,
            )
        if span is None:
            return await continuation(details, request)
        try:
            call = await continuation(details, request)
            code = await call.code()
        except grpc.aio.AioRpcError as error:
            end_client_span(span, error.code(), error.details() or "")
            raise
        except BaseException as error:
            end_client_span(span, grpc.StatusCode.CANCELLED, type(error).__name__)
            raise
        end_client_span(span, code, await call.details() or "")
        return call


def open_channel(
    address: str,
    identity: IdentitySource | None = None,
    *,
    tls: TlsFiles | None = None,
    tracer_provider: trace.TracerProvider | None = None,
) -> grpc.aio.Channel:
    """A channel whose calls are client spans carrying the trace context and,
    with `identity`, the caller `identity(method)` names, signed with
    OMNI_IDENTITY_KEY. TLS with `tls`, else with the environment's certificates.
    `tracer_provider`: the global one unless given (tests)."""
    signer = AioIdentity(identity, identity_key()) if identity is not None else None
    interceptors: list[Any] = [
        _UnaryCalls(signer, tracer_provider),
        *grpc_stream_client_interceptors(),
    ]
    if identity is not None:
        interceptors.append(aio_stream_identity_interceptor(identity, identity_key()))
    files = tls or tls_from_env()
    options = [
        ("grpc.service_config", _SERVICE_CONFIG),
        ("grpc.enable_retries", 1),
        ("grpc.keepalive_time_ms", 30_000),
    ]
    if files is None:
        return grpc.aio.insecure_channel(address, interceptors=interceptors, options=options)
    return grpc.aio.secure_channel(
        address, channel_credentials(files), interceptors=interceptors, options=options
    )
