"""Each service called directly, as an attacker inside the network would: with
no identity, a forged one, an expired one, one signed for another RPC, and a
real customer's or associate's identity on RPCs that are not theirs — all
refused before anything moves (issue 12: identity at the services)."""

from __future__ import annotations

import base64
import os
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from omni.common.v1 import common_pb2
from omni.customers.v1 import customers_pb2, customers_pb2_grpc
from omni.inventory.v1 import inventory_pb2, inventory_pb2_grpc
from omni.orders.v1 import orders_pb2, orders_pb2_grpc
from omni.payments.v1 import payments_pb2, payments_pb2_grpc
from omni.words import StockMovementReason
from services.common.db import Database
from services.common.identity import METADATA_KEY, CallerIdentity, Role, sign
from tests.support.identity import ADMIN, TEST_IDENTITY_KEY, WORKFLOW, trusted_channel
from tests.support.inventory import (
    create_location,
    random_point,
    receive,
    running_inventory,
    sql,
    stock_of,
    stocked,
    unique,
)
from tests.support.ports import free_port
from tests.support.processes import start_module, stop_process, wait_grpc_healthy

KEY = TEST_IDENTITY_KEY.encode()
OTHER_KEY = b"an-attackers-guess-at-the-key-0123456789abcdef"
CUSTOMER_A = "C-" + uuid.uuid4().hex[:8]
ALICE = CallerIdentity("alice", Role.CUSTOMER, customer_id=CUSTOMER_A, channel="web")
AGENT = CallerIdentity("agent-1", Role.AGENT)

DENIED = grpc.StatusCode.PERMISSION_DENIED
UNAUTHENTICATED = grpc.StatusCode.UNAUTHENTICATED
HIDDEN = grpc.StatusCode.NOT_FOUND


@dataclass
class Services:
    inventory: str
    inventory_database_url: str
    orders: str
    customers: str
    payments: str


@pytest.fixture(scope="module")
def services(migrated_database: Callable[[str], str], logs_dir: Path) -> Iterator[Services]:
    with running_inventory(migrated_database("inventory"), logs_dir / "ident-inventory.log") as inv:
        started: list[Any] = []
        try:
            addresses: dict[str, str] = {}
            for name, extra in (
                ("customers", {"CART_REMINDERS": "false"}),
                ("payments", {"PAYMENT_PROVIDER": "dev"}),
                # Temporal is never reached: every call here is refused before it.
                (
                    "orders",
                    {
                        "INVENTORY_ADDR": inv.address,
                        "TEMPORAL_ADDRESS": f"127.0.0.1:{free_port()}",
                    },
                ),
            ):
                port = free_port()
                process = start_module(
                    f"services.{name}.main",
                    {
                        "DATABASE_URL": migrated_database(name),
                        "GRPC_PORT": str(port),
                        "OMNI_CODEC_KEY": base64.b64encode(os.urandom(32)).decode(),
                        **extra,
                    },
                    logs_dir / f"ident-{name}.log",
                )
                started.append(process)
                addresses[name] = f"127.0.0.1:{port}"
                wait_grpc_healthy(addresses[name], process)
            yield Services(
                inv.address,
                inv.database_url,
                addresses["orders"],
                addresses["customers"],
                addresses["payments"],
            )
        finally:
            for process in started:
                stop_process(process)


def metadata(method: str, caller: CallerIdentity, key: bytes = KEY, **sign_options: Any) -> Any:
    return ((METADATA_KEY, sign(caller, method, key, **sign_options)),)


async def code_of(call: Awaitable[Any]) -> grpc.StatusCode | None:
    try:
        await call
    except grpc.aio.AioRpcError as error:
        return error.code()
    return None


@pytest.fixture
async def plain(services: Services) -> AsyncIterator[dict[str, Any]]:
    """Stubs on channels that add no identity: each test says what it sends."""
    channels = {
        name: grpc.aio.insecure_channel(getattr(services, name))
        for name in ("inventory", "orders", "customers", "payments")
    }
    try:
        yield {
            "inventory": inventory_pb2_grpc.InventoryServiceStub(channels["inventory"]),
            "orders": orders_pb2_grpc.OrdersServiceStub(channels["orders"]),
            "customers": customers_pb2_grpc.CustomersServiceStub(channels["customers"]),
            "payments": payments_pb2_grpc.PaymentsServiceStub(channels["payments"]),
        }
    finally:
        for channel in channels.values():
            await channel.close()


def usd(amount_minor: int) -> common_pb2.Money:
    return common_pb2.Money(amount_minor=amount_minor, currency="USD")


