"""The dev stack's settings: ports, folders and where the infrastructure is.

Everything comes from the environment with defaults that make `make run` work
on a laptop. DATABASE_URL / TEMPORAL_ADDRESS point the stack at real
infrastructure instead of the embedded PostgreSQL and Temporal dev server.
"""

from __future__ import annotations

from pathlib import Path

from services.common.settings import EnvSettings

SERVICES = ("inventory", "orders", "customers", "payments")
DATABASES = (*SERVICES, "gateway")


class StackSettings(EnvSettings):
    omni_home: Path = Path(".omni")
    # Unset: the embedded PostgreSQL under OMNI_HOME/pg on omni_pg_port.
    database_url: str | None = None
    omni_pg_port: int = 55432
    # Unset: the Temporal dev server, persisted to OMNI_HOME/temporal.db.
    temporal_address: str | None = None
    temporal_namespace: str = "default"
    temporal_port: int = 7233
    temporal_ui_port: int = 8233
    inventory_port: int = 50051
    orders_port: int = 50052
    customers_port: int = 50053
    payments_port: int = 50054
    # Prometheus /metrics of each process (the gateway serves its own on /metrics).
    inventory_metrics_port: int = 9101
    orders_metrics_port: int = 9102
    customers_metrics_port: int = 9103
    payments_metrics_port: int = 9104
    worker_metrics_port: int = 9105
    gateway_metrics_port: int = 9106
    # The codec server (services/codec_server.py) the Temporal UI decodes with.
    codec_server_port: int = 8089
    gateway_host: str = "127.0.0.1"
    gateway_port: int = 8080
    # Test clusters skip fsync; a developer's data is kept durable.
    omni_pg_durable: bool = True
    omni_seed: bool = True
    # Start a child that dies again instead of stopping the stack (the fault suite).
    omni_restart: bool = False
    # Processes per service (sharing its port) and Temporal worker processes.
    omni_replicas: int = 1
    omni_workers: int = 1
    # Where payments sends cards: the development provider and its test tokens.
    payment_provider: str = "dev"

    def port_of(self, service: str) -> int:
        port: int = getattr(self, f"{service}_port")
        return port

    def metrics_port_of(self, process: str) -> int:
        port: int = getattr(self, f"{process}_metrics_port")
        return port

    def address_of(self, service: str) -> str:
        return f"127.0.0.1:{self.port_of(service)}"

    @property
    def codec_server_url(self) -> str:
        return f"http://127.0.0.1:{self.codec_server_port}"

    @property
    def gateway_url(self) -> str:
        return f"http://{self.gateway_host}:{self.gateway_port}"


def database_url_for(server_url: str, database: str) -> str:
    """The URL of `database` on the server that `server_url` names."""
    base, _, _ = server_url.rpartition("/")
    return f"{base}/{database}"


def database_name(service: str) -> str:
    return f"omni_{service}"
