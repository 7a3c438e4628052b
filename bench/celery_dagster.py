"""dagster-celery's side of bench/celery_steps.py: the same 200 trivial steps through
`dagster_celery.celery_executor` on the same Redis, two `dagster-celery worker start`
workers with one pool process each.

    .venv-dagster-celery/bin/python bench/celery_dagster.py --steps 200 --repeat 3

Runs in its own virtualenv (.venv-dagster-celery: `pip install dagster-celery[redis]==0.29.27`,
which brings dagster 1.13.27; .venv-dagster's 1.13.28 has no dagster-celery release).
A DAGSTER_HOME with SQLite storage in a temporary folder; the result backend is the
broker's Redis (dagster-celery waits on task results). Timed: `execute_job` of the job,
start to end, after one untimed warm-up run. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

JOB_FILE = """
import os
import dagster as dg
from dagster_celery import celery_executor

STEPS = int(os.environ["BENCH_STEPS"])

def _op(index):
    @dg.op(name=f"s_{index}", tags={"dagster-celery/queue": os.environ["BENCH_QUEUE"]})
    def step():
        return index
    return step

OPS = [_op(i) for i in range(STEPS)]

@dg.job(executor_def=celery_executor)
def steps():
    for op in OPS:
        op()
"""


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    redis = os.environ.get("WEIR_BENCH_REDIS_URL") or os.environ.get(
        "WEIR_TEST_REDIS_URL", "redis://127.0.0.1:6379/14"
    )
    with tempfile.TemporaryDirectory(prefix="dagster-celery-bench-") as tmp:
        home = Path(tmp)
        (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
        (home / "bench_job.py").write_text(JOB_FILE)
        queue = f"dagster-bench-{uuid.uuid4().hex[:8]}"
        config = {"broker": redis, "backend": redis}
        (home / "celery.yaml").write_text(
            f"execution:\n  config:\n    broker: '{redis}'\n    backend: '{redis}'\n"
        )
        env = {
            **os.environ,
            "DAGSTER_HOME": str(home),
            "BENCH_STEPS": str(args.steps),
            "BENCH_QUEUE": queue,
            "PYTHONPATH": str(home),
            # dagster-celery starts the `celery` command found on PATH.
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        }
        os.environ.update(env)
        worker_bin = Path(sys.executable).parent / "dagster-celery"
        workers = [
            subprocess.Popen(
                [
                    str(worker_bin),
                    "worker",
                    "start",
                    "-A",
                    "dagster_celery.app",
                    "-y",
                    str(home / "celery.yaml"),
                    "-q",
                    queue,
                    "-n",
                    f"w{i}-{queue}@%h",
                    "-l",
                    "WARNING",
                    "--",
                    "-c",
                    "1",
                ],
                env=env,
                cwd=home,
                stdout=subprocess.DEVNULL,
                stderr=open(home / f"worker{i}.log", "w"),  # noqa: SIM115
                start_new_session=True,
            )
            for i in range(2)
        ]
        try:
            times = _measure(home, args.steps, args.repeat, config, queue)
        finally:
            for worker in workers:
                os.killpg(worker.pid, 15)
                worker.wait(30)
    print(json.dumps({"impl": "dagster-celery", "steps": args.steps, "runs": times,
                      "median": statistics.median(times)}))  # fmt: skip
    return 0


def _measure(home: Path, steps: int, repeat: int, config: dict, queue: str) -> list[float]:
    import dagster as dg

    sys.path.insert(0, str(home))
    import bench_job  # type: ignore[import-not-found]

    instance = dg.DagsterInstance.get()
    run_config = {"execution": {"config": dict(config)}}
    times = []
    time.sleep(5)  # the workers' start: dagster-celery prints no readiness line to wait on
    for index in range(repeat + 1):
        started = time.perf_counter()
        result = dg.execute_job(
            dg.reconstructable(bench_job.steps), instance=instance, run_config=run_config
        )
        elapsed = time.perf_counter() - started
        if not result.success:
            raise RuntimeError("the dagster-celery run failed")
        if index:  # the first is the warm-up
            times.append(elapsed)
        print(f"dagster-celery {elapsed:.2f}", file=sys.stderr, flush=True)
    return times


if __name__ == "__main__":
    sys.exit(main())