# One RPC per service that moves money or stock or reads personal data, with
# a request that would succeed for the right caller.
SENSITIVE = {
    "inventory": (
        "AdjustStock",
        lambda: inventory_pb2.AdjustStockRequest(
            idempotency_key=unique("adj"),
            location_id="S1",
            sku="SKU-X",
            delta=1000,
            reason=StockMovementReason.RECEIPT.to_proto(),
            actor="attacker",
        ),
    ),
    "orders": ("ListStoreTasks", lambda: orders_pb2.ListStoreTasksRequest(store_id="S1")),
    "customers": ("ExportCustomer", lambda: customers_pb2.ExportCustomerRequest(customer_id="C-1")),
    "payments": (
        "RefundPayment",
        lambda: payments_pb2.RefundPaymentRequest(
            idempotency_key=unique("refund"), payment_id="P-1", amount=usd(100)
        ),
    ),
}
SERVICE_NAMES = {
    "inventory": "omni.inventory.v1.InventoryService",
    "orders": "omni.orders.v1.OrdersService",
    "customers": "omni.customers.v1.CustomersService",
    "payments": "omni.payments.v1.PaymentsService",
}


@pytest.mark.parametrize("service", SENSITIVE)
async def test_no_forged_expired_or_misdirected_identity_gets_in(
    plain: dict[str, Any], service: str
) -> None:
    rpc, request = SENSITIVE[service]
    call = getattr(plain[service], rpc)
    method = f"/{SERVICE_NAMES[service]}/{rpc}"
    assert await code_of(call(request())) == UNAUTHENTICATED
    assert await code_of(call(request(), metadata=metadata(method, ADMIN, OTHER_KEY))) == (
        UNAUTHENTICATED
    )
    expired = metadata(method, ADMIN, now=time.time() - 600)
    assert await code_of(call(request(), metadata=expired)) == UNAUTHENTICATED
    elsewhere = metadata(f"/{SERVICE_NAMES[service]}/SomethingHarmless", ADMIN)
    assert await code_of(call(request(), metadata=elsewhere)) == UNAUTHENTICATED


async def test_health_stays_open_to_probes(services: Services) -> None:
    for address in (services.inventory, services.orders, services.customers, services.payments):
        async with grpc.aio.insecure_channel(address) as channel:
            reply = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest())
            assert reply.status == health_pb2.HealthCheckResponse.SERVING


ADMIN_ONLY = {
    "inventory": (
        "CreateLocation",
        lambda: inventory_pb2.CreateLocationRequest(
            location=inventory_pb2.Location(location_id=unique("LOC"), name="Mine")
        ),
    ),
    "orders": (
        "RecordOrderProgress",
        lambda: orders_pb2.RecordOrderProgressRequest(order_id="O-1"),
    ),
    "customers": (
        "MergeCustomers",
        lambda: customers_pb2.MergeCustomersRequest(
            survivor_customer_id=CUSTOMER_A, duplicate_customer_id="C-someone-else"
        ),
    ),
    "payments": (
        "IssueGiftCard",
        lambda: payments_pb2.IssueGiftCardRequest(
            idempotency_key=unique("gift"), initial_balance=usd(100_000)
        ),
    ),
}


@pytest.mark.parametrize("service", ADMIN_ONLY)
async def test_a_customer_identity_is_refused_on_an_admin_rpc(
    plain: dict[str, Any], service: str
) -> None:
    rpc, request = ADMIN_ONLY[service]
    method = f"/{SERVICE_NAMES[service]}/{rpc}"
    call = getattr(plain[service], rpc)
    assert await code_of(call(request(), metadata=metadata(method, ALICE))) == DENIED
    # The same request from a caller the table admits is not refused for identity.
    admitted = WORKFLOW if service == "orders" else (AGENT if service == "customers" else ADMIN)
    found = await code_of(call(request(), metadata=metadata(method, admitted)))
    assert found not in (DENIED, UNAUTHENTICATED)


async def test_money_moves_only_for_workflows(services: Services, plain: dict[str, Any]) -> None:
    payments = plain["payments"]
    for rpc, request in (
        ("AuthorizePayment", payments_pb2.AuthorizePaymentRequest(idempotency_key=unique("a"))),
        ("CapturePayment", payments_pb2.CapturePaymentRequest(idempotency_key=unique("c"))),
        ("VoidPayment", payments_pb2.VoidPaymentRequest(idempotency_key=unique("v"))),
        ("RefundPayment", payments_pb2.RefundPaymentRequest(idempotency_key=unique("r"))),
    ):
        method = f"/{SERVICE_NAMES['payments']}/{rpc}"
        for caller in (ALICE, AGENT, ADMIN):
            found = await code_of(
                getattr(payments, rpc)(request, metadata=metadata(method, caller))
            )
            assert found == DENIED, (rpc, caller.role)
        found = await code_of(getattr(payments, rpc)(request, metadata=metadata(method, WORKFLOW)))
        assert found not in (DENIED, UNAUTHENTICATED)


