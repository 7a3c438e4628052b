"""End to end: a code location written in JavaScript (examples/node-location), started by the
control plane from weir.yaml and speaking only the wire contract in protos/."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc
import pytest
from conftest import Api, Process, wait_until
from grpc_health.v1 import health_pb2, health_pb2_grpc
from weir_protos.v1 import code_location_pb2 as cl_pb2
from weir_protos.v1 import code_location_pb2_grpc as cl_grpc
from weir_protos.v1 import common_pb2, definitions_pb2, runs_pb2

NODE_LOCATION = Path(__file__).resolve().parents[2] / "examples" / "node-location"


@pytest.fixture(scope="session")
def node_location() -> dict[str, str]:
    """The example's weir.yaml entry, once its pinned npm packages are installed."""
    npm = shutil.which("npm")
    if shutil.which("node") is None or npm is None:
        pytest.skip("node and npm are not on PATH; the Node.js code location example needs both")
    installed = NODE_LOCATION / "node_modules" / ".package-lock.json"
    lock = NODE_LOCATION / "package-lock.json"
    if not installed.exists() or installed.stat().st_mtime < lock.stat().st_mtime:
        result = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=NODE_LOCATION,
            capture_output=True,
            text=True,
            timeout=100,
        )
        assert result.returncode == 0, f"npm ci failed:\n{result.stdout}\n{result.stderr}"
    return {
        "name": "node",
        "command": '["node", "server.js"]',
        "working_directory": json.dumps(str(NODE_LOCATION)),
    }


@pytest.fixture
def node_server(node_location, e2e_env):
    """The example's server started on its own, as a location the control plane connects to
    by address (so the control plane can restart while it keeps running)."""
    env = {**e2e_env, "WEIR_CODESERVER_PORT": "0"}
    server = Process(
        ["node", str(NODE_LOCATION / "server.js")], env, r"WEIR_CODESERVER_READY\s+port=(\d+)"
    )
    yield f"127.0.0.1:{server.match.group(1)}"
    server.stop()


def worker_events(api: Api, run_id: str) -> list[dict[str, Any]]:
    """The events the run's worker reported (the control plane's own have sequence 0)."""
    return [e for e in api.events(run_id) if int(e.get("sequence", 0))]


def kinds(events: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(e["eventType"].removeprefix("RUN_EVENT_TYPE_"), e.get("stepKey", "")) for e in events]


def slow_numbers(seconds: float) -> dict[str, Any]:
    return {"ops": {"numbers": {"config": {"delay_seconds": seconds}}}}


def test_node_location_is_loaded_with_its_assets(start_control_plane, node_location):
    api = start_control_plane([node_location]).api

    (location,) = api("ListCodeLocations")["codeLocations"]
    assert location["status"] == "CODE_LOCATION_STATUS_LOADED", location
    assert location["runtime"]["language"] == "javascript"
    assert location["contentHash"].startswith("sha256:")
    listed = api("ListAssets", codeLocation="node")["assets"]
    assert sorted(a["key"]["path"][0] for a in listed) == ["forecast", "numbers", "total"]
    assert [a["key"]["path"] for a in api("ListAssets", group="arithmetic")["assets"]] == [
        ["numbers"],
        ["total"],
    ]

    total = api("GetAsset", key={"path": ["total"]})["asset"]["definition"]
    assert total["groupName"] == "arithmetic"
    assert total["owners"] == ["team:analytics"]
    assert total["deps"] == [{"assetKey": {"path": ["numbers"]}}]
    assert total["metadata"] == [
        {"label": "unit", "value": {"text": "count"}},
        {"label": "contains_pii", "value": {"bool": False}},
    ]
    assert [check["name"] for check in total["checkSpecs"]] == ["total_is_positive"]
    assert total["freshnessPolicy"] == {
        "timeWindow": {"failWindow": "86400s", "warnWindow": "43200s"}
    }
    numbers = api("GetAsset", key={"path": ["numbers"]})["asset"]["definition"]
    assert numbers["kinds"] == ["javascript", "json"]
    assert numbers["tags"] == {"tier": "bronze"}
    assert {"label": "docs", "value": {"url": "https://example.com/numbers"}} in numbers["metadata"]


