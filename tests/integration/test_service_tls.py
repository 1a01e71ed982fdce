"""gRPC over TLS when certificates are configured (services/common/channels.py):
two services started with a self-signed CA and a certificate made here answer
a TLS call from the services' own channel (mutual: the client shows its
certificate), and refuse a plaintext one and one without a client certificate."""

from __future__ import annotations

import datetime
import ipaddress
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from grpc_health.v1 import health_pb2, health_pb2_grpc

from omni.customers.v1 import customers_pb2, customers_pb2_grpc
from omni.inventory.v1 import inventory_pb2, inventory_pb2_grpc
from services.common.channels import TlsFiles, open_channel
from services.common.identity import always
from tests.support.identity import ADMIN, IDENTITY_ENV
from tests.support.inventory import create_location, random_point
from tests.support.ports import free_port
from tests.support.processes import start_module, stop_process

_NOW = datetime.datetime.now(datetime.UTC)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


@dataclass
class Pki:
    ca: bytes
    certificate: bytes
    key: bytes
    folder: Path

    def files(self) -> TlsFiles:
        return TlsFiles(self.certificate, self.key, self.ca)

    def env(self) -> dict[str, str]:
        return {
            "OMNI_TLS_CERT_FILE": str(self.folder / "tls.crt"),
            "OMNI_TLS_KEY_FILE": str(self.folder / "tls.key"),
            "OMNI_TLS_CA_FILE": str(self.folder / "ca.crt"),
        }


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    """A self-signed CA and one certificate it signed, for localhost and 127.0.0.1."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("omni test CA"))
        .issuer_name(_name("omni test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_NOW - datetime.timedelta(minutes=5))
        .not_valid_after(_NOW + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = (
        x509.CertificateBuilder()
        .subject_name(_name("localhost"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_NOW - datetime.timedelta(minutes=5))
        .not_valid_after(_NOW + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    made = Pki(_pem(ca), _pem(certificate), _key_pem(key), folder)
    (folder / "ca.crt").write_bytes(made.ca)
    (folder / "tls.crt").write_bytes(made.certificate)
    (folder / "tls.key").write_bytes(made.key)
    return made


def _wait_tls_healthy(address: str, pki: Pki, process: subprocess.Popen[bytes]) -> None:
    credentials = grpc.ssl_channel_credentials(pki.ca, pki.key, pki.certificate)
    deadline = time.monotonic() + 60
    with grpc.secure_channel(address, credentials) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"{process.args!r} exited with {process.returncode}")
            try:
                reply = stub.Check(health_pb2.HealthCheckRequest(), timeout=1)
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.RpcError:
                pass
            time.sleep(0.1)
    raise TimeoutError(f"{address} did not become healthy over TLS")


@pytest.fixture(scope="module")
def tls_services(
    pki: Pki, migrated_database: Callable[[str], str], logs_dir: Path
) -> Iterator[dict[str, str]]:
    addresses: dict[str, str] = {}
    started: list[subprocess.Popen[bytes]] = []
    try:
        for name, extra in (("inventory", {}), ("customers", {"CART_REMINDERS": "false"})):
            port, health_port = free_port(), free_port()
            process = start_module(
                f"services.{name}.main",
                {
                    "DATABASE_URL": migrated_database(name),
                    "GRPC_PORT": str(port),
                    "HEALTH_PORT": str(health_port),
                    **IDENTITY_ENV,
                    **pki.env(),
                    **extra,
                },
                logs_dir / f"tls-{name}.log",
            )
            started.append(process)
            addresses[name] = f"127.0.0.1:{port}"
            addresses[f"{name}-health"] = f"127.0.0.1:{health_port}"
            _wait_tls_healthy(addresses[name], pki, process)
        yield addresses
    finally:
        for process in started:
            stop_process(process)


async def test_tls_calls_work_with_the_services_own_channels(
    tls_services: dict[str, str], pki: Pki, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in IDENTITY_ENV.items():
        monkeypatch.setenv(name, value)
    caller = always(ADMIN)
    async with open_channel(tls_services["inventory"], caller, tls=pki.files()) as channel:
        inventory = inventory_pb2_grpc.InventoryServiceStub(channel)
        location_id = await create_location(inventory, random_point())
        asked = inventory_pb2.GetLocationRequest(location_id=location_id)
        found = await inventory.GetLocation(asked)
        assert found.location.location_id == location_id
    async with open_channel(tls_services["customers"], caller, tls=pki.files()) as channel:
        customers = customers_pb2_grpc.CustomersServiceStub(channel)
        reply = await customers.CreateCustomer(
            customers_pb2.CreateCustomerRequest(
                name="Tess", email=f"{uuid.uuid4().hex[:8]}@example.com"
            )
        )
        assert reply.customer.name == "Tess"


@pytest.mark.parametrize("service", ["inventory", "customers"])
async def test_plaintext_and_certificateless_calls_are_refused(
    tls_services: dict[str, str], pki: Pki, service: str
) -> None:
    request = customers_pb2.GetCustomerRequest(customer_id="C-1")
    address = tls_services[service]
    async with grpc.aio.insecure_channel(address) as plain:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await customers_pb2_grpc.CustomersServiceStub(plain).GetCustomer(request, timeout=5)
        assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
    anonymous = grpc.ssl_channel_credentials(root_certificates=pki.ca)
    async with grpc.aio.secure_channel(address, anonymous) as no_certificate:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await customers_pb2_grpc.CustomersServiceStub(no_certificate).GetCustomer(
                request, timeout=5
            )
        assert refused.value.code() == grpc.StatusCode.UNAVAILABLE


@pytest.mark.parametrize("service", ["inventory", "customers"])
async def test_the_plaintext_health_port_serves_health_and_nothing_else(
    tls_services: dict[str, str], service: str
) -> None:
    """The kubelet's gRPC probes cannot speak TLS: HEALTH_PORT answers them."""
    async with grpc.aio.insecure_channel(tls_services[f"{service}-health"]) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        for name in ("", "omni.liveness"):
            reply = await health.Check(health_pb2.HealthCheckRequest(service=name))
            assert reply.status == health_pb2.HealthCheckResponse.SERVING
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await customers_pb2_grpc.CustomersServiceStub(channel).GetCustomer(
                customers_pb2.GetCustomerRequest(customer_id="C-1")
            )
        assert refused.value.code() == grpc.StatusCode.UNIMPLEMENTED
