"""ControlPlaneService and RunReportingService over gRPC, on a real port."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import grpc
import pytest
from api_harness import (
    ApiServer,
    add_location,
    asset,
    deployment,
    event,
    free_port,
    key,
    materialized,
    serving,
    snapshot,
)
from google.protobuf import struct_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from weir_controlplane.api.servicer import ControlPlaneServicer
from weir_controlplane.storage import CodeLocationStatus, DeploymentScope, Storage
from weir_protos.v1 import common_pb2, events_pb2, reporting_pb2, runs_pb2
from weir_protos.v1 import control_plane_pb2 as cp
from weir_protos.v1 import definitions_pb2 as defs

E = events_pb2


@pytest.fixture(scope="module")
def server(storage: Storage) -> Any:
    with serving(storage) as api_server:
        yield api_server


@pytest.fixture
def etl(server: ApiServer, scope: DeploymentScope) -> DeploymentScope:
    """A deployment with one code location "etl": raw -> orders -> revenue -> report."""
    add_location(
        server.storage,
        scope,
        "etl",
        snapshot(
            asset("raw", group="ingest", kinds=["s3"], executable=False),
            asset("orders", deps=["raw"], group="sales", kinds=["python"], checks=["not_empty"]),
            asset(
                "revenue",
                deps=["orders"],
                group="sales",
                owners=["team:finance"],
                tags={"tier": "gold"},
            ),
            asset("report", deps=["revenue"], group="reporting", kinds=["python"]),
            asset("daily", partitions=["2024-01-01", "2024-01-02"]),
            jobs=[defs.JobSnapshot(name="sales_job", asset_keys=[key("orders"), key("revenue")])],
        ),
    )
    return scope


def md(scope: DeploymentScope) -> tuple[tuple[str, str], ...]:
    return deployment(scope)


def launch(server: ApiServer, scope: DeploymentScope, *names: str, **fields: Any) -> runs_pb2.Run:
    request = cp.LaunchRunRequest(asset_keys=[key(name) for name in names], **fields)
    return server.control_plane().LaunchRun(request, metadata=md(scope)).run


def rpc_error(call: Any) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as caught:
        call()
    return caught.value


# --- the service is complete ----------------------------------------------------------


def test_every_rpc_of_the_service_descriptor_is_implemented(
    server: ApiServer, etl: DeploymentScope
) -> None:
    service = cp.DESCRIPTOR.services_by_name["ControlPlaneService"]
    missing = [m.name for m in service.methods if m.name not in vars(ControlPlaneServicer)]
    assert missing == []
    # And over the wire: an empty request gets an answer or a real error, never UNIMPLEMENTED.
    for method in service.methods:
        request_class = getattr(cp, method.input_type.name)
        path = f"/{service.full_name}/{method.name}"
        if method.server_streaming:
            call = server.channel.unary_stream(path, request_class.SerializeToString, lambda b: b)
            outcome = lambda c=call, r=request_class: list(c(r(), metadata=md(etl)))  # noqa: E731
        else:
            call = server.channel.unary_unary(path, request_class.SerializeToString, lambda b: b)
            outcome = lambda c=call, r=request_class: c(r(), metadata=md(etl))  # noqa: E731
        try:
            outcome()
        except grpc.RpcError as error:
            assert error.code() != grpc.StatusCode.UNIMPLEMENTED, method.name
            assert error.code() != grpc.StatusCode.INTERNAL, (method.name, error.details())


def test_health_and_reflection_are_served(server: ApiServer) -> None:
    health = health_pb2_grpc.HealthStub(server.channel)
    reply = health.Check(health_pb2.HealthCheckRequest(service="weir.v1.ControlPlaneService"))
    assert reply.status == health_pb2.HealthCheckResponse.SERVING
    reflection = reflection_pb2_grpc.ServerReflectionStub(server.channel)
    replies = reflection.ServerReflectionInfo(
        iter([reflection_pb2.ServerReflectionRequest(list_services="")])
    )
    names = {s.name for s in next(iter(replies)).list_services_response.service}
    assert {"weir.v1.ControlPlaneService", "weir.v1.RunReportingService"} <= names


def test_every_reply_carries_a_request_id_and_echoes_the_callers(
    server: ApiServer, etl: DeploymentScope
) -> None:
    stub = server.control_plane()
    _, call = stub.ListCodeLocations.with_call(cp.ListCodeLocationsRequest(), metadata=md(etl))
    generated = dict(call.initial_metadata())["x-request-id"]
    assert generated
    _, call = stub.ListCodeLocations.with_call(
        cp.ListCodeLocationsRequest(), metadata=(*md(etl), ("x-request-id", "trace-123"))
    )
    assert dict(call.initial_metadata())["x-request-id"] == "trace-123"


# --- deployments ----------------------------------------------------------------------


def test_requests_see_only_the_deployment_their_header_names(
    server: ApiServer, etl: DeploymentScope
) -> None:
    other = server.storage.deployments.ensure_deployment(f"other-{uuid.uuid4().hex[:8]}")
    run = launch(server, etl, "orders")
    stub = server.control_plane()
    assert stub.GetRun(cp.GetRunRequest(run_id=run.run_id), metadata=md(etl)).run.run_id
    error = rpc_error(lambda: stub.GetRun(cp.GetRunRequest(run_id=run.run_id), metadata=md(other)))
    assert error.code() == grpc.StatusCode.NOT_FOUND
    assert stub.ListAssets(cp.ListAssetsRequest(), metadata=md(other)).assets == []
    assert stub.ListRuns(cp.ListRunsRequest(), metadata=md(other)).runs == []


def test_an_unknown_deployment_is_not_found_by_name(server: ApiServer) -> None:
    error = rpc_error(
        lambda: server.control_plane().ListRuns(
            cp.ListRunsRequest(), metadata=(("x-weir-deployment", "nowhere"),)
        )
    )
    assert error.code() == grpc.StatusCode.NOT_FOUND
    assert "nowhere" in error.details()


# --- code locations -------------------------------------------------------------------


def test_code_locations_are_listed_with_status_and_asset_count(
    server: ApiServer, etl: DeploymentScope
) -> None:
    server.storage.code_locations.upsert(etl, "broken", address="127.0.0.1:2")
    server.storage.code_locations.set_unavailable(
        etl, "broken", CodeLocationStatus.ERROR, "SyntaxError: invalid syntax (defs.py, line 3)"
    )
    reply = server.control_plane().ListCodeLocations(
        cp.ListCodeLocationsRequest(), metadata=md(etl)
    )
    by_name = {location.name: location for location in reply.code_locations}
    assert [location.name for location in reply.code_locations] == ["broken", "etl"]
    assert by_name["etl"].status == cp.CODE_LOCATION_STATUS_LOADED
    assert by_name["etl"].asset_count == 5
    assert by_name["broken"].status == cp.CODE_LOCATION_STATUS_ERROR
    assert "SyntaxError" in by_name["broken"].error.message


def test_launching_in_a_location_whose_code_failed_to_load_is_a_failed_precondition(
    server: ApiServer, etl: DeploymentScope
) -> None:
    server.storage.code_locations.set_unavailable(
        etl, "etl", CodeLocationStatus.ERROR, "ImportError: no module named pandas"
    )
    error = rpc_error(lambda: launch(server, etl, "orders"))
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "pandas" in error.details()


# --- assets ---------------------------------------------------------------------------


def test_list_assets_filters_by_group_kind_tag_owner_and_location(
    server: ApiServer, etl: DeploymentScope
) -> None:
    stub = server.control_plane()

    def keys(**filters: Any) -> list[str]:
        reply = stub.ListAssets(cp.ListAssetsRequest(**filters), metadata=md(etl))
        return ["/".join(a.key.path) for a in reply.assets]

    assert keys() == ["daily", "orders", "raw", "report", "revenue"]
    assert keys(group="sales") == ["orders", "revenue"]
    assert keys(kind="python") == ["orders", "report"]
    assert keys(tag="tier=gold") == ["revenue"]
    assert keys(tag="tier") == ["revenue"]
    assert keys(tag="tier=silver") == []
    assert keys(owner="team:finance") == ["revenue"]
    assert keys(group="sales", kind="python") == ["orders"]
    assert keys(code_location="etl", group="ingest") == ["raw"]
    error = rpc_error(
        lambda: stub.ListAssets(cp.ListAssetsRequest(code_location="nope"), metadata=md(etl))
    )
    assert error.code() == grpc.StatusCode.NOT_FOUND


def test_list_assets_pages_with_a_cursor(server: ApiServer, etl: DeploymentScope) -> None:
    stub = server.control_plane()
    seen: list[str] = []
    cursor = ""
    pages = 0
    while True:
        reply = stub.ListAssets(cp.ListAssetsRequest(limit=2, cursor=cursor), metadata=md(etl))
        seen += ["/".join(a.key.path) for a in reply.assets]
        pages += 1
        if not reply.next_cursor:
            break
        cursor = reply.next_cursor
    assert seen == ["daily", "orders", "raw", "report", "revenue"]
    assert pages == 3
    error = rpc_error(lambda: stub.ListAssets(cp.ListAssetsRequest(cursor="%%%"), metadata=md(etl)))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_assets_carry_their_latest_materialization_and_check_results(
    server: ApiServer, etl: DeploymentScope
) -> None:
    run = launch(server, etl, "orders")
    server.report(
        etl,
        run.run_id,
        event(1, E.RUN_EVENT_TYPE_RUN_STARTED),
        event(
            2,
            E.RUN_EVENT_TYPE_ASSET_MATERIALIZATION,
            step="orders",
            materialization=E.AssetMaterialization(
                asset_key=key("orders"),
                metadata=[
                    common_pb2.MetadataEntry(label="rows", value=common_pb2.MetadataValue(int=3))
                ],
            ),
        ),
        event(
            3,
            E.RUN_EVENT_TYPE_ASSET_CHECK_EVALUATION,
            step="orders",
            check_evaluation=E.AssetCheckEvaluation(
                asset_key=key("orders"), check_name="not_empty", passed=True
            ),
        ),
    )
    stub = server.control_plane()
    found = stub.GetAsset(cp.GetAssetRequest(key=key("orders")), metadata=md(etl)).asset
    assert found.code_location == "etl"
    assert found.definition.group_name == "sales"
    assert found.latest_materialization.run_id == run.run_id
    assert found.latest_materialization.materialization.metadata[0].value.int == 3
    assert [c.spec.name for c in found.checks] == ["not_empty"]
    assert found.checks[0].latest_evaluation.evaluation.passed
    listed = stub.ListAssets(cp.ListAssetsRequest(group="sales"), metadata=md(etl)).assets
    assert listed[0].latest_materialization.run_id == run.run_id
    assert not listed[1].HasField("latest_materialization")


def test_get_asset_of_an_unknown_key_is_not_found_and_an_empty_key_is_invalid(
    server: ApiServer, etl: DeploymentScope
) -> None:
    stub = server.control_plane()
    error = rpc_error(lambda: stub.GetAsset(cp.GetAssetRequest(key=key("nope")), metadata=md(etl)))
    assert error.code() == grpc.StatusCode.NOT_FOUND
    assert "'nope'" in error.details()
    error = rpc_error(lambda: stub.GetAsset(cp.GetAssetRequest(), metadata=md(etl)))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_lineage_walks_up_and_down_to_the_depths_asked(
    server: ApiServer, etl: DeploymentScope
) -> None:
    stub = server.control_plane()

    def lineage(**fields: Any) -> tuple[list[str], list[tuple[str, str]]]:
        reply = stub.GetAssetLineage(cp.GetAssetLineageRequest(**fields), metadata=md(etl))
        edges = [("/".join(e.upstream.path), "/".join(e.downstream.path)) for e in reply.edges]
        return ["/".join(a.key.path) for a in reply.assets], edges

    assert lineage(key=key("revenue")) == (
        ["raw", "orders", "revenue", "report"],
        [("raw", "orders"), ("orders", "revenue"), ("revenue", "report")],
    )
    assert lineage(key=key("revenue"), upstream_depth=1, downstream_depth=0) == (
        ["orders", "revenue"],
        [("orders", "revenue")],
    )
    assert lineage(key=key("orders"), upstream_depth=0)[0] == ["orders", "revenue", "report"]
    error = rpc_error(
        lambda: stub.GetAssetLineage(cp.GetAssetLineageRequest(key=key("x")), metadata=md(etl))
    )
    assert error.code() == grpc.StatusCode.NOT_FOUND
    error = rpc_error(lambda: stub.GetAssetLineage(cp.GetAssetLineageRequest(), metadata=md(etl)))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_lineage_follows_dependencies_across_code_locations(
    server: ApiServer, etl: DeploymentScope
) -> None:
    add_location(
        server.storage, etl, "bi", snapshot(asset("dashboard", deps=["revenue"], group="bi"))
    )
    stub = server.control_plane()
    reply = stub.GetAssetLineage(
        cp.GetAssetLineageRequest(key=key("dashboard"), upstream_depth=2), metadata=md(etl)
    )
    assert [(a.key.path[0], a.code_location) for a in reply.assets] == [
        ("orders", "etl"),
        ("revenue", "etl"),
        ("dashboard", "bi"),
    ]
    error = rpc_error(lambda: launch(server, etl, "revenue", "dashboard"))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "bi, etl" in error.details()


def test_materializations_are_listed_newest_first_by_page(
    server: ApiServer, etl: DeploymentScope
) -> None:
    run_ids = []
    for _ in range(3):
        run = launch(server, etl, "orders")
        server.report(
            etl,
            run.run_id,
            event(
                1, E.RUN_EVENT_TYPE_ASSET_MATERIALIZATION, materialization=materialized("orders")
            ),
        )
        run_ids.append(run.run_id)
    stub = server.control_plane()
    first = stub.ListMaterializations(
        cp.ListMaterializationsRequest(key=key("orders"), limit=2), metadata=md(etl)
    )
    rest = stub.ListMaterializations(
        cp.ListMaterializationsRequest(key=key("orders"), limit=2, cursor=first.next_cursor),
        metadata=md(etl),
    )
    assert [m.run_id for m in first.materializations] == run_ids[:0:-1]
    assert [m.run_id for m in rest.materializations] == run_ids[:1]
    assert rest.next_cursor == ""
    of_run = stub.ListMaterializations(
        cp.ListMaterializationsRequest(key=key("orders"), run_id=run_ids[1]), metadata=md(etl)
    )
    assert [m.run_id for m in of_run.materializations] == [run_ids[1]]


# --- launching ------------------------------------------------------------------------


def test_launch_run_queues_a_run_with_its_tags_and_config(
    server: ApiServer, etl: DeploymentScope
) -> None:
    config = struct_pb2.Struct()
    config.update({"ops": {"orders": {"config": {"limit": 10}}}})
    run = launch(server, etl, "revenue", "orders", tags={"team": "sales"}, run_config=config)
    assert run.status == runs_pb2.RUN_STATUS_QUEUED
    assert uuid.UUID(run.run_id)
    assert run.code_location == "etl"
    assert [k.path[0] for k in run.asset_keys] == ["orders", "revenue"]
    assert run.tags["team"] == "sales"
    fetched = server.control_plane().GetRun(cp.GetRunRequest(run_id=run.run_id), metadata=md(etl))
    assert fetched.run.run_config["ops"]["orders"]["config"]["limit"] == 10


def test_launch_run_of_a_job(server: ApiServer, etl: DeploymentScope) -> None:
    stub = server.control_plane()
    run = stub.LaunchRun(cp.LaunchRunRequest(job_name="sales_job"), metadata=md(etl)).run
    assert run.job_name == "sales_job"
    assert sorted(k.path[0] for k in run.asset_keys) == ["orders", "revenue"]
    listed = stub.ListRuns(cp.ListRunsRequest(job_name="sales_job"), metadata=md(etl)).runs
    assert [r.run_id for r in listed] == [run.run_id]
    error = rpc_error(
        lambda: stub.LaunchRun(cp.LaunchRunRequest(job_name="nope"), metadata=md(etl))
    )
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "sales_job" in error.details()


@pytest.mark.parametrize(
    ("names", "fields", "needle"),
    [
        (["orders", "nope"], {}, "'nope'"),
        (["raw"], {}, "external"),
        ([], {}, "selection"),
        (["daily"], {}, "partitionKey"),
        (["daily"], {"partition_key": "2023-12-31"}, "'2023-12-31' is not a partition"),
        (["orders"], {"partition_key": "2024-01-01"}, "none of the selected assets"),
    ],
)
def test_launch_run_rejects_what_it_cannot_run_naming_it(
    server: ApiServer, etl: DeploymentScope, names: list[str], fields: dict[str, Any], needle: str
) -> None:
    error = rpc_error(lambda: launch(server, etl, *names, **fields))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert needle in error.details()


def test_launch_run_of_a_partition(server: ApiServer, etl: DeploymentScope) -> None:
    run = launch(server, etl, "daily", partition_key="2024-01-02")
    assert run.partition_key == "2024-01-02"


# --- runs -----------------------------------------------------------------------------


def test_get_run_of_an_unknown_id_is_not_found(server: ApiServer, etl: DeploymentScope) -> None:
    stub = server.control_plane()
    error = rpc_error(lambda: stub.GetRun(cp.GetRunRequest(run_id="nope"), metadata=md(etl)))
    assert error.code() == grpc.StatusCode.NOT_FOUND
    assert "'nope'" in error.details()
    error = rpc_error(lambda: stub.GetRun(cp.GetRunRequest(), metadata=md(etl)))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_list_runs_filters_and_pages_newest_first(server: ApiServer, etl: DeploymentScope) -> None:
    runs = [launch(server, etl, "orders", tags={"n": str(i)}) for i in range(5)]
    started = runs[1]
    server.report(etl, started.run_id, event(1, E.RUN_EVENT_TYPE_RUN_STARTED))
    stub = server.control_plane()
    seen: list[str] = []
    cursor = ""
    while True:
        page = stub.ListRuns(cp.ListRunsRequest(limit=2, cursor=cursor), metadata=md(etl))
        seen += [r.run_id for r in page.runs]
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    assert seen == [r.run_id for r in reversed(runs)]

    def ids(**filters: Any) -> list[str]:
        return [
            r.run_id for r in stub.ListRuns(cp.ListRunsRequest(**filters), metadata=md(etl)).runs
        ]

    assert ids(statuses=[runs_pb2.RUN_STATUS_STARTED]) == [started.run_id]
    assert ids(tags={"n": "3"}) == [runs[3].run_id]
    assert ids(asset_key=key("revenue")) == []
    assert len(ids(asset_key=key("orders"))) == 5
    error = rpc_error(lambda: stub.ListRuns(cp.ListRunsRequest(cursor="x"), metadata=md(etl)))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_cancel_run_cancels_a_queued_run_at_once_and_is_a_no_op_after(
    server: ApiServer, etl: DeploymentScope
) -> None:
    run = launch(server, etl, "orders")
    stub = server.control_plane()
    canceled = stub.CancelRun(cp.CancelRunRequest(run_id=run.run_id), metadata=md(etl)).run
    assert canceled.status == runs_pb2.RUN_STATUS_CANCELED
    again = stub.CancelRun(cp.CancelRunRequest(run_id=run.run_id), metadata=md(etl)).run
    assert again.status == runs_pb2.RUN_STATUS_CANCELED
    error = rpc_error(lambda: stub.CancelRun(cp.CancelRunRequest(run_id="nope"), metadata=md(etl)))
    assert error.code() == grpc.StatusCode.NOT_FOUND


def test_run_events_page_by_cursor_and_failures_carry_their_error(
    server: ApiServer, etl: DeploymentScope
) -> None:
    run = launch(server, etl, "orders")
    failure = E.StepFailure(
        error=common_pb2.Error(message="division by zero", class_name="ZeroDivisionError")
    )
    server.report(
        etl,
        run.run_id,
        event(1, E.RUN_EVENT_TYPE_RUN_STARTED),
        event(2, E.RUN_EVENT_TYPE_STEP_START, step="orders"),
        event(3, E.RUN_EVENT_TYPE_STEP_FAILURE, step="orders", step_failure=failure),
        event(
            4,
            E.RUN_EVENT_TYPE_RUN_FAILURE,
            run_failure=E.RunFailure(reason=E.RUN_FAILURE_REASON_STEP_FAILURE),
            message="Step orders failed: ZeroDivisionError: division by zero",
        ),
    )
    stub = server.control_plane()
    first = stub.GetRunEvents(cp.GetRunEventsRequest(run_id=run.run_id, limit=2), metadata=md(etl))
    assert [e.sequence for e in first.events] == [1, 2]
    assert first.has_more
    rest = stub.GetRunEvents(
        cp.GetRunEventsRequest(run_id=run.run_id, cursor=first.next_cursor), metadata=md(etl)
    )
    assert [e.sequence for e in rest.events] == [3, 4]
    assert not rest.has_more
    step_failure = rest.events[0]
    assert step_failure.message == "ZeroDivisionError: division by zero"
    assert step_failure.step_failure.error.class_name == "ZeroDivisionError"
    assert all(e.event_id > 0 and e.run_id == run.run_id for e in rest.events)
    later = stub.GetRunEvents(
        cp.GetRunEventsRequest(run_id=run.run_id, cursor=rest.next_cursor), metadata=md(etl)
    )
    assert later.events == [] and later.next_cursor == rest.next_cursor
    only_failures = stub.GetRunEvents(
        cp.GetRunEventsRequest(run_id=run.run_id, event_types=[E.RUN_EVENT_TYPE_STEP_FAILURE]),
        metadata=md(etl),
    )
    assert [e.sequence for e in only_failures.events] == [3]
    ended = stub.GetRun(cp.GetRunRequest(run_id=run.run_id), metadata=md(etl)).run
    assert ended.status == runs_pb2.RUN_STATUS_FAILURE
    assert "division by zero" in ended.failure_reason
    error = rpc_error(
        lambda: stub.GetRunEvents(cp.GetRunEventsRequest(run_id="nope"), metadata=md(etl))
    )
    assert error.code() == grpc.StatusCode.NOT_FOUND


def test_watch_run_streams_events_as_they_are_reported_and_ends_with_the_run(
    server: ApiServer, etl: DeploymentScope
) -> None:
    run = launch(server, etl, "orders")
    stream = server.control_plane().WatchRun(
        cp.WatchRunRequest(run_id=run.run_id), metadata=md(etl)
    )
    first = next(stream)  # the run as it stands, before any event
    assert first.run.status == runs_pb2.RUN_STATUS_QUEUED and not first.events
    received: list[cp.WatchRunResponse] = []
    reader = threading.Thread(target=lambda: received.extend(stream))
    reader.start()
    server.report(etl, run.run_id, event(1, E.RUN_EVENT_TYPE_RUN_STARTED))
    server.report(
        etl,
        run.run_id,
        event(2, E.RUN_EVENT_TYPE_ASSET_MATERIALIZATION, materialization=materialized("orders")),
        event(3, E.RUN_EVENT_TYPE_RUN_SUCCESS),
    )
    reader.join(30)
    assert not reader.is_alive(), "WatchRun did not end after the run succeeded"
    assert [e.sequence for r in received for e in r.events] == [1, 2, 3]
    assert received[-1].run.status == runs_pb2.RUN_STATUS_SUCCESS
    # Resuming from a cursor continues after it.
    after_first = server.control_plane().GetRunEvents(
        cp.GetRunEventsRequest(run_id=run.run_id, limit=1), metadata=md(etl)
    )
    resumed = list(
        server.control_plane().WatchRun(
            cp.WatchRunRequest(run_id=run.run_id, cursor=after_first.next_cursor),
            metadata=md(etl),
        )
    )
    assert [e.sequence for r in resumed for e in r.events] == [2, 3]


# --- reporting ------------------------------------------------------------------------


def test_report_events_stores_a_retried_batch_once(server: ApiServer, etl: DeploymentScope) -> None:
    run = launch(server, etl, "orders")
    batch = [
        event(1, E.RUN_EVENT_TYPE_RUN_STARTED),
        event(2, E.RUN_EVENT_TYPE_ASSET_MATERIALIZATION, materialization=materialized("orders")),
    ]
    assert server.report(etl, run.run_id, *batch).acknowledged_sequence == 2
    assert server.report(etl, run.run_id, *batch).acknowledged_sequence == 2
    # Out of order: 4 arrives before 3; the ack waits for the gap to close.
    assert server.report(etl, run.run_id, event(4, E.RUN_EVENT_TYPE_LOG)).acknowledged_sequence == 2
    assert server.report(etl, run.run_id, event(3, E.RUN_EVENT_TYPE_LOG)).acknowledged_sequence == 4
    events = server.control_plane().GetRunEvents(
        cp.GetRunEventsRequest(run_id=run.run_id), metadata=md(etl)
    )
    assert sorted(e.sequence for e in events.events) == [1, 2, 3, 4]
    materializations = server.control_plane().ListMaterializations(
        cp.ListMaterializationsRequest(key=key("orders")), metadata=md(etl)
    )
    assert len(materializations.materializations) == 1


@pytest.mark.parametrize(
    ("events", "code", "needle"),
    [
        ([event(0, E.RUN_EVENT_TYPE_LOG)], grpc.StatusCode.INVALID_ARGUMENT, "sequence 0"),
        (
            [E.RunEvent(run_id="other", sequence=1, event_type=E.RUN_EVENT_TYPE_LOG)],
            grpc.StatusCode.INVALID_ARGUMENT,
            "'other'",
        ),
        ([event(1, E.RUN_EVENT_TYPE_UNSPECIFIED)], grpc.StatusCode.INVALID_ARGUMENT, "type"),
    ],
)
def test_report_events_rejects_a_malformed_batch(
    server: ApiServer, etl: DeploymentScope, events: list[Any], code: Any, needle: str
) -> None:
    run = launch(server, etl, "orders")
    error = rpc_error(lambda: server.report(etl, run.run_id, *events))
    assert error.code() == code
    assert needle in error.details()


def test_report_events_for_an_unknown_run_is_not_found(
    server: ApiServer, etl: DeploymentScope
) -> None:
    error = rpc_error(lambda: server.report(etl, "nope", event(1, E.RUN_EVENT_TYPE_RUN_STARTED)))
    assert error.code() == grpc.StatusCode.NOT_FOUND


def test_workers_learn_of_a_cancel_from_reports_and_heartbeats(
    server: ApiServer, etl: DeploymentScope
) -> None:
    run = launch(server, etl, "orders")
    reply = server.report(etl, run.run_id, event(1, E.RUN_EVENT_TYPE_RUN_STARTED))
    assert not reply.cancel_requested
    heartbeat = server.reporting().Heartbeat(
        reporting_pb2.HeartbeatRequest(run_id=run.run_id, last_sequence=1), metadata=md(etl)
    )
    assert heartbeat.acknowledged_sequence == 1 and not heartbeat.cancel_requested
    canceling = server.control_plane().CancelRun(
        cp.CancelRunRequest(run_id=run.run_id), metadata=md(etl)
    )
    assert canceling.run.status == runs_pb2.RUN_STATUS_CANCELING
    assert server.report(etl, run.run_id, event(2, E.RUN_EVENT_TYPE_LOG)).cancel_requested
    heartbeat = server.reporting().Heartbeat(
        reporting_pb2.HeartbeatRequest(run_id=run.run_id), metadata=md(etl)
    )
    assert heartbeat.cancel_requested and heartbeat.acknowledged_sequence == 2


# --- selections -----------------------------------------------------------------------


def test_list_assets_by_selection(server: ApiServer, etl: DeploymentScope) -> None:
    stub = server.control_plane()

    def keys(selection: str, **filters: Any) -> list[str]:
        reply = stub.ListAssets(
            cp.ListAssetsRequest(selection=selection, **filters), metadata=md(etl)
        )
        return ["/".join(a.key.path) for a in reply.assets]

    assert keys("orders+") == ["orders", "revenue"]
    # External assets (raw) are never selected, as in the SDK's selections.
    assert keys("*revenue") == ["orders", "revenue"]
    assert keys("group:sales or kind:python") == ["orders", "report", "revenue"]
    assert keys("*revenue", group="sales") == ["orders", "revenue"]


@pytest.mark.parametrize(
    ("selection", "needle"),
    [("ordres+", "'ordres'"), ("orders and", "Invalid asset selection")],
)
def test_a_bad_selection_is_an_invalid_argument_naming_the_problem(
    server: ApiServer, etl: DeploymentScope, selection: str, needle: str
) -> None:
    stub = server.control_plane()
    for call in (
        lambda: stub.ListAssets(cp.ListAssetsRequest(selection=selection), metadata=md(etl)),
        lambda: stub.LaunchRun(cp.LaunchRunRequest(selection=selection), metadata=md(etl)),
        lambda: stub.GetAssetLineage(
            cp.GetAssetLineageRequest(selection=selection), metadata=md(etl)
        ),
    ):
        error = rpc_error(call)
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert needle in error.details()


def test_launch_run_of_a_selection_skips_external_assets(
    server: ApiServer, etl: DeploymentScope
) -> None:
    run = (
        server.control_plane()
        .LaunchRun(cp.LaunchRunRequest(selection="*revenue"), metadata=md(etl))
        .run
    )
    assert run.selection == "*revenue"
    assert [k.path[0] for k in run.asset_keys] == ["orders", "revenue"]
    assert run.status == runs_pb2.RUN_STATUS_QUEUED


def test_selections_follow_dependencies_across_code_locations(
    server: ApiServer, etl: DeploymentScope
) -> None:
    add_location(
        server.storage, etl, "bi", snapshot(asset("dashboard", deps=["revenue"], group="bi"))
    )
    stub = server.control_plane()
    reply = stub.GetAssetLineage(
        cp.GetAssetLineageRequest(selection="+dashboard"), metadata=md(etl)
    )
    assert [a.key.path[0] for a in reply.assets] == ["revenue", "dashboard"]
    run = stub.LaunchRun(cp.LaunchRunRequest(selection="dashboard"), metadata=md(etl)).run
    assert run.code_location == "bi"
    error = rpc_error(
        lambda: stub.LaunchRun(cp.LaunchRunRequest(selection="+dashboard"), metadata=md(etl))
    )
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "bi, etl" in error.details()


# --- adding and removing code locations -----------------------------------------------


def test_a_code_location_added_over_the_api_is_loaded_and_reported(
    server: ApiServer, etl: DeploymentScope
) -> None:
    stub = server.control_plane()
    nothing_there = f"127.0.0.1:{free_port()}"
    created = stub.CreateCodeLocation(
        cp.CreateCodeLocationRequest(name="remote", address=nothing_there), metadata=md(etl)
    ).code_location
    assert created.name == "remote" and created.address == nothing_there
    assert created.status == cp.CODE_LOCATION_STATUS_UNREACHABLE
    assert "Connection refused" in created.error.message
    reloaded = stub.ReloadCodeLocation(
        cp.ReloadCodeLocationRequest(name="remote"), metadata=md(etl)
    ).code_location
    assert reloaded.status == cp.CODE_LOCATION_STATUS_UNREACHABLE
    for name, code in (("remote", grpc.StatusCode.ALREADY_EXISTS), ("bad name!", None)):
        error = rpc_error(
            lambda name=name: stub.CreateCodeLocation(
                cp.CreateCodeLocationRequest(name=name, address=nothing_there), metadata=md(etl)
            )
        )
        assert error.code() == (code or grpc.StatusCode.INVALID_ARGUMENT)
    error = rpc_error(
        lambda: stub.ReloadCodeLocation(cp.ReloadCodeLocationRequest(name="x"), metadata=md(etl))
    )
    assert error.code() == grpc.StatusCode.NOT_FOUND


@pytest.mark.xfail(
    strict=True, reason="needs CodeLocationRegistry.remove(scope, name) from the locations package"
)
def test_a_code_location_added_over_the_api_can_be_removed(
    server: ApiServer, etl: DeploymentScope
) -> None:
    stub = server.control_plane()
    stub.CreateCodeLocation(
        cp.CreateCodeLocationRequest(name="remote", address=f"127.0.0.1:{free_port()}"),
        metadata=md(etl),
    )
    stub.DeleteCodeLocation(cp.DeleteCodeLocationRequest(name="remote"), metadata=md(etl))
    listed = stub.ListCodeLocations(cp.ListCodeLocationsRequest(), metadata=md(etl))
    assert [location.name for location in listed.code_locations] == ["etl"]
    error = rpc_error(
        lambda: stub.DeleteCodeLocation(
            cp.DeleteCodeLocationRequest(name="remote"), metadata=md(etl)
        )
    )
    assert error.code() == grpc.StatusCode.NOT_FOUND
