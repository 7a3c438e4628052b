"""End to end: backfills through a real control plane, code location and run workers,
including a control plane killed with SIGKILL mid-backfill and restarted."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Any

from conftest import BIN, LOCATIONS, ON_BOTH_DATABASES, Api

THREE = ("raw", "clean", "summary")


def location() -> dict[str, str]:
    return {"name": "backfilled", "python_file": str(LOCATIONS / "backfilled.py")}


def day(n: int) -> str:
    return f"2024-01-{n:02d}"


def made(control_dir: Path) -> Counter[tuple[str, str]]:
    log = control_dir / "made.log"
    lines = log.read_text().split("\n") if log.exists() else []
    return Counter(tuple(line.split(" ", 1)) for line in lines if line)  # type: ignore[misc]


def backfill(api: Api, backfill_id: str) -> dict[str, Any]:
    return api("GetBackfill", backfillId=backfill_id)["backfill"]


def wait_ended(api: Api, backfill_id: str, timeout: float = 240) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        reply = backfill(api, backfill_id)
        if reply["status"] in {
            "BACKFILL_STATUS_COMPLETED", "BACKFILL_STATUS_FAILED", "BACKFILL_STATUS_CANCELED"
        }:  # fmt: skip
            return reply
        time.sleep(0.2)
    raise AssertionError(f"backfill {backfill_id} did not end: {backfill(api, backfill_id)}")


def runs_of(api: Api, backfill_id: str) -> list[dict[str, Any]]:
    return api("ListRuns", tags={"weir/backfill": backfill_id}, limit=1000).get("runs", [])


@ON_BOTH_DATABASES
def test_three_daily_assets_over_30_days_materialize_every_partition_exactly_once(
    start_control_plane, control_dir
):
    plane = start_control_plane([location()], backfill_max_queued=8)
    result = subprocess.run(
        [
            str(BIN / "weir"), "backfill", "launch", "--select", "raw*",
            "--from", day(1), "--to", day(30), "--url", plane.api.base,
        ],
        capture_output=True, timeout=300, env=plane.env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    output = result.stdout.decode()  # bytes: text mode would turn each \r into a newline
    backfill_id = output.split()[2].rstrip(":")
    assert "\r[" in output and "60/60 runs" in output  # the live progress line
    assert made(control_dir) == Counter({(a, day(d)): 1 for a in THREE for d in range(1, 31)})
    reply = backfill(plane.api, backfill_id)
    assert reply["status"] == "BACKFILL_STATUS_COMPLETED"
    assert len(runs_of(plane.api, backfill_id)) == reply["runCount"] == 60

    shown = subprocess.run(
        [str(BIN / "weir"), "backfill", "show", backfill_id, "--url", plane.api.base],
        capture_output=True, text=True, timeout=60, env=plane.env,
    )  # fmt: skip
    assert "COMPLETED" in shown.stdout and "summary" in shown.stdout


def test_a_failing_partition_fails_only_its_downstream(start_control_plane, control_dir):
    (control_dir / f"raw-{day(5)}.fail").touch()
    api = start_control_plane([location()]).api
    backfill_id = api(
        "LaunchBackfill", selection="raw*", partitionRange={"start": day(1), "end": day(10)}
    )["backfillId"]
    reply = wait_ended(api, backfill_id)
    assert reply["status"] == "BACKFILL_STATUS_FAILED"
    # raw 5 failed; clean and summary of days 5 and 6 (which read raw 5) never ran.
    skipped = {(a, day(d)) for a in ("clean", "summary") for d in (5, 6)} | {("raw", day(5))}
    everything = {(a, day(d)) for a in THREE for d in range(1, 11)}
    assert made(control_dir) == Counter(dict.fromkeys(everything - skipped, 1))
    clean = next(a for a in reply["assets"] if a["key"]["path"] == ["clean"])
    assert clean["counts"]["skipped"] == "2" and clean["counts"]["materialized"] == "8"


def test_a_step_failing_in_a_single_run_range_fails_the_partitions_it_did_not_make(
    start_control_plane, control_dir
):
    (control_dir / f"rollup-{day(5)}.fail").touch()
    api = start_control_plane([location()]).api
    backfill_id = api(
        "LaunchBackfill", selection="rollup", partitionRange={"start": day(3), "end": day(8)}
    )["backfillId"]
    assert wait_ended(api, backfill_id)["status"] == "BACKFILL_STATUS_FAILED"
    (run,) = runs_of(api, backfill_id)  # one run over the range
    assert run["status"] == "RUN_STATUS_FAILURE"
    status = api("GetPartitionStatus", key={"path": ["rollup"]})
    shown = [(int(r.get("start", 0)), int(r["end"]), r["state"]) for r in status["ranges"]]
    made_days = {key for asset, key in made(control_dir) if asset == "rollup"}
    assert made_days == {day(d) for d in (3, 4, 6, 7, 8)}  # the run went on past day 5
    assert shown == [
        (0, 2, "PARTITION_STATE_MISSING"),
        (2, 4, "PARTITION_STATE_MATERIALIZED"),
        (4, 5, "PARTITION_STATE_FAILED"),  # the day whose step failed
        (5, 8, "PARTITION_STATE_MATERIALIZED"),
        (8, 30, "PARTITION_STATE_MISSING"),
    ]
    assert status["counts"]["failed"] == "1"


def kill_control_plane(plane: Any) -> None:
    assert plane.process is not None
    os.kill(plane.process.proc.pid, signal.SIGKILL)
    plane.process.proc.wait(30)
    plane.process.kill()


def test_a_control_plane_killed_mid_backfill_resumes_without_losing_or_doubling_a_run(
    start_control_plane, control_dir
):
    (control_dir / "delay").write_text("0.3")
    plane = start_control_plane([location()], backfill_max_queued=3, backfill_lease=1)
    api = plane.api
    backfill_id = api(
        "LaunchBackfill", selection="raw*", partitionRange={"start": day(1), "end": day(12)}
    )["backfillId"]
    deadline = time.monotonic() + 120
    while sum(made(control_dir).values()) < 6:
        assert time.monotonic() < deadline, "the backfill made no progress"
        time.sleep(0.1)
    kill_control_plane(plane)
    plane.start()
    reply = wait_ended(api, backfill_id)
    failed = [
        (run["runId"], run.get("failureReason"))
        for run in runs_of(api, backfill_id)
        if run["status"] != "RUN_STATUS_SUCCESS"
    ]
    assert reply["status"] == "BACKFILL_STATUS_COMPLETED", (reply, failed)
    assert made(control_dir) == Counter({(a, day(d)): 1 for a in THREE for d in range(1, 13)})
    runs = runs_of(api, backfill_id)
    assert len(runs) == reply["runCount"] == 24
    assert {run["status"] for run in runs} == {"RUN_STATUS_SUCCESS"}


def test_cancel_then_resume_finishes_the_backfill(start_control_plane, control_dir):
    (control_dir / "delay").write_text("0.3")
    api = start_control_plane([location()], backfill_max_queued=2).api
    backfill_id = api(
        "LaunchBackfill", selection="raw", partitionRange={"start": day(1), "end": day(8)}
    )["backfillId"]
    deadline = time.monotonic() + 60
    while not made(control_dir):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert api("CancelBackfill", backfillId=backfill_id)["backfill"]["status"] in {
        "BACKFILL_STATUS_CANCELING", "BACKFILL_STATUS_CANCELED"
    }  # fmt: skip
    canceled = wait_ended(api, backfill_id)
    assert canceled["status"] == "BACKFILL_STATUS_CANCELED"
    assert len(made(control_dir)) < 8  # it stopped launching
    assert api("ResumeBackfill", backfillId=backfill_id)["backfill"]["status"] == (
        "BACKFILL_STATUS_RUNNING"
    )
    assert wait_ended(api, backfill_id)["status"] == "BACKFILL_STATUS_COMPLETED"
    assert set(made(control_dir)) == {("raw", day(d)) for d in range(1, 9)}


def test_multi_partitioned_and_dynamic_partitions_added_then_backfilled(
    start_control_plane, control_dir
):
    api = start_control_plane([location()]).api
    grid = api("LaunchBackfill", selection="grid", allPartitions=True)["backfillId"]
    assert wait_ended(api, grid)["status"] == "BACKFILL_STATUS_COMPLETED"
    grid_made = {key for asset, key in made(control_dir) if asset == "grid"}
    assert grid_made == {f"{c}|{day(d)}" for c in ("blue", "red") for d in (1, 2, 3)}

    refused = api.raw("LaunchBackfill", {"selection": "file_rows", "partitionKeys": ["a.csv"]})
    assert refused.status_code == 400 and "AddDynamicPartitions" in refused.json()["message"]
    api("AddDynamicPartitions", partitionsDefName="files", partitionKeys=["a.csv", "b.csv"])
    files = api("LaunchBackfill", selection="file_rows", allPartitions=True)["backfillId"]
    assert wait_ended(api, files)["status"] == "BACKFILL_STATUS_COMPLETED"
    assert {key for asset, key in made(control_dir) if asset == "file_rows"} == {"a.csv", "b.csv"}
