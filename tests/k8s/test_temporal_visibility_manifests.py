"""The manifests agree with the code on what Temporal needs: every search
attribute of SEARCH_ATTRIBUTES (with its type) registered by the dev server and
the cluster Job, the payload key on every process that talks to Temporal (and
the codec server, which nothing in the cluster may reach)."""

from __future__ import annotations

import yaml

from tests.k8s.test_manifests import K8S, objects, pod_spec
from workflows.contracts.journeys import SEARCH_ATTRIBUTES

# And the codec server, which decodes for engineers (port-forward only).
KEY_HOLDERS = {"worker", "orders", "customers", "codec-server"}


def test_the_dev_server_registers_every_search_attribute_with_its_type() -> None:
    (temporal,) = [
        d for d in objects("overlays/dev", "Deployment") if d["metadata"]["name"] == "temporal"
    ]
    args = pod_spec(temporal)["containers"][0]["args"]
    registered = {
        a.removeprefix("--search-attribute=").split("=")[0]: a.split("=")[-1]
        for a in args
        if a.startswith("--search-attribute=")
    }
    assert registered == SEARCH_ATTRIBUTES


def test_the_cluster_job_registers_every_search_attribute_with_its_type() -> None:
    job = yaml.safe_load((K8S / "temporal" / "search-attributes-job.yaml").read_text())
    script = job["spec"]["template"]["spec"]["containers"][0]["args"][0]
    for name, kind in SEARCH_ATTRIBUTES.items():
        assert f"{name}:{kind}" in script


def test_the_payload_key_is_on_exactly_the_temporal_clients() -> None:
    for target in ("overlays/dev", "overlays/prod"):
        holders = set()
        for deployment in objects(target, "Deployment"):
            for container in pod_spec(deployment)["containers"]:
                for variable in container.get("env", []):
                    if variable["name"] == "OMNI_CODEC_KEY":
                        ref = variable["valueFrom"]["secretKeyRef"]
                        assert (ref["name"], ref["key"]) == ("omni-codec", "key")
                        holders.add(deployment["metadata"]["name"])
        # Never the gateway: only what talks to Temporal holds the key.
        assert holders == KEY_HOLDERS, target


def test_nothing_in_the_cluster_reaches_the_codec_server() -> None:
    for target in ("overlays/dev", "overlays/prod"):
        (policy,) = [
            p
            for p in objects(target, "NetworkPolicy")
            if p["spec"]["podSelector"].get("matchLabels", {}).get("app.kubernetes.io/name")
            == "codec-server"
        ]
        assert policy["spec"]["ingress"] == [] and policy["spec"]["egress"] == []
        assert set(policy["spec"]["policyTypes"]) == {"Ingress", "Egress"}
