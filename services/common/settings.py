"""Typed settings read only from the environment, with local defaults."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    """What every gRPC service process needs; services extend it."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    database_url: str
    grpc_host: str = "127.0.0.1"
    grpc_port: int
    # Shorter than the pod's terminationGracePeriodSeconds.
    shutdown_grace_seconds: float = 10.0
    log_level: str = "INFO"
    # Unset: no Prometheus endpoint (tests); `omni up` and Kubernetes set it.
    metrics_port: int | None = None
    # With TLS on (OMNI_TLS_*), health alone is also served in plaintext here:
    # the kubelet's gRPC probes cannot speak TLS. Unset: no such port.
    health_port: int | None = None
    # Readiness turns NOT_SERVING while the database does not answer.
    db_check_interval_seconds: float = 5.0
    db_check_timeout_seconds: float = 2.0
