"""RunReportingService over gRPC: idempotent batches, malformed batches, cancel signals."""

from __future__ import annotations

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
