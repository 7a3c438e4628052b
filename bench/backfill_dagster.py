"""Dagster's side of bench/backfill.py: the same three daily assets backfilled end to end.

    .venv-dagster/bin/python bench/backfill_dagster.py --days 30   # prints one JSON line

Runs what `dagster dev` runs, on SQLite storage in a temporary DAGSTER_HOME with the
default instance settings (`bench.workloads.launch.DagsterSystem`): a code server on
bench/backfill_location/daily_three.py with `import dagster as dg`, and `dagster-daemon
run`, whose backfill loop plans and submits the asset backfill's runs and whose run queue
starts them. The backfill of the first `--days` partitions of the
three assets is launched with the `launchPartitionBackfill` GraphQL mutation, executed with
dagster-graphql as dagster-webserver would execute it. Measured: the wall time from the
launch to the backfill's end, and how fast its runs were created (launched into the
queue), from the runs' creation times.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if __package__ in (None, ""):  # run as a script: make the `bench` package importable
    sys.path.insert(0, str(ROOT))
LOCATION = ROOT / "bench" / "backfill_location" / "daily_three.py"
TIMEOUT_S = 3600

_LAUNCH = """
mutation Launch($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message stack }
  }
}
"""


def measure(directory: Path, days: int) -> dict[str, Any]:
    from bench.workloads.launch import DagsterSystem

    defs = directory / "defs.py"  # the same user code, on Dagster
    defs.write_text(LOCATION.read_text().replace("import weir as dg", "import dagster as dg"))
    system = DagsterSystem(directory, defs)
    try:
        return _backfill(system.instance, system.workspace, days)
    finally:
        system.daemon.stop()
        system.code_server.stop()


def _backfill(instance: Any, workspace: Any, days: int) -> dict[str, Any]:
    from dagster import DailyPartitionsDefinition
    from dagster._core.execution.backfill import BulkActionStatus
    from dagster._core.storage.dagster_run import RunsFilter
    from dagster_graphql.test.utils import execute_dagster_graphql

    names = DailyPartitionsDefinition("2023-01-01", end_date="2024-01-01").get_partition_keys()
    params = {
        "assetSelection": [{"path": [name]} for name in ("raw", "clean", "summary")],
        "partitionNames": names[:days],
    }
    started = time.perf_counter()
    result = execute_dagster_graphql(
        workspace.create_request_context(), _LAUNCH, {"params": params}
    )
    launched = (result.data or {}).get("launchPartitionBackfill") or {}
    if launched.get("__typename") != "LaunchBackfillSuccess":
        raise RuntimeError(f"launchPartitionBackfill failed: {result.errors or launched}")
    launch_s = time.perf_counter() - started
    backfill_id = launched["backfillId"]
    ended = {
        BulkActionStatus.COMPLETED, BulkActionStatus.COMPLETED_SUCCESS,
        BulkActionStatus.COMPLETED_FAILED, BulkActionStatus.FAILED, BulkActionStatus.CANCELED,
    }  # fmt: skip
    while True:
        backfill = instance.get_backfill(backfill_id)
        assert backfill is not None
        if backfill.status in ended:
            break
        if time.perf_counter() - started > TIMEOUT_S:
            raise RuntimeError(
                f"backfill {backfill_id} still {backfill.status} after {TIMEOUT_S} s"
            )
        time.sleep(0.5)
    wall_s = time.perf_counter() - started
    records = instance.get_run_records(filters=RunsFilter(tags={"dagster/backfill": backfill_id}))
    created = sorted(record.create_timestamp.timestamp() for record in records)
    succeeded = sum(1 for record in records if record.dagster_run.is_success)
    return {
        "status": backfill.status.value,
        "partitions": days * 3,
        "runs": len(records),
        "succeeded": succeeded,
        "launch_s": launch_s,
        "created_s": created[-1] - created[0] if len(created) > 1 else 0.0,
        "wall_s": wall_s,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--days", type=int, default=365, help="backfill the first DAYS days")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        figures = measure(Path(directory), args.days)
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
