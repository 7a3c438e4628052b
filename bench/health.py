"""Measure asset health reads and freshness ticks over 10,000 assets (target < 200 ms).

    .venv/bin/python bench/health.py            # print the figures
    .venv/bin/python bench/health.py --write    # and put them in RESULTS.md

In this process, on a SQLite file (as `weir dev` runs): one code location whose snapshot
holds 10,000 assets, each with a time-window freshness policy (fail after 1 h, warn after
30 min) and one check. One run materializes all of them and evaluates their checks through
the real ingest (batches of 500 events, health written in the same transactions); every
100th check fails. Timed:

- ListAssets over gRPC (in-process server) paging through all 10,000 assets, 1,000 a
  page, each carrying its health and freshness: the full view (definition, latest
  materialization, checks too) and the HEALTH view (key and health only);
- ListAssets with a health filter (DEGRADED: the 100 with a failing check);
- GetDeploymentHealth (counts by health and freshness over the 10,000);
- freshness ticks: the first (syncs 10,000 policies and evaluates them), the one after the
  materializations (all 10,000 due, PASS), steady ticks with nothing due, and the tick
  when the 10,000 warn windows close (all WARN, health and change rows written).
"""

from __future__ import annotations

import argparse
import datetime
import statistics
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if __package__ in (None, ""):  # run as a script: make the `bench` package importable
    sys.path.insert(0, str(ROOT))

import grpc  # noqa: E402
from weir_controlplane import heap  # noqa: E402
from weir_controlplane.api import ControlPlaneApi, GrpcServerConfig, create_server  # noqa: E402
from weir_controlplane.daemons import FreshnessDaemon, FreshnessPass  # noqa: E402
from weir_controlplane.locations import CodeLocationRegistry  # noqa: E402
from weir_controlplane.runs import RunCoordinator, RunSettings  # noqa: E402
from weir_controlplane.runs.events import to_new_event  # noqa: E402
from weir_controlplane.storage import DeploymentScope, NewRun, Storage  # noqa: E402
from weir_protos.v1 import common_pb2, definitions_pb2, events_pb2, health_pb2  # noqa: E402
from weir_protos.v1 import control_plane_pb2 as cp  # noqa: E402
from weir_protos.v1 import control_plane_pb2_grpc as cp_grpc  # noqa: E402

from bench.report import Took, run_context_lines, show_kept_section  # noqa: E402
from bench.report import timed_call as _timed  # noqa: E402

RESULTS = ROOT / "bench" / "RESULTS.md"
ASSETS = 10_000
BATCH = 500
STEADY_TICKS = 10
REPEAT = 5
T0 = datetime.datetime(2026, 3, 2, 8, 0, tzinfo=datetime.UTC)
ZERO = datetime.timedelta(0)
E = events_pb2


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
            "## Asset health and freshness (`bench/health.py`)",
            "",
            "Written by `bench/health.py --write`: health reads and freshness ticks over "
            f"{ASSETS:,} assets, each with a freshness policy and a check, on SQLite "
            "in-process (see the script's docstring). Health is stored per asset by ingest "
            "and the freshness daemon, so a read is an index read, never a scan of history; "
            "the daemon evaluates only the assets its due-time index says are due. "
            f"Reads: median of {REPEAT} runs. Each time is wall clock, with the process's CPU "
            "time beside it (the machine is shared: see the load average). Target: under "
            "200 ms. A health dashboard lists with `view: ASSET_VIEW_HEALTH` (key, code "
            "location and health only: no definition, materialization or check rows); the "
            "full view also copies each asset's definition and reads its latest "
            "materialization and checks. What the HEALTH view still spends goes to reading "
            "the health and freshness rows through SQLAlchemy (compare the storage row), "
            "building the messages, and the in-process client decoding the replies (its "
            "CPU counts too). Nothing changes between the runs of a read, so after the "
            "first each is a kept reply (`api/reply_cache.py`, keyed by the asset state "
            "revision); the first read after a change costs what the cold column of "
            '"asset-reads" shows.',
            "",
            *run_context_lines(began, _now()),
            "",
            "| what | assets | time |",
            "| --- | --- | --- |",
            *lines,
        ]
    )
    show_kept_section(RESULTS, "health", section, write=args.write)
    return 0


