"""A deep run queue drained under a concurrency limit, as the control plane's queue runs it.

The control plane's RunCoordinator over SQLite in a temporary directory, with a
one-asset code location loaded: RUNS runs are queued through `submit` first (untimed),
then the queue starts and launches them, never more than LIMIT in progress. The launcher
stands in for the runs' workers: each launched run reports RUN_STARTED and RUN_SUCCESS
through event ingest (two batches) from a pool of eight threads, as a zero-work worker
would, and the run's end wakes the queue. Timed: the queue's start to the last run ended.
The rate of the first and the last thousand launches shows whether a queue pass costs
more as ended runs pile up.
"""

from __future__ import annotations

import hashlib
import threading
import time

from bench.spec import Target

TITLE = "run queue drained under a concurrency limit"
TIMED = "RunCoordinator start to the last queued run ended (the launcher reports each run's end)"
IMPLEMENTATIONS = ("weir",)
NO_EQUIVALENT = "Dagster's run queue starts a process per run; compared end to end in launch"
PARAMS = [{"runs": 10_000, "limit": 50}]
QUICK_PARAMS = [{"runs": 1_000, "limit": 50}]
WARMUP_PARAMS = {"runs": 100, "limit": 50}
REPEAT = 3
UNIT = ("runs", "run")
ORDER = 62


def target(params):
    return Target(max_ms_per_unit=5.0, min_speedup=None)  # 200 runs/s


def run(bench):
    from concurrent.futures import ThreadPoolExecutor
    from datetime import UTC, datetime

    from weir_controlplane.locations import CodeLocationRegistry
    from weir_controlplane.runs import RunCoordinator, RunSettings
    from weir_controlplane.storage import NewEvent, Storage
    from weir_protos.v1 import common_pb2, definitions_pb2

    params = bench.params
    total = params["runs"]
    with bench.temp_dir() as tmp:
        storage = Storage.open(f"sqlite:///{tmp}/weir.db")
        scope = storage.deployments.get_scope("prod")
        snap = definitions_pb2.DefinitionsSnapshot(
            assets=[
                definitions_pb2.AssetNode(
                    key=common_pb2.AssetKey(path=["work"]), node_name="work", is_executable=True
                )
            ]
        )
        digest = hashlib.sha256(snap.SerializeToString(deterministic=True)).hexdigest()
        snap.content_hash = f"sha256:{digest}"
        storage.code_locations.upsert(scope, "bench", address="127.0.0.1:1")
        storage.code_locations.set_loaded(
            scope, "bench", snap.content_hash, snap.SerializeToString()
        )
        registry = CodeLocationRegistry(storage)
        launched = []  # when each run was handed to the launcher
        ended = threading.Event()
        workers = ThreadPoolExecutor(max_workers=8, thread_name_prefix="bench-worker")
        done = [0]
        lock = threading.Lock()

        class ZeroWorkLauncher:
            """Each launched run's worker: it starts and succeeds at once."""

            def launch(self, scope, run, request):
                launched.append(time.perf_counter())
                workers.submit(self._work, scope, run.run_id)

            def _work(self, scope, run_id):
                # Two batches, as a worker sends them (RUN_STARTED goes out at once), each
                # followed by what RunReportingService.ReportEvents does after storing.
                for sequence, event_type in ((1, "RUN_STARTED"), (2, "RUN_SUCCESS")):
                    event = NewEvent(
                        sequence=sequence, event_type=event_type, timestamp=datetime.now(UTC)
                    )
                    status = storage.events.store_batch(scope, run_id, [event]).status
                    coordinator.notify(run_id, ended=status is not None and status.is_terminal)
                with lock:
                    done[0] += 1
                    if done[0] == total:
                        ended.set()

            def terminate(self, scope, run):
                pass

            def worker_gone(self, scope, run):
                return None

        coordinator = RunCoordinator(
            storage,
            registry,
            RunSettings(max_concurrent_runs=params["limit"]),
            launcher=ZeroWorkLauncher(),
        )
        for _ in range(total):
            coordinator.submit(scope, location="bench", asset_keys=["work"])
        try:
            with bench.timed():
                coordinator.start()
                if not ended.wait(600):
                    raise RuntimeError(f"{done[0]} of {total} runs ended in 600 s")
        finally:
            coordinator.stop()
            workers.shutdown(wait=True)
            registry.stop()
            storage.close()
        if len(launched) != total:
            raise RuntimeError(f"{len(launched)} launches for {total} runs")
        window = min(1000, total // 2)
        first = window / (launched[window - 1] - launched[0])
        last = window / (launched[-1] - launched[-window])
        bench.note(f"launches/s, first {window}", round(first))
        bench.note(f"launches/s, last {window}", round(last))
        bench.note("launches/s overall", round(total / (launched[-1] - launched[0])))
