"""Client channels to other services, with retries for transient failures."""

from __future__ import annotations

import json

import grpc

from services.common.telemetry import grpc_client_interceptors

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


def open_channel(address: str) -> grpc.aio.Channel:
    """A channel whose calls are client spans carrying the trace context."""
    return grpc.aio.insecure_channel(
        address,
        interceptors=grpc_client_interceptors(),
        options=[
            ("grpc.service_config", _SERVICE_CONFIG),
            ("grpc.enable_retries", 1),
            ("grpc.keepalive_time_ms", 30_000),
        ],
    )
