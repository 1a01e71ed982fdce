"""The gateway's side of the associates registry (issue 14): an associate
token must name a registered, active associate; the registry's routes are
admin-managed; referrals and staff-sales reports reach the orders service
only for callers who may ask."""

from __future__ import annotations

from typing import Any

import grpc
from fastapi.testclient import TestClient

from omni.orders.v1 import orders_pb2
from omni.words import Channel
from services.common.errors import AlreadyExists, BusinessRuleViolation, NotFound
from tests.unit.gateway_fakes import (
    ORDER_BODY,
    FakeStub,
    bearer,
    fake_clients,
    make_app,
    orders_stub,
    payments_stub,
    plain_rpc_error,
    rpc_error,
    with_key,
)

ADMIN = bearer("admin")


def registry(**associates: orders_pb2.Associate | BaseException) -> Any:
    """GetAssociate from a table: unknown ids are NOT_FOUND."""

    def get(request: orders_pb2.GetAssociateRequest) -> Any:
        found = associates.get(request.associate_id)
        if found is None:
            return rpc_error(NotFound(f"associate {request.associate_id} not found"))
        if isinstance(found, BaseException):
            return found
        return orders_pb2.GetAssociateResponse(associate=found)

    return get


def client(orders: FakeStub) -> TestClient:
    return TestClient(make_app(fake_clients(orders=orders, payments=payments_stub())))


def tasks_stub(**extra: Any) -> FakeStub:
    return orders_stub(
        ListStoreTasks=lambda r: orders_pb2.ListStoreTasksResponse(),
        **extra,
    )


# ---------------------------------------------------------------- the token check


def test_a_token_naming_an_unknown_or_deactivated_associate_is_refused_before_any_work() -> None:
    orders = tasks_stub(
        GetAssociate=registry(
            A1=orders_pb2.Associate(associate_id="A1", store_id="S1", active=True),
            A2=orders_pb2.Associate(associate_id="A2", store_id="S1", active=False),
        )
    )
    api = client(orders)
    assert (
        api.get("/v1/stores/S1/tasks", headers=bearer("associate", "A1", store_id="S1")).status_code
        == 200
    )
    for sub in ("A2", "NOBODY"):
        refused = api.get("/v1/stores/S1/tasks", headers=bearer("associate", sub, store_id="S1"))
        assert refused.status_code == 403, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
        placed = api.post(
            "/v1/orders",
            json={**ORDER_BODY, "fulfillment": {"type": "pickup", "location_id": "S1"}},
            headers=with_key(bearer("associate", sub, store_id="S1")),
        )
        assert placed.status_code == 403
    # Only the token check reached the orders service for the refused ones.
    assert len(orders.called("ListStoreTasks")) == 1
    assert orders.called("PlaceOrder") == []
    assert [r.associate_id for r in orders.called("GetAssociate")] == [
        "A1",
        "A2",
        "A2",
        "NOBODY",
        "NOBODY",
    ]


def test_a_registry_that_cannot_answer_is_a_503_never_a_pass() -> None:
    orders = tasks_stub(
        GetAssociate=registry(A1=plain_rpc_error(grpc.StatusCode.UNAVAILABLE, "orders down"))
    )
    answer = client(orders).get(
        "/v1/stores/S1/tasks", headers=bearer("associate", "A1", store_id="S1")
    )
    assert answer.status_code == 503
    assert "Retry-After" in answer.headers
    assert orders.called("ListStoreTasks") == []


def test_other_roles_are_not_asked_of_the_registry() -> None:
    orders = orders_stub(GetAssociate=registry())
    api = client(orders)
    assert api.get("/v1/orders/O1", headers=bearer("agent")).status_code == 200
    assert orders.called("GetAssociate") == []


# ---------------------------------------------------------------- the registry's routes


def created(request: orders_pb2.CreateAssociateRequest) -> Any:
    associate = orders_pb2.Associate(
        associate_id=request.associate.associate_id,
        name=request.associate.name,
        store_id=request.associate.store_id,
        active=True,
    )
    if associate.associate_id == "TAKEN":
        return rpc_error(AlreadyExists("associate TAKEN is already registered"))
    return orders_pb2.CreateAssociateResponse(
        associate=associate, created=associate.associate_id != "AGAIN"
    )


def test_only_an_admin_registers_or_deactivates_associates() -> None:
    orders = FakeStub(
        CreateAssociate=created,
        DeactivateAssociate=lambda r: orders_pb2.DeactivateAssociateResponse(
            associate=orders_pb2.Associate(associate_id=r.associate_id, active=False)
        ),
    )
    api = client(orders)
    body = {"associate_id": "A1", "name": "Ada", "store_id": "S1"}
    for who in (
        bearer("associate", "A1", store_id="S1"),
        bearer("customer", customer_id="C1"),
        bearer("agent"),
        bearer("guest"),
    ):
        assert api.post("/v1/associates", json=body, headers=who).status_code == 403
        assert api.post("/v1/associates/A1/deactivate", headers=who).status_code == 403
    assert orders.called("CreateAssociate") == [] and orders.called("DeactivateAssociate") == []

    first = api.post("/v1/associates", json=body, headers=ADMIN)
    assert first.status_code == 201 and first.json()["active"] is True
    again = api.post("/v1/associates", json={**body, "associate_id": "AGAIN"}, headers=ADMIN)
    assert again.status_code == 200
    taken = api.post("/v1/associates", json={**body, "associate_id": "TAKEN"}, headers=ADMIN)
    assert taken.status_code == 409
    gone = api.post("/v1/associates/A1/deactivate", headers=ADMIN)
    assert gone.status_code == 200 and gone.json()["active"] is False


