"""Measure one automation tick over 10,000 assets with eager() conditions (target < 200 ms).

    .venv/bin/python bench/automation.py            # print the figures
    .venv/bin/python bench/automation.py --write    # and put them in RESULTS.md

The automation daemon runs in this process on a SQLite file (as `weir dev` does), with one
code location whose snapshot holds 10,000 layered assets (100 per layer, each reading two
of the layer before) that all carry `AutomationCondition.eager()`. asset_latest is filled
in bulk as if every asset had been materialized once. Timed, each on its own tick (the
injected clock moves a minute per tick):

- the first tick, which takes stock of every asset and stores 10,000 states and evaluations
  (those of assets in one situation as one shared tree and, per asset, its dependencies);
- the next two, while each asset's memory settles: the second sees every asset's update
  of the first pass (no longer new) and stores the changed evaluations; an asset whose
  evaluation read no passing event (no first evaluation, update or request of it or an
  upstream) settles there, so the third evaluates none of them (automation/alike.py);
- steady ticks, nothing new upstream (the common case), 10 times;
- a tick after the 100 source assets were materialized again: it evaluates them and their
  downstreams, requests the 100 direct downstreams and (as each request is seen by the
  layer below) every asset below them, submits one run for them and stores the changed
  evaluations.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if __package__ in (None, ""):  # run as a script: make the `bench` package importable
    sys.path.insert(0, str(ROOT))

import weir as dg  # noqa: E402
from weir_codeserver.wire_automation import automation_condition_message  # noqa: E402
from weir_controlplane import heap  # noqa: E402
from weir_controlplane.automation import AutomationDaemon, AutomationSettings  # noqa: E402
from weir_controlplane.locations import CodeLocationRegistry  # noqa: E402
from weir_controlplane.locations.graph import SnapshotGraph  # noqa: E402
from weir_controlplane.runs import RunCoordinator, RunSettings  # noqa: E402
from weir_controlplane.storage import DeploymentScope, Storage  # noqa: E402
from weir_controlplane.storage.schema import asset_latest  # noqa: E402
from weir_protos.v1 import common_pb2, definitions_pb2  # noqa: E402

from bench.report import replace_kept_section, run_context_lines  # noqa: E402

RESULTS = ROOT / "bench" / "RESULTS.md"
ASSETS = 10_000
WIDTH = 100
STEADY_TICKS = 10
ROWS_PER_INSERT = 20_000


class Clock:
    def __init__(self) -> None:
        self.now = datetime.datetime(2026, 3, 1, tzinfo=datetime.UTC)

    def __call__(self) -> datetime.datetime:
        self.now += datetime.timedelta(minutes=1)
        return self.now


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
    digests = _digests_time()
    section = "\n".join(
        [
            "## Automation tick (`bench/automation.py`)",
            "",
            "Written by `bench/automation.py --write`: one automation tick of the control "
            f"plane's daemon over {ASSETS:,} layered assets, each with `eager()`, on SQLite "
            "in-process (see the script's docstring). A tick finds what changed since the "
            "previous one (materializations and failures past its cursor, runs started or "
            "ended, what it requested), evaluates in topological order the assets that "
            "read a change or had not settled, submits the requested runs and stores what "
            "changed. Target: under 200 ms. The first two ticks of 10,000 assets new to "
            "the evaluator evaluate every one of them (the second because every asset's "
            "update is no longer new); assets in the same situation share one evaluation "
            "of their tree (automation/alike.py), stored once "
            "(automation_shared_evaluations) with a row per asset naming only its own "
            "dependencies, and copies' states are one JSON text per situation. What an "
            "asset's facts take from its definition alone (condition and definition "
            "digests, condition trees, partitions, code versions, unpartitioned assets' "
            "edges) is made when the snapshot loads (SnapshotGraph, timed below), not on "
            "a tick. A situation is read from each asset's outline (its partition sets, "
            "code version and dependencies as the tick read them, StoredFacts.outline), "
            "whose unpartitioned sets and latest-run mappings are shared by the assets "
            "that have the same, and names its parts by interned ids; an asset's "
            "AssetFacts are built only when its tree is evaluated. What the first two "
            "ticks still spend is per-asset work: SQLite's writing 10,000 state rows and "
            "10,000 evaluation rows (a few hundred per INSERT ... SELECT FROM VALUES, what "
            "every row has the same bound once; with the commit, about a quarter of their "
            "CPU time), "
            "reading each asset's outcome, its outline and situation, its copy of the "
            "shared evaluation and its stored row. After the sources update, eager() "
            "requests their downstreams and, on the same tick, every layer below (one "
            "run); the candidates each request adds are read in one query, not one an "
            "asset.",
            "",
            *run_context_lines(began, _now()),
            "  (CPU time, the process's own, is less inflated by a shared machine's load)",
            "",
            "| tick | assets evaluated | runs submitted | evaluations stored | time | CPU time |",
            "| --- | --- | --- | --- | --- | --- |",
            *lines,
            "",
            f"Made once per snapshot as its location loads: the {ASSETS:,} assets' condition "
            f"and definition digests, conditions and definition facts in {_ms(digests[0])} "
            f"({_ms(digests[1])} CPU time).",
        ]
    )
    print(section)
    if args.write:
        RESULTS.write_text(replace_kept_section(RESULTS.read_text(), "automation", section))
        print(f"wrote {RESULTS}", file=sys.stderr)
    return 0


def measure(storage: Storage) -> list[str]:
    with prepared(storage, ASSETS) as (daemon, scope, names):
        lines = [
            _row("first (takes stock)", *_tick(daemon, scope)),
            _row("second (settling)", *_tick(daemon, scope)),
            _row("third (settled)", *_tick(daemon, scope)),
        ]
        steady = [_tick(daemon, scope) for _ in range(STEADY_TICKS)]
        seconds = [s for _, s, _ in steady]
        cpu = [c for _, _, c in steady]
        report = steady[-1][0]
        lines.append(
            f"| steady, nothing new ({STEADY_TICKS} ticks) | {report.evaluated:,} "
            f"| {len(report.run_ids)} | {report.stored_evaluations:,} "
            f"| median {_ms(statistics.median(seconds))} / max {_ms(max(seconds))} "
            f"| median {_ms(statistics.median(cpu))} |"
        )
        _materialized(storage, scope, names[:WIDTH], first_event_id=len(names) + 1)
        lines.append(_row("after 100 source assets updated", *_tick(daemon, scope)))
    return lines


@contextlib.contextmanager
def prepared(
    storage: Storage, assets: int
) -> Iterator[tuple[AutomationDaemon, DeploymentScope, list[str]]]:
    """A daemon over one location of `assets` layered eager assets, each materialized
    once, its snapshot loaded (as at start-up); also bench/workloads/automation_tick.py's."""
    scope = storage.deployments.ensure_deployment("bench")
    eager = automation_condition_message(dg.AutomationCondition.eager())
    # The hash names the size: graphs are cached by it across databases of one process.
    content_hash = f"bench-{assets}"
    snap = definitions_pb2.DefinitionsSnapshot(
        assets=_layered(eager, assets), content_hash=content_hash
    )
    storage.code_locations.upsert(scope, "bench", address="127.0.0.1:1")
    storage.code_locations.set_loaded(scope, "bench", content_hash, snap.SerializeToString())
    registry = CodeLocationRegistry(storage)
    coordinator = RunCoordinator(storage, registry, RunSettings())  # queue not started
    daemon = AutomationDaemon(
        storage,
        storage.automation,
        registry,
        coordinator,
        AutomationSettings(interval=1),
        clock=Clock(),
    )
    names = [node.key.path[0] for node in snap.assets]
    _materialized(storage, scope, names, first_event_id=1)
    registry.all_graphs(scope)  # the snapshot loaded, as at start-up
    heap.settle_after_startup()  # the collector settings `weir dev` runs with
    try:
        yield daemon, scope, names
    finally:
        coordinator.stop()
        registry.stop()


