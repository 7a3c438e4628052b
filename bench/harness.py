"""The measuring process: runs one workload on one implementation and prints one JSON line.

    .venv/bin/python -m bench.harness --workload definitions --impl weir --params '{"assets": 1000}'

The runner starts one of these per measurement, under `.venv` for Weir and `.venv-dagster`
for Dagster, so neither implementation's imports or caches leak into the other's figures.
It runs the workload once untimed at WARMUP_PARAMS (so one-off lazy imports are not
counted), then REPEAT timed runs, and prints: workload, implementation, version,
parameters, every run's seconds, median, min, max, peak RSS. Standard library only.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import datetime
import gc
import importlib
import importlib.metadata
import json
import os
import platform
import resource
import statistics
import sys
import tempfile
import time
import traceback
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

from bench.spec import IMPLEMENTATIONS, Workload, WorkloadError, load

MODULE_NAMES = {"weir": "weir", "dagster": "dagster"}


class GcClock:
    """Time spent in cyclic garbage collection while a timed block runs.

    cProfile charges a collection to whichever function happened to allocate, so a graph
    of many objects looks slow in unrelated places; this says how much was really the GC.
    """

    def __init__(self) -> None:
        self.active = False
        self.seconds = 0.0
        self.full_collections = 0
        self._started: float | None = None

    def __call__(self, phase: str, info: Mapping[str, int]) -> None:
        if not self.active:
            return
        if phase == "start":
            self._started = time.perf_counter()
        elif self._started is not None:
            self.seconds += time.perf_counter() - self._started
            self.full_collections += info["generation"] == 2
            self._started = None


GC_CLOCK = GcClock()
gc.callbacks.append(GC_CLOCK)


class BenchContext:
    """What a workload's `run(bench)` receives: the implementation and a stopwatch.

    >>> def run(bench):
    ...     dg = bench.dg
    ...     with bench.timed():
    ...         dg.Definitions(assets=[])
    """

    def __init__(
        self,
        implementation: str,
        params: Mapping[str, Any],
        *,
        profiler: cProfile.Profile | None = None,
        profile_path: str | None = None,
    ):
        self.implementation = implementation
        self.module_name = MODULE_NAMES[implementation]
        self.params = dict(params)
        self.profile_path = profile_path
        self.seconds: list[float] = []
        self.gc_seconds = 0.0
        self.full_collections = 0
        self.phases: dict[str, float] = {}
        self.notes: dict[str, Any] = {}
        self._profiler = profiler

    @property
    def dg(self) -> ModuleType:
        """`import weir as dg` or `import dagster as dg`, whichever is under test."""
        return importlib.import_module(self.module_name)

    @contextlib.contextmanager
    def timed(self, phase: str | None = None) -> Iterator[None]:
        """Time the block; profile it when asked to.

        Several blocks in one run add up. Naming each block's `phase` also reports their
        medians apart (say, decoration and Definitions construction).
        """
        if self._profiler is not None:
            self._profiler.enable()
        gc_before, full_before = GC_CLOCK.seconds, GC_CLOCK.full_collections
        GC_CLOCK.active = True
        start = time.perf_counter()
        try:
            yield
        finally:
            elapsed = time.perf_counter() - start
            GC_CLOCK.active = False
            if self._profiler is not None:
                self._profiler.disable()
        self.seconds.append(elapsed)
        if phase is not None:
            self.phases[phase] = self.phases.get(phase, 0.0) + elapsed
        self.gc_seconds += GC_CLOCK.seconds - gc_before
        self.full_collections += GC_CLOCK.full_collections - full_before

    def record(self, seconds: float) -> None:
        """Add a time measured elsewhere (for example inside a child interpreter)."""
        self.seconds.append(seconds)

    def note(self, key: str, value: Any) -> None:
        """A fact worth showing beside the figure (say, which heavy modules an import loads)."""
        self.notes[key] = value

    @contextlib.contextmanager
    def temp_dir(self) -> Iterator[Path]:
        with tempfile.TemporaryDirectory(prefix=f"weir-bench-{self.implementation}-") as path:
            yield Path(path)


class Unavailable(Exception):
    """The implementation lacks a public name the workload uses."""


def _run_once(workload: Workload, ctx: BenchContext) -> float:
    try:
        workload.run(ctx)
    except AttributeError as exc:
        # `dg.materialize` missing from the implementation: report it, don't crash the table.
        if isinstance(exc.obj, ModuleType) and exc.obj.__name__ == ctx.module_name:
            raise Unavailable(f"{ctx.module_name} has no {exc.name}") from exc
        raise
    if not ctx.seconds:
        raise WorkloadError(f"Workload {workload.name!r} timed nothing: use bench.timed()")
    return sum(ctx.seconds)


def peak_rss_mb() -> float:
    """Peak resident memory of this process or any child it waited for (Linux: KiB)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    scale = 1024 * 1024 if sys.platform == "darwin" else 1024
    return round(max(own, children) / scale, 1)


