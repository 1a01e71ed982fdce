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

from services.common.identity import IdentitySource, aio_identity_interceptors, identity_key
from services.common.telemetry import grpc_client_interceptors

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


def open_channel(
    address: str,
    identity: IdentitySource | None = None,
    *,
    tls: TlsFiles | None = None,
) -> grpc.aio.Channel:
    """A channel whose calls are client spans carrying the trace context and,
    with `identity`, the caller `identity(method)` names, signed with
    OMNI_IDENTITY_KEY. TLS with `tls`, else with the environment's certificates."""
    interceptors = list(grpc_client_interceptors())
    if identity is not None:
        interceptors += aio_identity_interceptors(identity, identity_key())
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
