"""RunReportingService's step attempts over gRPC: commit before launch, one claim per
attempt, idempotent events, heartbeat leases, cancel, and what a stale attempt is told."""

from __future__ import annotations

import time

import grpc
import pytest
from api_harness import ApiServer, event, launch, materialized, md, rpc_error
from weir_controlplane.storage import DeploymentScope
from weir_protos.v1 import control_plane_pb2 as cp
from weir_protos.v1 import events_pb2, reporting_pb2

E = events_pb2
R = reporting_pb2


def _register(server: ApiServer, scope: DeploymentScope, run_id: str, *specs: R.StepAttemptSpec):
    return server.reporting().RegisterStepAttempts(
        R.RegisterStepAttemptsRequest(run_id=run_id, attempts=list(specs)), metadata=md(scope)
    )


def _spec(run_id: str, attempt: int = 1, lease: float = 30.0, step: str = "orders"):
    return R.StepAttemptSpec(
        step_key=step, attempt=attempt, launch_key=_key(run_id, attempt), lease_seconds=lease
    )


def _key(run_id: str, attempt: int, step: str = "k") -> str:
    return f"weir-{step}{run_id[:8]}-{attempt}"


def _claim(server: ApiServer, scope: DeploymentScope, run_id: str, key: str, worker: str = "w1"):
    return server.reporting().ClaimStepAttempt(
        R.ClaimStepAttemptRequest(run_id=run_id, launch_key=key, worker_id=worker),
        metadata=md(scope),
    )


def _states(server: ApiServer, scope: DeploymentScope, run_id: str, *keys: str):
    reply = server.reporting().GetStepAttempts(
        R.GetStepAttemptsRequest(run_id=run_id, launch_keys=list(keys)), metadata=md(scope)
    )
    return {s.launch_key: s for s in reply.attempts}


def _report(server: ApiServer, scope: DeploymentScope, run_id: str, key: str, *events):
    return server.reporting().ReportStepEvents(
        R.ReportStepEventsRequest(run_id=run_id, launch_key=key, events=list(events)),
        metadata=md(scope),
    )


def test_an_attempt_is_claimed_once_and_its_retried_events_are_stored_once(
    server: ApiServer, etl: DeploymentScope
) -> None:
    run = launch(server, etl, "orders")
    _register(server, etl, run.run_id, _spec(run.run_id))
    assert _claim(server, etl, run.run_id, _key(run.run_id, 1)).claimed
    duplicate = _claim(server, etl, run.run_id, _key(run.run_id, 1), worker="w2")
    assert not duplicate.claimed
    assert duplicate.refusal == R.CLAIM_REFUSAL_ALREADY_CLAIMED and "w1" in duplicate.message

    batch = [
        event(1, E.RUN_EVENT_TYPE_STEP_START, step="orders"),
        event(2, E.RUN_EVENT_TYPE_ASSET_MATERIALIZATION, materialization=materialized("orders")),
        event(3, E.RUN_EVENT_TYPE_STEP_SUCCESS, step="orders"),
    ]
    assert (
        _report(server, etl, run.run_id, _key(run.run_id, 1), *batch[:2]).acknowledged_sequence == 2
    )
    assert _report(server, etl, run.run_id, _key(run.run_id, 1), *batch).acknowledged_sequence == 3
    state = _states(server, etl, run.run_id, _key(run.run_id, 1))[_key(run.run_id, 1)]
    assert state.status == R.STEP_ATTEMPT_STATUS_SUCCESS
    assert list(state.produced) == ["orders"] and state.worker_id == "w1"
    events = server.control_plane().GetRunEvents(
        cp.GetRunEventsRequest(run_id=run.run_id), metadata=md(etl)
    )
    steps = [e.event_type for e in events.events if e.step_key == "orders"]
    assert steps.count(E.RUN_EVENT_TYPE_STEP_START) == 1
    assert steps.count(E.RUN_EVENT_TYPE_STEP_SUCCESS) == 1
    # Done: it cannot be claimed again, nor report more.
    assert (
        _claim(server, etl, run.run_id, _key(run.run_id, 1)).refusal
        == R.CLAIM_REFUSAL_ATTEMPT_ENDED
    )
    stale = rpc_error(lambda: _report(server, etl, run.run_id, _key(run.run_id, 1), event(4, 30)))
    assert stale.code() == grpc.StatusCode.FAILED_PRECONDITION


def test_a_silent_worker_loses_its_attempt_and_a_new_attempt_supersedes_it(
    server: ApiServer, etl: DeploymentScope
) -> None:
    run = launch(server, etl, "orders")
    _register(server, etl, run.run_id, _spec(run.run_id, 1, lease=0.3))
    assert _claim(server, etl, run.run_id, _key(run.run_id, 1)).claimed
    time.sleep(0.5)
    state = _states(server, etl, run.run_id, _key(run.run_id, 1))[_key(run.run_id, 1)]
    assert state.status == R.STEP_ATTEMPT_STATUS_LOST
    assert "sent no heartbeat for 0.3 s" in state.reason
    lost = rpc_error(
        lambda: server.reporting().StepHeartbeat(
            R.StepHeartbeatRequest(run_id=run.run_id, launch_key=_key(run.run_id, 1)),
            metadata=md(etl),
        )
    )
    assert lost.code() == grpc.StatusCode.FAILED_PRECONDITION and "LOST" in lost.details()

    # Attempt 2 is committed while attempt 3 is queued: the older queued one is superseded.
    _register(server, etl, run.run_id, _spec(run.run_id, 2))
    _register(server, etl, run.run_id, _spec(run.run_id, 3))
    refused = _claim(server, etl, run.run_id, _key(run.run_id, 2))
    assert not refused.claimed and refused.refusal == R.CLAIM_REFUSAL_SUPERSEDED
    assert _claim(server, etl, run.run_id, _key(run.run_id, 3)).claimed


