"""End to end: sensors ticked by the control plane's daemon, over the wire.

Every sensor of locations/sensors.py runs by default and ticks each second, so one
control plane exercises them side by side; a restart keeps the same database.
"""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Callable
from typing import Any

import pytest
from conftest import BIN, LOCATIONS, ON_BOTH_DATABASES, Api, Process


def sensors_location() -> dict[str, str]:
    return {"name": "sensing", "python_file": str(LOCATIONS / "sensors.py")}


def ticks(api: Api, name: str) -> list[dict[str, Any]]:
    return api("ListTicks", name=name, limit=1000).get("ticks", [])


def evaluated(found: list[dict[str, Any]]) -> int:
    """How many ticks `found` stands for: an idle sensor's repeated skips are one tick."""
    return sum(int(t.get("repeatCount", 1)) for t in found)


def runs_of(api: Api, sensor: str) -> list[dict[str, Any]]:
    return api("ListRuns", tags={"weir/sensor_name": sensor}, limit=1000).get("runs", [])


def wait_until(what: str, check: Callable[[], Any], timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def wait_for_ticks(api: Api, name: str, more_than: int) -> list[dict[str, Any]]:
    return wait_until(
        f"more than {more_than} ticks of {name}",
        lambda: (found := ticks(api, name)) and evaluated(found) > more_than and found,
    )


@ON_BOTH_DATABASES
def test_run_keys_from_the_cursor_launch_once_even_after_a_restart(start_control_plane):
    plane = start_control_plane([sensors_location()])
    api = plane.api
    wait_until("the three batches", lambda: len(runs_of(api, "batches")) == 3)
    keys = sorted(run["tags"]["weir/run_key"] for run in runs_of(api, "batches"))
    assert keys == ["batch-1", "batch-2", "batch-3"]
    newest = wait_until(
        "a skipped tick",
        lambda: (found := ticks(api, "batches"))[0]["status"] == "TICK_STATUS_SKIPPED" and found,
    )
    assert newest[0]["skipReason"] == "all three batches launched"
    assert newest[0]["cursorAfter"] == "3"
    # Skipping on and on, it keeps one tick that counts the skips.
    wait_until("repeated skips", lambda: int(ticks(api, "batches")[0].get("repeatCount", 1)) > 2)
    idle = ticks(api, "batches")
    assert idle[0]["lastTickTime"] > idle[0]["tickTime"]
    assert [t["status"] for t in idle] == ["TICK_STATUS_SKIPPED", *["TICK_STATUS_SUCCESS"] * 3]
    succeeded = [t for t in newest if t["status"] == "TICK_STATUS_SUCCESS"]
    assert [t["runKeys"] for t in reversed(succeeded)] == [["batch-1"], ["batch-2"], ["batch-3"]]
    assert [t.get("cursorBefore") for t in reversed(succeeded)] == [None, "1", "2"]

    sensor = next(s for s in api("ListSensors")["sensors"] if s["name"] == "batches")
    assert sensor["status"] == "SENSOR_STATUS_RUNNING" and sensor["cursor"] == "3"

    before = evaluated(ticks(api, "batches"))
    plane.stop()
    plane.start()
    wait_for_ticks(api, "batches", before + 1)
    assert len(runs_of(api, "batches")) == 3
    # Each run carries its run key and origin, and runs.
    run = api.wait_status(runs_of(api, "batches")[0]["runId"], "SUCCESS", "FAILURE")
    assert run["status"] == "RUN_STATUS_SUCCESS"
    assert run["jobName"] == "refresh"


def test_the_same_run_key_launches_one_run_and_a_raising_sensor_records_its_error(
    start_control_plane,
):
    api = start_control_plane([sensors_location()]).api
    repeated = wait_for_ticks(api, "same_key", 3)
    assert len(runs_of(api, "same_key")) == 1
    assert all(t["runKeys"] == ["only-once"] for t in repeated)
    assert sum(len(t.get("runIds", [])) for t in repeated) == 1

    failures = wait_for_ticks(api, "raising", 1)
    assert {t["status"] for t in failures} == {"TICK_STATUS_FAILURE"}
    assert "ValueError: sensor exploded" in failures[0]["error"]["message"]
    assert runs_of(api, "raising") == []
    sensor = next(s for s in api("ListSensors")["sensors"] if s["name"] == "raising")
    assert sensor["status"] == "SENSOR_STATUS_RUNNING"  # a raising sensor keeps ticking
    assert sensor["lastTick"]["status"] == "TICK_STATUS_FAILURE"


def test_a_stopped_sensor_stays_stopped_across_a_restart(start_control_plane):
    plane = start_control_plane([sensors_location()])
    api = plane.api
    wait_for_ticks(api, "counter", 0)
    stopped = api("StopSensor", name="counter")["sensor"]
    assert stopped["status"] == "SENSOR_STATUS_STOPPED"
    settled = evaluated(ticks(api, "counter"))
    plane.stop()
    plane.start()
    # The others tick again; this one does not.
    after_restart = evaluated(ticks(api, "same_key"))
    wait_for_ticks(api, "same_key", after_restart + 2)
    assert evaluated(ticks(api, "counter")) == settled
    listed = next(s for s in api("ListSensors")["sensors"] if s["name"] == "counter")
    assert listed["status"] == "SENSOR_STATUS_STOPPED"

    restarted = api("StartSensor", name="counter")["sensor"]
    assert restarted["status"] == "SENSOR_STATUS_RUNNING"
    wait_for_ticks(api, "counter", settled)
    cursor = api("SetSensorCursor", name="counter", cursor="100")["sensor"]
    assert cursor["cursor"] == "100"
    wait_until(
        "a tick from the new cursor",
        lambda: any(t["runKeys"] == ["tick-100"] for t in ticks(api, "counter")),
    )


def test_an_asset_sensor_fires_on_a_materialization(start_control_plane):
    api = start_control_plane([sensors_location()]).api
    wait_for_ticks(api, "on_raw", 0)  # watching from here on
    assert runs_of(api, "on_raw") == []
    run_id = api.launch("raw")
    assert api.wait_status(run_id, "SUCCESS", "FAILURE")["status"] == "RUN_STATUS_SUCCESS"
    fired = wait_until("the asset sensor's run", lambda: runs_of(api, "on_raw"))
    assert len(fired) == 1
    assert [key["path"] for key in fired[0]["assetKeys"]] == [["downstream"]]
    assert fired[0]["jobName"] == "follow"
    done = api.wait_status(fired[0]["runId"], "SUCCESS", "FAILURE")
    assert done["status"] == "RUN_STATUS_SUCCESS"


def test_a_run_failure_sensor_fires_on_a_failed_run_of_its_job(start_control_plane):
    api = start_control_plane([sensors_location()]).api
    wait_for_ticks(api, "on_failure", 0)
    ignored = api.launch("raw")  # succeeds, and is not of the monitored job anyway
    assert api.wait_status(ignored, "SUCCESS", "FAILURE")["status"] == "RUN_STATUS_SUCCESS"
    failed = api("LaunchRun", jobName="breaking")["run"]["runId"]
    assert api.wait_status(failed, "SUCCESS", "FAILURE")["status"] == "RUN_STATUS_FAILURE"
    fired = wait_until("the failure sensor's run", lambda: runs_of(api, "on_failure"))
    assert [run["tags"]["failed_run"] for run in fired] == [failed]
    assert fired[0]["tags"]["weir/run_key"] == f"after-{failed}"


def test_weir_daemon_ticks_for_a_control_plane_without_daemons(start_control_plane, e2e_env):
    plane = start_control_plane([sensors_location()], daemons=False)
    daemon = Process(
        [str(BIN / "weir"), "daemon", "-w", str(plane.workspace)], e2e_env, "WEIR_DAEMON_READY"
    )
    try:
        # The daemon queues the runs; the control plane's queue launches them.
        batch = wait_until("the daemon's runs", lambda: runs_of(plane.api, "batches"))
        assert (
            plane.api.wait_status(batch[-1]["runId"], "SUCCESS")["status"] == "RUN_STATUS_SUCCESS"
        )
        wait_until("the three batches", lambda: len(runs_of(plane.api, "batches")) == 3)
    finally:
        daemon.stop()
    assert daemon.proc.returncode == 0, daemon.log()


def test_a_request_for_an_unknown_asset_or_a_slow_sensor_fails_its_tick(start_control_plane):
    api = start_control_plane([sensors_location()], evaluation_timeout=1).api
    [unknown, *_] = wait_for_ticks(api, "unknown_asset", 0)
    assert unknown["status"] == "TICK_STATUS_FAILURE"
    assert "asset(s) 'nope'" in unknown["error"]["message"]
    assert runs_of(api, "unknown_asset") == []

    api("StartSensor", name="slow")
    [late, *_] = wait_for_ticks(api, "slow", 0)
    assert late["status"] == "TICK_STATUS_FAILURE"
    assert "did not answer EvaluateSensor within 1 s" in late["error"]["message"]


def test_a_code_location_that_is_down_fails_ticks_until_it_is_back(
    start_control_plane, start_codeserver
):
    server = start_codeserver(LOCATIONS / "sensors.py")
    assert server.match is not None
    port = int(server.match.group(1))
    api = start_control_plane([{"name": "sensing", "address": f"127.0.0.1:{port}"}]).api
    wait_for_ticks(api, "same_key", 0)
    server.stop()
    down = wait_until(
        "a tick failing for the missing server",
        lambda: (t := ticks(api, "same_key")[0])["status"] == "TICK_STATUS_FAILURE" and t,
    )
    assert "is unavailable" in down["error"]["message"]
    start_codeserver(LOCATIONS / "sensors.py", port=port)
    wait_until(
        "ticks succeeding again",
        lambda: ticks(api, "same_key")[0]["status"] == "TICK_STATUS_SUCCESS",
    )
    assert len(runs_of(api, "same_key")) == 1


def test_a_sensor_adds_dynamic_partitions_and_runs_them(start_control_plane):
    api = start_control_plane([sensors_location()]).api
    runs = wait_until(
        "two region runs", lambda: len(found := runs_of(api, "new_regions")) == 2 and found
    )
    assert sorted(run["partitionKey"] for run in runs) == ["region-0", "region-1"]
    listed = api("ListDynamicPartitions", partitionsDefName="regions")["partitionKeys"]
    assert listed == ["region-0", "region-1"]
    for run in runs:
        assert api.wait_status(run["runId"], "SUCCESS", "FAILURE")["status"] == "RUN_STATUS_SUCCESS"


def test_bad_sensor_requests_are_refused_with_a_clear_error(start_control_plane):
    api = start_control_plane([sensors_location()]).api
    missing = api.raw("StartSensor", {"name": "nope"})
    assert missing.status_code == 404
    assert "no sensor named 'nope'" in missing.json()["message"]
    unnamed = api.raw("StopSensor", {})
    assert unnamed.status_code == 400 and "name is required" in unnamed.json()["message"]
    huge = api.raw("SetSensorCursor", {"name": "counter", "cursor": "x" * 70_000})
    assert huge.status_code == 400 and "at most 65536" in huge.json()["message"]


def test_the_cli_lists_sensors_and_their_ticks(start_control_plane, e2e_env):
    plane = start_control_plane([sensors_location()])
    wait_for_ticks(plane.api, "raising", 0)
    url = ["--url", plane.api.base]

    def weir(*args: str) -> str:
        done = subprocess.run(
            [str(BIN / "weir"), *args, *url], env=e2e_env, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    listing = weir("sensors", "list")
    assert "raising" in listing and "RUNNING" in listing and "FAILURE" in listing
    assert "sensor exploded" in weir("ticks", "raising")
    wait_until(
        "repeated skips", lambda: int(ticks(plane.api, "batches")[0].get("repeatCount", 1)) > 1
    )
    skipped = next(line for line in weir("ticks", "batches").splitlines() if "SKIPPED" in line)
    assert re.search(r" \.\. .*\(\d+x\)", skipped) and "all three batches launched" in skipped
    assert "STOPPED" in weir("sensors", "stop", "raising")
    assert "cursor '7'" in weir("sensors", "cursor", "counter", "7")
    assert "No schedules." in weir("schedules", "list")


@pytest.mark.postgres
@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
def test_two_control_planes_on_one_postgres_never_tick_twice(start_control_plane):
    # A short evaluation timeout keeps the leases short: the killed one may hold one.
    first = start_control_plane([sensors_location()], evaluation_timeout=2)
    second = start_control_plane([sensors_location()], evaluation_timeout=2)
    wait_until(
        "ticks evaluated by both control planes",
        lambda: len({run["tags"]["evaluated_by"] for run in runs_of(first.api, "counter")}) == 2,
    )
    assert second.process is not None
    second.process.kill()  # mid-whatever: no clean shutdown, its leases simply expire
    seen = evaluated(ticks(first.api, "counter"))
    wait_for_ticks(first.api, "counter", seen + 4)  # the survivor keeps ticking

    counted = [t for t in ticks(first.api, "counter") if t["status"] == "TICK_STATUS_SUCCESS"]
    # Each tick starts from the cursor the previous one left: none was evaluated twice.
    before = [t.get("cursorBefore") for t in counted]
    assert len(before) == len(set(before))
    assert sorted(int(c or 0) for c in before) == list(range(len(before)))
    keys = [run["tags"]["weir/run_key"] for run in runs_of(first.api, "counter")]
    assert len(keys) == len(set(keys)) == len(counted)
