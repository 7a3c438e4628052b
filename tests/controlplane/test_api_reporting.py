"""RunReportingService over gRPC: idempotent batches, malformed batches, cancel signals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest
from api_harness import (
    ApiServer,
    add_location,
    asset,
    event,
    key,
    launch,
    materialized,
    md,
    rpc_error,
    snapshot,
)
from weir_controlplane.storage import DeploymentScope
from weir_protos.v1 import control_plane_pb2 as cp
from weir_protos.v1 import events_pb2, reporting_pb2, runs_pb2

E = events_pb2


# --- reporting ------------------------------------------------------------------------


def test_report_events_stores_a_retried_batch_once(server: ApiServer, etl: DeploymentScope) -> None:
    run = launch(server, etl, "orders")
    batch = [
        event(1, E.RUN_EVENT_TYPE_RUN_STARTED),
        event(2, E.RUN_EVENT_TYPE_ASSET_MATERIALIZATION, materialization=materialized("orders")),
    ]
    assert server.report(etl, run.run_id, *batch).acknowledged_sequence == 2
    assert server.report(etl, run.run_id, *batch).acknowledged_sequence == 2
    # Out of order: 4 arrives before 3 and waits, unstored, for the worker to resend it.
    assert server.report(etl, run.run_id, event(4, E.RUN_EVENT_TYPE_LOG)).acknowledged_sequence == 2
    assert server.report(etl, run.run_id, event(3, E.RUN_EVENT_TYPE_LOG)).acknowledged_sequence == 3
    resent = server.report(etl, run.run_id, event(3, E.RUN_EVENT_TYPE_LOG), event(4, 30))
    assert resent.acknowledged_sequence == 4
    events = server.control_plane().GetRunEvents(
        cp.GetRunEventsRequest(run_id=run.run_id), metadata=md(etl)
    )
    assert sorted(e.sequence for e in events.events if e.sequence) == [1, 2, 3, 4]
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


def test_a_terminal_event_after_a_gap_does_not_end_the_run(
    server: ApiServer, etl: DeploymentScope
) -> None:
    run = launch(server, etl, "orders")
    server.report(etl, run.run_id, event(1, E.RUN_EVENT_TYPE_RUN_STARTED))
    forged = server.report(etl, run.run_id, event(10, E.RUN_EVENT_TYPE_RUN_SUCCESS))
    assert forged.acknowledged_sequence == 1
    assert _status(server, etl, run.run_id) == runs_pb2.RUN_STATUS_STARTED

    real = server.report(
        etl,
        run.run_id,
        event(2, E.RUN_EVENT_TYPE_ASSET_MATERIALIZATION, materialization=materialized("orders")),
        event(3, E.RUN_EVENT_TYPE_RUN_SUCCESS),
    )
    assert real.acknowledged_sequence == 3
    assert _status(server, etl, run.run_id) == runs_pb2.RUN_STATUS_SUCCESS
    assert _materialization_runs(server, etl, "orders") == [run.run_id]


def test_events_after_the_run_ended_are_refused_and_change_nothing(
    server: ApiServer, etl: DeploymentScope
) -> None:
    first = launch(server, etl, "orders")
    server.report(
        etl,
        first.run_id,
        event(1, E.RUN_EVENT_TYPE_RUN_STARTED),
        event(2, E.RUN_EVENT_TYPE_RUN_FAILURE, message="worker lost"),
    )
    second = launch(server, etl, "orders")
    server.report(
        etl,
        second.run_id,
        event(1, E.RUN_EVENT_TYPE_RUN_STARTED),
        event(2, E.RUN_EVENT_TYPE_ASSET_MATERIALIZATION, materialization=materialized("orders")),
    )

    late = [
        event(3, E.RUN_EVENT_TYPE_ASSET_MATERIALIZATION, materialization=materialized("orders")),
        event(4, E.RUN_EVENT_TYPE_RUN_SUCCESS),
    ]
    error = rpc_error(lambda: server.report(etl, first.run_id, *late))
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "has ended (FAILURE)" in error.details() and "2 later event(s)" in error.details()
    assert _status(server, etl, first.run_id) == runs_pb2.RUN_STATUS_FAILURE
    assert _materialization_runs(server, etl, "orders") == [second.run_id]
    # Sequence 0 is the control plane's RUN_ENQUEUED; the worker's events follow.
    assert [e.sequence for e in _events(server, etl, first.run_id)] == [0, 1, 2]
    # A retry of what was stored before the end is still acknowledged as usual.
    again = server.report(etl, first.run_id, event(2, E.RUN_EVENT_TYPE_RUN_FAILURE))
    assert again.acknowledged_sequence == 2 and again.cancel_requested


def test_an_event_in_the_same_batch_after_the_end_is_not_stored(
    server: ApiServer, etl: DeploymentScope
) -> None:
    run = launch(server, etl, "orders")
    error = rpc_error(
        lambda: server.report(
            etl,
            run.run_id,
            event(1, E.RUN_EVENT_TYPE_RUN_STARTED),
            event(2, E.RUN_EVENT_TYPE_RUN_CANCELED),
            event(
                3, E.RUN_EVENT_TYPE_ASSET_MATERIALIZATION, materialization=materialized("orders")
            ),
        )
    )
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert _status(server, etl, run.run_id) == runs_pb2.RUN_STATUS_CANCELED
    assert [e.sequence for e in _events(server, etl, run.run_id)] == [0, 1, 2]
    assert _materialization_runs(server, etl, "orders") == []


@pytest.mark.parametrize(
    "payload",
    [
        {"materialization": materialized("revenue")},
        {"materialization": materialized("nobody_defines_this")},
        {
            "check_evaluation": E.AssetCheckEvaluation(
                asset_key=key("revenue"), check_name="c", passed=True
            )
        },
    ],
)
def test_an_event_outside_the_runs_plan_is_refused_and_creates_nothing(
    server: ApiServer, etl: DeploymentScope, payload: dict[str, Any]
) -> None:
    run = launch(server, etl, "orders")
    kind = (
        E.RUN_EVENT_TYPE_ASSET_MATERIALIZATION
        if "materialization" in payload
        else E.RUN_EVENT_TYPE_ASSET_CHECK_EVALUATION
    )
    error = rpc_error(
        lambda: server.report(
            etl, run.run_id, event(1, E.RUN_EVENT_TYPE_RUN_STARTED), event(2, kind, **payload)
        )
    )
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "was not launched to materialize" in error.details()
    # Only the control plane's own RUN_ENQUEUED is stored: nothing of the refused batch.
    stored = [e.event_type for e in _events(server, etl, run.run_id)]
    assert stored == [E.RUN_EVENT_TYPE_RUN_ENQUEUED]
    listed = server.control_plane().ListAssets(cp.ListAssetsRequest(), metadata=md(etl))
    names = {"/".join(a.key.path) for a in listed.assets}
    assert "nobody_defines_this" not in names
    assert _materialization_runs(server, etl, "revenue") == []


def _events(server: ApiServer, scope: DeploymentScope, run_id: str) -> list[Any]:
    reply = server.control_plane().GetRunEvents(
        cp.GetRunEventsRequest(run_id=run_id), metadata=md(scope)
    )
    return list(reply.events)


def _materialization_runs(server: ApiServer, scope: DeploymentScope, name: str) -> list[str]:
    reply = server.control_plane().ListMaterializations(
        cp.ListMaterializationsRequest(key=key(name)), metadata=md(scope)
    )
    return [m.run_id for m in reply.materializations]


def _status(server: ApiServer, scope: DeploymentScope, run_id: str) -> Any:
    return (
        server.control_plane()
        .GetRun(cp.GetRunRequest(run_id=run_id), metadata=md(scope))
        .run.status
    )


def test_a_multi_asset_that_cannot_subset_brings_its_other_outputs_into_the_plan(
    server: ApiServer, scope: DeploymentScope
) -> None:
    # One step computes both outputs, so a run of one reports materializations of both.
    left, right = asset("left"), asset("right")
    for node in (left, right):
        node.node_name = "both"
        node.can_subset = False
    add_location(server.storage, scope, "multi", snapshot(left, right, asset("alone")))
    run = launch(server, scope, "left")
    assert sorted("/".join(k.path) for k in run.asset_keys) == ["left", "right"]
    reply = server.report(
        scope,
        run.run_id,
        event(1, E.RUN_EVENT_TYPE_RUN_STARTED),
        event(2, E.RUN_EVENT_TYPE_ASSET_MATERIALIZATION, materialization=materialized("left")),
        event(3, E.RUN_EVENT_TYPE_ASSET_MATERIALIZATION, materialization=materialized("right")),
    )
    assert reply.acknowledged_sequence == 3


# --- a late truth ---------------------------------------------------------------------


def _fail_as_lost(server: ApiServer, scope: DeploymentScope, run_id: str) -> None:
    """What the run monitor does to a run whose worker fell silent."""
    long_ago = datetime.now(UTC) - timedelta(minutes=5)
    server.storage.runs.heartbeat(scope, run_id, now=long_ago)
    server.coordinator.fail_lost_runs(scope)
    assert _status(server, scope, run_id) == runs_pb2.RUN_STATUS_FAILURE


def test_a_run_failed_as_lost_is_recovered_by_its_workers_complete_record(
    server: ApiServer, etl: DeploymentScope
) -> None:
    run = launch(server, etl, "orders")
    server.report(etl, run.run_id, event(1, E.RUN_EVENT_TYPE_RUN_STARTED))
    _fail_as_lost(server, etl, run.run_id)
    # The worker was alive all along (its replica was unreachable): it is told to go on.
    beat = server.reporting().Heartbeat(
        reporting_pb2.HeartbeatRequest(run_id=run.run_id), metadata=md(etl)
    )
    assert not beat.cancel_requested
    reply = server.report(
        etl,
        run.run_id,
        event(2, E.RUN_EVENT_TYPE_ASSET_MATERIALIZATION, materialization=materialized("orders")),
        event(3, E.RUN_EVENT_TYPE_RUN_SUCCESS),
    )
    assert reply.acknowledged_sequence == 3 and not reply.cancel_requested
    got = server.control_plane().GetRun(cp.GetRunRequest(run_id=run.run_id), metadata=md(etl)).run
    assert got.status == runs_pb2.RUN_STATUS_SUCCESS
    assert not got.failure_reason
    assert _materialization_runs(server, etl, "orders") == [run.run_id]
    events = _events(server, etl, run.run_id)
    types = [e.event_type for e in events]
    # Both ends are in the log, and the last word explains them.
    assert types[-3:] == [
        E.RUN_EVENT_TYPE_ASSET_MATERIALIZATION,
        E.RUN_EVENT_TYPE_RUN_SUCCESS,
        E.RUN_EVENT_TYPE_ENGINE,
    ]
    assert E.RUN_EVENT_TYPE_RUN_FAILURE in types
    recovered = events[-1].message
    assert recovered.startswith("Recovered: the run worker delivered its complete record")
    assert "stopped heartbeating" in recovered
    # Nothing more is taken once the run has ended for good.
    error = rpc_error(lambda: server.report(etl, run.run_id, event(4, E.RUN_EVENT_TYPE_LOG)))
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION


def test_a_run_failed_as_lost_whose_worker_then_fails_stays_failed(
    server: ApiServer, etl: DeploymentScope
) -> None:
    run = launch(server, etl, "orders")
    server.report(etl, run.run_id, event(1, E.RUN_EVENT_TYPE_RUN_STARTED))
    _fail_as_lost(server, etl, run.run_id)
    server.report(etl, run.run_id, event(2, E.RUN_EVENT_TYPE_RUN_FAILURE, message="boom"))
    assert _status(server, etl, run.run_id) == runs_pb2.RUN_STATUS_FAILURE
    late = rpc_error(lambda: server.report(etl, run.run_id, event(3, E.RUN_EVENT_TYPE_RUN_SUCCESS)))
    assert late.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert _status(server, etl, run.run_id) == runs_pb2.RUN_STATUS_FAILURE
    assert E.RUN_EVENT_TYPE_ENGINE not in [e.event_type for e in _events(server, etl, run.run_id)]
