"""Measure GetPartitionStatus over gRPC for hourly assets of 100,000 and 1,000,000 partitions.

    .venv/bin/python bench/partition_status.py            # print the figures
    .venv/bin/python bench/partition_status.py --write    # and put them in RESULTS.md

The control plane's API runs in this process on a SQLite file (as `weir dev` does), with
one code location whose snapshot holds the two assets. For each asset and each shape of
status, asset_latest is filled in bulk the way a backfill leaves it (one row per
partition, keys from the key space) and the status row is marked stale, so the first
GetPartitionStatus rebuilds it (that time is shown apart); then 20 reads are timed, exact
and with max_buckets=1000. Then, over the backfilled shape, the definition changes
without renumbering its partitions: its end moves 24 hours later, then its start 24 hours
earlier; the first read after each carries the stored status over (shifting its ranges
and looking up only the new partitions). The same hourly assets in America/New_York (a
daylight-saving zone) show the full rebuild there. Finally one run reports 10,000
materializations of the large asset (its fragmented shape) through ReportEvents in
batches of 1,000, which keep its status current.
"""

from __future__ import annotations

import argparse
import datetime
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if __package__ in (None, ""):  # run as a script: make the `bench` package importable
    sys.path.insert(0, str(ROOT))

import grpc  # noqa: E402
from weir_controlplane.api import ControlPlaneApi, GrpcServerConfig, create_server  # noqa: E402
from weir_controlplane.api.partition_ranges import DisplayedStatus  # noqa: E402
from weir_controlplane.locations import CodeLocationRegistry  # noqa: E402
from weir_controlplane.runs import RunCoordinator, RunSettings  # noqa: E402
from weir_controlplane.storage import DeploymentScope, Storage  # noqa: E402
from weir_controlplane.storage.schema import asset_latest, asset_partition_status  # noqa: E402
from weir_partitions import IndexRanges, TimeWindowKeySpace  # noqa: E402
from weir_protos.v1 import (  # noqa: E402  # noqa: E402
    common_pb2,
    definitions_pb2,
    events_pb2,
    reporting_pb2,
    reporting_pb2_grpc,
)
from weir_protos.v1 import control_plane_pb2 as cp  # noqa: E402
from weir_protos.v1 import control_plane_pb2_grpc as cp_grpc  # noqa: E402

from bench.report import replace_kept_section, run_context_lines  # noqa: E402

RESULTS = ROOT / "bench" / "RESULTS.md"
START = datetime.datetime(1900, 1, 1, tzinfo=datetime.UTC)
SIZES = {"hourly_100k": 100_000, "hourly_1m": 1_000_000}
DST_ZONE = "America/New_York"
DST_SIZES = {"hourly_ny_100k": 100_000, "hourly_ny_1m": 1_000_000}
HOUR = datetime.timedelta(hours=1)
MOVED = 24 * HOUR
READS = 20
ROWS_PER_INSERT = 20_000


def shapes(total: int) -> dict[str, tuple[list[int], list[int]]]:
    """(materialized, failed) partition indexes of each status shape."""
    backfilled = [i for i in range(total) if i % 1000 >= 10 and i % 5000 != 500]
    failed = [i for i in range(total) if i % 5000 == 500]
    fragmented = [i for i in range(60_000) if i % 3]
    return {
        "backfilled: 99% materialized, a gap every 1,000 and a failure every 5,000": (
            backfilled,
            failed,
        ),
        "fragmented: two of every three partitions of the first 60,000": (fragmented, []),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="put the figures in RESULTS.md")
    args = parser.parse_args()
    began = _now()
    with tempfile.TemporaryDirectory() as home:
        storage = Storage.open(f"sqlite:///{home}/bench.db")
        try:
            lines = measure(storage)
        finally:
            storage.close()
    section = "\n".join(
        [
            "## Partition status (`bench/partition_status.py`)",
            "",
            "Written by `bench/partition_status.py --write`: GetPartitionStatus over gRPC, "
            "API in-process on SQLite, hourly assets (see the script's docstring). Exact runs "
            "beyond 10,000 come merged into 10,000 ranges; the first read after a definition "
            "change (or, here, after asset_latest was written in bulk) rebuilds the stored "
            "status from asset_latest once.",
            "",
            *run_context_lines(began, _now()),
            "",
            "| asset | partitions | status shape | exact runs | ranges in the reply "
            "| first read (rebuild) | max_buckets 0: median / max "
            "| max_buckets=1000: median / max |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |",
            *lines,
        ]
    )
    print(section)
    if args.write:
        RESULTS.write_text(replace_kept_section(RESULTS.read_text(), "partition-status", section))
        print(f"wrote {RESULTS}", file=sys.stderr)
    return 0


