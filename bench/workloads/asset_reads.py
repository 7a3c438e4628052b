"""Asset reads of a large deployment over the API: every asset listed over HTTP/JSON (full
and HEALTH views) and GetAssetLineage of the whole graph (full and HEALTH views) and of
one sink's ancestors.

The deployment is bench/asset_reads.py's (a layered location, every asset materialized
and checked, the API on real ports in this process). Each timed run first records one
materialization, so the read is "cold": no built reply can be reused and the cost is
storage reads, message building and conversion. The same read repeated at once ("warm",
a kept reply) is in the notes. Kept figures with profiles: RESULTS.md, "asset-reads".
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
import time

from bench.spec import Target

TITLE = "asset reads over the API"
TIMED = "one read after a recorded state change (cold); the repeat (warm) in the notes"
IMPLEMENTATIONS = ("weir",)
NO_EQUIVALENT = "Dagster has no paged asset API to compare"
READS = ("list", "list_health", "lineage_all", "lineage_all_health", "lineage_upstream")
PARAMS = [{"read": read, "assets": 10_000} for read in READS]
QUICK_PARAMS = [{"read": read, "assets": 1_000} for read in READS]
WARMUP_PARAMS = None
REPEAT = 3
ORDER = 63
_TARGETS = {
    "list": 0.2,
    "list_health": 0.2,
    "lineage_all": 0.05,
    "lineage_all_health": 0.05,
    "lineage_upstream": 0.05,
}

_reads = None


def target(params):
    # Issue 16's targets are for 10,000 assets; the quick sizes only watch for regressions.
    full = params["assets"] >= 10_000
    return Target(max_seconds=_TARGETS[params["read"]] if full else None, min_speedup=None)


def run(bench):
    from bench.asset_reads import Reads, count, read_calls

    global _reads
    if _reads is None:
        from weir_controlplane.storage import Storage

        directory = tempfile.mkdtemp(prefix="weir-bench-reads-")  # the process's database
        atexit.register(shutil.rmtree, directory, ignore_errors=True)
        _reads = Reads(Storage.open(f"sqlite:///{directory}/bench.db"), bench.params["assets"])
    call = read_calls(_reads)[bench.params["read"]]
    _reads.change()
    with bench.timed():
        result = call()
    started = time.perf_counter()
    call()
    bench.note("warm_ms", round((time.perf_counter() - started) * 1000, 1))
    bench.note("assets", count(result))