def test_run_of_total_materializes_it_with_events_in_order(start_control_plane, node_location):
    api = start_control_plane([node_location]).api
    run_id = api.launch("*total")
    run = api.wait_status(run_id, "SUCCESS", "FAILURE")
    assert run["status"] == "RUN_STATUS_SUCCESS", run.get("failureReason")

    events = worker_events(api, run_id)
    assert [int(e["sequence"]) for e in events] == list(range(1, len(events) + 1))
    assert kinds(events) == [
        ("RUN_STARTED", ""),
        ("ASSET_MATERIALIZATION_PLANNED", ""),
        ("ASSET_MATERIALIZATION_PLANNED", ""),
        ("ASSET_CHECK_EVALUATION_PLANNED", ""),
        ("STEP_START", "numbers"),
        ("ASSET_MATERIALIZATION", "numbers"),
        ("STEP_SUCCESS", "numbers"),
        ("STEP_START", "total"),
        ("ASSET_MATERIALIZATION", "total"),
        ("ASSET_CHECK_EVALUATION", "total"),
        ("STEP_SUCCESS", "total"),
        ("RUN_SUCCESS", ""),
    ]
    asset = api("GetAsset", key={"path": ["total"]})["asset"]
    latest = asset["latestMaterialization"]
    assert latest["runId"] == run_id
    assert latest["materialization"]["metadata"][:2] == [
        {"label": "rows", "value": {"int": "1"}},
        {"label": "total", "value": {"int": "31"}},
    ]
    assert asset["checks"][0]["latestEvaluation"]["evaluation"]["passed"] is True
    # Its health, from the events a JavaScript worker reported; freshness once evaluated.
    assert asset["health"]["status"] == "HEALTH_HEALTHY"
    wait_until(
        "total evaluated fresh",
        lambda: (
            api("GetAssetHealth", key={"path": ["total"]})["health"]["freshnessState"]["state"]
            == "FRESHNESS_PASS"
        ),
    )

    # "total" alone reads numbers as the first run stored it, without recomputing it.
    again = api.launch("total")
    run = api.wait_status(again, "SUCCESS", "FAILURE")
    assert run["status"] == "RUN_STATUS_SUCCESS", run.get("failureReason")
    assert [step for kind, step in kinds(worker_events(api, again)) if kind == "STEP_START"] == [
        "total"
    ]
    latest = api("GetAsset", key={"path": ["total"]})["asset"]["latestMaterialization"]
    assert latest["runId"] == again


def test_failing_asset_fails_its_run_with_the_error(start_control_plane, node_location):
    api = start_control_plane([node_location]).api
    run_id = api.launch("*forecast")
    run = api.wait_status(run_id, "SUCCESS", "FAILURE")

    assert run["status"] == "RUN_STATUS_FAILURE"
    expected = "ForecastUnavailableError: the forecasting service answered 503, try again later"
    assert run["failureReason"] == f"Step forecast failed: {expected}"
    events = worker_events(api, run_id)
    (failure,) = [e for e in events if e["eventType"] == "RUN_EVENT_TYPE_STEP_FAILURE"]
    error = failure["stepFailure"]["error"]
    assert failure["stepKey"] == "forecast"
    assert error["className"] == "ForecastUnavailableError"
    assert "definitions.js" in error["stack"]
    assert events[-1]["runFailure"]["failedStepKeys"] == ["forecast"]
    # The steps before it succeeded and keep their materializations.
    total = api("GetAsset", key={"path": ["total"]})["asset"]
    assert total["latestMaterialization"]["runId"] == run_id


def test_a_slow_step_keeps_its_run_alive_by_heartbeating(start_control_plane, node_location):
    # Without heartbeats the run monitor would fail this run after one silent second.
    plane = start_control_plane([node_location], heartbeat_interval=0.2, heartbeat_timeout=1)
    api = plane.api
    run_id = api.launch("numbers", runConfig=slow_numbers(2.5))
    run = api.wait_status(run_id, "SUCCESS", "FAILURE")
    assert run["status"] == "RUN_STATUS_SUCCESS", run.get("failureReason")
    logs = [e["log"]["text"] for e in worker_events(api, run_id) if "log" in e]
    assert logs == ["waiting 2.5 s for the feed"]


def test_cancel_interrupts_the_running_step_and_skips_the_rest(start_control_plane, node_location):
    api = start_control_plane([node_location]).api
    run_id = api.launch("*total", runConfig=slow_numbers(60))
    api.wait_event(run_id, "LOG", "numbers")
    api("CancelRun", runId=run_id)

    run = api.wait_status(run_id, "CANCELED", "SUCCESS", "FAILURE")
    assert run["status"] == "RUN_STATUS_CANCELED"
    events = kinds(worker_events(api, run_id))
    assert ("STEP_SKIPPED", "total") in events
    assert events[-1] == ("RUN_CANCELED", "")
    assert not [kind for kind, _ in events if kind == "ASSET_MATERIALIZATION"]


