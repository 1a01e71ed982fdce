"""Issue 12, on the app with fakes: nobody gets money, stock or personal data
they are not owed (in-store returns, guests and POST /v1/customers, what
associates may do, the order's channel, body limits)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from omni.customers.v1 import customers_pb2
from omni.inventory.v1 import inventory_pb2
from omni.orders.v1 import orders_pb2
from omni.words import Channel, ReturnMethod, ReturnStatus
from services.common.errors import BusinessRuleViolation
from tests.unit.gateway_fakes import (
    ORDER_BODY,
    FakeStub,
    bearer,
    fake_clients,
    make_app,
    orders_stub,
    payments_stub,
    rpc_error,
    sample_order,
)

CUSTOMER = bearer("customer", customer_id="C1")
AGENT = bearer("agent")
ASSOCIATE_S1 = bearer("associate", "A1", store_id="S1")
ASSOCIATE_S2 = bearer("associate", "A2", store_id="S2")
GUEST = bearer("guest")
ADMIN = bearer("admin")


def keyed(headers: dict[str, str], key: str) -> dict[str, str]:
    return {**headers, "Idempotency-Key": key}


def a_return(status: ReturnStatus, location_id: str = "S1") -> orders_pb2.Return:
    return orders_pb2.Return(
        return_id="R1",
        order_id="O1",
        customer_id="C1",
        status=status.to_proto(),
        method=ReturnMethod.IN_STORE.to_proto(),
        location_id=location_id,
        workflow_id="return-R1",
        channel=Channel.POS.to_proto(),
    )


def returns_orders() -> FakeStub:
    return orders_stub(
        CreateReturn=lambda r: orders_pb2.CreateReturnResponse(
            **{"return": a_return(ReturnStatus.REQUESTED, r.location_id)}
        ),
        ReceiveReturn=lambda r: orders_pb2.ReceiveReturnResponse(
            **{"return": a_return(ReturnStatus.REFUNDED, r.location_id)}
        ),
        CancelOrder=lambda r: orders_pb2.CancelOrderResponse(order=sample_order(r.order_id)),
    )


RETURN_BODY: dict[str, Any] = {
    "order_id": "O1",
    "lines": [{"sku": "SKU-MUG", "quantity": 1, "condition": "sellable"}],
    "method": "in_store",
    "location_id": "S1",
}


# ------------------------------------------------------------ in-store returns


@pytest.mark.parametrize("caller", [CUSTOMER, AGENT], ids=["customer", "agent"])
def test_a_customer_or_agent_in_store_return_waits_for_an_associate(caller: Any) -> None:
    orders = returns_orders()
    client = TestClient(make_app(fake_clients(orders=orders, payments=payments_stub())))
    answer = client.post("/v1/returns", json=RETURN_BODY, headers=keyed(caller, "r-1"))
    assert answer.status_code == 201, answer.text
    assert answer.json()["status"] == "requested"
    assert orders.called("ReceiveReturn") == []


def test_an_associate_of_the_store_receives_the_goods_in_hand() -> None:
    orders = returns_orders()
    client = TestClient(make_app(fake_clients(orders=orders, payments=payments_stub())))
    answer = client.post("/v1/returns", json=RETURN_BODY, headers=keyed(ASSOCIATE_S1, "r-2"))
    assert answer.status_code == 201, answer.text
    assert answer.json()["status"] == "refunded"
    [received] = orders.called("ReceiveReturn")
    assert (received.return_id, received.location_id, received.actor) == ("R1", "S1", "A1")
    assert [(line.sku, line.quantity) for line in received.lines] == [("SKU-MUG", 1)]


def test_an_associate_of_another_store_cannot_take_an_in_store_return() -> None:
    orders = returns_orders()
    client = TestClient(make_app(fake_clients(orders=orders, payments=payments_stub())))
    answer = client.post("/v1/returns", json=RETURN_BODY, headers=keyed(ASSOCIATE_S2, "r-3"))
    assert answer.status_code == 404, answer.text
    assert orders.called("CreateReturn") == []


# ------------------------------------------------------------ POST /v1/customers

MATCHED = customers_pb2.Customer(
    customer_id="C9",
    name="Ada Lovelace",
    email="ada@example.com",
    phone="+15551230000",
    loyalty_points=420,
)


def customers_matching() -> FakeStub:
    return FakeStub(
        CreateCustomer=lambda r: customers_pb2.CreateCustomerResponse(
            customer=MATCHED, created=False
        ),
        GetCustomer=lambda r: customers_pb2.GetCustomerResponse(
            customer=customers_pb2.Customer(customer_id=r.customer_id)
        ),
    )


@pytest.mark.parametrize("caller", [GUEST, CUSTOMER], ids=["guest", "another customer"])
def test_a_guest_matching_someone_gets_only_the_id_and_attaches_nothing(caller: Any) -> None:
    customers = customers_matching()
    client = TestClient(make_app(fake_clients(customers=customers)))
    answer = client.post(
        "/v1/customers",
        json={"email": "ada@example.com", "phone": "+15559999999", "name": "Mallory"},
        headers=caller,
    )
    assert (answer.status_code, answer.json()) == (200, {"customer_id": "C9"})
    [sent] = customers.called("CreateCustomer")
    assert sent.leave_matched_unchanged is True


def test_an_associate_sees_only_name_and_contact_of_a_match() -> None:
    customers = customers_matching()
    client = TestClient(make_app(fake_clients(customers=customers)))
    answer = client.post("/v1/customers", json={"email": "ada@example.com"}, headers=ASSOCIATE_S1)
    assert answer.status_code == 200
    assert answer.json() == {
        "customer_id": "C9",
        "name": "Ada Lovelace",
        "email": "ada@example.com",
        "phone": "+15551230000",
    }
    [sent] = customers.called("CreateCustomer")
    assert sent.leave_matched_unchanged is False


def test_an_agent_sees_the_whole_profile_of_a_match() -> None:
    client = TestClient(make_app(fake_clients(customers=customers_matching())))
    answer = client.post("/v1/customers", json={"email": "ada@example.com"}, headers=AGENT)
    assert answer.status_code == 200
    assert answer.json()["loyalty_points"] == 420


def test_the_customer_themselves_sees_their_profile() -> None:
    client = TestClient(make_app(fake_clients(customers=customers_matching())))
    answer = client.post(
        "/v1/customers",
        json={"email": "ada@example.com"},
        headers=bearer("customer", customer_id="C9"),
    )
    assert answer.status_code == 200
    assert answer.json()["loyalty_points"] == 420


# ------------------------------------------------------------ associates


def test_an_associate_cannot_cancel_an_order() -> None:
    orders = returns_orders()
    client = TestClient(make_app(fake_clients(orders=orders, payments=payments_stub())))
    answer = client.post("/v1/orders/O1/cancel", json={}, headers=ASSOCIATE_S1)
    assert answer.status_code == 403, answer.text
    assert orders.called("CancelOrder") == []


def inventory_stub() -> FakeStub:
    return FakeStub(
        AdjustStock=lambda r: inventory_pb2.AdjustStockResponse(
            stock=inventory_pb2.StockRecord(location_id=r.location_id, sku=r.sku, on_hand=1)
        )
    )


@pytest.mark.parametrize(
    ("reason", "location", "status"),
    [
        ("cycle_count", "S1", 201),
        ("damage", "S1", 201),
        ("receipt", "S1", 403),
        ("pos_sale", "S1", 403),
        ("cycle_count", "S2", 404),
        ("damage", "S2", 404),
    ],
)
def test_an_associate_adjusts_only_counts_and_damage_at_their_store(
    reason: str, location: str, status: int
) -> None:
    inventory = inventory_stub()
    client = TestClient(make_app(fake_clients(inventory=inventory)))
    body = {"location_id": location, "sku": "SKU-MUG", "delta": -1, "reason": reason}
    answer = client.post("/v1/inventory/adjustments", json=body, headers=ASSOCIATE_S1)
    assert answer.status_code == status, answer.text
    assert len(inventory.called("AdjustStock")) == (1 if status == 201 else 0)


def test_admin_may_post_a_receipt() -> None:
    inventory = inventory_stub()
    client = TestClient(make_app(fake_clients(inventory=inventory)))
    body = {"location_id": "S2", "sku": "SKU-MUG", "delta": 1000, "reason": "receipt"}
    answer = client.post("/v1/inventory/adjustments", json=body, headers=ADMIN)
    assert answer.status_code == 201, answer.text


def test_a_referral_that_is_no_active_associate_is_refused_naming_the_field() -> None:
    # Issue 14: the registry exists; the orders service checks the referral
    # (services/orders/staff.check_active) and its refusal names the field.
    refusal = BusinessRuleViolation(
        "UNKNOWN_ASSOCIATE",
        "referral_associate_id A-fake is not an active associate",
        {"field": "referral_associate_id", "associate_id": "A-fake"},
    )
    orders = orders_stub(PlaceOrder=lambda r: rpc_error(refusal))
    client = TestClient(make_app(fake_clients(orders=orders, payments=payments_stub())))
    body = {**ORDER_BODY, "referral_associate_id": "A-fake"}
    answer = client.post("/v1/orders", json=body, headers=keyed(CUSTOMER, "o-ref"))
    assert answer.status_code == 422, answer.text
    assert [e["field"] for e in answer.json()["errors"]] == ["referral_associate_id"]
    assert [r.referral_associate_id for r in orders.called("PlaceOrder")] == ["A-fake"]


@pytest.mark.parametrize(
    ("caller", "expected"),
    [
        (bearer("customer", customer_id="C1"), Channel.WEB),
        (bearer("customer", customer_id="C1", channel="app"), Channel.APP),
        (bearer("agent"), Channel.CALL_CENTER),
        (bearer("associate", "A1", store_id="S1"), Channel.POS),
    ],
    ids=["customer", "app customer", "agent", "associate"],
)
def test_an_orders_channel_is_the_tokens_never_the_bodys(caller: Any, expected: Channel) -> None:
    orders = orders_stub()
    client = TestClient(make_app(fake_clients(orders=orders, payments=payments_stub())))
    body = {**ORDER_BODY, "channel": "marketplace"}
    answer = client.post("/v1/orders", json=body, headers=keyed(caller, "o-channel"))
    assert answer.status_code == 201, answer.text
    [placed] = orders.called("PlaceOrder")
    assert Channel.from_proto(placed.channel) is expected


# ------------------------------------------------------------ bodies


def test_a_body_over_one_mib_is_a_413_before_it_is_read() -> None:
    orders = orders_stub()
    client = TestClient(make_app(fake_clients(orders=orders, payments=payments_stub())))
    body = b'{"padding": "' + b"x" * (1024 * 1024) + b'"}'
    answer = client.post(
        "/v1/orders",
        content=body,
        headers={**keyed(CUSTOMER, "big"), "Content-Type": "application/json"},
    )
    assert answer.status_code == 413, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert orders.called("PlaceOrder") == []


def test_a_streamed_body_over_one_mib_is_a_413_without_content_length() -> None:
    orders = orders_stub()
    client = TestClient(make_app(fake_clients(orders=orders, payments=payments_stub())))

    def chunks() -> Any:
        for _ in range(20):
            yield b"x" * 65536

    answer = client.post(
        "/v1/orders",
        content=chunks(),
        headers={**keyed(CUSTOMER, "big-stream"), "Content-Type": "application/json"},
    )
    assert answer.status_code == 413, answer.text
    assert orders.called("PlaceOrder") == []


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/orders", {**ORDER_BODY, "lines": [{"sku": "S" * 5000, "quantity": 1}]}),
        ("/v1/customers", {"email": "a@example.com", "name": "N" * 5000}),
        (
            "/v1/inventory/adjustments",
            {
                "location_id": "S1",
                "sku": "SKU",
                "delta": 1,
                "reason": "receipt",
                "reference": "R" * 5000,
            },
        ),
        ("/v1/returns", {**RETURN_BODY, "order_id": "O" * 5000}),
    ],
    ids=["order sku", "customer name", "adjustment reference", "return order_id"],
)
def test_strings_are_capped(path: str, body: dict[str, Any]) -> None:
    client = TestClient(make_app(fake_clients(orders=returns_orders(), payments=payments_stub())))
    answer = client.post(path, json=body, headers=keyed(ADMIN, "caps"))
    assert answer.status_code == 400, answer.text


def test_unknown_fields_are_ignored_never_applied() -> None:
    orders = orders_stub()
    client = TestClient(make_app(fake_clients(orders=orders, payments=payments_stub())))
    body = {
        **ORDER_BODY,
        "status": "completed",
        "totals": {"total": {"amount_minor": 1, "currency": "USD"}},
        "captured": {"amount_minor": 1, "currency": "USD"},
        "refund": {"amount_minor": 99999, "currency": "USD"},
    }
    answer = client.post("/v1/orders", json=body, headers=keyed(CUSTOMER, "mass"))
    assert answer.status_code == 201, answer.text
    [placed] = orders.called("PlaceOrder")
    reference = orders_pb2.PlaceOrderRequest()
    reference.CopyFrom(placed)
    # Only the fields the contract names were sent.
    assert {field.name for field, _ in placed.ListFields()} <= {
        "idempotency_key",
        "customer_id",
        "channel",
        "lines",
        "fulfillment",
        "tenders",
    }


def _request_models() -> list[type[Any]]:
    from pydantic import BaseModel

    from tests.security.routes import api_routes

    app = make_app(fake_clients())
    found: dict[str, type[Any]] = {}

    def walk(model: type[Any]) -> None:
        if model.__name__ in found:
            return
        found[model.__name__] = model
        for field in model.model_fields.values():
            for inner in _types_in(field.annotation):
                if isinstance(inner, type) and issubclass(inner, BaseModel):
                    walk(inner)

    for route in api_routes(app):
        if route.body_field is not None:
            for inner in _types_in(route.body_field.field_info.annotation):
                if isinstance(inner, type) and issubclass(inner, BaseModel):
                    walk(inner)
    return list(found.values())


def _types_in(annotation: Any) -> list[Any]:
    from typing import get_args

    args = get_args(annotation)
    if not args:
        return [annotation]
    return [annotation, *(inner for arg in args for inner in _types_in(arg))]


def test_every_string_and_list_of_every_request_body_is_capped() -> None:
    from typing import get_origin

    models = _request_models()
    assert {"OrderIn", "ReturnIn", "CustomerIn", "AdjustmentIn"} <= {m.__name__ for m in models}
    uncapped = []
    for model in models:
        strings_capped = model.model_config.get("str_max_length") is not None
        extra = model.model_config.get("extra", "ignore")
        if extra != "ignore":
            uncapped.append(f"{model.__name__}: extra={extra}")
        for name, field in model.model_fields.items():
            types = _types_in(field.annotation)
            lists = [t for t in types if get_origin(t) is list]
            if lists and not any(getattr(m, "max_length", None) for m in field.metadata):
                uncapped.append(f"{model.__name__}.{name}: list without max_length")
            if str in types and not strings_capped:
                if not any(getattr(m, "max_length", None) for m in field.metadata):
                    uncapped.append(f"{model.__name__}.{name}: string without max_length")
    assert uncapped == []