def measure(storage: Storage) -> list[str]:
    scope = storage.deployments.ensure_deployment("bench")
    names = [f"asset_{i:05d}" for i in range(ASSETS)]
    snap = definitions_pb2.DefinitionsSnapshot(assets=[_node(n) for n in names])
    snap.content_hash = "bench"
    storage.code_locations.upsert(scope, "bench", address="127.0.0.1:1")
    storage.code_locations.set_loaded(scope, "bench", "bench", snap.SerializeToString())
    registry = CodeLocationRegistry(storage)
    coordinator = RunCoordinator(storage, registry, RunSettings())  # queue not started
    api = ControlPlaneApi.build(storage, registry, coordinator)
    server, port = create_server(GrpcServerConfig(api=api))
    server.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{port}", options=[("grpc.enable_http_proxy", 0)])
    stub = _Scoped(cp_grpc.ControlPlaneServiceStub(channel), scope)
    daemon = FreshnessDaemon(storage, registry)
    registry.all_graphs(scope)  # the snapshot loaded, as at start-up
    heap.settle_after_startup()
    lines = []

    def tick(after: datetime.timedelta) -> tuple[FreshnessPass, Took]:
        return _timed(lambda: daemon.tick(scope, T0 + after))

    try:
        lines.append(_row("freshness: first tick (syncs policies, evaluates)", *tick(ZERO)))
        ingest = _ingest(storage, scope, names)
        lines.append(
            f"| ingest: {ASSETS:,} materializations + {ASSETS:,} check evaluations "
            f"({BATCH} a batch, health in the same transactions) | {ASSETS:,} "
            f"| {ingest} total |"
        )
        after = tick(datetime.timedelta(seconds=5))
        lines.append(_row("freshness: tick after the materializations", *after))
        steady = [tick(datetime.timedelta(minutes=1 + i)) for i in range(STEADY_TICKS)]
        lines.append(
            f"| freshness: steady tick, nothing due ({STEADY_TICKS} ticks) "
            f"| {steady[-1][0].evaluated:,} evaluated | {_spread([t for _, t in steady])} |"
        )
        closing = tick(datetime.timedelta(minutes=31))
        lines.append(_row("freshness: tick when every warn window closes", *closing))

        lines.append(_read_row("ListAssets, all pages of 1,000 with health", lambda: _all(stub)))
        lines.append(
            _read_row(
                "ListAssets view HEALTH (key + health), all pages of 1,000",
                lambda: _all(stub, cp.ASSET_VIEW_HEALTH),
            )
        )
        degraded = cp.ListAssetsRequest(health=[health_pb2.HEALTH_DEGRADED], limit=1000)
        lines.append(
            _read_row(
                "ListAssets, health filter DEGRADED",
                lambda: len(stub.ListAssets(degraded).assets),
            )
        )
        summary = cp.GetDeploymentHealthRequest()
        lines.append(
            _read_row(
                "GetDeploymentHealth (counts)",
                lambda: stub.GetDeploymentHealth(summary).asset_count,
            )
        )
        lines.append(
            _read_row("storage: health of every asset", lambda: len(storage.health.get(scope)))
        )
    finally:
        channel.close()
        server.stop(None).wait(10)
        api.close()
        coordinator.stop()
        registry.stop()
    return lines


class _Scoped:
    """A stub whose calls carry the deployment header of `scope`."""

    def __init__(self, stub: cp_grpc.ControlPlaneServiceStub, scope: DeploymentScope) -> None:
        self._stub, self._metadata = stub, (("x-weir-deployment", scope.name),)

    def __getattr__(self, method: str) -> Callable[[Any], Any]:
        call = getattr(self._stub, method)
        return lambda request: call(request, metadata=self._metadata)


def _node(name: str) -> definitions_pb2.AssetNode:
    node = definitions_pb2.AssetNode(
        key=common_pb2.AssetKey(path=[name]), is_executable=True, node_name=name
    )
    node.check_specs.add(name="valid", asset_key=node.key)
    policy = node.freshness_policy.time_window
    policy.fail_window.FromTimedelta(datetime.timedelta(hours=1))
    policy.warn_window.FromTimedelta(datetime.timedelta(minutes=30))
    return node


def _ingest(storage: Storage, scope: DeploymentScope, names: list[str]) -> Took:
    """One run materializing every asset and evaluating its check; seconds spent ingesting."""
    run = storage.runs.create_run(scope, NewRun(code_location="bench", asset_keys=tuple(names)))
    events = [E.RunEvent(event_type=E.RUN_EVENT_TYPE_RUN_STARTED)]
    for index, name in enumerate(names):
        key = common_pb2.AssetKey(path=[name])
        events.append(
            E.RunEvent(
                event_type=E.RUN_EVENT_TYPE_ASSET_MATERIALIZATION,
                step_key=name,
                materialization=E.AssetMaterialization(asset_key=key),
            )
        )
        events.append(
            E.RunEvent(
                event_type=E.RUN_EVENT_TYPE_ASSET_CHECK_EVALUATION,
                step_key=name,
                check_evaluation=E.AssetCheckEvaluation(
                    asset_key=key, check_name="valid", passed=index % 100 != 0
                ),
            )
        )
    for sequence, event in enumerate(events, 1):
        event.sequence = sequence
        event.timestamp.FromDatetime(T0)
    stored = [to_new_event(event) for event in events]

    def store_all() -> None:
        for start in range(0, len(stored), BATCH):
            storage.events.store_batch(scope, run.run_id, stored[start : start + BATCH])

    return _timed(store_all)[1]


def _all(stub: Any, view: cp.AssetView = cp.ASSET_VIEW_FULL) -> int:
    seen, cursor = 0, ""
    while True:
        reply = stub.ListAssets(cp.ListAssetsRequest(limit=1000, cursor=cursor, view=view))
        seen += sum(1 for asset in reply.assets if asset.health.status)
        cursor = reply.next_cursor
        if not cursor:
            return seen


def _spread(took: list[Took]) -> str:
    wall = [t.wall for t in took]
    cpu = statistics.median(t.cpu for t in took)
    return f"median {_ms(statistics.median(wall))} (CPU {_ms(cpu)}) / max {_ms(max(wall))}"


def _row(what: str, report: FreshnessPass, took: Took) -> str:
    changes = len(report.changes)
    return f"| {what} | {report.evaluated:,} evaluated, {changes:,} changes recorded | {took} |"


def _read_row(what: str, call: Callable[[], int]) -> str:
    call()  # warm: the graph union and statement caches, as on a running server
    runs = [_timed(call) for _ in range(REPEAT)]
    return f"| {what} | {runs[-1][0]:,} | {_spread([t for _, t in runs])} |"


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")


if __name__ == "__main__":
    sys.exit(main())
