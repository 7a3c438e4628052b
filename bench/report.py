"""Turn measurements (the harness's JSON lines) into bench/RESULTS.md.

Pure functions of their inputs, so the table's logic is tested without timing anything.
"""

from __future__ import annotations

import pstats
import re
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple, TypeGuard, TypeVar

from bench.spec import Target, Workload, format_seconds, params_label

_T = TypeVar("_T")

NOT_RUN_DAGSTER = "not run (`make bench-setup` first)"
UNAVAILABLE_IN_WEIR = "not yet available in Weir"


@dataclass
class Row:
    """One line of the table: a workload at one set of parameters, on both implementations."""

    workload: Workload
    params: Mapping[str, Any]
    weir: Mapping[str, Any] | None = None
    dagster: Mapping[str, Any] | None = None
    profile: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return params_label(self.params)

    @property
    def target(self) -> Target:
        return self.workload.target_for(self.params)

    @property
    def has_dagster_equivalent(self) -> bool:
        return "dagster" in self.workload.implementations

    @property
    def speedup(self) -> float | None:
        """Dagster's median over Weir's: how many times faster Weir is."""
        if not (_measured(self.weir) and _measured(self.dagster)):
            return None
        return self.dagster["median_s"] / self.weir["median_s"]

    def missed(self) -> list[str] | None:
        """Why Weir misses its target ([] when met); None when Weir produced no figure."""
        if not _measured(self.weir):
            return None
        target, weir, reasons = self.target, self.weir, []
        speedup = self.speedup
        applicable = (
            target.max_seconds is not None
            or (target.max_ms_per_unit is not None and "median_ms_per_unit" in weir)
            or (target.min_speedup is not None and speedup is not None)
        )
        if not applicable:  # say, a Weir-only workload with no absolute target
            return None
        if target.max_seconds is not None and weir["median_s"] > target.max_seconds:
            reasons.append(
                f"median {format_seconds(weir['median_s'])} > {format_seconds(target.max_seconds)}"
            )
        per_unit = weir.get("median_ms_per_unit")
        max_per_unit = target.max_ms_per_unit
        if max_per_unit is not None and per_unit is not None and per_unit > max_per_unit:
            reasons.append(f"{per_unit:.3g} ms/{weir.get('unit')} > {max_per_unit:g} ms")
        if target.min_speedup is not None and speedup is not None and speedup < target.min_speedup:
            reasons.append(f"only {speedup:.1f}x faster than Dagster")
        return reasons


def _measured(line: Mapping[str, Any] | None) -> TypeGuard[Mapping[str, Any]]:
    return line is not None and "median_s" in line


def build_rows(
    workloads: Sequence[Workload], lines: Sequence[Mapping[str, Any]], quick: bool
) -> list[Row]:
    """Pair each Weir measurement with Dagster's at the same workload and parameters."""
    found = {
        (line["workload"], params_label(line["parameters"]), line["implementation"]): line
        for line in lines
    }
    rows = []
    for workload in workloads:
        for params in workload.params_for(quick):
            label = params_label(params)
            rows.append(
                Row(
                    workload,
                    params,
                    weir=found.get((workload.name, label, "weir")),
                    dagster=found.get((workload.name, label, "dagster")),
                )
            )
    return rows


def measurement_cell(line: Mapping[str, Any] | None, implementation: str) -> str:
    if line is None:
        return NOT_RUN_DAGSTER if implementation == "dagster" else "not run"
    if "unavailable" in line:
        return (
            UNAVAILABLE_IN_WEIR
            if implementation == "weir"
            else f"unavailable ({line['unavailable']})"
        )
    if "error" in line:
        return f"failed: {_escape(line['error'])}"
    cell = (
        f"**{format_seconds(line['median_s'])}** "
        f"({format_seconds(line['min_s'])} - {format_seconds(line['max_s'])})"
    )
    if line.get("median_ms_per_unit") is not None:
        cell += f"<br>{line['median_ms_per_unit']:.3g} ms/{line['unit']}"
    return cell


def _escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _dagster_cell(row: Row) -> str:
    if not row.has_dagster_equivalent:
        return row.workload.no_equivalent
    return measurement_cell(row.dagster, "dagster")


def _verdict(row: Row) -> str:
    missed = row.missed()
    if missed is None:
        return "-"
    return "met" if not missed else "**missed**: " + "; ".join(missed)


