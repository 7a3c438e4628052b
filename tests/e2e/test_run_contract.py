"""End to end: what protos/README.md promises about runs, kept by the control plane: the
lifecycle events it writes, a refused run, a cancel that says why, and the reconciliation
of runs with their code location after a restart."""

from __future__ import annotations

import os
import signal
import time

from conftest import LOCATIONS, free_port


def pipeline_location() -> dict[str, str]:
    return {"name": "pipeline", "python_file": str(LOCATIONS / "pipeline.py")}


def run_level(events: list[dict]) -> list[str]:
    return [
        e["eventType"].removeprefix("RUN_EVENT_TYPE_")
        for e in events
        if e["eventType"].startswith("RUN_EVENT_TYPE_RUN_")
    ]


def test_a_run_carries_the_control_planes_lifecycle_events(start_control_plane):
    api = start_control_plane([pipeline_location()]).api
    run_id = api.launch("raw")
    assert api.wait_status(run_id, "SUCCESS", "FAILURE")["status"] == "RUN_STATUS_SUCCESS"
    events = api.events(run_id)
    assert run_level(events) == ["RUN_ENQUEUED", "RUN_STARTING", "RUN_STARTED", "RUN_SUCCESS"]
    # Written by the control plane, outside the worker's numbering.
    assert [e.get("sequence", "0") for e in events[:2]] == ["0", "0"]


def test_a_run_the_location_refuses_fails_to_start_with_the_locations_message(
    start_control_plane,
):
    api = start_control_plane([pipeline_location()]).api
    run_id = api.launch("raw", runConfig={"bogus": {}})  # valid JSON the location rejects
    run = api.wait_status(run_id, "SUCCESS", "FAILURE")
    assert run["status"] == "RUN_STATUS_FAILURE"
    assert "Unknown run_config sections ['bogus']" in run["failureReason"]
    assert "unavailable" not in run["failureReason"]
    failure = [e for e in api.events(run_id) if e["eventType"] == "RUN_EVENT_TYPE_RUN_FAILURE"]
    assert failure[0]["runFailure"]["reason"] == "RUN_FAILURE_REASON_START_FAILED"
    assert "Unknown run_config sections" in failure[0]["runFailure"]["error"]["message"]


def test_a_canceled_run_says_who_canceled_it_and_why(start_control_plane, control_dir):
    (control_dir / "slow.hold").touch()
    api = start_control_plane([pipeline_location()], max_concurrent_runs=1).api
    run_id = api.launch("raw slow")
    api.wait_event(run_id, "STEP_START", "slow")
    queued = api.launch("raw")  # waits for the only slot
    canceled = api("CancelRun", runId=queued)["run"]
    assert canceled["status"] == "RUN_STATUS_CANCELED"
    assert canceled["failureReason"] == "Canceled by a CancelRun request, before it started"
    assert run_level(api.events(queued)) == ["RUN_ENQUEUED", "RUN_CANCELED"]

    api("CancelRun", runId=run_id, reason="superseded by a newer run")
    (control_dir / "slow.hold").unlink()
    run = api.wait_status(run_id, "CANCELED", "SUCCESS", "FAILURE")
    assert run["status"] == "RUN_STATUS_CANCELED"
    assert run["failureReason"] == "Canceled by a CancelRun request: superseded by a newer run"
    events = api.events(run_id)
    assert run_level(events)[-2:] == ["RUN_CANCELING", "RUN_CANCELED"]
    canceling = [e for e in events if e["eventType"] == "RUN_EVENT_TYPE_RUN_CANCELING"]
    assert canceling[0]["message"] == run["failureReason"]


def test_after_a_restart_runs_the_location_no_longer_knows_are_failed_at_once(
    start_control_plane, start_codeserver, control_dir
):
    (control_dir / "slow.hold").touch()
    port = free_port()
    server = start_codeserver(LOCATIONS / "pipeline.py", port=port)
    # A heartbeat timeout far longer than the test waits: only reconciliation can end the run.
    plane = start_control_plane(
        [{"name": "pipeline", "address": f"127.0.0.1:{port}"}],
        heartbeat_interval=0.5,
        heartbeat_timeout=120,
    )
    api = plane.api
    run_id = api.launch("raw slow")
    api.wait_event(run_id, "STEP_START", "slow")

    pid_file = control_dir / "slow.pid"  # written by the step once it runs
    deadline = time.monotonic() + 30
    while not pid_file.exists():
        assert time.monotonic() < deadline, "the slow step never wrote its pid"
        time.sleep(0.02)
    worker = int(pid_file.read_text())
    plane.stop()
    # The location and its worker (a process of its own, which would outlive the server)
    # die while the control plane is down.
    os.kill(worker, signal.SIGKILL)
    server.kill()
    start_codeserver(LOCATIONS / "pipeline.py", port=port)
    started = time.monotonic()
    plane.start()

    run = api.wait_status(run_id, "FAILURE", "SUCCESS", timeout=60)
    assert time.monotonic() - started < 30, "failed by the heartbeat timeout, not reconciled"
    assert run["status"] == "RUN_STATUS_FAILURE"
    assert "no longer knows the run" in run["failureReason"]
    failure = [e for e in api.events(run_id) if e["eventType"] == "RUN_EVENT_TYPE_RUN_FAILURE"]
    assert failure[-1]["runFailure"]["reason"] == "RUN_FAILURE_REASON_RUN_WORKER_LOST"
