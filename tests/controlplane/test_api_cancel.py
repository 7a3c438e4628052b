"""CancelRun says who asked and why, in the run's failure_reason and its lifecycle events."""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from api_harness import ApiServer, add_location, etl_snapshot, event, launch, md, rpc_error, serving
from weir_controlplane.storage import DeploymentScope, Storage
from weir_protos.v1 import control_plane_pb2 as cp
from weir_protos.v1 import events_pb2, runs_pb2

E = events_pb2


@pytest.fixture(scope="module")
def server(storage: Storage) -> Any:
    with serving(storage) as api_server:
        yield api_server


@pytest.fixture
def etl(server: ApiServer, scope: DeploymentScope) -> DeploymentScope:
    add_location(server.storage, scope, "etl", etl_snapshot())
    return scope


def run_level(server: ApiServer, scope: DeploymentScope, run_id: str) -> list[tuple[int, str]]:
    reply = server.control_plane().GetRunEvents(
        cp.GetRunEventsRequest(run_id=run_id), metadata=md(scope)
    )
    return [(e.event_type, e.message) for e in reply.events if e.sequence == 0]


def cancel(server: ApiServer, scope: DeploymentScope, run_id: str, reason: str = "") -> Any:
    request = cp.CancelRunRequest(run_id=run_id, reason=reason)
    return server.control_plane().CancelRun(request, metadata=md(scope)).run


def test_a_queued_run_is_canceled_with_the_reason(server: ApiServer, etl: DeploymentScope) -> None:
    run = launch(server, etl, "orders")
    canceled = cancel(server, etl, run.run_id, reason="  launched by mistake ")
    assert canceled.status == runs_pb2.RUN_STATUS_CANCELED
    why = "Canceled by a CancelRun request: launched by mistake, before it started"
    assert canceled.failure_reason == why
    assert run_level(server, etl, run.run_id) == [
        (E.RUN_EVENT_TYPE_RUN_ENQUEUED, "Queued for code location etl"),
        (E.RUN_EVENT_TYPE_RUN_CANCELED, why),
    ]


def test_a_running_run_records_canceling_and_a_late_cancel_leaves_no_reason(
    server: ApiServer, etl: DeploymentScope
) -> None:
    run = launch(server, etl, "orders")
    server.report(etl, run.run_id, event(1, E.RUN_EVENT_TYPE_RUN_STARTED))
    canceling = cancel(server, etl, run.run_id)
    assert canceling.status == runs_pb2.RUN_STATUS_CANCELING
    assert canceling.failure_reason == "Canceled by a CancelRun request"
    assert run_level(server, etl, run.run_id)[-1] == (
        E.RUN_EVENT_TYPE_RUN_CANCELING,
        "Canceled by a CancelRun request",
    )
    # The worker finished before it saw the cancel: a success, with no failure reason.
    server.report(etl, run.run_id, event(2, E.RUN_EVENT_TYPE_RUN_SUCCESS))
    ended = server.control_plane().GetRun(cp.GetRunRequest(run_id=run.run_id), metadata=md(etl))
    assert ended.run.status == runs_pb2.RUN_STATUS_SUCCESS
    assert ended.run.failure_reason == ""


def test_an_overlong_reason_is_refused(server: ApiServer, etl: DeploymentScope) -> None:
    run = launch(server, etl, "orders")
    error = rpc_error(lambda: cancel(server, etl, run.run_id, reason="x" * 1001))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "reason is limited to 1000 characters" in (error.details() or "")
