"""ControlPlaneService over HTTP/JSON (Connect protocol), on uvicorn on a real port."""

from __future__ import annotations

import json
import struct
from typing import Any

import httpx
import pytest
from api_harness import ApiServer, add_location, asset, snapshot
from weir_controlplane.storage import CodeLocationStatus, DeploymentScope
from weir_protos.v1 import control_plane_pb2 as cp
from weir_protos.v1 import reporting_pb2

SERVICE = "/weir.v1.ControlPlaneService"


@pytest.fixture
def etl(server: ApiServer, scope: DeploymentScope) -> DeploymentScope:
    add_location(
        server.storage,
        scope,
        "etl",
        snapshot(
            asset("raw/orders", group="ingest"),
            asset("orders", deps=["raw/orders"], group="sales", checks=["not_empty"]),
        ),
    )
    return scope


@pytest.fixture
def http(server: ApiServer, etl: DeploymentScope) -> Any:
    with server.http(deployment=etl.name) as client:
        yield client


def call(http: httpx.Client, method: str, body: Any, service: str = SERVICE) -> httpx.Response:
    return http.post(f"{service}/{method}", json=body)


def ok(http: httpx.Client, method: str, body: Any, service: str = SERVICE) -> dict[str, Any]:
    reply = call(http, method, body, service)
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"] == "application/json"
    return reply.json()


def envelopes(body: bytes) -> list[tuple[int, Any]]:
    """The (flags, JSON) messages of a Connect streaming body."""
    found = []
    while body:
        flags, length = struct.unpack(">BI", body[:5])
        found.append((flags, json.loads(body[5 : 5 + length])))
        body = body[5 + length :]
    return found


def enveloped(message: dict[str, Any]) -> bytes:
    payload = json.dumps(message).encode()
    return struct.pack(">BI", 0, len(payload)) + payload


# --- the protocol ---------------------------------------------------------------------


def test_every_rpc_is_served_over_http(http: httpx.Client) -> None:
    for method in cp.DESCRIPTOR.services_by_name["ControlPlaneService"].methods:
        if method.server_streaming:
            reply = http.post(
                f"{SERVICE}/{method.name}",
                content=enveloped({}),
                headers={"content-type": "application/connect+json"},
            )
            assert reply.status_code == 200, method.name
            flags, end = envelopes(reply.content)[-1]
            assert flags == 2 and end["error"]["code"] == "invalid_argument"
        else:
            reply = call(http, method.name, {})
            assert reply.status_code not in (404, 500, 501), (method.name, reply.text)


def test_launch_run_and_get_run_speak_protobuf_json(http: httpx.Client) -> None:
    launched = ok(
        http,
        "LaunchRun",
        {
            "assetKeys": [{"path": ["orders"]}],
            "tags": {"team": "sales"},
            "runConfig": {"ops": {"orders": {"limit": 10}}},
        },
    )["run"]
    assert launched["status"] == "RUN_STATUS_QUEUED"
    assert launched["assetKeys"] == [{"path": ["orders"]}]
    assert launched["codeLocation"] == "etl"
    fetched = ok(http, "GetRun", {"runId": launched["runId"]})["run"]
    assert fetched["runId"] == launched["runId"]
    assert fetched["runConfig"] == {"ops": {"orders": {"limit": 10}}}
    assert fetched["tags"] == {"team": "sales"}
    assert "createTime" in fetched


def test_reported_events_show_on_the_asset_and_the_run(http: httpx.Client) -> None:
    run_id = ok(http, "LaunchRun", {"assetKeys": [{"path": ["orders"]}]})["run"]["runId"]
    reporting = "/weir.v1.RunReportingService"
    batch = {
        "runId": run_id,
        "events": [
            {"sequence": "1", "eventType": "RUN_EVENT_TYPE_RUN_STARTED"},
            {
                "sequence": "2",
                "eventType": "RUN_EVENT_TYPE_ASSET_MATERIALIZATION",
                "stepKey": "orders",
                "materialization": {
                    "assetKey": {"path": ["orders"]},
                    "metadata": [{"label": "rows", "value": {"int": "3"}}],
                },
            },
            {
                "sequence": "3",
                "eventType": "RUN_EVENT_TYPE_ASSET_CHECK_EVALUATION",
                "checkEvaluation": {
                    "assetKey": {"path": ["orders"]},
                    "checkName": "not_empty",
                    "passed": False,
                },
            },
        ],
    }
    assert ok(http, "ReportEvents", batch, reporting) == {"acknowledgedSequence": "3"}
    assert ok(http, "ReportEvents", batch, reporting) == {"acknowledgedSequence": "3"}
    found = ok(http, "GetAsset", {"key": {"path": ["orders"]}})["asset"]
    assert found["latestMaterialization"]["runId"] == run_id
    assert found["latestMaterialization"]["materialization"]["metadata"][0]["value"] == {"int": "3"}
    assert found["checks"][0]["spec"]["name"] == "not_empty"
    assert found["checks"][0]["latestEvaluation"]["evaluation"].get("passed", False) is False
    events = ok(http, "GetRunEvents", {"runId": run_id})
    # The control plane's own RUN_ENQUEUED comes first, without a worker sequence.
    assert [e.get("sequence", "0") for e in events["events"]] == ["0", "1", "2", "3"]
    assert ok(http, "GetRun", {"runId": run_id})["run"]["status"] == "RUN_STATUS_STARTED"