async def test_an_associate_moves_stock_only_at_their_store(
    services: Services, plain: dict[str, Any]
) -> None:
    async with trusted_channel(services.inventory) as channel:
        admin = inventory_pb2_grpc.InventoryServiceStub(channel)
        mine, sku = await stocked(admin, 5)
        theirs = await create_location(admin, random_point())
        await receive(admin, theirs, sku, 5)
        clerk = CallerIdentity("clerk-77", Role.ASSOCIATE, store_id=mine)
        method = f"/{SERVICE_NAMES['inventory']}/AdjustStock"

        def adjust(location_id: str) -> inventory_pb2.AdjustStockRequest:
            return inventory_pb2.AdjustStockRequest(
                idempotency_key=unique("adj"),
                location_id=location_id,
                sku=sku,
                delta=-1,
                reason=StockMovementReason.DAMAGE.to_proto(),
                actor="someone-else",  # claimed: the ledger records the signed caller
            )

        stub = plain["inventory"]
        as_clerk = metadata(method, clerk)
        assert await code_of(stub.AdjustStock(adjust(theirs), metadata=as_clerk)) == HIDDEN
        # A receipt of 1000 at their own store is not an associate's to post.
        receipt = adjust(mine)
        receipt.delta, receipt.reason = 1000, StockMovementReason.RECEIPT.to_proto()
        assert await code_of(stub.AdjustStock(receipt, metadata=as_clerk)) == DENIED
        reserve = f"/{SERVICE_NAMES['inventory']}/ReserveStock"
        held = inventory_pb2.ReserveStockRequest(
            reservation_id=unique("RES"),
            order_id=unique("ORD"),
            location_id=mine,
            lines=[common_pb2.SkuQuantity(sku=sku, quantity=5)],
        )
        assert await code_of(stub.ReserveStock(held, metadata=metadata(reserve, clerk))) == DENIED
        assert await code_of(stub.ReserveStock(held, metadata=metadata(reserve, ALICE))) == DENIED
        assert (await stock_of(admin, theirs, sku)).on_hand == 5
        assert (await stock_of(admin, mine, sku)).reserved == 0
        # Their own store: accepted.
        assert await code_of(stub.AdjustStock(adjust(mine), metadata=as_clerk)) is None
        assert (await stock_of(admin, mine, sku)).on_hand == 4
        database = Database(services.inventory_database_url)
        try:
            recorded = await sql(
                database,
                "SELECT actor FROM stock_movements WHERE location_id = :l AND delta = -1",
                l=mine,
            )
        finally:
            await database.dispose()
        assert recorded == "clerk-77"


async def test_a_customer_reads_only_their_own_record_merged_ids_included(
    services: Services, plain: dict[str, Any]
) -> None:
    async with trusted_channel(services.customers) as channel:
        staff = customers_pb2_grpc.CustomersServiceStub(channel)

        async def create(name: str) -> str:
            reply = await staff.CreateCustomer(
                customers_pb2.CreateCustomerRequest(
                    name=name, email=f"{uuid.uuid4().hex[:10]}@example.com"
                )
            )
            return str(reply.customer.customer_id)

        ada, ada_old, grace = await create("Ada"), await create("Ada (old)"), await create("Grace")
        merge = "/omni.customers.v1.CustomersService/MergeCustomers"
        await plain["customers"].MergeCustomers(
            customers_pb2.MergeCustomersRequest(
                survivor_customer_id=ada, duplicate_customer_id=ada_old, actor="agent-1"
            ),
            metadata=metadata(merge, AGENT),
        )
    export = "/omni.customers.v1.CustomersService/ExportCustomer"
    as_ada = CallerIdentity("ada", Role.CUSTOMER, customer_id=ada)
    as_grace = CallerIdentity("grace", Role.CUSTOMER, customer_id=grace)
    stub = plain["customers"]

    async def export_as(caller: CallerIdentity, customer_id: str) -> grpc.StatusCode | None:
        request = customers_pb2.ExportCustomerRequest(customer_id=customer_id)
        return await code_of(stub.ExportCustomer(request, metadata=metadata(export, caller)))

    assert await export_as(as_ada, ada) is None
    assert await export_as(as_ada, ada_old) is None  # merged into hers
    assert await export_as(as_grace, ada) == HIDDEN
    assert await export_as(as_grace, ada_old) == HIDDEN
    associate = CallerIdentity("clerk", Role.ASSOCIATE, store_id="S1")
    assert await export_as(associate, ada) == DENIED
    erase = "/omni.customers.v1.CustomersService/EraseCustomer"
    refused = await code_of(
        stub.EraseCustomer(
            customers_pb2.EraseCustomerRequest(customer_id=ada, actor="grace"),
            metadata=metadata(erase, as_grace),
        )
    )
    assert refused == HIDDEN
    get = "/omni.customers.v1.CustomersService/GetCustomer"
    still = await stub.GetCustomer(
        customers_pb2.GetCustomerRequest(customer_id=ada), metadata=metadata(get, as_ada)
    )
    assert still.customer.name == "Ada"