def measure(storage: Storage) -> list[str]:
    scope = storage.deployments.ensure_deployment("bench")
    storage.code_locations.upsert(scope, "bench", address="127.0.0.1:1")
    _load(storage, scope, "bench")
    registry = CodeLocationRegistry(storage)
    coordinator = RunCoordinator(storage, registry, RunSettings())
    api = ControlPlaneApi.build(storage, registry, coordinator)
    server, port = create_server(GrpcServerConfig(api=api))
    server.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{port}", options=[("grpc.enable_http_proxy", 0)])
    metadata = (("x-weir-deployment", scope.name),)
    stub = cp_grpc.ControlPlaneServiceStub(channel)
    lines = []
    try:
        for name, total in SIZES.items():
            space = _space(total)
            for shape, (materialized, failed) in shapes(total).items():
                _fill(storage, scope, name, space, materialized, failed)
                exact_runs = DisplayedStatus.of(
                    total, IndexRanges.of(materialized), IndexRanges.of(failed), IndexRanges.empty()
                ).runs()
                lines.append(_row(stub, metadata, name, total, shape, len(exact_runs)))
            lines += _changed_rows(storage, scope, stub, metadata, name, total)
        for name, total in DST_SIZES.items():
            shape, (materialized, failed) = next(iter(shapes(total).items()))
            _fill(storage, scope, name, _space(total, DST_ZONE), materialized, failed)
            exact_runs = DisplayedStatus.of(
                total, IndexRanges.of(materialized), IndexRanges.of(failed), IndexRanges.empty()
            ).runs()
            lines.append(_row(stub, metadata, name, total, f"{DST_ZONE}, {shape}", len(exact_runs)))
        # Ingest over the fragmented shape, as before the definition-change rows existed.
        materialized, failed = list(shapes(SIZES["hourly_1m"]).values())[1]
        _fill(storage, scope, "hourly_1m", _space(SIZES["hourly_1m"]), materialized, failed)
        lines.append(_ingest_row(storage, scope, stub, channel, metadata))
    finally:
        channel.close()
        server.stop(None).wait(10)
        coordinator.stop()
        registry.stop()
        api.close()
    return lines


def _changed_rows(
    storage: Storage, scope: DeploymentScope, stub: Any, metadata: Any, name: str, total: int
) -> list[str]:
    """The backfilled shape again, then the definition's end moved later, then its start
    moved earlier: first reads after each change (carried over), then warm reads."""
    materialized, failed = next(iter(shapes(total).values()))
    _fill(storage, scope, name, _space(total), materialized, failed)
    key = common_pb2.AssetKey(path=[name])
    before = stub.GetPartitionStatus(cp.GetPartitionStatusRequest(key=key), metadata=metadata)
    rows = []
    for change, start, grown in (
        ("end moved 24 hours later", START, total + 24),
        ("start moved 24 hours earlier", START - MOVED, total + 48),
    ):
        _load(storage, scope, f"bench-{name}-{grown}", {name: (start, START + (total + 24) * HOUR)})
        shape = f"backfilled, then definition changed: {change} (carried over)"
        rows.append(_row(stub, metadata, name, grown, shape, len(before.ranges)))
        after = stub.GetPartitionStatus(cp.GetPartitionStatusRequest(key=key), metadata=metadata)
        assert after.counts.materialized == before.counts.materialized
        assert after.counts.failed == before.counts.failed
    _load(storage, scope, f"bench-{name}-restored")
    return rows


def _load(
    storage: Storage,
    scope: DeploymentScope,
    content_hash: str,
    windows: dict[str, tuple[datetime.datetime, datetime.datetime]] | None = None,
) -> None:
    """The code location's snapshot: every asset with its own window unless `windows`
    names another."""
    assets = [
        _hourly(name, total, zone, *(windows or {}).get(name, ()))
        for sizes, zone in ((SIZES, "UTC"), (DST_SIZES, DST_ZONE))
        for name, total in sizes.items()
    ]
    snap = definitions_pb2.DefinitionsSnapshot(assets=assets, content_hash=content_hash)
    storage.code_locations.set_loaded(scope, "bench", content_hash, snap.SerializeToString())


def _row(stub: Any, metadata: Any, name: str, total: int, shape: str, exact_runs: int) -> str:
    key = common_pb2.AssetKey(path=[name])
    started = time.perf_counter()
    first = stub.GetPartitionStatus(cp.GetPartitionStatusRequest(key=key), metadata=metadata)
    rebuild = time.perf_counter() - started
    assert first.counts.total == total
    exact = _timed(stub, metadata, cp.GetPartitionStatusRequest(key=key))
    bar = _timed(stub, metadata, cp.GetPartitionStatusRequest(key=key, max_buckets=1000))
    merged = " (merged)" if first.merged else ""
    return (
        f"| {name} | {total:,} | {shape} | {exact_runs:,} | {len(first.ranges):,}{merged} "
        f"| {_ms(rebuild)} "
        f"| {_ms(statistics.median(exact))} / {_ms(max(exact))} "
        f"| {_ms(statistics.median(bar))} / {_ms(max(bar))} |"
    )


