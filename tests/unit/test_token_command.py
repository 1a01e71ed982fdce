"""`omni token --role associate` (issue 14): the token it prints names a
registered, active associate - the one asked for (home store from the
registry) or the store's development associate, registered first - and it
refuses (exit 2, nothing printed) when the registry says no or cannot say."""

from __future__ import annotations

from typing import Any

import grpc
import jwt
import pytest

from omni.orders.v1 import orders_pb2
from stack import associates, cli


class Registry:
    def __init__(self, **known: orders_pb2.Associate) -> None:
        self.known = dict(known)
        self.registered: list[str] = []

    def register(self, address: str, key: bytes, store_id: str, timeout: float = 10) -> Any:
        self.registered.append(store_id)
        found = orders_pb2.Associate(
            associate_id=associates.development_associate_id(store_id),
            store_id=store_id,
            active=True,
        )
        return self.known.setdefault(found.associate_id, found)

    def get(self, address: str, key: bytes, associate_id: str, timeout: float = 10) -> Any:
        if associate_id not in self.known:
            raise Unreachable(grpc.StatusCode.NOT_FOUND)
        return self.known[associate_id]


class Unreachable(grpc.RpcError):
    def __init__(self, code: grpc.StatusCode) -> None:
        self._code = code

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return "no"


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> Registry:
    found = Registry(
        A1=orders_pb2.Associate(associate_id="A1", store_id="S7", active=True),
        GONE=orders_pb2.Associate(associate_id="GONE", store_id="S7", active=False),
    )
    monkeypatch.setattr(associates, "register_development_associate", found.register)
    monkeypatch.setattr(associates, "registered_associate", found.get)
    monkeypatch.setenv("OMNI_HOME", str(tmp_path))
    return found


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    args = cli.build_parser().parse_args(["token", *argv])
    status = args.handler(args)
    out = capsys.readouterr().out.strip()
    claims = jwt.decode(out, options={"verify_signature": False}) if out else {}
    return status, claims


def test_a_named_associate_gets_their_home_store(
    registry: Registry, capsys: pytest.CaptureFixture[str]
) -> None:
    status, claims = run(["--role", "associate", "--associate-id", "A1"], capsys)
    assert status == 0
    assert (claims["sub"], claims["store_id"], claims["role"]) == ("A1", "S7", "associate")
    assert registry.registered == []


def test_without_an_id_the_stores_development_associate_is_registered(
    registry: Registry, capsys: pytest.CaptureFixture[str]
) -> None:
    status, claims = run(["--role", "associate", "--store-id", "S1"], capsys)
    assert status == 0 and registry.registered == ["S1"]
    assert (claims["sub"], claims["store_id"]) == ("dev-associate-S1", "S1")


@pytest.mark.parametrize(
    "argv",
    [
        ["--role", "associate", "--associate-id", "GONE"],  # deactivated
        ["--role", "associate", "--associate-id", "NOBODY"],  # never registered
        ["--role", "associate"],  # neither a store nor an associate
        ["--role", "customer", "--customer-id", "C1", "--associate-id", "A1"],
    ],
    ids=["deactivated", "unknown", "nothing", "not-an-associate"],
)
def test_no_token_is_printed_for_an_associate_the_registry_would_refuse(
    registry: Registry, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    status, claims = run(argv, capsys)
    assert status == 2 and claims == {}
