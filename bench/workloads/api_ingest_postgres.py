"""The event-ingest workload (api_ingest.py) on PostgreSQL instead of SQLite.

Each run gets a fresh schema in the database at WEIR_BENCH_POSTGRES_URL (or
WEIR_TEST_POSTGRES_URL, else postgresql+psycopg://postgres@127.0.0.1:5432/test): the
control plane creates its tables there through `?options=-csearch_path=<schema>`, and the
schema is dropped afterwards. When PostgreSQL is not reachable the row says so and
nothing else is measured.
"""

from __future__ import annotations

import os
import urllib.parse
import uuid

from bench.spec import Target
from bench.workloads import api_ingest

TITLE = "event ingest over the API, PostgreSQL"
TIMED = "RunReportingService.ReportEvents over gRPC, one transaction per batch, into PostgreSQL"
IMPLEMENTATIONS = ("weir",)
NO_EQUIVALENT = api_ingest.NO_EQUIVALENT
PARAMS = [{"events": 20_000, "batch": 500}]
QUICK_PARAMS = [{"events": 2_000, "batch": 500}]
WARMUP_PARAMS = {"events": 500, "batch": 500}
UNIT = ("events", "event")
ORDER = 60

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def target(params):
    return Target(max_ms_per_unit=0.1, min_speedup=None)  # 10,000 events/s


def postgres_url() -> str:
    return (
        os.environ.get("WEIR_BENCH_POSTGRES_URL")
        or os.environ.get("WEIR_TEST_POSTGRES_URL")
        or DEFAULT_URL
    )


def run(bench):
    import psycopg

    url = postgres_url()
    libpq_url = url.replace("postgresql+psycopg://", "postgresql://", 1)
    try:
        admin = psycopg.connect(libpq_url, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise RuntimeError(f"skipped: PostgreSQL is not reachable at {url} ({reason})") from None
    schema = f"weir_bench_{uuid.uuid4().hex[:12]}"
    try:
        admin.execute(f'CREATE SCHEMA "{schema}"')
        separator = "&" if "?" in url else "?"
        options = urllib.parse.quote(f"-csearch_path={schema}")
        bench.params["database_url"] = f"{url}{separator}options={options}"
        api_ingest.run(bench)
    finally:
        admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.close()