def measure(
    workload: Workload,
    implementation: str,
    params: Mapping[str, Any],
    *,
    repeat: int | None = None,
    profile_path: str | None = None,
) -> dict[str, Any]:
    """Run the workload and describe the result as the JSON line's fields."""
    line: dict[str, Any] = {
        "workload": workload.name,
        "implementation": implementation,
        "version": importlib.metadata.version(MODULE_NAMES[implementation]),
        "python": platform.python_version(),
        "parameters": dict(params),
        "timed": workload.timed,
    }
    notes: dict[str, Any] = {}
    try:
        if workload.warmup_params is not None:
            _run_once(workload, BenchContext(implementation, workload.warmup_params))
        if profile_path is not None:
            profiler = cProfile.Profile()
            ctx = BenchContext(implementation, params, profiler=profiler, profile_path=profile_path)
            line["seconds"] = [_run_once(workload, ctx)]
            if not Path(profile_path).exists():  # the workload may have written its own
                profiler.dump_stats(profile_path)
            line["profile"] = profile_path
            return line
        runs, gc_shares, full_collections = [], [], []
        phases: dict[str, list[float]] = {}
        for _ in range(repeat or workload.repeat):
            ctx = BenchContext(implementation, params)
            runs.append(_run_once(workload, ctx))
            gc_shares.append(ctx.gc_seconds / runs[-1] if runs[-1] else 0.0)
            full_collections.append(ctx.full_collections)
            notes.update(ctx.notes)
            for phase, seconds in ctx.phases.items():
                phases.setdefault(phase, []).append(seconds)
    except Unavailable as exc:
        line["unavailable"] = str(exc)
        return line
    line.update(summarize(runs))
    if phases:
        line["phases"] = {phase: statistics.median(times) for phase, times in phases.items()}
    line["gc_share"] = statistics.median(gc_shares)
    line["gc_full_collections"] = statistics.median(full_collections)
    count = workload.unit_count(params)
    if count:
        line["unit"] = workload.unit[1] if workload.unit else None
        line["count"] = count
        line["median_ms_per_unit"] = line["median_s"] * 1000 / count
    line["peak_rss_mb"] = peak_rss_mb()
    # Other work on the machine skews the figures; the table says how busy it was.
    line["load_average"] = os.getloadavg()[0]
    line["measured_at"] = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    if notes:
        line["notes"] = notes
    return line


def summarize(runs: list[float]) -> dict[str, Any]:
    return {
        "runs": len(runs),
        "seconds": runs,
        "median_s": statistics.median(runs),
        "min_s": min(runs),
        "max_s": max(runs),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--workload", required=True)
    parser.add_argument("--impl", required=True, choices=IMPLEMENTATIONS)
    parser.add_argument("--params", required=True, help="JSON object")
    parser.add_argument("--repeat", type=int, help="timed runs (default: the workload's)")
    parser.add_argument("--profile", metavar="PATH", help="one cProfile'd run, stats to PATH")
    args = parser.parse_args(argv)
    # As bench/run.py does: the processes a workload starts read (and write) cached
    # bytecode, as a user's install does, also when the harness is run by hand.
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    workload = load(args.workload)
    try:
        line = measure(
            workload,
            args.impl,
            json.loads(args.params),
            repeat=args.repeat,
            profile_path=args.profile,
        )
    except Exception as exc:
        traceback.print_exc()
        line = {
            "workload": workload.name,
            "implementation": args.impl,
            "parameters": json.loads(args.params),
            "error": f"{type(exc).__name__}: {exc}",
        }
        print(json.dumps(line), flush=True)
        return 1
    print(json.dumps(line), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
