"""Input a client can send that used to end in INTERNAL / 500: deep selections, huge
cursors and sequences, oversized tags, config and metadata. Each is INVALID_ARGUMENT
(400) naming the field, on both transports; list replies stay under 4 MiB by paging."""

from __future__ import annotations

from typing import Any

import grpc
import httpx
import pytest
from api_harness import (
    ApiServer,
    add_location,
    deployment,
    etl_snapshot,
    event,
    launch,
    materialized,
    rpc_error,
    serving,
)
from weir_controlplane.api import limits
from weir_controlplane.storage import DeploymentScope, Storage
from weir_protos.v1 import common_pb2, events_pb2
from weir_protos.v1 import control_plane_pb2 as cp

E = events_pb2
SERVICE = "/weir.v1.ControlPlaneService"
DEEP_SELECTIONS = ["(" * 200 + "orders" + ")" * 200, "not " * 1000 + "orders"]
HUGE = "99999999999999999999999"


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


def connect_error(http: httpx.Client, method: str, body: Any) -> dict[str, Any]:
    reply = http.post(f"{SERVICE}/{method}", json=body)
    assert reply.status_code == 400, reply.text
    error = reply.json()
    assert error["code"] == "invalid_argument"
    return error


@pytest.mark.parametrize("selection", DEEP_SELECTIONS, ids=["parentheses", "not"])
@pytest.mark.parametrize(
    "method,request_class",
    [
        ("ListAssets", cp.ListAssetsRequest),
        ("LaunchRun", cp.LaunchRunRequest),
        ("GetAssetLineage", cp.GetAssetLineageRequest),
    ],
)
def test_a_deeply_nested_selection_is_invalid_argument_naming_the_field(
    server: ApiServer,
    etl: DeploymentScope,
    http: httpx.Client,
    selection: str,
    method: str,
    request_class: Any,
) -> None:
    stub = server.control_plane()
    error = rpc_error(
        lambda: getattr(stub, method)(request_class(selection=selection), metadata=deployment(etl))
    )
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.details().startswith("Invalid asset selection: the selection nests deeper")
    message = connect_error(http, method, {"selection": selection})["message"]
    assert message.startswith("Invalid asset selection: the selection nests deeper than 64")
    assert "\n" not in message  # a long text is not echoed back


def test_a_selection_over_the_size_limit_is_refused(http: httpx.Client) -> None:
    text = " ".join(["orders"] * 5000)
    message = connect_error(http, "ListAssets", {"selection": text})["message"]
    assert message == f"selection is {len(text)} characters; at most 10000 allowed"


def test_a_cursor_out_of_range_is_invalid_argument_on_every_listing(
    server: ApiServer, etl: DeploymentScope, http: httpx.Client
) -> None:
    run = launch(server, etl, "orders")
    for method, body in [
        ("ListRuns", {"cursor": HUGE}),
        ("ListMaterializations", {"key": {"path": ["orders"]}, "cursor": HUGE}),
        ("GetRunEvents", {"runId": run.run_id, "cursor": HUGE}),
    ]:
        message = connect_error(http, method, body)["message"]
        assert message.startswith(f"cursor '{HUGE}' is not valid"), method
    stream = server.control_plane().WatchRun(
        cp.WatchRunRequest(run_id=run.run_id, cursor=HUGE), metadata=deployment(etl)
    )
    error = rpc_error(lambda: next(stream))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.details().startswith(f"cursor '{HUGE}' is not valid")


def test_a_sequence_beyond_int64_is_invalid_argument(
    server: ApiServer, etl: DeploymentScope
) -> None:
    run = launch(server, etl, "orders")
    error = rpc_error(
        lambda: server.report(etl, run.run_id, event(2**63, E.RUN_EVENT_TYPE_RUN_STARTED))
    )
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "sequence 9223372036854775808 is out of range" in error.details()
    # The largest stored value still works.
    server.report(etl, run.run_id, event(2**63 - 1, E.RUN_EVENT_TYPE_ENGINE))


def test_tags_and_run_config_over_their_limits_are_refused_naming_the_limit(
    http: httpx.Client,
) -> None:
    body = {"assetKeys": [{"path": ["orders"]}]}
    big_value = "x" * (limits.MAX_TAG_VALUE_BYTES + 1)
    message = connect_error(http, "LaunchRun", {**body, "tags": {"t": big_value}})["message"]
    assert message == f"tags value of 't' is {len(big_value)} bytes; at most 4096 allowed"
    long_key = "k" * 300
    message = connect_error(http, "LaunchRun", {**body, "tags": {long_key: "v"}})["message"]
    assert "tags key 'kkkk" in message and "at most 256 allowed" in message
    many = {f"k{i}": "v" for i in range(limits.MAX_TAGS + 1)}
    message = connect_error(http, "LaunchRun", {**body, "tags": many})["message"]
    assert message == "tags has 101 entries; at most 100 allowed"
    message = connect_error(http, "ListRuns", {"tags": many})["message"]
    assert message == "tags has 101 entries; at most 100 allowed"
    config = {"blob": "y" * limits.MAX_RUN_CONFIG_BYTES}
    message = connect_error(http, "LaunchRun", {**body, "runConfig": config})["message"]
    assert message.startswith("runConfig is ") and "at most 262144 allowed" in message


