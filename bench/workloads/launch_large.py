"""A run of `assets` layered assets (bench/workloads/_layered.py) launched through the
running system from a code location that holds `location` of them: what the run costs
beyond its own assets should not grow with the location.

Weir only, as in launch.py: `weir controlplane` on one `python_file` location (SQLite in
a temporary WEIR_HOME), started once per measuring process; each run is `LaunchRun` of
the first `assets` assets by key (whole layers, so every input is in the run), watched
with `WatchRun` over HTTP until its first STEP_START and its SUCCESS.
"""

from __future__ import annotations

import atexit
import shutil
import sys
import tempfile
import time
from pathlib import Path

from bench.spec import Target
from bench.workloads._layered import location_source

TITLE = "LaunchRun of layered assets, location of many"
TIMED = (
    "LaunchRun of `assets` assets by key until the client sees the first STEP_START, then "
    "RUN_SUCCESS (HTTP + WatchRun), the location holding `location` assets"
)
IMPLEMENTATIONS = ("weir",)
NO_EQUIVALENT = "Dagster starts a process per run and step; launch.py compares one asset"
PARAMS = [{"assets": 500, "location": 500}, {"assets": 500, "location": 10_000}]
QUICK_PARAMS = [{"assets": 100, "location": 5_000}]
WARMUP_PARAMS = None  # the first timed run follows an untimed one on the same server
REPEAT = 5
ORDER = 63

_BETWEEN_RUNS_S = 0.5

_systems: dict[int, object] = {}


def target(params):
    return Target(max_seconds=0.5, min_speedup=None)


def run(bench):
    from bench.workloads.launch import _WeirSystem

    size = bench.params["location"]
    request = {"assetKeys": [{"path": [name]} for name in _first_names(bench.params["assets"])]}
    system = _systems.get(size)
    if system is None:
        directory = Path(tempfile.mkdtemp(prefix="weir-bench-launch-large-"))
        atexit.register(shutil.rmtree, directory, ignore_errors=True)  # after the servers stop
        defs = directory / "defs.py"
        defs.write_text(location_source(size, bench.module_name))
        system = _systems[size] = _WeirSystem(directory, defs)
        system.launch_one(_Untimed(), request)  # the first run pays for one-off work
    time.sleep(_BETWEEN_RUNS_S)
    system.launch_one(bench, request)


def _first_names(count: int, width: int = 100) -> list[str]:
    """The first `count` assets of _layered's graph: whole layers keep every input in."""
    if count % width:
        sys.exit(f"launch_large: assets must be a multiple of {width}, got {count}")
    return [f"a_{index // width}_{index % width}" for index in range(count)]


class _Untimed:
    """Stands in for the bench context on the untimed first run."""

    def timed(self, phase=None):
        import contextlib

        return contextlib.nullcontext()
