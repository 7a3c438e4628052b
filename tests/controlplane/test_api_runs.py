"""Run RPCs over gRPC: launching, reading, listing, canceling, events and WatchRun."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import grpc
import pytest
from api_harness import (
    ApiServer,
    event,
    key,
    launch,
    materialized,
    md,
    rpc_error,
)
from google.protobuf import struct_pb2
from weir_controlplane.storage import DeploymentScope
from weir_protos.v1 import common_pb2, events_pb2, runs_pb2
from weir_protos.v1 import control_plane_pb2 as cp

E = events_pb2


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
    first = stub.GetRunEvents(cp.GetRunEventsRequest(run_id=run.run_id, limit=3), metadata=md(etl))
    # RUN_ENQUEUED, written by the control plane (sequence 0), then the worker's.
    assert first.events[0].event_type == E.RUN_EVENT_TYPE_RUN_ENQUEUED
    assert [e.sequence for e in first.events] == [0, 1, 2]
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
    assert first.run.status == runs_pb2.RUN_STATUS_QUEUED
    assert [e.event_type for e in first.events] == [E.RUN_EVENT_TYPE_RUN_ENQUEUED]
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
    # Resuming from a cursor continues after it (RUN_ENQUEUED, then RUN_STARTED).
    after_first = server.control_plane().GetRunEvents(
        cp.GetRunEventsRequest(run_id=run.run_id, limit=2), metadata=md(etl)
    )
    resumed = list(
        server.control_plane().WatchRun(
            cp.WatchRunRequest(run_id=run.run_id, cursor=after_first.next_cursor),
            metadata=md(etl),
        )
    )
    assert [e.sequence for r in resumed for e in r.events] == [2, 3]


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
