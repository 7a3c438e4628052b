"""What the HTTP API does with requests at the edge of the protocol: compressed bodies,
content types it does not speak, bodies of the wrong shape, non-ASCII headers, other
methods, foreign Host headers; and the addresses CreateCodeLocation accepts."""

from __future__ import annotations

import asyncio
import gzip
from typing import Any

import grpc
import httpx
import pytest
from api_harness import ApiServer, add_location, deployment, etl_snapshot, rpc_error, serving
from weir_controlplane.storage import DeploymentScope, Storage
from weir_protos.v1 import control_plane_pb2 as cp

SERVICE = "/weir.v1.ControlPlaneService"
JSON = {"content-type": "application/json"}


@pytest.fixture(scope="module")
def server(storage: Storage) -> Any:
    with serving(storage) as api_server:
        yield api_server


@pytest.fixture
def etl(server: ApiServer, scope: DeploymentScope) -> DeploymentScope:
    add_location(server.storage, scope, "etl", etl_snapshot())
    return scope


@pytest.fixture
def http(server: ApiServer, etl: DeploymentScope) -> Any:
    with server.http(deployment=etl.name) as client:
        yield client


def test_a_gzip_request_body_is_decoded(http: httpx.Client) -> None:
    body = gzip.compress(b'{"selection": "orders+"}')
    reply = http.post(
        f"{SERVICE}/ListAssets", content=body, headers={**JSON, "content-encoding": "gzip"}
    )
    assert reply.status_code == 200, reply.text
    assert [a["key"]["path"] for a in reply.json()["assets"]] == [["orders"], ["revenue"]]


def test_broken_or_unknown_encodings_are_refused_with_connect_codes(http: httpx.Client) -> None:
    broken = http.post(
        f"{SERVICE}/ListAssets", content=b"not gzip", headers={**JSON, "content-encoding": "gzip"}
    )
    assert broken.status_code == 400 and broken.json()["code"] == "invalid_argument"
    brotli = http.post(
        f"{SERVICE}/ListAssets", content=b"{}", headers={**JSON, "content-encoding": "br"}
    )
    assert brotli.status_code == 501 and brotli.json()["code"] == "unimplemented"
    assert brotli.headers["accept-encoding"] == "gzip, identity"
    bomb = gzip.compress(b" " * (65 * 1024 * 1024))
    exploded = http.post(
        f"{SERVICE}/ListAssets", content=bomb, headers={**JSON, "content-encoding": "gzip"}
    )
    assert exploded.status_code == 429 and exploded.json()["code"] == "resource_exhausted"


def test_an_unsupported_content_type_is_415_with_the_unsupported_code(http: httpx.Client) -> None:
    for method in ("GetRun", "WatchRun"):
        reply = http.post(f"{SERVICE}/{method}", content=b"x", headers={"content-type": "text/xml"})
        assert reply.status_code == 415
        assert reply.json()["code"] == "unimplemented"
        assert reply.headers["accept-post"]


@pytest.mark.parametrize(
    "body",
    [
        b'{"limit": "many"}',
        b'{"cursor": 5}',
        b'{"createdAfter": "9999999-01-01T00:00:00Z"}',
        b"\xff\xfe",
        b'{"tags": {"a": 1}}',
        b"[" * 100_000,
    ],
)
def test_a_400_never_carries_python_exception_text(http: httpx.Client, body: bytes) -> None:
    reply = http.post(f"{SERVICE}/ListRuns", content=body, headers=JSON)
    assert reply.status_code == 400
    message = reply.json()["message"]
    for python_text in ("invalid literal", "bytes-like", "codec", "%Y", "Expecting", "char "):
        assert python_text not in message
    assert "ListRunsRequest" in message


def test_a_unicode_deployment_header_comes_back_as_sent(server: ApiServer) -> None:
    with server.http() as client:
        reply = client.post(
            f"{SERVICE}/ListRuns",
            json={},
            headers={"x-weir-deployment": "café".encode()},  # type: ignore[dict-item]
        )
    assert reply.status_code == 404
    assert "'café'" in reply.json()["message"]


def test_options_and_other_methods_allow_only_post(http: httpx.Client) -> None:
    for verb in ("OPTIONS", "GET", "PUT", "DELETE", "HEAD"):
        reply = http.request(verb, f"{SERVICE}/GetRun")
        assert reply.status_code == 405, verb
        assert reply.headers["allow"] == "POST", verb


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]", "LOCALHOST"])
def test_loopback_host_names_are_answered(server: ApiServer, host: str) -> None:
    reply = httpx.get(
        f"{server.http_url}/healthz",
        headers={"host": f"{host}:{server.http_port}"},
        trust_env=False,
    )
    assert reply.status_code == 200


@pytest.mark.parametrize("host", ["evil.example", "evil.example:80", "127.0.0.1.evil.example", ""])
def test_a_foreign_host_header_is_refused_before_any_route(server: ApiServer, host: str) -> None:
    # What a DNS-rebinding page makes the browser send to a loopback server.
    reply = httpx.post(
        f"{server.http_url}{SERVICE}/ListRuns",
        json={},
        headers={"host": host},
        trust_env=False,
    )
    assert reply.status_code == 403
    assert reply.json()["code"] == "permission_denied"
    assert "--allowed-host" in reply.json()["message"]


def test_extra_host_names_are_configurable(server: ApiServer) -> None:
    from weir_controlplane.api.connect import create_connect_app

    app = create_connect_app(server.api, allowed_hosts=["weir.internal"])

    async def status(base_url: str) -> int:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
            return (await client.get("/openapi.json")).status_code

    assert asyncio.run(status("http://weir.internal:8080")) == 200
    assert asyncio.run(status("http://other.internal")) == 403


@pytest.mark.parametrize(
    "address",
    [
        "unix:///etc/passwd",
        "unix:/run/docker.sock",
        "unix-abstract:x",
        "vsock:2:22",
        "ipv4:127.0.0.1:22,127.0.0.1:23",
        "http://127.0.0.1:80",
        "127.0.0.1",
        "127.0.0.1:0",
        "127.0.0.1:70000",
    ],
)
def test_create_code_location_takes_only_host_port_addresses(
    server: ApiServer, etl: DeploymentScope, address: str
) -> None:
    stub = server.control_plane()
    error = rpc_error(
        lambda: stub.CreateCodeLocation(
            cp.CreateCodeLocationRequest(name="probe", address=address), metadata=deployment(etl)
        )
    )
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.details().startswith("address ") and "is not a host:port" in error.details()