def results_table(rows: Sequence[Row]) -> list[str]:
    out = [
        "| workload | parameters | timed | Weir | Dagster | Weir is | target | result |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        speedup = row.speedup
        out.append(
            "| "
            + " | ".join(
                [
                    row.workload.title,
                    row.label or "-",
                    _escape(row.workload.timed),
                    measurement_cell(row.weir, "weir"),
                    _dagster_cell(row),
                    f"{speedup:.1f}x faster" if speedup is not None else "-",
                    row.target.describe(row.workload.unit[1] if row.workload.unit else None),
                    _verdict(row),
                ]
            )
            + " |"
        )
    return out


def memory_table(rows: Sequence[Row]) -> list[str]:
    def rss(line: Mapping[str, Any] | None) -> str:
        return f"{line['peak_rss_mb']:.0f} MB" if line and "peak_rss_mb" in line else "-"

    out = [
        "| workload | parameters | Weir peak RSS | Dagster peak RSS |",
        "| --- | --- | --- | --- |",
    ]
    for row in rows:
        dagster = rss(row.dagster) if row.has_dagster_equivalent else row.workload.no_equivalent
        out.append(f"| {row.workload.title} | {row.label or '-'} | {rss(row.weir)} | {dagster} |")
    return out


def notes_lines(rows: Sequence[Row]) -> list[str]:
    out = []
    for row in rows:
        for implementation, line in (("Weir", row.weir), ("Dagster", row.dagster)):
            facts = ", ".join(
                [
                    *(
                        f"{phase} {format_seconds(seconds)} (median)"
                        for phase, seconds in (line or {}).get("phases", {}).items()
                    ),
                    *(_format_note(k, v) for k, v in (line or {}).get("notes", {}).items()),
                ]
            )
            if facts:
                out.append(
                    f"- {row.workload.title} ({row.label or 'default'}), {implementation}: {facts}"
                )
    return out


def _format_note(key: str, value: Any) -> str:
    if isinstance(value, Mapping):
        inner = ", ".join(_format_note(k, v) for k, v in value.items())
        return f"{key.replace('_', ' ')}: {inner}"
    if isinstance(value, bool):
        return f"{key} {'yes' if value else 'no'}"
    return f"{key.replace('_', ' ')} {value}"


def summarize_profile(path: str, top: int = 8) -> list[str]:
    """Where a cProfile'd run spent its time: by file, by function, and Weir's heaviest calls."""
    stats = pstats.Stats(path)
    total = stats.total_tt or 1e-12  # type: ignore[attr-defined]
    entries = stats.stats  # type: ignore[attr-defined]
    by_file: dict[str, float] = defaultdict(float)
    own: list[tuple[float, str]] = []
    cumulative: list[tuple[float, str]] = []
    for (filename, lineno, funcname), (_cc, _nc, tt, ct, _callers) in entries.items():
        where = short_path(filename)
        by_file[where] += tt
        name = f"{where}:{lineno}({funcname})" if lineno else funcname
        own.append((tt, name))
        if "weir/" in where and funcname != "<module>":
            cumulative.append((ct, name))

    def shares(items: Sequence[tuple[float, str]]) -> str:
        return ", ".join(f"`{name}` {t / total:.0%}" for t, name in items[:top])

    lines = [
        f"total {format_seconds(total)} under cProfile (profiling inflates it; the shares hold)",
        "own time by file: " + shares(sorted(((t, f) for f, t in by_file.items()), reverse=True)),
        "own time by function: " + shares(sorted(own, reverse=True)),
    ]
    heavy = [(t, name) for t, name in sorted(cumulative, reverse=True) if t / total >= 0.01]
    if heavy:
        lines.append("heaviest Weir calls (cumulative): " + shares(heavy))
    return lines


def summarize_importtime(text: str, top: int = 8) -> list[str]:
    """The slowest modules in `python -X importtime` output, by self and by cumulative time."""
    modules = []
    for raw in text.splitlines():
        if not raw.startswith("import time:") or raw.count("|") != 2:
            continue
        self_us, cumulative_us, name = raw[len("import time:") :].split("|")
        if self_us.strip().isdigit():
            modules.append((int(self_us), int(cumulative_us), name.rstrip()))
    if not modules:
        return []
    total = sum(m[0] for m in modules)

    def listing(items: Sequence[tuple[int, str]]) -> str:
        return ", ".join(f"`{name}` {us / 1000:.1f} ms" for us, name in items[:top])

    # importtime nests by indenting two spaces per level after one leading space, and lists a
    # module after everything it imports: the last top-level line is the package under test,
    # and the level-1 lines just before it are what it pulls in directly.
    level_one: list[tuple[int, str]] = []
    subtree: list[tuple[int, str]] = []
    for _, cum, name in modules:
        if not name.startswith("  "):
            level_one, subtree = subtree, []
        elif not name.startswith("   " + " " * 2):
            subtree.append((cum, name.strip()))
    by_self = sorted(((own, name.strip()) for own, _, name in modules), reverse=True)
    return [
        f"{len(modules)} modules imported, {total / 1000:.1f} ms of import work (-X importtime)",
        "slowest modules (self): " + listing(by_self),
        "direct imports (cumulative): " + listing(sorted(level_one, reverse=True)),
    ]


def short_path(filename: str) -> str:
    """`weir/_graph.py` for sdk/weir/_graph.py, `pydantic/main.py` for site-packages, …"""
    if filename.startswith(("<", "~")):
        return filename.strip("~") or "<built-in>"
    for marker in ("/site-packages/", "/sdk/", "/bench/workloads/"):
        if marker in filename:
            return filename.rsplit(marker, 1)[1]
    if "/lib/python3" in filename:
        return "stdlib/" + filename.rsplit("/", 1)[1]
    return filename.rsplit("/", 1)[-1]


# A section another script writes into RESULTS.md (bench/load_suite.py, say) sits between
# these markers and survives `make bench` regenerating the rest.
_KEPT = re.compile(r"<!-- kept:(?P<name>[\w-]+) -->.*?<!-- /kept:(?P=name) -->\n", re.DOTALL)


def kept_sections(previous: str) -> str:
    """The kept sections of a previous RESULTS.md, to append to a regenerated one."""
    return "".join(match.group(0) for match in _KEPT.finditer(previous))


def run_context_lines(began: str, ended: str) -> list[str]:
    """When and where a hand-run benchmark ran, for the top of its kept section."""
    import os
    import platform

    return [
        f"- date: {began} to {ended}",
        f"- machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"{platform.platform()}",
        f"- load average (1 min) at the end: {os.getloadavg()[0]:.2f}",
    ]


def replace_kept_section(text: str, name: str, body: str) -> str:
    """`text` with its kept section `name` set to `body` (appended if it had none)."""
    section = f"<!-- kept:{name} -->\n{body.rstrip()}\n<!-- /kept:{name} -->\n"
    for match in _KEPT.finditer(text):
        if match.group("name") == name:
            return text[: match.start()] + section + text[match.end() :]
    return text.rstrip("\n") + "\n\n" + section


def render(rows: Sequence[Row], environment: Mapping[str, str], quick: bool) -> str:
    """The whole RESULTS.md."""
    lines = [
        "# Benchmark results: Weir and Dagster, side by side",
        "",
        "Generated by `make bench" + (" QUICK=1" if quick else "") + "`; do not edit by hand.",
        "",
        *(f"- {key}: {value}" for key, value in environment.items()),
        "",
        "Each cell: **median** (min - max) of the timed runs of one measurement process, run "
        "after one small untimed warm-up in that process (so one-off lazy imports are not "
        "counted). The same workload file runs with `import weir as dg` and with "
        "`import dagster as dg`; see bench/README.md.",
        "",
        *results_table(rows),
        "",
        "## Peak memory",
        "",
        "Peak resident set size of the measuring process (or its child, for import), `ru_maxrss`.",
        "",
        *memory_table(rows),
    ]
    notes = notes_lines(rows)
    if notes:
        lines += ["", "## Notes", "", *notes]
    missed = [row for row in rows if row.missed() or row.profile]
    unavailable = [
        (row, row.weir["unavailable"])
        for row in rows
        if row.weir is not None and "unavailable" in row.weir
    ]
    if missed or unavailable:
        lines += ["", "## Where the time goes", ""]
        for row in missed:
            verdict = "; ".join(row.missed() or []) or "target met"
            lines.append(f"- **{row.workload.title}** ({row.label or 'default'}): {verdict}")
            if row.weir and row.weir.get("gc_share"):
                lines.append(
                    f"  - cyclic garbage collection: {row.weir['gc_share']:.0%} of the timed "
                    f"time ({row.weir.get('gc_full_collections', 0):g} full collections per run; "
                    "cProfile charges it to whichever function allocated)"
                )
            lines += [f"  - {text}" for text in row.profile or ["(not profiled)"]]
        for row, why in unavailable:
            lines.append(
                f"- **{row.workload.title}** ({row.label or 'default'}): {UNAVAILABLE_IN_WEIR} "
                f"({why})"
            )
    return "\n".join(lines) + "\n"


class Took(NamedTuple):
    """Wall-clock and CPU seconds of the process (every thread: an in-process server's
    too), for the hand-run benchmarks. On a shared machine CPU time is the steadier figure."""

    wall: float
    cpu: float

    def __str__(self) -> str:
        return f"{self.wall * 1000:.1f} ms (CPU {self.cpu * 1000:.1f} ms)"


def timed_call(call: Callable[[], _T]) -> tuple[_T, Took]:
    """`call()`'s result and what it took."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = call()
    return result, Took(time.perf_counter() - wall, time.process_time() - cpu)


def show_kept_section(results: Path, name: str, section: str, *, write: bool) -> None:
    """Print a hand-run benchmark's section and, with `write`, keep it in `results`."""
    print(section)
    if write:
        results.write_text(replace_kept_section(results.read_text(), name, section))
        print(f"wrote {results}", file=sys.stderr)
