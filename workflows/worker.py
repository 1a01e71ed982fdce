"""The Temporal worker: `python -m workflows.worker`.

Runs the order and return journeys and their activities on TASK_QUEUE,
talking to the four services over gRPC. Stops on SIGTERM/SIGINT after the
activities in flight finish (or the grace period ends).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.client import Client
from temporalio.worker import UnsandboxedWorkflowRunner, Worker, WorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from omni.customers.v1 import customers_pb2_grpc
from omni.inventory.v1 import inventory_pb2_grpc
from omni.orders.v1 import orders_pb2_grpc
from omni.payments.v1 import payments_pb2_grpc
from services.common.carrier import DEFAULT_DELIVERY_SECONDS, DevCarrier, carrier_from_settings
from services.common.channels import open_channel
from services.common.logs import setup_logging
from services.common.metrics import temporal_runtime
from services.common.settings import EnvSettings
from services.common.telemetry import shutdown_telemetry, temporal_interceptors
from services.common.temporal_codec import CodecError, data_converter
from workflows.activities.carrier import CarrierActivities
from workflows.activities.customers import CustomerActivities
from workflows.activities.inventory import InventoryActivities
from workflows.activities.orders import OrderActivities
from workflows.activities.payments import PaymentActivities
from workflows.activities.rpc import workflow_caller
from workflows.carts.reminder import CartReminderWorkflow
from workflows.contracts.journeys import SEARCH_ATTRIBUTES, TASK_QUEUE
from workflows.delivery.workflow import DeliveryWorkflow
from workflows.order.bopis import BopisWorkflow
from workflows.order.ship_from_store import ShipFromStoreWorkflow
from workflows.order.shipment import ShipmentWorkflow
from workflows.returns.workflow import ReturnWorkflow

logger = logging.getLogger("workflows.worker")


class WorkerSettings(EnvSettings):
    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    inventory_addr: str = "127.0.0.1:50051"
    orders_addr: str = "127.0.0.1:50052"
    customers_addr: str = "127.0.0.1:50053"
    payments_addr: str = "127.0.0.1:50054"
    log_level: str = "INFO"
    # Shorter than a pod's termination grace period (30 s by default).
    shutdown_grace_seconds: float = 20.0
    # Unset: no Prometheus endpoint (tests); `omni up` and Kubernetes set it.
    metrics_host: str = "127.0.0.1"
    metrics_port: int | None = None
    # How workflow code runs (workflow_runner; docs/architecture.md, "The
    # worker's sandbox"): unsandboxed (measured: half the worker's CPU per
    # placement of sandboxed), passthrough or sandboxed. The journey tests
    # keep the sandbox; tests/workflows/test_worker_runner.py says why that
    # and the replay corpus prove determinism.
    workflow_sandbox: str = "unsandboxed"
    # The parcel carrier (services/common/carrier.py): only "dev" so far, which
    # says a parcel is delivered CARRIER_DELIVERY_SECONDS after it shipped.
    carrier: str = "dev"
    carrier_delivery_seconds: float = DEFAULT_DELIVERY_SECONDS


# Imported once by the worker and shared with every sandboxed run (no
# workflow state in them): the generated protos behind omni.words and protobuf.
PASSTHROUGH_MODULES = ("omni", "google.protobuf")


def workflow_runner(mode: str) -> WorkflowRunner:
    """`sandboxed`: Temporal's default sandbox (every run re-imports what its
    workflow imports); `passthrough`: the same, with PASSTHROUGH_MODULES
    shared; `unsandboxed`: no sandbox (determinism then rests on
    tests/workflows/test_replay.py and the workflows' own rules)."""
    if mode == "unsandboxed":
        return UnsandboxedWorkflowRunner()
    if mode == "passthrough":
        return SandboxedWorkflowRunner(
            restrictions=SandboxRestrictions.default.with_passthrough_modules(*PASSTHROUGH_MODULES)
        )
    if mode != "sandboxed":
        raise ValueError(f"WORKFLOW_SANDBOX must be sandboxed, passthrough or unsandboxed: {mode}")
    return SandboxedWorkflowRunner()


WORKFLOWS = [
    BopisWorkflow,
    ShipFromStoreWorkflow,
    ShipmentWorkflow,
    ReturnWorkflow,
    CartReminderWorkflow,
    DeliveryWorkflow,
]


def activities_for(
    inventory: InventoryActivities,
    payments: PaymentActivities,
    orders: OrderActivities,
    customers: CustomerActivities,
    carrier: CarrierActivities | None = None,
) -> list[Callable[..., Any]]:
    """Every activity the journeys call, bound to their clients (the
    development carrier when none is given)."""
    carrier = carrier or CarrierActivities(DevCarrier())
    return [
        inventory.reserve_stock,
        inventory.release_reservation,
        inventory.release_reservation_lines,
        inventory.commit_reservation,
        inventory.confirm_reservation,
        inventory.find_sources,
        inventory.get_location,
        inventory.adjust_stock,
        payments.authorize,
        payments.capture,
        payments.void,
        payments.reauthorize,
        payments.refund,
        payments.list_payments,
        orders.record_order_progress,
        orders.record_return_progress,
        orders.place_exchange,
        customers.record_activity,
        customers.record_timeline_event,
        customers.send_notification,
        customers.checkout_cart,
        customers.record_order_placed,
        customers.send_store_notification,
        carrier.track_parcel,
    ]


class MissingSearchAttributes(Exception):
    """The namespace lacks search attributes the journeys upsert: every
    workflow task that upserts one would fail, so the worker does not start."""


async def check_search_attributes(client: Client, namespace: str) -> None:
    """Raises MissingSearchAttributes naming each of SEARCH_ATTRIBUTES that is
    not registered in `namespace` with its type."""
    response = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=namespace)
    )
    registered = {
        name: IndexedValueType.Name(kind).removeprefix("INDEXED_VALUE_TYPE_").lower()
        for name, kind in response.custom_attributes.items()
    }
    wrong = [
        name for name, kind in SEARCH_ATTRIBUTES.items() if registered.get(name) != kind.lower()
    ]
    if wrong:
        commands = "; ".join(
            f"temporal operator search-attribute create --namespace {namespace}"
            f" --name {name} --type {SEARCH_ATTRIBUTES[name]}"
            for name in wrong
        )
        named = ", ".join(f"{name} ({SEARCH_ATTRIBUTES[name]})" for name in wrong)
        raise MissingSearchAttributes(
            f"namespace {namespace!r} lacks the search attributes {named}:"
            f" `make run` registers them; elsewhere run {commands}"
        )


