"""What a workload file declares, and how the runner finds workload files.

A workload is one module in `bench/workloads/` (names starting with `_` are helpers). It
imports nothing but the standard library at module level: the implementation under test
reaches it as `bench.dg` inside `run(bench)`, so the runner can read every declaration
without importing Weir or Dagster. Declarations:

    TITLE = "materialize"                    # first column of the table
    TIMED = "dg.materialize(assets)"         # what the stopwatch covers
    IMPLEMENTATIONS = ("weir", "dagster")    # ("weir",) where Dagster has no equivalent
    NO_EQUIVALENT = "..."                    # optional: why Dagster has none
    PARAMS = [{"assets": 100}, ...]          # full run, one measurement per entry
    QUICK_PARAMS = [{"assets": 100}]         # `make bench QUICK=1`
    WARMUP_PARAMS = {"assets": 10}           # optional: one untimed run first (None: none)
    REPEAT = 3                               # optional: timed runs per measurement (>= 3)
    ORDER = 10                               # optional: place in the table (then file name)
    UNIT = ("assets", "asset")               # optional: report time per params["assets"]
    def target(params) -> Target            # optional: default is "10x faster than Dagster"
    def run(bench) -> None                   # the user code; times itself with bench.timed()

This module is shared by the runner and by the measuring process, which runs under
either virtual environment, so it uses only the standard library.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

IMPLEMENTATIONS = ("weir", "dagster")
MIN_REPEAT = 3
DEFAULT_SPEEDUP = 10.0
WORKLOADS_PACKAGE = "bench.workloads"


class WorkloadError(Exception):
    """A workload file is missing a declaration or declares something the runner can't use."""


@dataclass(frozen=True)
class Target:
    """What Weir must achieve on one measurement.

    `max_seconds` bounds the median; `max_ms_per_unit` bounds the median divided by the
    workload's unit count; `min_speedup` is Dagster's median over Weir's.
    """

    max_seconds: float | None = None
    max_ms_per_unit: float | None = None
    min_speedup: float | None = DEFAULT_SPEEDUP

    def describe(self, unit: str | None) -> str:
        parts = []
        if self.max_seconds is not None:
            parts.append(f"< {format_seconds(self.max_seconds)}")
        if self.max_ms_per_unit is not None:
            parts.append(f"< {self.max_ms_per_unit:g} ms/{unit or 'unit'}")
        if self.min_speedup is not None:
            parts.append(f"≥ {self.min_speedup:g}x faster")
        return ", ".join(parts) or "none"


@dataclass(frozen=True)
class Workload:
    """One workload file's declarations, read without running any of it."""

    name: str
    title: str
    timed: str
    implementations: tuple[str, ...]
    params: tuple[Mapping[str, Any], ...]
    quick_params: tuple[Mapping[str, Any], ...]
    run: Callable[[Any], None]
    warmup_params: Mapping[str, Any] | None = None
    repeat: int = MIN_REPEAT
    unit: tuple[str, str] | None = None
    no_equivalent: str = "no equivalent"
    order: int = 100
    target_for: Callable[[Mapping[str, Any]], Target] = field(default=lambda params: Target())

    def params_for(self, quick: bool) -> tuple[Mapping[str, Any], ...]:
        return self.quick_params if quick else self.params

    def unit_count(self, params: Mapping[str, Any]) -> int | None:
        return int(params[self.unit[0]]) if self.unit else None

    @classmethod
    def from_module(cls, module: ModuleType) -> Workload:
        name = module.__name__.rsplit(".", 1)[-1]

        def required(attr: str) -> Any:
            if not hasattr(module, attr):
                raise WorkloadError(f"Workload {name!r} ({module.__file__}) must define {attr}")
            return getattr(module, attr)

        implementations = tuple(required("IMPLEMENTATIONS"))
        unknown = set(implementations) - set(IMPLEMENTATIONS)
        if unknown or "weir" not in implementations:
            raise WorkloadError(
                f"Workload {name!r}: IMPLEMENTATIONS must include 'weir' and may add "
                f"'dagster'; got {implementations!r}"
            )
        repeat = int(getattr(module, "REPEAT", MIN_REPEAT))
        if repeat < MIN_REPEAT:
            raise WorkloadError(f"Workload {name!r}: REPEAT must be at least {MIN_REPEAT}")
        unit = getattr(module, "UNIT", None)
        params = _param_list(name, "PARAMS", required("PARAMS"))
        quick_params = _param_list(name, "QUICK_PARAMS", required("QUICK_PARAMS"))
        if unit is not None:
            missing = [p for p in (*params, *quick_params) if unit[0] not in p]
            if missing:
                raise WorkloadError(
                    f"Workload {name!r}: UNIT names {unit[0]!r}, absent from {missing[0]}"
                )
        return cls(
            name=name,
            title=str(getattr(module, "TITLE", name)),
            timed=str(required("TIMED")),
            implementations=implementations,
            params=params,
            quick_params=quick_params,
            run=required("run"),
            warmup_params=getattr(module, "WARMUP_PARAMS", None),
            repeat=repeat,
            unit=tuple(unit) if unit else None,
            no_equivalent=str(getattr(module, "NO_EQUIVALENT", "no equivalent")),
            order=int(getattr(module, "ORDER", 100)),
            target_for=getattr(module, "target", lambda params: Target()),
        )


def _param_list(name: str, attr: str, value: Any) -> tuple[Mapping[str, Any], ...]:
    if (
        not isinstance(value, Sequence)
        or not value
        or not all(isinstance(p, Mapping) for p in value)
    ):
        raise WorkloadError(f"Workload {name!r}: {attr} must be a non-empty list of dicts")
    return tuple(dict(p) for p in value)


def discover(package: str = WORKLOADS_PACKAGE) -> list[Workload]:
    """Every workload module in the package, ordered by ORDER then file name."""
    pkg = importlib.import_module(package)
    names = sorted(m.name for m in pkgutil.iter_modules(pkg.__path__) if not m.name.startswith("_"))
    return sorted((load(name, package) for name in names), key=lambda w: w.order)


def load(name: str, package: str = WORKLOADS_PACKAGE) -> Workload:
    try:
        module = importlib.import_module(f"{package}.{name}")
    except ModuleNotFoundError as exc:
        if exc.name == f"{package}.{name}":
            raise WorkloadError(f"No workload named {name!r} in {package}") from exc
        raise
    return Workload.from_module(module)


def params_label(params: Mapping[str, Any]) -> str:
    """`assets=1000, io=memory`: how a measurement's parameters read in the table."""
    return ", ".join(f"{k}={v}" for k, v in params.items())


def format_seconds(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 0.001:
        return f"{seconds * 1000:.1f} ms"
    return f"{seconds * 1_000_000:.0f} µs"
