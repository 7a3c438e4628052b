"""From a sensor's tick to the run it requested starting, through the running system.

`weir controlplane` (SQLite in a temporary WEIR_HOME) serves one `python_file` location
whose sensor (minimum interval 1 s) requests a run keyed by the number in a trigger file
when it grows. Each measurement writes the next number and waits for that run to start;
the figure is the run's start time minus the tick's time, both as the control plane
stored them (ListTicks, ListRuns): the sensor's evaluation, the run key check, the
queue and the launch, without the wait for the next tick.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
import time
from datetime import datetime
from pathlib import Path

from bench.spec import Target

TITLE = "sensor tick → run started"
TIMED = (
    "the tick's time to its run's start time, as stored (EvaluateSensor, run key, queue, launch)"
)
IMPLEMENTATIONS = ("weir",)
NO_EQUIVALENT = "not measured against dagster-daemon's sensor loop yet"
PARAMS = [{"assets": 1}]
QUICK_PARAMS = [{"assets": 1}]
WARMUP_PARAMS = {"assets": 1}
REPEAT = 10
ORDER = 64
RUN_TIMEOUT_S = 60
_DEFS = """from pathlib import Path

import weir as dg

TRIGGER = Path({trigger!r})


@dg.asset
def one():
    return 1


job = dg.define_asset_job("job", selection="one")


@dg.sensor(job=job, minimum_interval_seconds=1, default_status=dg.DefaultSensorStatus.RUNNING)
def trigger(context):
    wanted = int(TRIGGER.read_text() or 0) if TRIGGER.exists() else 0
    if wanted <= int(context.cursor or 0):
        return dg.SkipReason("no new trigger")
    return dg.SensorResult(run_requests=[dg.RunRequest(run_key=str(wanted))], cursor=str(wanted))


defs = dg.Definitions(assets=[one], jobs=[job], sensors=[trigger])
"""

_system = None


def target(params):
    return Target(max_seconds=0.5, min_speedup=None)


def run(bench):
    global _system
    if _system is None:
        _system = _WeirSystem()
    bench.record(_system.one_tick())


class _WeirSystem:
    def __init__(self):
        from bench.workloads._servers import start_weir_controlplane

        directory = Path(tempfile.mkdtemp(prefix="weir-bench-sensor-"))
        atexit.register(shutil.rmtree, directory, ignore_errors=True)
        self.trigger = directory / "trigger"
        defs = directory / "defs.py"
        defs.write_text(_DEFS.format(trigger=str(self.trigger)))
        self.server, self.url = start_weir_controlplane(directory, defs)
        self.count = 0

    def one_tick(self) -> float:
        from bench.workloads._servers import post_json

        self.count += 1
        key = str(self.count)
        self.trigger.write_text(key)
        deadline = time.monotonic() + RUN_TIMEOUT_S
        while time.monotonic() < deadline:
            runs = post_json(f"{self.url}/ListRuns", {"tags": {"weir/run_key": key}}).get(
                "runs", []
            )
            if runs and runs[0].get("startTime"):
                break
            time.sleep(0.01)
        else:
            raise RuntimeError(f"no run for trigger {key}; log: {self.server.log_path}")
        ticks = post_json(f"{self.url}/ListTicks", {"name": "trigger", "limit": 20})["ticks"]
        tick = next(t for t in ticks if t.get("runKeys") == [key])
        return (_moment(runs[0]["startTime"]) - _moment(tick["tickTime"])).total_seconds()


def _moment(stamp: str) -> datetime:
    """RFC 3339 from the API's JSON (up to 9 fractional digits) as a datetime."""
    head, _, tail = stamp.rstrip("Z").partition(".")
    return datetime.fromisoformat(f"{head}.{(tail or '0')[:6].ljust(6, '0')}+00:00")
