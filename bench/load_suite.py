"""Run the load suite (tests/e2e/test_load.py) at full size and print its figures.

    .venv/bin/python bench/load_suite.py              # WEIR_LOAD_SCALE=1: what RESULTS.md records
    .venv/bin/python bench/load_suite.py --scale 0.1  # a shorter run

The suite runs under pytest (its assertions are the pass/fail), on SQLite and, when
WEIR_TEST_POSTGRES_URL is set, on PostgreSQL too. Each test's figures are collected from
bench/.work/load.jsonl and printed as the Markdown table RESULTS.md carries.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
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
    parser.add_argument("pytest_args", nargs="*", help="more pytest arguments, e.g. -k soak")
    args = parser.parse_args()
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.unlink(missing_ok=True)
    env = {**os.environ, "WEIR_LOAD_SCALE": args.scale, "WEIR_LOAD_REPORT": str(REPORT)}
    command = [sys.executable, "-m", "pytest", "tests/e2e/test_load.py", "-m", "load",
               "-q", "-p", "no:randomly", *args.pytest_args]  # fmt: skip
    outcome = subprocess.run(command, cwd=ROOT, env=env, check=False)
    text = REPORT.read_text() if REPORT.exists() else ""
    lines = [json.loads(line) for line in text.splitlines()]
    for test, columns in COLUMNS.items():
        rows = [line for line in lines if line["test"] == test]
        if not rows:
            continue
        print(f"\n{test} (WEIR_LOAD_SCALE={rows[0]['scale']})\n")
        print("| " + " | ".join(columns) + " |")
        print("|" + " --- |" * len(columns))
        for row in rows:
            print("| " + " | ".join(str(row.get(column, "")) for column in columns) + " |")
    return outcome.returncode


if __name__ == "__main__":
    sys.exit(main())
