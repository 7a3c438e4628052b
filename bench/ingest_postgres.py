"""Measure event ingest on PostgreSQL: wall, this process's CPU and the server's CPU.

    .venv/bin/python bench/ingest_postgres.py                 # store_batch, 20,000 events
    .venv/bin/python bench/ingest_postgres.py --grpc          # through ReportEvents
    .venv/bin/python bench/ingest_postgres.py --events 4000 --repeat 5
    PYTHONPATH=/tmp/main-tree/controlplane .venv/bin/python bench/ingest_postgres.py  # other code

The events are `api_ingest`'s (a step start, a log, a materialization and a success per
asset, so a quarter are materializations of distinct assets), in batches of 500, in a
fresh schema of the database at WEIR_BENCH_POSTGRES_URL / WEIR_TEST_POSTGRES_URL, dropped
afterwards. By default `store_batch` is called in this process; `--grpc` runs the
`api_ingest` workload itself (the API in this process, its client too). Beside the wall
time: the CPU time of this process and of the PostgreSQL backends serving it (found by
their application_name, read from /proc: the server must be on this machine), which a
loaded machine moves far less than the wall time; in-process, the statements and rows a
batch sends through SQLAlchemy (COPY aside).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import tempfile
import time
import urllib.parse
import uuid
from collections.abc import Iterator
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
    parser.add_argument("--grpc", action="store_true", help="through ReportEvents")
    args = parser.parse_args()
    url = api_ingest_postgres.postgres_url()
    admin = psycopg.connect(
        url.replace("postgresql+psycopg://", "postgresql://", 1), autocommit=True
    )
    how = "over gRPC" if args.grpc else "store_batch"
    print(
        f"load average {os.getloadavg()[0]:.1f}; {how}, {args.events} events,"
        f" batches of {args.batch}"
    )
    results = []
    for _ in range(args.repeat):
        name = f"weir_bench_{uuid.uuid4().hex[:12]}"
        admin.execute(f'CREATE SCHEMA "{name}"')
        try:
            options = urllib.parse.quote(f"-csearch_path={name}")
            separator = "&" if "?" in url else "?"
            schema_url = f"{url}{separator}options={options}&application_name={name}"
            meter = _Meter(admin, name)
            if args.grpc:
                api_ingest.run(_Bench(meter, schema_url, args.events, args.batch))
            else:
                _store_batches(meter, schema_url, args.events, args.batch)
            results.append(meter.result)
        finally:
            admin.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
        print(_line(results[-1], args.events))
    admin.close()
    median = {key: statistics.median(r[key] for r in results) for key in results[0]}
    print("median", _line(median, args.events), f"(load now {os.getloadavg()[0]:.1f})")


class _Meter:
    """Times a block: wall, this process's CPU, and that of the backends named `name`."""

    def __init__(self, admin: psycopg.Connection[Any], name: str) -> None:
        self._admin, self._name = admin, name
        self.result: dict[str, float] = {}

    @contextlib.contextmanager
    def timed(self) -> Iterator[None]:
        before = {pid: _server_cpu({pid}) for pid in self._backends()}
        wall, cpu = time.perf_counter(), time.process_time()
        yield
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        # A backend opened meanwhile counts from zero (its start-up is not ingest, but small).
        server = sum(_server_cpu({pid}) - before.get(pid, 0.0) for pid in self._backends())
        self.result |= {"wall": wall, "python_cpu": cpu, "server_cpu": server}

    def _backends(self) -> set[int]:
        query = "SELECT pid FROM pg_stat_activity WHERE application_name = %s"
        return {pid for (pid,) in self._admin.execute(query, [self._name])}


class _Bench:
    """What `api_ingest.run` asks of the harness's bench object."""

    def __init__(self, meter: _Meter, url: str, events: int, batch: int) -> None:
        self.params = {"events": events, "batch": batch, "database_url": url}
        self.timed = meter.timed

    @contextlib.contextmanager
    def temp_dir(self) -> Iterator[str]:
        with tempfile.TemporaryDirectory() as path:
            yield path


def _store_batches(meter: _Meter, url: str, count: int, batch_size: int) -> None:
    storage = Storage.open(url)
    calls = rows = 0

    @sa.event.listens_for(storage.database.engine, "before_cursor_execute")
    def _count(
        _conn: Any, _cursor: Any, _statement: str, params: Any, _ctx: Any, many: bool
    ) -> None:
        nonlocal calls, rows
        calls += 1
        rows += len(params) if many else 1

    try:
        scope = storage.deployments.get_scope("prod")
        protos = [api_ingest._event(events_pb2, common_pb2, i) for i in range(1, count + 1)]
        events = [to_new_event(proto) for proto in protos]
        planned = tuple(sorted({f"asset_{i // 4}" for i in range(1, count + 1)}))
        run_id = storage.runs.create_run(
            scope, NewRun(code_location="bench", asset_keys=planned)
        ).run_id
        batches = [events[start : start + batch_size] for start in range(0, count, batch_size)]
        calls = rows = 0
        with meter.timed():
            for batch in batches:
                storage.events.store_batch(scope, run_id, batch)
    finally:
        storage.close()
    meter.result |= {"calls": calls / len(batches), "rows": rows / len(batches)}


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
        f" + {result['server_cpu'] * per:.3f} PostgreSQL ms/event"
    ) + (
        f"; {result['calls']:.0f} statements, {result['rows']:.0f} rows a batch"
        if "calls" in result
        else ""
    )


if __name__ == "__main__":
    main()
