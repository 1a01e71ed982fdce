"""The console's development sign-in (issue 14): pick a store and an
associate, get a token naming a registered, active associate of that store;
a production gateway has no such route."""

from __future__ import annotations

from typing import Any

import jwt
from fastapi.testclient import TestClient

from omni.inventory.v1 import inventory_pb2
from omni.orders.v1 import orders_pb2
from tests.unit.gateway_fakes import SECRET, FakeStub, fake_clients, make_app


def _associate(associate_id: str, store_id: str, active: bool = True) -> orders_pb2.Associate:
    return orders_pb2.Associate(
        associate_id=associate_id, name=f"Name {associate_id}", store_id=store_id, active=active
    )


def _registry() -> FakeStub:
    known = {
        "ada": _associate("ada", "S1"),
        "bob": _associate("bob", "S2"),
        "gone": _associate("gone", "S1", active=False),
    }

    def get(request: Any) -> Any:
        return orders_pb2.GetAssociateResponse(associate=known[request.associate_id])

    def create(request: Any) -> Any:
        known.setdefault(request.associate.associate_id, request.associate)
        known[request.associate.associate_id].active = True
        return orders_pb2.CreateAssociateResponse(
            associate=known[request.associate.associate_id], created=True
        )

    def listing(_request: Any) -> Any:
        return orders_pb2.ListAssociatesResponse(associates=list(known.values()))

    return FakeStub(GetAssociate=get, CreateAssociate=create, ListAssociates=listing)


def _locations(_request: Any) -> Any:
    return inventory_pb2.ListLocationsResponse(
        locations=[
            inventory_pb2.LocationWithDistance(
                location=inventory_pb2.Location(
                    location_id="S1", name="Midtown", kind=inventory_pb2.LOCATION_KIND_STORE
                )
            )
        ]
    )


def _client(orders: FakeStub) -> TestClient:
    inventory = FakeStub(ListLocations=_locations)
    return TestClient(make_app(fake_clients(orders=orders, inventory=inventory)))


def test_development_sign_in_lists_stores_and_active_associates() -> None:
    answer = _client(_registry()).get("/console/sign-in")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["stores"] == [{"location_id": "S1", "name": "Midtown", "kind": "store"}]
    assert {a["associate_id"] for a in body["associates"]} == {"ada", "bob"}


def test_development_sign_in_mints_a_token_for_the_associate_picked() -> None:
    answer = _client(_registry()).post(
        "/console/sign-in", json={"store_id": "S1", "associate_id": "ada"}
    )
    assert answer.status_code == 200, answer.text
    claims = jwt.decode(answer.json()["token"], SECRET, algorithms=["HS256"])
    assert (claims["sub"], claims["role"], claims["store_id"]) == ("ada", "associate", "S1")
    assert claims["exp"] - claims["iat"] <= 12 * 3600


def test_development_sign_in_without_an_associate_registers_the_stores_own() -> None:
    orders = _registry()
    answer = _client(orders).post("/console/sign-in", json={"store_id": "S3"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["associate_id"] == "dev-associate-S3"
    [created] = orders.called("CreateAssociate")
    assert created.associate.store_id == "S3"


def test_sign_in_refuses_another_stores_or_a_deactivated_associate() -> None:
    client = _client(_registry())
    for body in (
        {"store_id": "S1", "associate_id": "bob"},
        {"store_id": "S1", "associate_id": "gone"},
    ):
        answer = client.post("/console/sign-in", json=body)
        assert answer.status_code == 422, answer.text
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert [e["field"] for e in answer.json()["errors"]] == ["associate_id"]
    assert client.post("/console/sign-in", json={}).status_code == 400


def test_a_production_gateway_has_no_sign_in() -> None:
    production = make_app(
        fake_clients(orders=_registry()),
        omni_env="production",
        jwt_public_key="unused",
        jwt_issuer="https://issuer.test",
        jwt_audience="omni",
    )
    client = TestClient(production)
    assert client.get("/console/sign-in").status_code == 404
    answer = client.post("/console/sign-in", json={"store_id": "S1", "associate_id": "ada"})
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert client.get("/console").status_code == 200


def test_fields_planted_in_a_sign_in_change_nothing() -> None:
    """Mass assignment (issue 12): the sign-in mints an associate of the store
    it names, whatever else the body claims (tests/security/
    test_mass_assignment.py leaves this non-/v1 route to this test)."""
    planted = {
        "role": "admin",
        "channel": "web",
        "sub": "someone-else",
        "ttl": 10**9,
        "exp": 2**40,
        "customer_id": "C-B",
    }
    answer = _client(_registry()).post(
        "/console/sign-in", json={"store_id": "S1", "associate_id": "ada", **planted}
    )
    assert answer.status_code == 200, answer.text
    claims = jwt.decode(answer.json()["token"], SECRET, algorithms=["HS256"])
    assert (claims["sub"], claims["role"], claims["store_id"]) == ("ada", "associate", "S1")
    assert claims["channel"] == "pos" and "customer_id" not in claims
    assert claims["exp"] - claims["iat"] <= 12 * 3600