def test_protobuf_bodies_work_too(http: httpx.Client) -> None:
    reply = http.post(
        f"{SERVICE}/ListAssets",
        content=cp.ListAssetsRequest(group="sales").SerializeToString(),
        headers={"content-type": "application/proto"},
    )
    assert reply.status_code == 200
    assert reply.headers["content-type"] == "application/proto"
    assert [a.key.path for a in cp.ListAssetsResponse.FromString(reply.content).assets] == [
        ["orders"]
    ]


def test_every_reply_carries_a_request_id(http: httpx.Client) -> None:
    assert call(http, "ListCodeLocations", {}).headers["x-request-id"]
    reply = http.post(
        f"{SERVICE}/GetRun", json={"runId": "nope"}, headers={"x-request-id": "abc-123"}
    )
    assert reply.headers["x-request-id"] == "abc-123"


# --- errors ---------------------------------------------------------------------------


def test_errors_are_connect_json_with_the_matching_http_status(
    server: ApiServer, etl: DeploymentScope, http: httpx.Client
) -> None:
    def error(method: str, body: Any) -> tuple[int, str, str]:
        reply = call(http, method, body)
        assert reply.headers["content-type"] == "application/json"
        payload = reply.json()
        return reply.status_code, payload["code"], payload["message"]

    status, code, message = error("GetRun", {"runId": "no-such-run"})
    assert (status, code) == (404, "not_found") and "'no-such-run'" in message
    status, code, message = error("LaunchRun", {"assetKeys": [{"path": ["nope"]}]})
    assert (status, code) == (400, "invalid_argument") and "'nope'" in message
    status, code, message = error("ListRuns", {"cursor": "not-a-cursor"})
    assert (status, code) == (400, "invalid_argument") and "not-a-cursor" in message
    status, code, message = error("CreateCodeLocation", {"name": "etl", "address": "x:1"})
    assert (status, code) == (409, "already_exists") and "'etl'" in message
    server.storage.code_locations.set_unavailable(
        etl, "etl", CodeLocationStatus.ERROR, "NameError: name 'pd' is not defined"
    )
    status, code, message = error("LaunchRun", {"assetKeys": [{"path": ["orders"]}]})
    assert (status, code) == (400, "failed_precondition") and "NameError" in message


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (b'{"runId": ', "not valid JSON"),
        (b"[1, 2]", "must be a JSON object"),
        (b'{"runID": "x"}', "runID"),
        (b'{"limit": "many"}', "limit"),
    ],
)
def test_a_malformed_body_is_a_400_naming_the_problem(
    http: httpx.Client, body: bytes, needle: str
) -> None:
    method = "ListRuns" if b"limit" in body else "GetRun"
    reply = http.post(
        f"{SERVICE}/{method}", content=body, headers={"content-type": "application/json"}
    )
    assert reply.status_code == 400
    assert reply.json()["code"] == "invalid_argument"
    assert needle in reply.json()["message"]


def test_an_empty_body_is_an_empty_request(http: httpx.Client) -> None:
    reply = http.post(
        f"{SERVICE}/ListCodeLocations", content=b"", headers={"content-type": "application/json"}
    )
    assert reply.status_code == 200
    assert [loc["name"] for loc in reply.json()["codeLocations"]] == ["etl"]


def test_what_is_not_a_unary_connect_call_is_refused_plainly(http: httpx.Client) -> None:
    unknown = call(http, "LaunchRocket", {})
    assert unknown.status_code == 404
    assert "LaunchRocket" in unknown.json()["message"]
    assert call(http, "GetRun", {}, service="/weir.v1.NoSuchService").status_code == 404
    wrong_verb = http.get(f"{SERVICE}/GetRun")
    assert wrong_verb.status_code == 405 and wrong_verb.headers["allow"] == "POST"
    form = http.post(f"{SERVICE}/GetRun", content=b"runId=x")
    assert form.status_code == 415 and "application/json" in form.json()["message"]
    future = http.post(
        f"{SERVICE}/GetRun", json={"runId": "x"}, headers={"connect-protocol-version": "2"}
    )
    assert future.status_code == 400


