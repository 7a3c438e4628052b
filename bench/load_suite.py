"""Run the load suite (tests/e2e/test_load.py) at full size and print its figures.

    .venv/bin/python bench/load_suite.py --write      # WEIR_LOAD_SCALE=1, into RESULTS.md
    .venv/bin/python bench/load_suite.py --scale 0.1  # a shorter run, printed only

The suite runs under pytest (its assertions are the pass/fail), on SQLite and, when
WEIR_TEST_POSTGRES_URL is set, on PostgreSQL too. Each test's figures are collected from
bench/.work/load.jsonl and printed as the Markdown tables of RESULTS.md's "Load suite"
section, which `--write` replaces (`make bench` keeps that section when it regenerates
the rest of the file).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if __package__ in (None, ""):  # run as a script: make the `bench` package importable
    sys.path.insert(0, str(ROOT))

from bench.report import replace_kept_section  # noqa: E402

RESULTS = ROOT / "bench" / "RESULTS.md"
REPORT = ROOT / "bench" / ".work" / "load.jsonl"
COLUMNS = {
    "queue": ["database", "runs", "limit", "seconds", "runs_per_second", "most_in_progress",
              "most_overtaken", "queue_wait_p50_s", "queue_wait_max_s"],
    "ingest": ["database", "events", "batch", "seconds", "events_per_second", "rss_settled_mb",
               "rss_peak_mb", "rss_growth_mb"],
    "soak": ["seconds", "runs", "runs_per_second", "reads", "control_plane_rss_settled_mb",
             "control_plane_rss_peak_mb", "control_plane_rss_growth_mb",
             "code_server_rss_settled_mb", "code_server_rss_peak_mb",
             "code_server_rss_growth_mb"],
}  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="1", help="WEIR_LOAD_SCALE (1 = full size)")
    parser.add_argument("--write", action="store_true", help="put the tables in RESULTS.md")
    parser.add_argument("pytest_args", nargs="*", help="more pytest arguments, e.g. -k soak")
    args = parser.parse_args()
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.unlink(missing_ok=True)
    env = {**os.environ, "WEIR_LOAD_SCALE": args.scale, "WEIR_LOAD_REPORT": str(REPORT)}
    command = [sys.executable, "-m", "pytest", "tests/e2e/test_load.py", "-m", "load",
               "-q", "-p", "no:randomly", *args.pytest_args]  # fmt: skip
    began = _now()
    outcome = subprocess.run(command, cwd=ROOT, env=env, check=False)
    text = REPORT.read_text() if REPORT.exists() else ""
    lines = [json.loads(line) for line in text.splitlines()]
    section = "\n".join(
        [
            "## Load suite",
            "",
            "Written by `bench/load_suite.py --write` (tests/e2e/test_load.py at "
            f'WEIR_LOAD_SCALE={args.scale}; see bench/README.md, "The load suite").',
            "",
            f"- date: {began} to {_now()}",
            f"- machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
            f"{platform.platform()}",
            f"- load average (1 min) at the end: {os.getloadavg()[0]:.2f}",
            f"- pytest: {'passed' if outcome.returncode == 0 else 'FAILED'}",
            *_tables(lines),
        ]
    )
    print(section)
    if args.write:
        RESULTS.write_text(replace_kept_section(RESULTS.read_text(), "load-suite", section))
        print(f"wrote {RESULTS}", file=sys.stderr)
    return outcome.returncode


def _tables(lines: list[dict[str, object]]) -> list[str]:
    out: list[str] = []
    for test, columns in COLUMNS.items():
        rows = [line for line in lines if line["test"] == test]
        if not rows:
            continue
        out += ["", f"### {test}", ""]
        out.append("| " + " | ".join(columns) + " |")
        out.append("|" + " --- |" * len(columns))
        for row in rows:
            out.append("| " + " | ".join(str(row.get(column, "")) for column in columns) + " |")
    return out


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")


if __name__ == "__main__":
    sys.exit(main())
