"""deploy/k8s, offline: every overlay renders with `kubectl kustomize`, every
object validates against the Kubernetes OpenAPI schemas, and every workload
follows the rules an SRE would check in review."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
OVERLAYS = ("dev", "prod")
KUBERNETES_VERSION = "1.32.0"
# Custom resources the Kubernetes schemas do not describe (their operators
# validate them): CloudNativePG clusters and Prometheus Operator objects.
NOT_IN_KUBERNETES_SCHEMAS = {
    ("postgresql.cnpg.io/v1", "Cluster"),
    ("monitoring.coreos.com/v1", "PodMonitor"),
    ("monitoring.coreos.com/v1", "PrometheusRule"),
}
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "Job")
APP_SHUTDOWN_GRACE_SECONDS = 10
OMNI_PROCESSES = ("inventory", "orders", "customers", "payments", "gateway", "worker")

Obj = dict[str, Any]


def kubectl() -> str:
    found = shutil.which("kubectl") or (
        "/usr/bin/kubectl" if Path("/usr/bin/kubectl").exists() else None
    )
    if found is None:
        pytest.fail("kubectl is not installed: these tests render with `kubectl kustomize`")
    return found


@cache
def render(target: str) -> tuple[Obj, ...]:
    result = subprocess.run(
        [kubectl(), "kustomize", str(K8S / target)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, f"kubectl kustomize {target} failed:\n{result.stderr}"
    return tuple(doc for doc in yaml.safe_load_all(result.stdout) if doc)


def objects(target: str, *kinds: str) -> list[Obj]:
    return [o for o in render(target) if not kinds or o["kind"] in kinds]


def pod_spec(workload: Obj) -> Obj:
    spec: Obj = workload["spec"]["template"]["spec"]
    return spec


def containers(workload: Obj) -> Iterator[Obj]:
    spec = pod_spec(workload)
    yield from spec.get("initContainers", [])
    yield from spec["containers"]


def name_of(o: Obj) -> str:
    return f"{o['kind']}/{o['metadata']['name']}"


def selects(selector: Obj, labels: dict[str, str]) -> bool:
    assert set(selector) <= {"matchLabels"}, "only matchLabels selectors are used here"
    return all(labels.get(k) == v for k, v in selector.get("matchLabels", {}).items())


@pytest.mark.parametrize("target", ["base", *(f"overlays/{o}" for o in OVERLAYS)])
def test_renders_and_validates_against_the_kubernetes_schemas(target: str) -> None:
    rendered = render(target)
    assert rendered, f"{target} rendered nothing"
    for o in rendered:
        if (o["apiVersion"], o["kind"]) in NOT_IN_KUBERNETES_SCHEMAS:
            continue
        try:
            kubernetes_validate.validate(o, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as error:
            pytest.fail(f"{target}: {name_of(o)} is invalid: {error.message} at {list(error.path)}")


def test_temporal_search_attribute_job_validates() -> None:
    job = yaml.safe_load((K8S / "temporal" / "search-attributes-job.yaml").read_text())
    kubernetes_validate.validate(job, KUBERNETES_VERSION, strict=True)
    script = job["spec"]["template"]["spec"]["containers"][0]["args"][0]
    values = yaml.safe_load((K8S / "temporal" / "values.yaml").read_text())
    for attribute in ("OrderId", "CustomerId", "StoreId", "Channel"):
        assert attribute in script
    assert values["server"]["config"]["persistence"]["default"]["sql"]["driver"] == "postgres12"
    assert values["server"]["config"]["persistence"]["visibility"]["sql"]["driver"] == "postgres12"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_process_has_a_deployment_service_account_and_service(overlay: str) -> None:
    deployments = {o["metadata"]["name"]: o for o in objects(f"overlays/{overlay}", "Deployment")}
    accounts = {o["metadata"]["name"] for o in objects(f"overlays/{overlay}", "ServiceAccount")}
    services = {o["metadata"]["name"]: o for o in objects(f"overlays/{overlay}", "Service")}
    for process in OMNI_PROCESSES:
        assert process in deployments, process
        assert pod_spec(deployments[process])["serviceAccountName"] == process
        assert process in accounts
        if process == "worker":
            assert "worker" not in services
        else:
            (port,) = services[process]["spec"]["ports"]
            assert port["name"] == ("http" if process == "gateway" else "grpc")


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_workloads_have_probes_limits_and_a_restricted_security_context(overlay: str) -> None:
    for workload in objects(f"overlays/{overlay}", *WORKLOAD_KINDS):
        spec = pod_spec(workload)
        assert spec["securityContext"]["runAsNonRoot"] is True, name_of(workload)
        assert spec["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
        assert spec.get("automountServiceAccountToken") is False, name_of(workload)
        for container in containers(workload):
            where = f"{name_of(workload)} container {container['name']}"
            context = container["securityContext"]
            assert context["runAsNonRoot"] is True, where
            assert context["readOnlyRootFilesystem"] is True, where
            assert context["allowPrivilegeEscalation"] is False, where
            assert context["capabilities"]["drop"] == ["ALL"], where
            assert context["seccompProfile"]["type"] == "RuntimeDefault", where
            limits = container["resources"]["limits"]
            requests = container["resources"]["requests"]
            assert {"cpu", "memory"} <= set(requests) and "memory" in limits, where
            image = container["image"]
            assert ":" in image.rsplit("/", 1)[-1], f"{where}: {image} has no tag"
            assert not image.endswith(":latest"), f"{where}: {image}"
        if workload["kind"] != "Job":
            for container in spec["containers"]:
                where = f"{name_of(workload)} container {container['name']}"
                assert "readinessProbe" in container and "livenessProbe" in container, where


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_grpc_probes_split_readiness_from_liveness(overlay: str) -> None:
    """Readiness asks the overall health (fails without the database and during
    shutdown); liveness asks omni.liveness, which never depends on the database."""
    for process in ("inventory", "orders", "customers", "payments"):
        (deployment,) = [
            d
            for d in objects(f"overlays/{overlay}", "Deployment")
            if d["metadata"]["name"] == process
        ]
        (container,) = pod_spec(deployment)["containers"]
        # With TLS (prod) the probes ask the plaintext health port (server.py).
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        port = ports.get("grpc-health", ports["grpc"])
        assert container["readinessProbe"]["grpc"] == {"port": port}
        assert container["livenessProbe"]["grpc"] == {"port": port, "service": "omni.liveness"}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_termination_grace_outlasts_the_apps_shutdown_grace(overlay: str) -> None:
    for deployment in objects(f"overlays/{overlay}", "Deployment"):
        if deployment["metadata"]["name"] not in OMNI_PROCESSES:
            continue
        spec = pod_spec(deployment)
        (container,) = spec["containers"]
        env = {e["name"]: e.get("value") for e in container.get("env", [])}
        app_grace = float(env.get("SHUTDOWN_GRACE_SECONDS") or APP_SHUTDOWN_GRACE_SECONDS)
        pre_stop = container.get("lifecycle", {}).get("preStop", {}).get("sleep", {})
        needed = app_grace + pre_stop.get("seconds", 0)
        assert spec["terminationGracePeriodSeconds"] > needed, name_of(deployment)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_migrations_run_before_each_new_pod_serves(overlay: str) -> None:
    for deployment in objects(f"overlays/{overlay}", "Deployment"):
        name = deployment["metadata"]["name"]
        if name not in OMNI_PROCESSES or name == "worker":
            continue
        (migrate,) = pod_spec(deployment)["initContainers"]
        assert migrate["command"] == ["omni", "migrate", "--service", name]
        (database_url,) = [e for e in migrate["env"] if e["name"] == "DATABASE_URL"]
        assert database_url["valueFrom"]["secretKeyRef"] == {"name": f"{name}-db-app", "key": "uri"}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_secrets_are_only_referenced(overlay: str) -> None:
    """No Secret is written down except the dev overlay's password-less URLs
    (and its empty gateway-jwt: development verifies HS256 dev tokens)."""
    for secret in objects(f"overlays/{overlay}", "Secret"):
        assert overlay == "dev", f"{name_of(secret)} in {overlay}"
        for key, value in secret.get("data", {}).items():
            assert key == "uri" or (secret["metadata"]["name"] == "gateway-jwt" and not value)
    for workload in objects(f"overlays/{overlay}", *WORKLOAD_KINDS):
        for container in containers(workload):
            for env in container.get("env", []):
                # A *_FILE names where a mounted Secret is (OMNI_TLS_KEY_FILE).
                secret_like = any(
                    w in env["name"] for w in ("DATABASE_URL", "JWT", "KEY", "PASSWORD")
                ) and not env["name"].endswith("_FILE")
                if secret_like:
                    assert "valueFrom" in env, f"{name_of(workload)}: {env['name']} is a literal"
    config = objects(f"overlays/{overlay}", "ConfigMap")
    for config_map in config:
        for key in config_map.get("data", {}):
            assert not any(w in key for w in ("SECRET", "PASSWORD", "DATABASE_URL")), key


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_namespace_enforces_the_restricted_pod_security_standard(overlay: str) -> None:
    (namespace,) = objects(f"overlays/{overlay}", "Namespace")
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    namespaced = [o for o in render(f"overlays/{overlay}") if o["kind"] != "Namespace"]
    assert {o["metadata"].get("namespace") for o in namespaced} == {"omni"}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_service_port_is_named(overlay: str) -> None:
    for service in objects(f"overlays/{overlay}", "Service"):
        for port in service["spec"]["ports"]:
            assert port.get("name"), name_of(service)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_pod_is_selected_by_a_network_policy_behind_a_default_deny(overlay: str) -> None:
    policies = objects(f"overlays/{overlay}", "NetworkPolicy")
    (deny,) = [p for p in policies if p["metadata"]["name"] == "default-deny"]
    assert deny["spec"]["podSelector"] == {} and not deny["spec"]["ingress"]
    assert set(deny["spec"]["policyTypes"]) == {"Ingress", "Egress"}
    specific = [p for p in policies if p["spec"]["podSelector"]]
    for workload in objects(f"overlays/{overlay}", *WORKLOAD_KINDS):
        labels = workload["spec"]["template"]["metadata"]["labels"]
        assert any(selects(p["spec"]["podSelector"], labels) for p in specific), name_of(workload)


def _allowed_ingress_sources(overlay: str, target: str) -> set[str]:
    sources: set[str] = set()
    for policy in objects(f"overlays/{overlay}", "NetworkPolicy"):
        if (
            policy["spec"]["podSelector"].get("matchLabels", {}).get("app.kubernetes.io/name")
            != target
        ):
            continue
        for rule in policy["spec"].get("ingress", []):
            for peer in rule.get("from", []):
                sources.add(
                    peer.get("podSelector", {})
                    .get("matchLabels", {})
                    .get("app.kubernetes.io/name", "*")
                )
    return sources


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_only_the_gateway_worker_and_their_callers_reach_the_services(overlay: str) -> None:
    # Besides the gateway and the worker: orders places orders itself (inventory,
    # payments) and reads customers; payments asks orders and customers whose
    # order or store credit a caller may see (issues 10 and 12).
    assert _allowed_ingress_sources(overlay, "orders") == {"gateway", "worker", "payments"}
    assert _allowed_ingress_sources(overlay, "payments") == {"gateway", "worker", "orders"}
    assert _allowed_ingress_sources(overlay, "customers") == {
        "gateway",
        "worker",
        "orders",
        "payments",
    }
    assert _allowed_ingress_sources(overlay, "inventory") == {"gateway", "worker", "orders"}


def test_prod_protects_every_deployment_with_a_pdb_and_an_hpa() -> None:
    pdbs = objects("overlays/prod", "PodDisruptionBudget")
    hpas = {
        h["spec"]["scaleTargetRef"]["name"]
        for h in objects("overlays/prod", "HorizontalPodAutoscaler")
    }
    for deployment in objects("overlays/prod", "Deployment"):
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert any(selects(p["spec"]["selector"], labels) for p in pdbs), name_of(deployment)
        if deployment["metadata"]["name"] in OMNI_PROCESSES:
            assert deployment["metadata"]["name"] in hpas


def test_prod_spreads_pods_across_zones_and_exports_traces() -> None:
    for deployment in objects("overlays/prod", "Deployment"):
        keys = [c["topologyKey"] for c in pod_spec(deployment).get("topologySpreadConstraints", [])]
        assert "topology.kubernetes.io/zone" in keys, name_of(deployment)
    (config,) = [
        c for c in objects("overlays/prod", "ConfigMap") if c["metadata"]["name"] == "omni-config"
    ]
    assert config["data"]["OTEL_TRACES_EXPORTER"] == "otlp"
    assert config["data"]["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://otel-collector:4317"
    databases = {
        c["spec"]["bootstrap"]["initdb"]["database"] for c in objects("overlays/prod", "Cluster")
    }
    assert databases == {
        f"omni_{s}" for s in ("inventory", "orders", "customers", "payments", "gateway")
    }


def test_dev_runs_one_replica_with_postgres_and_a_temporal_dev_server() -> None:
    for deployment in objects("overlays/dev", "Deployment"):
        assert deployment["spec"]["replicas"] == 1, name_of(deployment)
    (postgres,) = objects("overlays/dev", "StatefulSet")
    assert pod_spec(postgres)["containers"][0]["image"].startswith("postgres:")
    (temporal,) = [
        d for d in objects("overlays/dev", "Deployment") if d["metadata"]["name"] == "temporal"
    ]
    args = pod_spec(temporal)["containers"][0]["args"]
    assert args[:2] == ["server", "start-dev"]
    assert "--search-attribute=OrderId=Keyword" in args
    (config,) = [
        c for c in objects("overlays/dev", "ConfigMap") if c["metadata"]["name"] == "omni-config"
    ]
    assert config["data"]["TEMPORAL_ADDRESS"] == "temporal:7233"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_process_signs_callers_with_the_identity_secret(overlay: str) -> None:
    """OMNI_IDENTITY_KEY (services/common/identity.py) comes from a Secret that
    must exist: a process without it refuses to start, never runs keyless."""
    for deployment in objects(f"overlays/{overlay}", "Deployment"):
        if deployment["metadata"]["name"] not in OMNI_PROCESSES:
            continue
        (container,) = pod_spec(deployment)["containers"]
        (key,) = [e for e in container["env"] if e["name"] == "OMNI_IDENTITY_KEY"]
        assert key["valueFrom"]["secretKeyRef"] == {"name": "omni-identity", "key": "key"}


def test_prod_speaks_grpc_over_tls_from_a_mounted_secret() -> None:
    for deployment in objects("overlays/prod", "Deployment"):
        name = deployment["metadata"]["name"]
        if name not in OMNI_PROCESSES:
            continue
        spec = pod_spec(deployment)
        (volume,) = [v for v in spec["volumes"] if v["name"] == "grpc-tls"]
        assert volume["secret"]["secretName"] == "omni-grpc-tls"
        (container,) = spec["containers"]
        (mount,) = [m for m in container["volumeMounts"] if m["name"] == "grpc-tls"]
        assert mount["readOnly"] is True
        env = {e["name"]: e.get("value") for e in container["env"]}
        for variable, file in (
            ("OMNI_TLS_CERT_FILE", "tls.crt"),
            ("OMNI_TLS_KEY_FILE", "tls.key"),
            ("OMNI_TLS_CA_FILE", "ca.crt"),
        ):
            assert env[variable] == f"{mount['mountPath']}/{file}", (name, variable)
        if name in ("inventory", "orders", "customers", "payments"):
            health = next(p for p in container["ports"] if p["name"] == "grpc-health")
            assert env["HEALTH_PORT"] == str(health["containerPort"])
            for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
                assert container[probe]["grpc"]["port"] == health["containerPort"], (name, probe)
