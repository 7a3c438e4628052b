"""Run every workload on Weir and on Dagster and write bench/RESULTS.md.

    .venv/bin/python bench/run.py            # full sizes (make bench)
    .venv/bin/python bench/run.py --quick    # reduced sizes, under two minutes (make bench QUICK=1)
    .venv/bin/python bench/run.py --only materialize --impl weir --profile

Each measurement is a fresh `python -m bench.harness` process: `.venv/bin/python` for
Weir, `.venv-dagster/bin/python` for Dagster (made by `make bench-setup`; without it the
Dagster cells say so). Every JSON line is echoed to stdout and kept in bench/.work/. For
each target Weir misses, the workload is run once more under cProfile and RESULTS.md
names where the time goes.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):  # run as a script: make the `bench` package importable
    sys.path.insert(0, str(REPO))

from bench.report import (  # noqa: E402
    Row,
    build_rows,
    kept_sections,
    render,
    summarize_importtime,
    summarize_profile,
)
from bench.spec import MIN_REPEAT, Workload, discover, params_label  # noqa: E402

WORK_DIR = REPO / "bench" / ".work"
PYTHONS = {
    "weir": REPO / ".venv" / "bin" / "python",
    "dagster": REPO / ".venv-dagster" / "bin" / "python",
}
MEASUREMENT_TIMEOUT_S = 1800


def parse_result_line(stdout: str) -> dict[str, Any] | None:
    """The harness's JSON line: the last stdout line that is a JSON object naming a workload.

    User code and libraries may print too, so anything else on stdout is ignored.
    """
    for text in reversed(stdout.strip().splitlines()):
        text = text.strip()
        if not text.startswith("{"):
            continue
        try:
            line = json.loads(text)
        except json.JSONDecodeError:
            continue
        if isinstance(line, dict) and "workload" in line:
            return line
    return None


def harness_command(
    python: Path,
    workload: str,
    implementation: str,
    params: Mapping[str, Any],
    *,
    repeat: int | None = None,
    profile: Path | None = None,
) -> list[str]:
    command = [str(python), "-m", "bench.harness", "--workload", workload, "--impl", implementation]
    command += ["--params", json.dumps(dict(params))]
    if repeat is not None:
        command += ["--repeat", str(repeat)]
    if profile is not None:
        command += ["--profile", str(profile)]
    return command


def run_harness(command: list[str], context: Mapping[str, Any]) -> dict[str, Any]:
    """Run one measuring process; a crash becomes an error line, not a lost table."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    # Users' imports read cached bytecode; an environment that forbids writing it would make
    # every run recompile Weir's editable sources (Dagster's were compiled by pip install).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    try:
        done = subprocess.run(
            command,
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=MEASUREMENT_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired:
        return {**context, "error": f"timed out after {MEASUREMENT_TIMEOUT_S} s"}
    line = parse_result_line(done.stdout)
    if done.returncode != 0 or line is None:
        sys.stderr.write(done.stderr[-4000:])
        if line is None or "error" not in line:
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            line = {**context, "error": f"exit {done.returncode}: {last}"}
    return line


def profile_slug(workload: str, params: Mapping[str, Any]) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", f"{workload}-{params_label(params)}").strip("-")


def environment(
    lines: Sequence[Mapping[str, Any]], quick: bool, repeat: int | None
) -> dict[str, str]:
    """The table's header: when, where, on what, and how busy the machine was."""
    versions = {
        line["implementation"]: line.get("version") for line in lines if line.get("version")
    }
    pythons = sorted({line["python"] for line in lines if line.get("python")})
    dates = sorted(line["measured_at"] for line in lines if line.get("measured_at"))
    loads = [line["load_average"] for line in lines if "load_average" in line]
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return {
        "date": f"{dates[0]} to {dates[-1]}" if dates else now,
        "mode": "quick (reduced sizes)" if quick else "full",
        "machine": f"{_cpu_model()}, {os.cpu_count()} cores, {platform.platform(terse=True)}",
        "Python": ", ".join(pythons) or platform.python_version(),
        "versions": ", ".join(f"{impl} {v}" for impl, v in sorted(versions.items())) or "-",
        "timed runs per measurement": str(repeat) if repeat else "each workload's REPEAT (≥ 3)",
        "load average (1 min) after each measurement": (
            f"{min(loads):.2f} to {max(loads):.2f} on {os.cpu_count()} cores" if loads else "-"
        ),
    }


def _cpu_model() -> str:
    try:
        for text in Path("/proc/cpuinfo").read_text().splitlines():
            if text.startswith("model name"):
                return text.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def measure_all(
    workloads: Sequence[Workload],
    implementations: Sequence[str],
    quick: bool,
    repeat: int | None,
    raw_log: Path,
) -> list[dict[str, Any]]:
    lines = []
    with raw_log.open("w") as log:
        for workload in workloads:
            for params in workload.params_for(quick):
                for implementation in implementations:
                    if implementation not in workload.implementations:
                        continue
                    python = PYTHONS[implementation]
                    if not python.exists():
                        print(f"skip {implementation}: {python} missing", file=sys.stderr)
                        continue
                    label = params_label(params) or "default"
                    print(
                        f"… {workload.name} [{label}] on {implementation}",
                        file=sys.stderr,
                        flush=True,
                    )
                    context = {
                        "workload": workload.name,
                        "implementation": implementation,
                        "parameters": dict(params),
                    }
                    command = harness_command(
                        python, workload.name, implementation, params, repeat=repeat
                    )
                    line = run_harness(command, context)
                    print(json.dumps(line), flush=True)
                    log.write(json.dumps(line) + "\n")
                    lines.append(line)
    return lines


def profile_rows(rows: Sequence[Row], every: bool) -> None:
    """cProfile Weir on each row that misses its target (or on every row when asked)."""
    profiles = WORK_DIR / "profiles"
    profiles.mkdir(parents=True, exist_ok=True)
    for row in rows:
        if not (row.missed() or (every and row.missed() is not None)):
            continue
        path = profiles / f"{profile_slug(row.workload.name, row.params)}.prof"
        path.unlink(missing_ok=True)
        Path(f"{path}.importtime").unlink(missing_ok=True)
        print(f"… profiling {row.workload.name} [{row.label}] on weir", file=sys.stderr, flush=True)
        command = harness_command(
            PYTHONS["weir"], row.workload.name, "weir", row.params, profile=path
        )
        line = run_harness(command, {"workload": row.workload.name, "implementation": "weir"})
        if "error" in line or not path.exists():
            row.profile = [f"profiling failed: {line.get('error', 'no profile written')}"]
        else:
            importtime = Path(f"{path}.importtime")
            row.profile = [
                *(summarize_importtime(importtime.read_text()) if importtime.exists() else []),
                *summarize_profile(str(path)),
                f"profile: `{path.relative_to(REPO)}`",
            ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Weir vs Dagster benchmarks")
    parser.add_argument("--quick", action="store_true", help="reduced sizes (under two minutes)")
    parser.add_argument("--only", nargs="+", metavar="WORKLOAD", help="run just these workloads")
    parser.add_argument("--impl", choices=("weir", "dagster", "both"), default="both")
    parser.add_argument("--repeat", type=int, help=f"timed runs per measurement (≥ {MIN_REPEAT})")
    parser.add_argument("--profile", action="store_true", help="profile every Weir row")
    parser.add_argument("--no-profile", action="store_true", help="profile nothing")
    parser.add_argument(
        "--from-results",
        type=Path,
        metavar="JSONL",
        help="measure nothing: tabulate (and profile) the lines of an earlier run",
    )
    parser.add_argument(
        "--output", type=Path, help="default: bench/RESULTS.md (quick: bench/.work/)"
    )
    args = parser.parse_args(argv)
    if args.repeat is not None and args.repeat < MIN_REPEAT:
        parser.error(f"--repeat must be at least {MIN_REPEAT}")

    workloads = discover()
    if args.only:
        known = {w.name for w in workloads}
        unknown = sorted(set(args.only) - known)
        if unknown:
            parser.error(f"unknown workload(s) {unknown}; known: {sorted(known)}")
        workloads = [w for w in workloads if w.name in args.only]
    implementations = ("weir", "dagster") if args.impl == "both" else (args.impl,)
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    suffix = "-quick" if args.quick else ""
    if args.from_results:
        lines = [json.loads(text) for text in args.from_results.read_text().splitlines() if text]
    else:
        raw_log = WORK_DIR / f"results{suffix}.jsonl"
        lines = measure_all(workloads, implementations, args.quick, args.repeat, raw_log)

    rows = build_rows(workloads, lines, args.quick)
    if not args.no_profile:
        profile_rows(rows, every=args.profile)
    output = args.output or (
        WORK_DIR / "RESULTS-quick.md" if args.quick else REPO / "bench" / "RESULTS.md"
    )
    text = render(rows, environment(lines, args.quick, args.repeat), args.quick)
    if output.exists():
        text += kept_sections(output.read_text())
    output.write_text(text)
    print(f"wrote {output}", file=sys.stderr)
    return 1 if any("error" in line for line in lines) else 0


if __name__ == "__main__":
    sys.exit(main())
