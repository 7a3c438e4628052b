"""One automation tick of the control plane's daemon over layered assets that all carry
`eager()`, on SQLite in-process: the first tick after their location loads (every asset
new to the evaluator), and the second (every asset's update no longer new). The full
picture, steady ticks included, is `bench/automation.py`; this is its `make bench` row.

Each timed run starts from a fresh database in a temporary directory (set up untimed:
the snapshot stored and loaded, every asset materialized once); with `tick` "second" the
first tick runs untimed before it.
"""

from __future__ import annotations

import tempfile
import time

from bench.spec import Target

TITLE = "automation tick"
TIMED = "AutomationDaemon.tick: read state, evaluate, submit, store states and evaluations"
IMPLEMENTATIONS = ("weir",)
NO_EQUIVALENT = "not compared: Dagster's automation daemon has no in-process tick to time"
PARAMS = [{"assets": 10_000, "tick": "first"}, {"assets": 10_000, "tick": "second"}]
QUICK_PARAMS = PARAMS
WARMUP_PARAMS = {"assets": 100, "tick": "first"}
REPEAT = 3
ORDER = 75


def target(params):
    return Target(max_seconds=0.2, min_speedup=None)


def run(bench):
    from weir_controlplane.storage import Storage

    from bench.automation import prepared

    with tempfile.TemporaryDirectory() as home:
        storage = Storage.open(f"sqlite:///{home}/bench.db")
        try:
            with prepared(storage, bench.params["assets"]) as (daemon, scope, _):
                if bench.params["tick"] == "second":
                    daemon.tick(scope)
                cpu = time.process_time()
                with bench.timed():
                    report = daemon.tick(scope)
                # The process's own CPU time: less inflated than wall time on a shared machine.
                bench.note("cpu_seconds_last_run", round(time.process_time() - cpu, 4))
                assert report is not None and report.evaluated == bench.params["assets"]
        finally:
            storage.close()
