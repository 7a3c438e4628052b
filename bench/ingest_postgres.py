"""Measure `store_batch` on PostgreSQL in this process: wall, client CPU and server CPU.

    .venv/bin/python bench/ingest_postgres.py                 # 20,000 events, batches of 500
    .venv/bin/python bench/ingest_postgres.py --events 4000 --repeat 5
    PYTHONPATH=/tmp/main-tree .venv/bin/python bench/ingest_postgres.py   # another tree's code

The events are `api_ingest`'s (a step start, a log, a materialization and a success per
asset, so a quarter are materializations of distinct assets), in a fresh schema of the
database at WEIR_BENCH_POSTGRES_URL / WEIR_TEST_POSTGRES_URL, dropped afterwards. The gRPC
workload (`api_ingest_postgres`) times the same ingest through the API; this one leaves
the API out and says where the time goes: the CPU of this process beside that of the
PostgreSQL backends serving it (read from /proc, so the server must be on this machine),
and how many statements and rows a batch sends.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import urllib.parse
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if __package__ in (None, ""):  # run as a script: make the `bench` package importable
    sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from weir_controlplane.runs.events import to_new_event  # noqa: E402
from weir_controlplane.storage import NewRun, Storage  # noqa: E402
from weir_protos.v1 import common_pb2, events_pb2  # noqa: E402

from bench.workloads import api_ingest, api_ingest_postgres  # noqa: E402

_TICKS = os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    url = api_ingest_postgres.postgres_url()
    admin = psycopg.connect(
        url.replace("postgresql+psycopg://", "postgresql://", 1), autocommit=True
    )
    print(f"load average {os.getloadavg()[0]:.1f}; {args.events} events, batches of {args.batch}")
    results = []
    for _ in range(args.repeat):
        schema = f"weir_bench_{uuid.uuid4().hex[:12]}"
        admin.execute(f'CREATE SCHEMA "{schema}"')
        try:
            options = urllib.parse.quote(f"-csearch_path={schema}")
            separator = "&" if "?" in url else "?"
            results.append(_measure(f"{url}{separator}options={options}", args.events, args.batch))
        finally:
            admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        print(_line(results[-1], args.events))
    admin.close()
    median = {key: statistics.median(r[key] for r in results) for key in results[0]}
    print("median", _line(median, args.events), f"(load now {os.getloadavg()[0]:.1f})")


def _measure(url: str, count: int, batch_size: int) -> dict[str, float]:
    storage = Storage.open(url)
    backends: set[int] = set()
    calls = rows = 0

    @sa.event.listens_for(storage.database.engine, "connect")
    def _remember_backend(dbapi_connection: Any, _record: Any) -> None:
        backends.add(dbapi_connection.info.backend_pid)

    @sa.event.listens_for(storage.database.engine, "before_cursor_execute")
    def _count(
        _conn: Any, _cursor: Any, _statement: str, params: Any, _ctx: Any, many: bool
    ) -> None:
        nonlocal calls, rows
        calls += 1
        rows += len(params) if many else 1

    try:
        storage.database.engine.dispose()  # new connections, so their backends are known
        scope = storage.deployments.get_scope("prod")
        protos = [api_ingest._event(events_pb2, common_pb2, i) for i in range(1, count + 1)]
        events = [to_new_event(proto) for proto in protos]
        planned = tuple(sorted({f"asset_{i // 4}" for i in range(1, count + 1)}))
        run_id = storage.runs.create_run(
            scope, NewRun(code_location="bench", asset_keys=planned)
        ).run_id
        batches = [events[start : start + batch_size] for start in range(0, count, batch_size)]
        calls = rows = 0
        server_before = _server_cpu(backends)
        wall, cpu = time.perf_counter(), time.process_time()
        for batch in batches:
            storage.events.store_batch(scope, run_id, batch)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        server = _server_cpu(backends) - server_before
    finally:
        storage.close()
    return {
        "wall": wall,
        "python_cpu": cpu,
        "server_cpu": server,
        "calls": calls / len(batches),
        "rows": rows / len(batches),
    }


def _server_cpu(pids: set[int]) -> float:
    """User + system CPU seconds of the backends `pids` (those still running)."""
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += (int(fields[11]) + int(fields[12])) / _TICKS
    return total


def _line(result: dict[str, float], count: int) -> str:
    per = 1000 / count
    return (
        f"wall {result['wall'] * per:.3f} ms/event, CPU {result['python_cpu'] * per:.3f} Python"
        f" + {result['server_cpu'] * per:.3f} PostgreSQL ms/event;"
        f" {result['calls']:.0f} statements, {result['rows']:.0f} rows a batch"
    )


if __name__ == "__main__":
    main()