def test_a_bad_registration_is_a_400_naming_the_field_and_reaches_no_service() -> None:
    orders = FakeStub(CreateAssociate=created)
    api = client(orders)
    for body, field in (
        ({"associate_id": "A 1", "name": "Ada", "store_id": "S1"}, "associate_id"),
        ({"associate_id": "A1", "name": "", "store_id": "S1"}, "name"),
        ({"associate_id": "A1", "name": "Ada"}, "store_id"),
    ):
        answer = api.post("/v1/associates", json=body, headers=ADMIN)
        assert answer.status_code == 400, answer.text
        assert field in [e["field"] for e in answer.json()["errors"]]
    assert orders.called("CreateAssociate") == []


def test_an_associate_lists_only_their_own_store() -> None:
    orders = FakeStub(
        ListAssociates=lambda r: orders_pb2.ListAssociatesResponse(
            associates=[orders_pb2.Associate(associate_id="A1", store_id=r.store_id, active=True)]
        )
    )
    api = client(orders)
    mine = bearer("associate", "A1", store_id="S1")
    assert api.get("/v1/associates", headers=mine).json()["items"][0]["store_id"] == "S1"
    assert api.get("/v1/associates", params={"store_id": "S2"}, headers=mine).status_code == 404
    assert (
        api.get("/v1/associates", headers=bearer("customer", customer_id="C1")).status_code == 403
    )
    assert [r.store_id for r in orders.called("ListAssociates")] == ["S1"]
    assert api.get("/v1/associates", headers=ADMIN).status_code == 200
    assert orders.called("ListAssociates")[-1].store_id == ""


# ---------------------------------------------------------------- referrals and reports


def test_a_referral_is_forwarded_and_the_orders_services_refusal_is_a_422() -> None:
    def place(request: orders_pb2.PlaceOrderRequest) -> Any:
        if request.referral_associate_id != "A1":
            return rpc_error(
                BusinessRuleViolation(
                    "UNKNOWN_ASSOCIATE",
                    f"{request.referral_associate_id} is not an active associate",
                    {"field": "referral_associate_id"},
                )
            )
        return orders_pb2.PlaceOrderResponse(order=orders_pb2.Order(order_id="O1"))

    orders = orders_stub(PlaceOrder=place)
    api = client(orders)
    customer = bearer("customer", customer_id="C1")
    ok = api.post(
        "/v1/orders", json={**ORDER_BODY, "referral_associate_id": "A1"}, headers=with_key(customer)
    )
    assert ok.status_code == 201, ok.text
    refused = api.post(
        "/v1/orders",
        json={**ORDER_BODY, "referral_associate_id": "NOBODY"},
        headers=with_key(customer),
    )
    assert refused.status_code == 422
    assert refused.json()["reason"] == "UNKNOWN_ASSOCIATE", refused.text
    assert [r.referral_associate_id for r in orders.called("PlaceOrder")] == ["A1", "NOBODY"]


def sales_stub() -> FakeStub:
    usd = {"amount_minor": 0, "currency": "USD"}
    figures = orders_pb2.SalesFigures(
        orders_credited=2,
        gross=usd | {"amount_minor": 3000},
        returned=usd,
        net=usd | {"amount_minor": 3000},
    )
    return FakeStub(
        GetStaffSales=lambda r: orders_pb2.GetStaffSalesResponse(
            currency="USD",
            associates=[
                orders_pb2.StaffSales(
                    associate_id="A1",
                    name="Ada",
                    store_id=r.store_id,
                    total=figures,
                    channels=[
                        orders_pb2.ChannelSales(channel=Channel.POS.to_proto(), figures=figures)
                    ],
                )
            ],
        )
    )


def test_staff_sales_are_for_admins_and_for_an_associate_of_that_store_only() -> None:
    orders = sales_stub()
    api = client(orders)
    path = "/v1/reports/staff-sales"
    mine = bearer("associate", "A1", store_id="S1")
    assert api.get(path, params={"store_id": "S2"}, headers=mine).status_code == 404
    for who in (bearer("customer", customer_id="C1"), bearer("agent"), bearer("guest")):
        assert api.get(path, params={"store_id": "S1"}, headers=who).status_code == 403
    assert api.get(path, headers=ADMIN).status_code == 400  # store_id is required
    inverted = {"store_id": "S1", "from": "2027-03-02T00:00:00Z", "to": "2027-03-01T00:00:00Z"}
    assert api.get(path, params=inverted, headers=ADMIN).status_code == 400
    assert (
        api.get(path, params={"store_id": "S1", "from": "yesterday"}, headers=ADMIN).status_code
        == 400
    )
    assert orders.called("GetStaffSales") == []

    report = api.get(
        path, params={"store_id": "S1", "from": "2027-03-01T00:00:00+02:00"}, headers=mine
    )
    assert report.status_code == 200, report.text
    body = report.json()
    assert body["from"] == "2027-02-28T22:00:00.000Z" and body["to"] is None
    [ada] = body["associates"]
    assert ada["orders_credited"] == 2 and ada["net"] == {"amount_minor": 3000, "currency": "USD"}
    assert ada["by_channel"][0]["channel"] == "pos"
    [asked] = orders.called("GetStaffSales")
    assert (
        asked.store_id == "S1"
        and asked.HasField("period_start")
        and not asked.HasField("period_end")
    )