def _digests_time() -> tuple[float, float]:
    """Seconds (wall, CPU) to make a fresh snapshot graph's automation digests, as its
    location's load does."""
    eager = automation_condition_message(dg.AutomationCondition.eager())
    graph = SnapshotGraph(definitions_pb2.DefinitionsSnapshot(assets=_layered(eager, ASSETS)))
    began, cpu = time.perf_counter(), time.process_time()
    graph.automation_digests  # noqa: B018
    return time.perf_counter() - began, time.process_time() - cpu


def _tick(daemon: AutomationDaemon, scope: DeploymentScope) -> tuple[Any, float, float]:
    """One tick's report, wall time and CPU time."""
    began, cpu = time.perf_counter(), time.process_time()
    report = daemon.tick(scope)
    elapsed, cpu = time.perf_counter() - began, time.process_time() - cpu
    assert report is not None
    return report, elapsed, cpu


def _row(what: str, report: Any, seconds: float, cpu: float) -> str:
    return (
        f"| {what} | {report.evaluated:,} | {len(report.run_ids)} "
        f"| {report.stored_evaluations:,} | {_ms(seconds)} | {_ms(cpu)} |"
    )


def _layered(condition: Any, assets: int) -> list[definitions_pb2.AssetNode]:
    nodes = []
    for index in range(assets):
        layer, position = divmod(index, WIDTH)
        name = f"a_{layer}_{position}"
        node = definitions_pb2.AssetNode(
            key=common_pb2.AssetKey(path=[name]), is_executable=True, node_name=name
        )
        if layer:
            for upstream in (position, (position + 1) % WIDTH):
                node.deps.add().asset_key.path.append(f"a_{layer - 1}_{upstream}")
        node.automation_condition.CopyFrom(condition)
        nodes.append(node)
    return nodes


def _materialized(
    storage: Storage, scope: DeploymentScope, names: list[str], first_event_id: int
) -> None:
    """asset_latest as if each asset had just been materialized (by a run of its own)."""
    now = datetime.datetime.now(datetime.UTC)
    rows = [
        {
            "deployment_id": scope.deployment_id,
            "asset_key": name,
            "partition": "",
            "materialization_event_id": first_event_id + i,
            "materialization_run_id": "bench",
            "materialized_at": now,
            "failure_event_id": None,
            "failure_run_id": None,
            "failed_at": None,
        }
        for i, name in enumerate(names)
    ]
    with storage.database.write() as conn:
        conn.execute(
            asset_latest.delete().where(
                asset_latest.c.deployment_id == scope.deployment_id,
                asset_latest.c.asset_key.in_(names),
            )
        )
        for start in range(0, len(rows), ROWS_PER_INSERT):
            conn.execute(asset_latest.insert(), rows[start : start + ROWS_PER_INSERT])


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")


if __name__ == "__main__":
    sys.exit(main())
