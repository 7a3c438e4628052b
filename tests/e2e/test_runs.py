"""End to end: the control plane, a code location and its run workers, over the wire."""

from __future__ import annotations

import os
import signal
import time
from datetime import datetime
from pathlib import Path

import grpc
from conftest import LOCATIONS, ON_BOTH_DATABASES, Api
from weir_protos.v1 import code_location_pb2 as cl_pb2
from weir_protos.v1 import code_location_pb2_grpc as cl_grpc
from weir_protos.v1 import runs_pb2


def step_events(api: Api, run_id: str) -> list[tuple[str, str]]:
    return [
        (e["eventType"].removeprefix("RUN_EVENT_TYPE_"), e.get("stepKey", ""))
        for e in api.events(run_id)
    ]


def pipeline_location() -> dict[str, str]:
    return {"name": "pipeline", "python_file": str(LOCATIONS / "pipeline.py")}


@ON_BOTH_DATABASES
def test_run_succeeds_and_asset_state_is_served(start_control_plane):
    api = start_control_plane([pipeline_location()]).api
    run_id = api.launch("raw slow after_slow")
    run = api.wait_status(run_id, "SUCCESS", "FAILURE")
    assert run["status"] == "RUN_STATUS_SUCCESS", api.events(run_id)

    events = step_events(api, run_id)
    materialized = [step for kind, step in events if kind == "ASSET_MATERIALIZATION"]
    assert materialized == ["raw", "slow", "after_slow"]
    assert ("ASSET_CHECK_EVALUATION", "raw__check__raw_not_empty") in events
    sequences = [int(e.get("sequence", 0)) for e in api.events(run_id) if e.get("sequence")]
    assert sequences == list(range(1, len(sequences) + 1))

    asset = api("GetAsset", key={"path": ["after_slow"]})["asset"]
    assert asset["latestMaterialization"]["runId"] == run_id
    raw = api("GetAsset", key={"path": ["raw"]})["asset"]
    assert raw["checks"][0]["latestEvaluation"]["evaluation"]["passed"] is True


def test_failing_asset_fails_its_run_with_the_error_text(start_control_plane, control_dir):
    (control_dir / "fragile.fail").touch()
    api = start_control_plane([pipeline_location()]).api
    run_id = api.launch("fragile")
    run = api.wait_status(run_id, "SUCCESS", "FAILURE")
    assert run["status"] == "RUN_STATUS_FAILURE"
    failures = [e for e in api.events(run_id) if e["eventType"].endswith("STEP_FAILURE")]
    assert "fragile asset divided by zero" in failures[0]["stepFailure"]["error"]["message"]
    assert "fragile" in run["failureReason"]


@ON_BOTH_DATABASES
def test_cancel_mid_run_keeps_finished_steps(start_control_plane, control_dir):
    (control_dir / "slow.hold").touch()
    api = start_control_plane([pipeline_location()]).api
    run_id = api.launch("raw slow after_slow")
    api.wait_event(run_id, "STEP_START", "slow")
    api("CancelRun", runId=run_id)
    (control_dir / "slow.hold").unlink()
    run = api.wait_status(run_id, "CANCELED", "SUCCESS", "FAILURE")
    assert run["status"] == "RUN_STATUS_CANCELED"
    materialized = [s for k, s in step_events(api, run_id) if k == "ASSET_MATERIALIZATION"]
    assert "raw" in materialized and "after_slow" not in materialized
    assert api("GetAsset", key={"path": ["raw"]})["asset"]["latestMaterialization"]


@ON_BOTH_DATABASES
def test_control_plane_restart_mid_run_loses_no_event(
    start_control_plane, start_codeserver, control_dir
):
    (control_dir / "slow.hold").touch()
    server = start_codeserver(LOCATIONS / "pipeline.py")
    address = f"127.0.0.1:{server.match.group(1)}"
    plane = start_control_plane([{"name": "pipeline", "address": address}])
    run_id = plane.api.launch("raw slow after_slow")
    plane.api.wait_event(run_id, "STEP_START", "slow")

    plane.stop()  # the worker keeps running and buffers what it cannot report
    (control_dir / "slow.hold").unlink()
    # The run ends while nobody listens: its last events wait in the worker's buffer.
    with grpc.insecure_channel(address) as channel:
        stub = cl_grpc.CodeLocationServiceStub(channel)
        deadline = time.monotonic() + 30
        status = stub.GetRunStatus(cl_pb2.GetRunStatusRequest(run_id=run_id))
        while status.status != runs_pb2.RUN_STATUS_SUCCESS and time.monotonic() < deadline:
            time.sleep(0.02)
            status = stub.GetRunStatus(cl_pb2.GetRunStatusRequest(run_id=run_id))
    assert status.status == runs_pb2.RUN_STATUS_SUCCESS
    assert status.acknowledged_sequence < status.last_sequence
    plane.start()

    run = plane.api.wait_status(run_id, "SUCCESS", "FAILURE", timeout=90)
    assert run["status"] == "RUN_STATUS_SUCCESS"
    events = plane.api.events(run_id)
    sequences = [int(e["sequence"]) for e in events if e.get("sequence")]
    assert sequences == list(range(1, len(sequences) + 1))
    kinds = [(e["eventType"].removeprefix("RUN_EVENT_TYPE_"), e.get("stepKey", "")) for e in events]
    for step in ("raw", "slow", "after_slow"):
        assert ("STEP_SUCCESS", step) in kinds
    assert kinds[-1][0] == "RUN_SUCCESS"


