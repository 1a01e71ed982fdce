"""The gateway's settings, read only from the environment."""

from __future__ import annotations

from services.common.settings import EnvSettings

# Development only (OMNI_ENV=development): production refuses to start without
# a JWKS URL or public key, an issuer and an audience.
DEV_JWT_SECRET = "omni-dev-secret-change-me-0123456789abcdef"
DEVELOPMENT = "development"


class GatewaySettings(EnvSettings):
    gateway_host: str = "127.0.0.1"
    gateway_port: int = 8080
    # /metrics is served only here, never on the public port (0: not at all).
    metrics_port: int = 0
    # The gateway's own database (idempotency keys). Empty: none configured,
    # and the app must be given a store explicitly (tests).
    database_url: str = ""

    inventory_addr: str = "127.0.0.1:50051"
    orders_addr: str = "127.0.0.1:50052"
    customers_addr: str = "127.0.0.1:50053"
    payments_addr: str = "127.0.0.1:50054"
    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"

    # "development" (set by `omni up` and the test harnesses) is the only way
    # to verify HS256 tokens signed with JWT_SECRET; anything else is production.
    omni_env: str = "production"

    # HS256 in development; RS256/ES256 via a PEM public key or a JWKS URL in production.
    jwt_secret: str = DEV_JWT_SECRET
    jwt_public_key: str = ""
    jwt_jwks_url: str = ""
    jwt_issuer: str = ""
    jwt_audience: str = ""
    jwt_leeway_seconds: float = 30.0
    # A token whose exp - iat is longer is refused (a stolen token stays useful
    # at most this long).
    jwt_max_lifetime_seconds: float = 24 * 3600.0
    # How long fetched JWKS keys are trusted before they are fetched again.
    jwt_jwks_refresh_seconds: float = 300.0

    # gRPC deadlines. Placing an order may wait on a slow provider (3 s per
    # operation, several operations), so mutating journeys get longer.
    read_timeout_seconds: float = 5.0
    write_timeout_seconds: float = 10.0
    journey_timeout_seconds: float = 30.0
    health_timeout_seconds: float = 2.0

    # Per caller (token sub, or client address without one), per gateway
    # replica: a token bucket refilling at this rate, holding `burst`. 0 disables.
    rate_limit_per_second: float = 50.0
    rate_limit_burst: int = 100

    # Admission control per replica (services/gateway/admission.py): requests
    # in flight at once — journeys started (POST /v1/orders, /v1/returns) and
    # everything else — then up to `admission_max_queued` waiting at most
    # `admission_queue_seconds` for a slot; the rest are 429 + Retry-After.
    admission_placement_in_flight: int = 32
    admission_general_in_flight: int = 256
    admission_max_queued: int = 128
    admission_queue_seconds: float = 1.0
    admission_retry_after_seconds: int = 1

    idempotency_retention_hours: float = 48.0
    # A key claimed this long ago with no answer belongs to a gateway that died
    # mid-request: the next retry takes it over. Longer than any request may
    # run (journey_timeout_seconds), and well under the orders service's
    # PLACEMENT_RECOVERY_AFTER_SECONDS (120): the channel's retry must reach
    # orders, and renew its pending placement, before orders gives that
    # placement's hold and authorization back (PLACEMENT_INTERRUPTED).
    idempotency_lease_seconds: float = 45.0
    # Open availability streams per caller (token sub) per replica.
    sse_streams_per_caller: int = 5
    # Browser origins allowed to call the API (CORS); none by default.
    cors_allowed_origins: list[str] = []
    shutdown_grace_seconds: float = 10.0
    log_level: str = "INFO"

    def problems(self) -> list[str]:
        if self.idempotency_lease_seconds <= self.journey_timeout_seconds:
            return [
                "IDEMPOTENCY_LEASE_SECONDS must be longer than JOURNEY_TIMEOUT_SECONDS"
                f" ({self.idempotency_lease_seconds:g} <= {self.journey_timeout_seconds:g}):"
                " a request still running would have its key taken over"
            ]
        return []

    @property
    def is_development(self) -> bool:
        return self.omni_env == DEVELOPMENT

    @property
    def uses_dev_secret(self) -> bool:
        return not (self.jwt_public_key or self.jwt_jwks_url) and (
            self.jwt_secret == DEV_JWT_SECRET
        )

    def production_problems(self) -> list[str]:
        """Why this configuration may not serve production traffic (empty in
        development, or when it may)."""
        if self.is_development:
            return []
        problems = []
        if not (self.jwt_jwks_url or self.jwt_public_key):
            problems.append("JWT_JWKS_URL or JWT_PUBLIC_KEY is required")
        if not self.jwt_issuer:
            problems.append("JWT_ISSUER is required")
        if not self.jwt_audience:
            problems.append("JWT_AUDIENCE is required")
        return problems