def test_event_metadata_over_its_limit_is_refused(server: ApiServer, etl: DeploymentScope) -> None:
    run = launch(server, etl, "orders")
    entry = common_pb2.MetadataEntry(
        label="blob", value=common_pb2.MetadataValue(text="z" * 100_000)
    )
    huge = materialized("orders")
    huge.metadata.extend([entry] * 3)
    error = rpc_error(
        lambda: server.report(
            etl,
            run.run_id,
            event(1, E.RUN_EVENT_TYPE_ASSET_MATERIALIZATION, materialization=huge),
        )
    )
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "materialization.metadata is 300" in error.details()
    assert "at most 262144 allowed" in error.details()


def test_list_runs_pages_by_size_so_a_reply_stays_under_4_mib(
    server: ApiServer, etl: DeploymentScope
) -> None:
    tags = {f"tag{i}": "v" * limits.MAX_TAG_VALUE_BYTES for i in range(limits.MAX_TAGS)}
    launched = [launch(server, etl, "orders", tags=tags).run_id for _ in range(12)]
    stub, seen, cursor, pages = server.control_plane(), [], "", 0
    while True:
        reply = stub.ListRuns(
            cp.ListRunsRequest(cursor=cursor, limit=1000), metadata=deployment(etl)
        )
        assert reply.ByteSize() < 4 * 1024 * 1024
        seen += [run.run_id for run in reply.runs]
        pages += 1
        if not reply.next_cursor:
            break
        cursor = reply.next_cursor
    assert pages > 1
    assert seen == launched[::-1][: len(seen)] and set(launched) <= set(seen)


def test_get_run_events_filters_before_paging(
    server: ApiServer, etl: DeploymentScope, http: httpx.Client
) -> None:
    run = launch(server, etl, "orders")
    server.report(
        etl,
        run.run_id,
        event(1, E.RUN_EVENT_TYPE_RUN_STARTED),
        *[event(i, E.RUN_EVENT_TYPE_LOG, step="orders") for i in range(2, 8)],
        event(8, E.RUN_EVENT_TYPE_STEP_SUCCESS, step="orders"),
    )
    body = {"runId": run.run_id, "limit": 2, "eventTypes": ["RUN_EVENT_TYPE_STEP_SUCCESS"]}
    reply = http.post(f"{SERVICE}/GetRunEvents", json=body).json()
    assert [e["eventType"] for e in reply["events"]] == ["RUN_EVENT_TYPE_STEP_SUCCESS"]
    assert not reply.get("hasMore")
    body = {"runId": run.run_id, "limit": 3, "stepKey": "orders"}
    reply = http.post(f"{SERVICE}/GetRunEvents", json=body).json()
    assert [e["sequence"] for e in reply["events"]] == ["2", "3", "4"] and reply["hasMore"]


def test_list_materializations_of_an_unknown_partition_says_so(http: httpx.Client) -> None:
    reply = http.post(
        f"{SERVICE}/ListMaterializations",
        json={"key": {"path": ["daily"]}, "partitionKey": "1999-01-01"},
    )
    assert reply.status_code == 404
    assert reply.json()["message"].startswith(
        "partitionKey '1999-01-01' is not a partition of asset 'daily'"
    )
    reply = http.post(
        f"{SERVICE}/ListMaterializations",
        json={"key": {"path": ["orders"]}, "partitionKey": "2024-01-01"},
    )
    assert reply.status_code == 400 and "is not partitioned" in reply.json()["message"]
    known = http.post(
        f"{SERVICE}/ListMaterializations",
        json={"key": {"path": ["daily"]}, "partitionKey": "2024-01-01"},
    )
    assert known.status_code == 200


def test_get_run_events_and_watch_run_split_big_events_under_4_mib(
    server: ApiServer, etl: DeploymentScope
) -> None:
    run = launch(server, etl, "orders")
    entry = common_pb2.MetadataEntry(
        label="blob", value=common_pb2.MetadataValue(text="z" * 250_000)
    )
    big = materialized("orders")
    big.metadata.append(entry)
    server.report(
        etl,
        run.run_id,
        *[
            event(i, E.RUN_EVENT_TYPE_ASSET_MATERIALIZATION, materialization=big)
            for i in range(1, 31)
        ],
    )
    stub, cursor, sequences = server.control_plane(), "", []
    while True:
        page = stub.GetRunEvents(
            cp.GetRunEventsRequest(run_id=run.run_id, cursor=cursor, limit=1000),
            metadata=deployment(etl),
        )
        assert page.ByteSize() < 4 * 1024 * 1024
        sequences += [e.sequence for e in page.events]
        cursor = page.next_cursor
        if not page.has_more:
            break
    # Sequence 0 is the control plane's own RUN_ENQUEUED; the worker's events follow.
    assert sequences == list(range(0, 31))
    server.control_plane().CancelRun(
        cp.CancelRunRequest(run_id=run.run_id), metadata=deployment(etl)
    )
    watched = []
    for message in stub.WatchRun(
        cp.WatchRunRequest(run_id=run.run_id), metadata=deployment(etl), timeout=30
    ):
        assert message.ByteSize() < 4 * 1024 * 1024
        watched += [e.sequence for e in message.events if e.sequence]
    assert watched == list(range(1, 31))