def _ingest_row(storage: Storage, scope: DeploymentScope, stub: Any, channel: Any, md: Any) -> str:
    """One run reports 10,000 materializations of hourly_1m in batches of 1,000."""
    name, total = "hourly_1m", SIZES["hourly_1m"]
    space = _space(total)
    run = stub.LaunchRun(
        cp.LaunchRunRequest(
            asset_keys=[common_pb2.AssetKey(path=[name])], partition_key=space.key_at(0)
        ),
        metadata=md,
    ).run
    reporting = reporting_pb2_grpc.RunReportingServiceStub(channel)
    keys = [space.key_at(i) for i in range(100_000, 120_000, 2)]
    batches, sequence = [], 1
    reporting.ReportEvents(
        reporting_pb2.ReportEventsRequest(
            run_id=run.run_id,
            events=[
                events_pb2.RunEvent(sequence=1, event_type=events_pb2.RUN_EVENT_TYPE_RUN_STARTED)
            ],
        ),
        metadata=md,
    )
    for start in range(0, len(keys), 1000):
        events = []
        for partition in keys[start : start + 1000]:
            sequence += 1
            event = events_pb2.RunEvent(
                sequence=sequence, event_type=events_pb2.RUN_EVENT_TYPE_ASSET_MATERIALIZATION
            )
            event.materialization.asset_key.path.append(name)
            event.materialization.partition = partition
            events.append(event)
        began = time.perf_counter()
        reporting.ReportEvents(
            reporting_pb2.ReportEventsRequest(run_id=run.run_id, events=events), metadata=md
        )
        batches.append(time.perf_counter() - began)
    reply = stub.GetPartitionStatus(
        cp.GetPartitionStatusRequest(key=common_pb2.AssetKey(path=[name])), metadata=md
    )
    assert reply.counts.materialized >= len(keys)
    merged = " (merged)" if reply.merged else ""
    return (
        f"| {name} | {total:,} | ReportEvents: 10 batches of 1,000 materializations (status "
        f"kept in the same transaction) | — | {len(reply.ranges):,}{merged} "
        f"| — | batch median {_ms(statistics.median(batches))} / max {_ms(max(batches))} | — |"
    )


def _timed(stub: Any, metadata: Any, request: cp.GetPartitionStatusRequest) -> list[float]:
    times = []
    for _ in range(READS):
        began = time.perf_counter()
        stub.GetPartitionStatus(request, metadata=metadata)
        times.append(time.perf_counter() - began)
    return times


def _fill(
    storage: Storage,
    scope: DeploymentScope,
    name: str,
    space: TimeWindowKeySpace,
    materialized: list[int],
    failed: list[int],
) -> None:
    """asset_latest as a backfill leaves it, and the status row stale (read rebuilds it)."""
    now = datetime.datetime.now(datetime.UTC)
    keys = space.keys_slice(0, space.count(time.time()), time.time())
    outcomes = [(i, "materialization") for i in materialized] + [(i, "failure") for i in failed]
    rows = []
    for index, outcome in outcomes:
        row: dict[str, Any] = {
            "deployment_id": scope.deployment_id,
            "asset_key": name,
            "partition": keys[index],
            "materialization_event_id": None,
            "materialization_run_id": None,
            "materialized_at": None,
            "failure_event_id": None,
            "failure_run_id": None,
            "failed_at": None,
        }
        at = "materialized_at" if outcome == "materialization" else "failed_at"
        row |= {f"{outcome}_event_id": index + 1, f"{outcome}_run_id": "bench", at: now}
        rows.append(row)
    with storage.database.write() as conn:
        for table in (asset_latest, asset_partition_status):
            conn.execute(
                table.delete().where(
                    table.c.deployment_id == scope.deployment_id, table.c.asset_key == name
                )
            )
        for start in range(0, len(rows), ROWS_PER_INSERT):
            conn.execute(asset_latest.insert(), rows[start : start + ROWS_PER_INSERT])


def _hourly(
    name: str,
    total: int,
    zone: str = "UTC",
    start: datetime.datetime = START,
    end: datetime.datetime | None = None,
) -> definitions_pb2.AssetNode:
    node = definitions_pb2.AssetNode(
        key=common_pb2.AssetKey(path=[name]), is_executable=True, node_name=name
    )
    window = node.partitions_def.time_window
    window.cron_schedule = "0 * * * *"
    window.fmt = "%Y-%m-%d-%H:%M"
    window.timezone = zone
    window.start.FromDatetime(start)
    window.end.FromDatetime(end or START + total * HOUR)
    return node


def _space(total: int, zone: str = "UTC") -> TimeWindowKeySpace:
    return TimeWindowKeySpace("0 * * * *", zone, "%Y-%m-%d-%H:%M", START, START + total * HOUR)


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")


if __name__ == "__main__":
    sys.exit(main())