async def run(settings: WorkerSettings) -> None:
    client = await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        # Every payload encrypted (OMNI_CODEC_KEY; services/common/temporal_codec.py).
        data_converter=data_converter(),
        # Traces each workflow, update and activity; the worker inherits them.
        interceptors=temporal_interceptors(),
        runtime=temporal_runtime(settings.metrics_host, settings.metrics_port),
    )
    await check_search_attributes(client, settings.temporal_namespace)
    channels = {
        name: open_channel(address, workflow_caller)
        for name, address in (
            ("inventory", settings.inventory_addr),
            ("orders", settings.orders_addr),
            ("customers", settings.customers_addr),
            ("payments", settings.payments_addr),
        )
    }
    activities = activities_for(
        InventoryActivities(inventory_pb2_grpc.InventoryServiceStub(channels["inventory"])),
        PaymentActivities(payments_pb2_grpc.PaymentsServiceStub(channels["payments"])),
        OrderActivities(orders_pb2_grpc.OrdersServiceStub(channels["orders"])),
        CustomerActivities(customers_pb2_grpc.CustomersServiceStub(channels["customers"])),
        CarrierActivities(
            carrier_from_settings(settings.carrier, settings.carrier_delivery_seconds)
        ),
    )
    worker = Worker(
        client,
        task_queue=TASK_QUEUE,
        workflows=WORKFLOWS,
        activities=activities,
        graceful_shutdown_timeout=timedelta(seconds=settings.shutdown_grace_seconds),
        workflow_runner=workflow_runner(settings.workflow_sandbox),
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)

    logger.info(
        "worker polling %s on %s/%s",
        TASK_QUEUE,
        settings.temporal_address,
        settings.temporal_namespace,
    )
    running = asyncio.create_task(worker.run())
    stopped = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait({running, stopped}, return_when=asyncio.FIRST_COMPLETED)
        if stopped.done():
            logger.info("stopping: finishing activities in flight")
            await worker.shutdown()
        await running
    finally:
        stopped.cancel()
        for channel in channels.values():
            await channel.close()
        shutdown_telemetry()
        logger.info("worker stopped")


def main() -> int:
    settings = WorkerSettings()
    setup_logging("worker", settings.log_level)
    try:
        asyncio.run(run(settings))
    except (MissingSearchAttributes, CodecError) as error:
        logger.error("worker cannot start: %s", error)
        return 2
    except Exception:
        logger.exception("worker failed")
        return 1
    return 0


if __name__ == "__main__":
    status = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # temporalio can crash the interpreter at exit (DESIGN.md, known traps).
    os._exit(status)