def test_the_deployment_header_chooses_the_deployment(
    server: ApiServer, http: httpx.Client
) -> None:
    run_id = ok(http, "LaunchRun", {"assetKeys": [{"path": ["orders"]}]})["run"]["runId"]
    other = server.storage.deployments.ensure_deployment("staging-http")
    with server.http(deployment=other.name) as staging:
        assert call(staging, "GetRun", {"runId": run_id}).status_code == 404
        assert ok(staging, "ListAssets", {}) == {}
    with server.http(deployment="nowhere") as nowhere:
        reply = call(nowhere, "ListRuns", {})
        assert reply.status_code == 404 and "'nowhere'" in reply.json()["message"]


# --- streaming ------------------------------------------------------------------------


def test_watch_run_streams_in_connect_envelopes(http: httpx.Client) -> None:
    run_id = ok(http, "LaunchRun", {"assetKeys": [{"path": ["orders"]}]})["run"]["runId"]
    ok(
        http,
        "ReportEvents",
        {
            "runId": run_id,
            "events": [
                {"sequence": "1", "eventType": "RUN_EVENT_TYPE_RUN_STARTED"},
                {"sequence": "2", "eventType": "RUN_EVENT_TYPE_RUN_SUCCESS"},
            ],
        },
        "/weir.v1.RunReportingService",
    )
    reply = http.post(
        f"{SERVICE}/WatchRun",
        content=enveloped({"runId": run_id}),
        headers={"content-type": "application/connect+json"},
    )
    assert reply.status_code == 200
    assert reply.headers["content-type"] == "application/connect+json"
    messages = envelopes(reply.content)
    *data, (end_flags, end) = messages
    assert end_flags == 2 and end == {}
    streamed = [e.get("sequence", "0") for _, m in data for e in m.get("events", [])]
    assert streamed == ["0", "1", "2"]  # RUN_ENQUEUED, then the worker's events
    assert data[-1][1]["run"]["status"] == "RUN_STATUS_SUCCESS"

    unknown = http.post(
        f"{SERVICE}/WatchRun",
        content=enveloped({"runId": "nope"}),
        headers={"content-type": "application/connect+json"},
    )
    assert unknown.status_code == 200
    assert envelopes(unknown.content) == [
        (
            2,
            {
                "error": {
                    "code": "not_found",
                    "message": "run 'nope' does not exist in this deployment",
                }
            },
        )
    ]
    unary_style = call(http, "WatchRun", {"runId": run_id})
    assert unary_style.status_code == 415


# --- health and the API description ---------------------------------------------------


def test_healthz(server: ApiServer) -> None:
    with server.http() as client:
        reply = client.get("/healthz")
    # The harness runs no replica membership: no replica id to name.
    assert reply.status_code == 200 and reply.json() == {"status": "SERVING", "replica": ""}


def test_openapi_describes_every_rpc_and_resolves_every_reference(server: ApiServer) -> None:
    with server.http() as client:
        document = client.get("/openapi.json").json()
    assert document["openapi"].startswith("3.1")
    expected = {
        f"/{service.full_name}/{method.name}"
        for module in (cp, reporting_pb2)
        for service in module.DESCRIPTOR.services_by_name.values()
        for method in service.methods
    }
    assert set(document["paths"]) == expected
    schemas = document["components"]["schemas"]

    def refs(node: Any) -> set[str]:
        if isinstance(node, dict):
            found = {node["$ref"]} if "$ref" in node else set()
            return found.union(*(refs(v) for v in node.values()))
        if isinstance(node, list):
            return set().union(*(refs(v) for v in node))
        return set()

    for ref in refs(document):
        assert ref.removeprefix("#/components/schemas/") in schemas, ref
    launch = schemas["weir.v1.LaunchRunRequest"]["properties"]
    assert launch["partitionKey"] == {"type": "string"}
    assert launch["assetKeys"]["type"] == "array"
    assert launch["tags"] == {"type": "object", "additionalProperties": {"type": "string"}}
    assert launch["runConfig"]["type"] == "object"
    assert "RUN_STATUS_QUEUED" in schemas["weir.v1.RunStatus"]["enum"]
    assert schemas["weir.v1.Run"]["properties"]["createTime"]["format"] == "date-time"
    assert schemas["weir.v1.RunEvent"]["properties"]["eventId"]["type"] == "string"