async def test_orders_refuse_other_stores_and_other_customers(plain: dict[str, Any]) -> None:
    orders = plain["orders"]
    clerk = CallerIdentity("clerk", Role.ASSOCIATE, store_id="S2")
    tasks = f"/{SERVICE_NAMES['orders']}/ListStoreTasks"
    request = orders_pb2.ListStoreTasksRequest(store_id="S1")
    assert await code_of(orders.ListStoreTasks(request, metadata=metadata(tasks, clerk))) == HIDDEN
    assert await code_of(orders.ListStoreTasks(request, metadata=metadata(tasks, ALICE))) == DENIED
    place = f"/{SERVICE_NAMES['orders']}/PlaceOrder"
    for_someone_else = orders_pb2.PlaceOrderRequest(
        idempotency_key=unique("place"), customer_id="C-someone-else"
    )
    assert (
        await code_of(orders.PlaceOrder(for_someone_else, metadata=metadata(place, ALICE)))
        == HIDDEN
    )
    guest = CallerIdentity("guest-1", Role.GUEST)
    assert await code_of(orders.PlaceOrder(for_someone_else, metadata=metadata(place, guest))) == (
        DENIED
    )
    erase = f"/{SERVICE_NAMES['orders']}/ErasePersonalData"
    theirs = orders_pb2.ErasePersonalDataRequest(customer_ids=["C-someone-else"])
    assert await code_of(orders.ErasePersonalData(theirs, metadata=metadata(erase, ALICE))) == (
        HIDDEN
    )


async def test_a_match_shows_a_guest_only_the_id_and_attaches_nothing(
    services: Services, plain: dict[str, Any]
) -> None:
    """Finding 3 again, at the service: whatever the request asks, a guest (or
    another customer) who names someone's email learns the id only."""
    email = f"{uuid.uuid4().hex[:10]}@example.com"
    card = "LC" + uuid.uuid4().hex[:10].upper()
    create = "/omni.customers.v1.CustomersService/CreateCustomer"
    stub = plain["customers"]
    made = await stub.CreateCustomer(
        customers_pb2.CreateCustomerRequest(name="Ada", email=email, loyalty_card=card),
        metadata=metadata(create, AGENT),
    )
    ada = made.customer.customer_id
    probe = customers_pb2.CreateCustomerRequest(
        email=email, phone="+12125550199", leave_matched_unchanged=False
    )
    guest = CallerIdentity("guest-1", Role.GUEST)
    seen = await stub.CreateCustomer(probe, metadata=metadata(create, guest))
    assert not seen.created
    assert seen.customer == customers_pb2.Customer(customer_id=ada)
    other = CallerIdentity("bob", Role.CUSTOMER, customer_id="C-bob")
    seen = await stub.CreateCustomer(probe, metadata=metadata(create, other))
    assert seen.customer == customers_pb2.Customer(customer_id=ada)
    clerk = CallerIdentity("clerk", Role.ASSOCIATE, store_id="S1")
    contact = await stub.CreateCustomer(
        customers_pb2.CreateCustomerRequest(email=email), metadata=metadata(create, clerk)
    )
    assert (contact.customer.name, contact.customer.email) == ("Ada", email)
    assert not contact.customer.loyalty_card and not contact.customer.identities
    # Nothing was attached to Ada's record by the guest's or Bob's phone.
    get = "/omni.customers.v1.CustomersService/GetCustomer"
    record = await stub.GetCustomer(
        customers_pb2.GetCustomerRequest(customer_id=ada), metadata=metadata(get, AGENT)
    )
    assert record.customer.phone == ""
    assert record.customer.loyalty_card == card
    herself = CallerIdentity("ada", Role.CUSTOMER, customer_id=ada)
    mine = await stub.CreateCustomer(
        customers_pb2.CreateCustomerRequest(email=email), metadata=metadata(create, herself)
    )
    assert mine.customer.loyalty_card == card
