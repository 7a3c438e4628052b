"""Backfill 365 daily partitions x 3 assets end to end through the running system.

    .venv/bin/python bench/backfill.py            # print the figures
    .venv/bin/python bench/backfill.py --write    # and put them in RESULTS.md

Starts `weir controlplane` (SQLite under a temporary $WEIR_HOME) with the code location
bench/backfill_location/daily_three.py, launches one backfill of every partition over
HTTP and measures: LaunchBackfill's latency (planning and storing every run: runs planned
per second), how fast the backfill daemon queues the runs that wait for nothing (runs
queued per second, from the runs' creation times), and the wall time until the backfill
is COMPLETED with every run executed by real run workers.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
if __package__ in (None, ""):  # run as a script: make the `bench` package importable
    sys.path.insert(0, str(ROOT))

from bench.report import replace_kept_section, run_context_lines  # noqa: E402

RESULTS = ROOT / "bench" / "RESULTS.md"
LOCATION = ROOT / "bench" / "backfill_location" / "daily_three.py"
BIN = Path(sys.executable).parent
MAX_QUEUED = 1000  # every run that waits for nothing is queued in the daemon's first pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def call(http: httpx.Client, method: str, **body: Any) -> dict[str, Any]:
    reply = http.post(f"/weir.v1.ControlPlaneService/{method}", json=body)
    reply.raise_for_status()
    return dict(reply.json())


def moment(stamp: str) -> float:
    return datetime.datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def measure(home: Path, days: int = 365) -> dict[str, Any]:
    workspace = home / "weir.yaml"
    workspace.write_text(f"locations:\n  - name: daily\n    python_file: {LOCATION}\n")
    http_port, grpc_port = free_port(), free_port()
    env = {**os.environ, "WEIR_HOME": str(home / "data"), "PYTHONUNBUFFERED": "1"}
    plane = subprocess.Popen(
        [
            str(BIN / "weir"), "controlplane", "-w", str(workspace), "--no-auth",
            "--http-port", str(http_port), "--grpc-port", str(grpc_port),
            "--backfill-max-queued", str(MAX_QUEUED),
        ],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        assert plane.stdout is not None
        for line in plane.stdout:
            if re.search("WEIR_CONTROLPLANE_READY", line):
                break
        http = httpx.Client(base_url=f"http://127.0.0.1:{http_port}", timeout=60)
        started = time.perf_counter()
        if days >= 365:
            launched = call(http, "LaunchBackfill", selection="raw*", allPartitions=True)
        else:
            last = datetime.date(2023, 1, 1) + datetime.timedelta(days=days - 1)
            span = {"start": "2023-01-01", "end": last.isoformat()}
            launched = call(http, "LaunchBackfill", selection="raw*", partitionRange=span)
        planned_s = time.perf_counter() - started
        backfill_id = launched["backfillId"]
        while True:
            backfill = call(http, "GetBackfill", backfillId=backfill_id)["backfill"]
            if backfill["status"].endswith(("COMPLETED", "FAILED", "CANCELED")):
                break
            time.sleep(0.2)
        wall_s = time.perf_counter() - started
        runs: list[dict[str, Any]] = []
        cursor = ""
        while True:
            page = call(
                http, "ListRuns", tags={"weir/backfill": backfill_id}, limit=1000, cursor=cursor
            )
            runs += page.get("runs", [])
            cursor = page.get("nextCursor", "")
            if not cursor:
                break
        created = sorted(moment(run["createTime"]) for run in runs)
        raw_runs = sum(1 for run in runs if run["assetKeys"][0]["path"] == ["raw"])
        first_pass = created[:raw_runs]
        return {
            "created_s": created[-1] - created[0] if len(created) > 1 else 0.0,
            "status": backfill["status"].removeprefix("BACKFILL_STATUS_"),
            "runs": int(launched["runCount"]),
            "runs_seen": len(runs),
            "succeeded": int(backfill.get("runsSucceeded", 0)),
            "planned_s": planned_s,
            "queued_runs": raw_runs,
            "queued_s": first_pass[-1] - first_pass[0],
            "wall_s": wall_s,
        }
    finally:
        plane.terminate()
        plane.wait(30)


def dagster(days: int) -> dict[str, Any] | None:
    """Dagster's figures on the first `days` days (bench/backfill_dagster.py), or None
    without .venv-dagster (`make bench-setup`)."""
    python = ROOT / ".venv-dagster" / "bin" / "python"
    if not python.exists():
        return None
    script = ROOT / "bench" / "backfill_dagster.py"
    done = subprocess.run(
        [str(python), str(script), "--days", str(days)],
        capture_output=True, text=True, check=True, cwd=ROOT,
    )  # fmt: skip
    return _json_line(done.stdout)


def _json_line(output: str) -> dict[str, Any]:
    """The figures backfill_dagster.py prints: its last line that is a JSON object."""
    return dict(json.loads([line for line in output.splitlines() if line.startswith("{")][-1]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--write", action="store_true", help="put the figures in RESULTS.md")
    parser.add_argument(
        "--dagster-days", type=int, default=0,
        help="also backfill the first N days on Dagster, and on Weir for comparison",
    )  # fmt: skip
    parser.add_argument(
        "--dagster-result", type=Path,
        help="take Dagster's figures from this output of bench/backfill_dagster.py (run just "
        "before on this machine) instead of running it",
    )  # fmt: skip
    args = parser.parse_args()
    began = datetime.datetime.now(datetime.UTC)
    with tempfile.TemporaryDirectory() as home:
        figures = measure(Path(home))
    subset = theirs = None
    if args.dagster_days:
        with tempfile.TemporaryDirectory() as home:
            subset = measure(Path(home), args.dagster_days)
        theirs = (
            dagster(args.dagster_days)
            if args.dagster_result is None
            else _json_line(args.dagster_result.read_text())
        )
    ended = datetime.datetime.now(datetime.UTC)
    planned_rate = figures["runs"] / figures["planned_s"]
    queued_rate = figures["queued_runs"] / max(figures["queued_s"], 1e-6)
    rows = [
        ("runs planned (LaunchBackfill: plan + store)", figures["runs"],
         f"{figures['planned_s'] * 1000:.0f} ms", f"{planned_rate:,.0f} runs/s"),
        ("runs queued by the daemon's first pass (waiting for nothing)", figures["queued_runs"],
         f"{figures['queued_s'] * 1000:.0f} ms", f"{queued_rate:,.0f} runs/s"),
        ("end to end: launch to COMPLETED, every run executed", figures["runs_seen"],
         f"{figures['wall_s']:.1f} s", f"{figures['runs_seen'] / figures['wall_s']:.1f} runs/s"),
    ]  # fmt: skip
    stamp = "%Y-%m-%d %H:%M UTC"
    lines = [
        "## Backfill, 365 daily partitions x 3 assets (`bench/backfill.py`)",
        "",
        "Written by `bench/backfill.py --write`: `weir controlplane` on SQLite with one code "
        "location of three daily assets (the second reads the day before too), one "
        "LaunchBackfill of every partition over HTTP, runs executed by real run workers. "
        "The second and third assets share a run per day, so 730 runs cover 1,095 "
        f"partitions. Target: at least 100 runs/s planned and queued. Backfill outcome: "
        f"{figures['status']}, {figures['succeeded']} runs succeeded.",
        "",
        *run_context_lines(began.strftime(stamp), ended.strftime(stamp)),
        "",
        "| what | runs | time | rate |",
        "| --- | --- | --- | --- |",
        *(f"| {what} | {n:,} | {t} | {rate} |" for what, n, t, rate in rows),
    ]
    if subset is not None:
        lines += ["", *_side_by_side(args.dagster_days, subset, theirs)]
    section = "\n".join(lines)
    print(section)
    if args.write:
        RESULTS.write_text(replace_kept_section(RESULTS.read_text(), "backfill", section))
    return 0 if figures["status"] == "COMPLETED" else 1


def _side_by_side(days: int, ours: dict[str, Any], theirs: dict[str, Any] | None) -> list[str]:
    """Weir and Dagster on the first `days` days of the same three assets."""
    lines = [
        f"Beside Dagster 1.13.28 (`bench/backfill_dagster.py`: code server and `dagster-daemon "
        f"run` on SQLite, default instance settings, `launchPartitionBackfill` over GraphQL), "
        f"the first {days} days ({days * 3} partitions), in the same run on the same machine. "
        "A subset: Dagster starts a process per run, and at its pace here the full year "
        "(730 runs and more) would take it hours. Runs launched per second: the "
        "backfill's runs over the time from its first run's creation to its last's (runs "
        "wait for their upstream runs, so this is the pace the backfill keeps).",
        "",
        "| system | partitions | runs | launch call | runs launched per second | wall time, "
        "launch to end | runs per second end to end | outcome |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
        f"| Weir | {days * 3:,} | {ours['runs_seen']:,} | {ours['planned_s'] * 1000:.0f} ms "
        f"| {ours['runs_seen'] / max(ours['created_s'], 1e-6):,.1f} | {ours['wall_s']:.1f} s "
        f"| {ours['runs_seen'] / ours['wall_s']:.1f} | {ours['status']} |",
    ]
    if theirs is None:
        lines.append(f"| Dagster | {days * 3:,} | not run (no .venv-dagster) | | | | | |")
        return lines
    lines.append(
        f"| Dagster | {theirs['partitions']:,} | {theirs['runs']:,} "
        f"| {theirs['launch_s'] * 1000:.0f} ms "
        f"| {theirs['runs'] / max(theirs['created_s'], 1e-6):,.1f} | {theirs['wall_s']:.1f} s "
        f"| {theirs['runs'] / theirs['wall_s']:.1f} | {theirs['status']} |"
    )
    return lines


if __name__ == "__main__":
    sys.exit(main())
