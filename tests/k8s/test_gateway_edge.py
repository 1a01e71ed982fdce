"""The gateway at the edge (issue 12): required JWT Secret keys, no working
issuer or audience in the repository, an Ingress with per-client limits that
routes neither /metrics nor /docs, client addresses behind it, /metrics on
its own port."""

from __future__ import annotations

from typing import Any

import pytest

from tests.k8s.test_manifests import OVERLAYS, containers, objects

Obj = dict[str, Any]


def gateway(overlay: str) -> Obj:
    [found] = [o for o in objects(overlay, "Deployment") if o["metadata"]["name"] == "gateway"]
    return found


def gateway_env(overlay: str) -> dict[str, Obj]:
    [container] = [c for c in containers(gateway(overlay)) if c["name"] == "gateway"]
    return {e["name"]: e for e in container.get("env", [])}


def config(overlay: str) -> dict[str, str]:
    [found] = [o for o in objects(overlay, "ConfigMap") if o["metadata"]["name"] == "omni-config"]
    data: dict[str, str] = found.get("data", {})
    return data


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_jwt_secret_keys_are_required(overlay: str) -> None:
    env = gateway_env(f"overlays/{overlay}")
    for name, key in (
        ("JWT_PUBLIC_KEY", "public-key"),
        ("JWT_ISSUER", "issuer"),
        ("JWT_AUDIENCE", "audience"),
    ):
        ref = env[name]["valueFrom"]["secretKeyRef"]
        assert (ref["name"], ref["key"]) == ("gateway-jwt", key)
        assert not ref.get("optional", False), name
    # The HS256 secret is development's, never a production setting.
    assert "JWT_SECRET" not in env


def test_prod_commits_no_working_issuer_or_audience() -> None:
    data = config("overlays/prod")
    assert "JWT_ISSUER" not in data and "JWT_AUDIENCE" not in data
    assert data.get("OMNI_ENV", "production") != "development"


def test_only_dev_runs_in_development() -> None:
    assert config("overlays/dev")["OMNI_ENV"] == "development"
    assert "OMNI_ENV" not in config("base")


def test_prod_ingress_limits_each_client_and_routes_neither_metrics_nor_docs() -> None:
    [ingress] = objects("overlays/prod", "Ingress")
    annotations = ingress["metadata"]["annotations"]
    assert int(annotations["nginx.ingress.kubernetes.io/limit-rps"]) > 0
    assert int(annotations["nginx.ingress.kubernetes.io/limit-connections"]) > 0
    paths = [
        (p["path"], p["pathType"], p["backend"]["service"])
        for rule in ingress["spec"]["rules"]
        for p in rule["http"]["paths"]
    ]
    assert paths, "the ingress routes nothing"
    for path, kind, backend in paths:
        assert backend["name"] == "gateway" and backend["port"]["name"] == "http"
        assert path != "/" or kind == "Exact", "a catch-all prefix would route /metrics and /docs"
        for hidden in ("/metrics", "/docs", "/redoc"):
            assert not hidden.startswith(path.rstrip("/") + "/") or kind == "Exact"
            assert path != hidden
    assert {"/v1", "/healthz", "/console", "/openapi.json"} <= {p for p, _, _ in paths}
    # The console works only with its script and stylesheet; its development
    # sign-in is never routed.
    assert {("/console/console.js", "Exact"), ("/console/console.css", "Exact")} <= {
        (p, kind) for p, kind, _ in paths
    }
    assert not [p for p, _, _ in paths if p.startswith("/console/sign-in")]
    assert ingress["spec"]["tls"][0]["secretName"]
    assert not objects("overlays/dev", "Ingress")


def test_prod_tells_clients_behind_the_ingress_apart() -> None:
    assert config("overlays/prod")["FORWARDED_ALLOW_IPS"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_gateway_metrics_are_on_their_own_port(overlay: str) -> None:
    [container] = [c for c in containers(gateway(f"overlays/{overlay}")) if c["name"] == "gateway"]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports["metrics"] != ports["http"]
    assert gateway_env(f"overlays/{overlay}")["METRICS_PORT"]["value"] == str(ports["metrics"])