def test_node_location_answers_the_contract_over_grpc(start_control_plane, node_location):
    api = start_control_plane([node_location]).api
    run_id = api.launch("numbers")
    assert api.wait_status(run_id, "SUCCESS", "FAILURE")["status"] == "RUN_STATUS_SUCCESS"
    (location,) = api("ListCodeLocations")["codeLocations"]

    with grpc.insecure_channel(location["address"]) as channel:
        health = health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service="weir.v1.CodeLocationService")
        )
        assert health.status == health_pb2.HealthCheckResponse.SERVING
        stub = cl_grpc.CodeLocationServiceStub(channel)

        info = stub.GetLocationInfo(cl_pb2.GetLocationInfoRequest())
        whole = stub.GetDefinitions(cl_pb2.GetDefinitionsRequest()).definitions
        streamed = definitions_pb2.DefinitionsSnapshot()
        for part in stub.StreamDefinitions(cl_pb2.StreamDefinitionsRequest()):
            streamed.MergeFrom(part.part)
        assert streamed == whole
        assert whole.content_hash == info.content_hash == location["contentHash"]
        assert [list(a.key.path) for a in whole.assets] == [["numbers"], ["total"], ["forecast"]]

        # The worker ends once the control plane has acknowledged its last event.
        status = _run_status(stub, run_id, lambda s: not s.worker_alive)
        assert status.status == runs_pb2.RUN_STATUS_SUCCESS
        assert status.acknowledged_sequence == status.last_sequence == 6

        for call, request in [
            (stub.EvaluateSensor, cl_pb2.EvaluateSensorRequest(sensor_name="nightly")),
            (stub.EvaluateSchedule, cl_pb2.EvaluateScheduleRequest(schedule_name="daily")),
            (stub.GetRunStatus, cl_pb2.GetRunStatusRequest(run_id="no-such-run")),
        ]:
            with pytest.raises(grpc.RpcError) as refused:
                call(request)
            assert refused.value.code() == grpc.StatusCode.NOT_FOUND
        unknown = cl_pb2.ExecuteRunRequest(
            run_id="r-1",
            asset_keys=[common_pb2.AssetKey(path=["nope"])],
            reporting_address="127.0.0.1:1",
        )
        with pytest.raises(grpc.RpcError) as refused:
            stub.ExecuteRun(unknown)
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "'nope'" in (refused.value.details() or "")


def test_control_plane_restart_mid_run_loses_no_event(start_control_plane, node_server):
    plane = start_control_plane([{"name": "node", "address": node_server}])
    run_id = plane.api.launch("*total", runConfig=slow_numbers(1))
    plane.api.wait_event(run_id, "LOG", "numbers")
    plane.stop()

    with grpc.insecure_channel(node_server) as channel:
        stub = cl_grpc.CodeLocationServiceStub(channel)
        # The run ends while nobody listens: its last events wait in the worker's buffer.
        buffered = _run_status(stub, run_id, lambda s: s.status == runs_pb2.RUN_STATUS_SUCCESS)
        assert buffered.worker_alive and buffered.acknowledged_sequence < buffered.last_sequence
        plane.start()
        run = plane.api.wait_status(run_id, "SUCCESS", "FAILURE", timeout=60)
        assert run["status"] == "RUN_STATUS_SUCCESS", run.get("failureReason")
        done = _run_status(stub, run_id, lambda s: not s.worker_alive)
        assert done.acknowledged_sequence == done.last_sequence

    events = worker_events(plane.api, run_id)
    assert [int(e["sequence"]) for e in events] == list(range(1, done.last_sequence + 1))
    assert kinds(events)[-1] == ("RUN_SUCCESS", "")


def _run_status(stub: Any, run_id: str, done: Callable[[Any], bool]) -> Any:
    """The location's GetRunStatus for the run once `done` holds (or after 30 seconds)."""
    deadline = time.monotonic() + 30
    while True:
        status = stub.GetRunStatus(cl_pb2.GetRunStatusRequest(run_id=run_id))
        if done(status) or time.monotonic() > deadline:
            return status
        time.sleep(0.02)