def test_a_canceled_run_refuses_queued_attempts_and_tells_running_ones_to_stop(
    server: ApiServer, etl: DeploymentScope
) -> None:
    run = launch(server, etl, "orders", "revenue")
    _register(server, etl, run.run_id, _spec(run.run_id))
    assert _claim(server, etl, run.run_id, _key(run.run_id, 1)).claimed
    server.control_plane().CancelRun(cp.CancelRunRequest(run_id=run.run_id), metadata=md(etl))
    beat = server.reporting().StepHeartbeat(
        R.StepHeartbeatRequest(run_id=run.run_id, launch_key=_key(run.run_id, 1)), metadata=md(etl)
    )
    assert beat.stop_requested
    _register(server, etl, run.run_id, R.StepAttemptSpec(
        step_key="revenue", attempt=1, launch_key=_key(run.run_id, 1, "c"), lease_seconds=30
    ))  # fmt: skip
    customers = _key(run.run_id, 1, "c")
    refused = _claim(server, etl, run.run_id, customers)
    assert not refused.claimed and refused.refusal == R.CLAIM_REFUSAL_RUN_ENDED
    assert _states(server, etl, run.run_id, customers)[customers].status == (
        R.STEP_ATTEMPT_STATUS_CANCELED
    )


def test_an_attempt_no_worker_of_its_queue_claims_is_lost_naming_the_queue(
    server: ApiServer, etl: DeploymentScope
) -> None:
    run = launch(server, etl, "orders", "revenue")
    busy, backlog, stranded = (_key(run.run_id, 1, s) for s in ("b", "q", "s"))
    _register(server, etl, run.run_id, *(
        R.StepAttemptSpec(step_key=step, attempt=1, launch_key=key, queue=queue,
                          lease_seconds=30, queued_timeout_seconds=0.3)
        for step, key, queue in (
            ("orders", busy, "cpu"), ("revenue", backlog, "cpu"), ("customers", stranded, "gpu")
        )
    ))  # fmt: skip
    assert _claim(server, etl, run.run_id, busy).claimed  # queue cpu has a live worker
    for _ in range(3):  # past the timeout, its worker still beating
        time.sleep(0.2)
        server.reporting().StepHeartbeat(
            R.StepHeartbeatRequest(run_id=run.run_id, launch_key=busy), metadata=md(etl)
        )
    states = _states(server, etl, run.run_id, busy, backlog, stranded)
    # Waiting behind a busy worker is not timed out; waiting on a queue nobody serves is.
    assert states[backlog].status == R.STEP_ATTEMPT_STATUS_QUEUED
    assert states[stranded].status == R.STEP_ATTEMPT_STATUS_LOST
    assert states[stranded].reason == (
        "no worker served queue 'gpu': step customers (attempt 1) waited 0.3 s unclaimed"
    )
    assert states[stranded].worker_id == ""
    late = _claim(server, etl, run.run_id, stranded)  # a worker for gpu comes up too late
    assert not late.claimed and late.refusal == R.CLAIM_REFUSAL_ATTEMPT_ENDED
    # Once the cpu worker goes quiet too, its backlog is timed out as well.
    time.sleep(0.4)
    states = _states(server, etl, run.run_id, backlog)
    assert (
        states[backlog].status == R.STEP_ATTEMPT_STATUS_LOST and "'cpu'" in states[backlog].reason
    )


@pytest.mark.parametrize(
    ("spec", "needle"),
    [
        (R.StepAttemptSpec(attempt=1, launch_key="k", lease_seconds=1), "stepKey is required"),
        (R.StepAttemptSpec(step_key="a", launch_key="k", lease_seconds=1), "start at 1"),
        (R.StepAttemptSpec(step_key="a", attempt=1, lease_seconds=1), "launchKey must be"),
        (R.StepAttemptSpec(step_key="a", attempt=1, launch_key="k"), "leaseSeconds"),
        (
            R.StepAttemptSpec(
                step_key="a",
                attempt=1,
                launch_key="k",
                lease_seconds=1,
                queued_timeout_seconds=-1,
            ),
            "queuedTimeoutSeconds must be 0 (no limit)",
        ),
    ],
)
def test_a_malformed_attempt_is_refused_with_what_to_fix(
    server: ApiServer, etl: DeploymentScope, spec: R.StepAttemptSpec, needle: str
) -> None:
    run = launch(server, etl, "orders")
    error = rpc_error(lambda: _register(server, etl, run.run_id, spec))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and needle in error.details()
    unknown = rpc_error(lambda: _claim(server, etl, run.run_id, "weir-none-1"))
    assert unknown.code() == grpc.StatusCode.NOT_FOUND