@ON_BOTH_DATABASES
def test_killed_run_worker_fails_the_run_with_a_reason(start_control_plane, control_dir):
    (control_dir / "slow.hold").touch()
    plane = start_control_plane([pipeline_location()], heartbeat_interval=0.2, heartbeat_timeout=2)
    api = plane.api
    run_id = api.launch("raw slow")
    api.wait_event(run_id, "STEP_START", "slow")
    pid = int(_wait_for_file(control_dir / "slow.pid").read_text())
    os.kill(pid, signal.SIGKILL)
    run = api.wait_status(run_id, "FAILURE", "SUCCESS", timeout=30)
    assert run["status"] == "RUN_STATUS_FAILURE"
    # Its code server saw it die and said how; the heartbeat timeout never came into it.
    assert "The run worker was killed by signal 9 (SIGKILL)" in run["failureReason"]


def test_code_location_with_a_load_error_is_shown_as_error(start_control_plane):
    broken = {"name": "broken", "python_file": str(LOCATIONS / "broken.py")}
    api = start_control_plane([pipeline_location(), broken]).api
    locations = {loc["name"]: loc for loc in api("ListCodeLocations")["codeLocations"]}
    assert locations["pipeline"]["status"] == "CODE_LOCATION_STATUS_LOADED"
    assert locations["broken"]["status"] == "CODE_LOCATION_STATUS_ERROR"
    assert "does_not_exist" in locations["broken"]["error"]["message"]


def test_bad_requests_get_clear_errors(start_control_plane):
    api = start_control_plane([pipeline_location()]).api
    unknown = api.raw("LaunchRun", {"selection": "no_such_asset"})
    assert unknown.status_code == 400 and "no_such_asset" in unknown.json()["message"]
    missing = api.raw("GetRun", {"runId": "00000000-0000-0000-0000-000000000000"})
    assert missing.status_code == 404
    malformed = api.http.post(
        "/weir.v1.ControlPlaneService/GetRun",
        content=b"{not json",
        headers={"content-type": "application/json"},
    )
    assert malformed.status_code == 400


def _wait_for_file(path: Path, timeout: float = 30) -> Path:
    deadline = time.monotonic() + timeout
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert path.exists(), f"{path} never appeared"
    return path


def test_run_on_a_code_location_that_went_down_fails_with_the_reason(
    start_control_plane, start_codeserver
):
    server = start_codeserver(LOCATIONS / "pipeline.py")
    address = f"127.0.0.1:{server.match.group(1)}"
    api = start_control_plane([{"name": "pipeline", "address": address}]).api
    server.stop()
    run_id = api.launch("raw")
    run = api.wait_status(run_id, "FAILURE", "SUCCESS", timeout=60)
    assert run["status"] == "RUN_STATUS_FAILURE"
    assert "unavailable" in run["failureReason"] and address in run["failureReason"]
    reload = api("ReloadCodeLocation", name="pipeline")["codeLocation"]
    assert reload["status"] == "CODE_LOCATION_STATUS_UNREACHABLE"


@ON_BOTH_DATABASES
def test_queue_honours_max_concurrent_runs(start_control_plane, control_dir):
    (control_dir / "slow.hold").touch()
    api = start_control_plane([pipeline_location()], max_concurrent_runs=1).api
    first = api.launch("raw slow")
    api.wait_event(first, "STEP_START", "slow")
    second = api.launch("raw")  # wakes the queue, which finds no free slot
    assert api.run(second)["status"] == "RUN_STATUS_QUEUED"
    (control_dir / "slow.hold").unlink()
    ended = api.wait_status(first, "SUCCESS", "FAILURE")
    assert ended["status"] == "RUN_STATUS_SUCCESS"
    # The freed slot wakes the queue at once: no polling interval to wait out.
    started = api.wait_status(second, "SUCCESS", "FAILURE")
    assert started["status"] == "RUN_STATUS_SUCCESS"
    # A queue ignoring the limit would have started the one-step second run while the
    # first was held; it started only once the first had ended.
    assert _time(started["startTime"]) >= _time(ended["endTime"])


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
