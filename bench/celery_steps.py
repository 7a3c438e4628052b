"""200 trivial steps through the Celery executor, beside multiprocess and in process.

    .venv/bin/python bench/celery_steps.py            # print the figures
    .venv/bin/python bench/celery_steps.py --write    # and put them in RESULTS.md (kept:celery)

One `weir controlplane` (SQLite) serves bench/celery_location/defs.py: 200 independent
assets, each returning an int through a filesystem I/O manager, and one job per executor.
Celery runs on the Redis at WEIR_BENCH_REDIS_URL (else WEIR_TEST_REDIS_URL, else
redis://127.0.0.1:6379/14) with two `weir celery worker -c 1` (the machine's two cores);
the multiprocess job runs two steps at a time. Timed: LaunchRun until GetRun says
SUCCESS (polled every 10 ms), REPEAT times per executor, after one untimed warm-up run.
The overhead per step is (Celery's median - in process's median) / steps.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if __package__ in (None, ""):  # run as a script: make the `bench` package importable
    sys.path.insert(0, str(ROOT))

from bench.report import replace_kept_section  # noqa: E402
from bench.workloads._servers import ServerProcess, post_json, start_weir_controlplane  # noqa: E402

RESULTS = ROOT / "bench" / "RESULTS.md"
DEFS = ROOT / "bench" / "celery_location" / "defs.py"
JOBS = ("in_process", "multiprocess", "celery")


def _broker() -> str:
    return os.environ.get("WEIR_BENCH_REDIS_URL") or os.environ.get(
        "WEIR_TEST_REDIS_URL", "redis://127.0.0.1:6379/14"
    )


def _run(api: str, job: str, steps: int) -> float:
    started = time.perf_counter()
    run_id = post_json(f"{api}/LaunchRun", {"jobName": job})["run"]["runId"]
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        status = post_json(f"{api}/GetRun", {"runId": run_id})["run"]["status"]
        if status == "RUN_STATUS_SUCCESS":
            elapsed = time.perf_counter() - started
            _check_every_step_ran(api, run_id, steps)
            return elapsed
        if status in ("RUN_STATUS_FAILURE", "RUN_STATUS_CANCELED"):
            raise RuntimeError(f"{job} run {run_id} ended {status}")
        time.sleep(0.01)
    raise RuntimeError(f"{job} run {run_id} did not finish in 600 s")


def _check_every_step_ran(api: str, run_id: str, steps: int) -> None:
    events = post_json(f"{api}/GetRunEvents", {"runId": run_id, "limit": 10_000})["events"]
    succeeded = {e["stepKey"] for e in events if e["eventType"] == "RUN_EVENT_TYPE_STEP_SUCCESS"}
    if len(succeeded) != steps:
        raise RuntimeError(f"run {run_id}: {len(succeeded)} of {steps} steps succeeded")


def measure(steps: int, repeat: int) -> dict[str, list[float]]:
    with tempfile.TemporaryDirectory(prefix="weir-bench-celery-") as tmp:
        directory = Path(tmp)
        queue = f"weir-bench-{uuid.uuid4().hex[:8]}"
        os.environ.update(
            WEIR_BENCH_STEPS=str(steps),
            WEIR_BENCH_IO=str(directory / "io"),
            WEIR_BENCH_BROKER=_broker(),
            WEIR_BENCH_QUEUE=queue,
        )
        server, api = start_weir_controlplane(directory, DEFS)
        weir = Path(sys.executable).parent / "weir"
        workers = [
            ServerProcess(
                [
                    str(weir),
                    "celery",
                    "worker",
                    "-f",
                    str(DEFS),
                    "-c",
                    "1",
                    "-l",
                    "WARNING",
                    "-n",
                    f"bench{i}-{queue}@%h",
                ],
                log=directory / f"worker{i}.log",
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
            for i in range(2)
        ]
        try:
            for worker in workers:
                worker.wait_for("WEIR_CELERY_WORKER_READY", 60)
            times: dict[str, list[float]] = {}
            for job in JOBS:
                _run(api, job, steps)  # warm-up
                times[job] = [_run(api, job, steps) for _ in range(repeat)]
                print(job, " ".join(f"{t:.2f}" for t in times[job]), flush=True)
            return times
        finally:
            for worker in workers:
                worker.stop()
            server.stop()


def render(steps: int, times: dict[str, list[float]], dagster: dict | None = None) -> str:
    medians = {job: statistics.median(values) for job, values in times.items()}
    lines = [
        f"### Celery executor: {steps} trivial steps",
        "",
        f"Measured by `bench/celery_steps.py` on {platform.machine()} with "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, Redis broker, two "
        "`weir celery worker -c 1`; LaunchRun to SUCCESS, median of "
        f"{len(next(iter(times.values())))} runs after a warm-up.",
        "",
        "| executor | run (s), median | min | max | per step (ms) |",
        "| --- | --- | --- | --- | --- |",
    ]
    for job in JOBS:
        values = times[job]
        lines.append(
            f"| {job} | {medians[job]:.2f} | {min(values):.2f} | {max(values):.2f} | "
            f"{medians[job] / steps * 1000:.1f} |"
        )
    if dagster is not None and dagster["steps"] == steps:
        runs = dagster["runs"]
        lines.append(
            f"| dagster-celery 0.29.27 (dagster 1.13.27) | {statistics.median(runs):.2f} | "
            f"{min(runs):.2f} | {max(runs):.2f} | "
            f"{statistics.median(runs) / steps * 1000:.1f} |"
        )
    overhead = (medians["celery"] - medians["multiprocess"]) / steps * 1000
    lines += [
        "",
        f"Celery against multiprocess (both two steps at a time): {overhead:+.1f} ms per "
        "step, for committing the attempt, sending the task, the worker's claim and its "
        "event reports, and the run's poll seeing the step end; the spread between runs "
        "(min to max) is wider than that, on two cores shared with other work. In process "
        "runs one step at a time in the run's worker.",
    ]
    if dagster is not None and dagster["steps"] == steps:
        ratio = statistics.median(dagster["runs"]) / medians["celery"]
        lines += [
            "",
            f"dagster-celery on the same Redis, two `dagster-celery worker start` (-c 1), "
            f"`execute_job` start to end (`bench/celery_dagster.py`): Weir's Celery executor "
            f"is {ratio:.0f}x faster on this workload.",
        ]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--write", action="store_true", help="update RESULTS.md (kept:celery)")
    parser.add_argument(
        "--dagster-celery",
        type=Path,
        help="the JSON line bench/celery_dagster.py printed, for its row",
    )
    args = parser.parse_args()
    dagster = json.loads(args.dagster_celery.read_text()) if args.dagster_celery else None
    times = measure(args.steps, args.repeat)
    section = render(args.steps, times, dagster)
    print(section)
    if args.write:
        RESULTS.write_text(replace_kept_section(RESULTS.read_text(), "celery", section))
    return 0


if __name__ == "__main__":
    sys.exit(main())
