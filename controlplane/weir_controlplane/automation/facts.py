"""`StoredFacts`: one tick's view of a deployment's state, read in a few batched queries.

The asset graph comes from the code locations' snapshots; what changed since the previous
tick from asset_latest (the rows past the tick's cursor); the outcomes of the assets to
evaluate from asset_latest in batches (`prefetch`); runs not yet ended from the runs'
status index; partition keys from each asset's partitions definition (dynamic keys from
their store). "Newly updated" is a materialization whose event id is past the cursor the
previous tick left.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
from collections import defaultdict
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime

from weir_partitions import MultiKeySpace, StaticKeySpace, TimeWindowKeySpace
from weir_protos.v1 import definitions_pb2

from weir_controlplane.api.asset_graph import DeploymentGraph
from weir_controlplane.api.partition_keys import space_of
from weir_controlplane.api.partitions import StoredDynamicKeySpace
from weir_controlplane.automation.conditions import (
    UNPARTITIONED,
    AssetFacts,
    AssetMemory,
    CheckFacts,
    Dep,
    Partitions,
    UnsupportedConditionError,
)
from weir_controlplane.backfills.daemon import BACKFILL_TAG
from weir_controlplane.errors import ApiError, InvalidArgumentError
from weir_controlplane.locations.graph import key_string
from weir_controlplane.partitions import DependencyMapping, dependency_mapping
from weir_controlplane.partitions.wire import DynamicSpaces
from weir_controlplane.storage import DeploymentScope, DynamicPartitionStorage
from weir_controlplane.storage.automation import AutomationStorage, LatestCheck

_ONE: Partitions = frozenset({UNPARTITIONED})
# The most keys of a dynamic definition a tick evaluates (the first added).
_DYNAMIC_PAGE = 100_000


class StoredFacts:
    """`conditions.Facts` over storage, for one tick of one deployment."""

    def __init__(
        self,
        scope: DeploymentScope,
        graph: DeploymentGraph,
        storage: AutomationStorage,
        dynamic: DynamicPartitionStorage,
        *,
        now: datetime,
        previous_tick_at: datetime | None,
        event_cursor: int,
        memories: Mapping[str, AssetMemory],
    ) -> None:
        self.now = now
        self.previous_tick_at = None if previous_tick_at is None else previous_tick_at.timestamp()
        self._scope = scope
        self._graph = graph
        self._storage = storage
        self._dynamic = dynamic
        self._dynamic_spaces: DynamicSpaces = lambda name: StoredDynamicKeySpace(
            dynamic, scope, name
        )
        self._memories = memories
        self._facts: dict[str, AssetFacts] = {}
        self._requested: dict[str, Partitions] = {}
        self._dynamic_keys: dict[str, Partitions] = {}
        # Assets with a materialization or failure past the cursor: changed since the
        # previous tick (found by the database; their outcomes are read when needed).
        self.changed, self.event_cursor = storage.changed_assets(scope, after=event_cursor)
        self._cursor = event_cursor
        self._loaded: set[str] = set()
        self._materialized: dict[str, set[str]] = defaultdict(set)
        self._failed: dict[str, set[str]] = defaultdict(set)
        self._newly: dict[str, set[str]] = defaultdict(set)
        self._latest_run: dict[str, dict[str, str]] = defaultdict(dict)
        self._latest_event: dict[str, dict[str, int]] = defaultdict(dict)
        # Per asset, the partitions in queued or running runs, and in those of backfills.
        self.in_progress, self.backfilling = storage.unended_run_partitions(
            scope, tagged=BACKFILL_TAG
        )
        self._targets: dict[str, frozenset[str]] = {}
        self._checks: dict[str, tuple[CheckFacts, ...]] = {}
        self._check_rows: dict[tuple[str, str], list[LatestCheck]] | None = None

    def prefetch(self, keys: Collection[str]) -> None:
        """Read the outcomes of `keys` (and their upstreams) in one batch, ahead of their
        evaluation; the runs that newly updated them at once too."""
        wanted = set(keys)
        for key in keys:
            wanted.update(self._graph.parents(key))
        wanted -= self._loaded
        if not wanted:
            return
        every = len(wanted) * 2 > len(self._graph.nodes)
        rows = self._storage.latest_outcomes(self._scope, None if every else wanted)
        self._loaded |= wanted
        new_runs = set()
        for row in rows:
            key = row.asset_key
            if every and key in self._loaded and key not in wanted:
                continue  # read before: already in place
            success, failure = row.materialization_event_id, row.failure_event_id
            if success is not None:
                self._materialized[key].add(row.partition)
                self._latest_event[key][row.partition] = success
                if row.materialization_run_id is not None:
                    self._latest_run[key][row.partition] = row.materialization_run_id
                if success > self._cursor:
                    self._newly[key].add(row.partition)
                    if row.materialization_run_id is not None:
                        new_runs.add(row.materialization_run_id)
            if failure is not None and (success is None or failure > success):
                self._failed[key].add(row.partition)
        if every:
            self._loaded.update(self._graph.nodes)
        new_runs -= self._targets.keys()
        if new_runs:
            self._targets.update(self._storage.run_targets(self._scope, new_runs))

    # --- conditions.Facts ---------------------------------------------------------------

    def asset(self, key: str) -> AssetFacts:
        facts = self._facts.get(key)
        if facts is None:
            facts = self._facts[key] = self._build(key)
        return facts

    def previous(self, key: str) -> AssetMemory | None:
        return self._memories.get(key)

    def run_targets(self, run_id: str) -> frozenset[str]:
        targets = self._targets.get(run_id)
        if targets is None:
            targets = self._targets[run_id] = self._storage.run_targets(self._scope, [run_id])[
                run_id
            ]
        return targets

    def data_versions(self, key: str, partitions: Partitions) -> Mapping[str, str]:
        events = self._latest_event.get(key, {})
        ids = {p: events[p] for p in partitions if p in events}
        versions = self._storage.materialization_data_versions(self._scope, ids.values())
        return {p: versions.get(event_id, "") for p, event_id in ids.items()}

    def checks(self, key: str) -> Sequence[CheckFacts]:
        found = self._checks.get(key)
        if found is None:
            found = self._checks[key] = self._build_checks(key)
        return found

    def requested_now(self, key: str) -> Partitions:
        return self._requested.get(key, frozenset())

    def record_request(self, key: str, partitions: Partitions) -> None:
        self._requested[key] = partitions

    # --- building -----------------------------------------------------------------------

    def _build(self, key: str) -> AssetFacts:
        if key not in self._loaded:
            self.prefetch([key])
        node = self._graph.node(key)
        universe, window = self._universe(key, node)
        return AssetFacts(
            key=key,
            universe=universe,
            materialized=frozenset(self._materialized.get(key, ())),
            failed=frozenset(self._failed.get(key, ())),
            in_progress=frozenset(self.in_progress.get(key, ())),
            backfill_in_progress=frozenset(self.backfilling.get(key, ())),
            newly_updated=frozenset(self._newly.get(key, ())),
            latest_run=self._latest_run.get(key, {}),
            code_version=node.code_version if node is not None else "",
            deps=tuple(self._dep(node, d) for d in node.deps) if node is not None else (),
            latest_window=window,
            executable=node is not None and node.is_executable,
        )

    def _build_checks(self, key: str) -> tuple[CheckFacts, ...]:
        """The asset's checks, each as its asset with the check's evaluations for outcomes
        (read for every asset with checks at once, on the first asked for)."""
        node = self._graph.node(key)
        if node is None or not node.check_specs:
            return ()
        if self._check_rows is None:
            with_checks = [k for k, n in self._graph.nodes.items() if n.check_specs]
            self._check_rows = defaultdict(list)
            for row in self._storage.latest_checks(self._scope, with_checks):
                self._check_rows[(row.asset_key, row.check_name)].append(row)
        asset = self.asset(key)
        found = []
        for spec in node.check_specs:
            rows = self._check_rows.get((key, spec.name), [])
            facts = dataclasses.replace(
                asset,
                materialized=frozenset(r.partition for r in rows),
                failed=frozenset(r.partition for r in rows if not r.passed),
                newly_updated=frozenset(r.partition for r in rows if r.event_id > self._cursor),
                latest_run={r.partition: r.run_id for r in rows},
                deps=(),
                check=spec.name,
            )
            found.append(CheckFacts(spec.name, spec.blocking, facts))
        return tuple(found)

    def _universe(
        self, key: str, node: definitions_pb2.AssetNode | None
    ) -> tuple[Partitions, Callable[[float | None], Partitions] | None]:
        if node is None or not node.HasField("partitions_def"):
            return _ONE, None
        definition = node.partitions_def
        now = self.now.timestamp()
        if definition.WhichOneof("kind") == "dynamic":
            return self._dynamic_universe(definition.dynamic.name), None
        try:
            space = space_of(node)
        except ApiError as exc:
            raise UnsupportedConditionError(exc.message) from None
        if isinstance(space, TimeWindowKeySpace):
            keys = frozenset(space.keys(now))
            return keys, _latest_windows(space, now, keys)
        if isinstance(space, StaticKeySpace):
            return frozenset(space.keys_slice(0, space.count(), now)), None
        assert isinstance(space, MultiKeySpace)
        if not space.indexable():
            raise UnsupportedConditionError(
                f"asset {key!r} is multi-partitioned with a dynamic dimension or more than one "
                "time window, whose keys automation does not list yet"
            )
        keys = frozenset(space.keys_slice(0, space.count(now), now))
        return keys, _latest_multi_windows(space, now, keys)

    def _dynamic_universe(self, name: str) -> Partitions:
        if name not in self._dynamic_keys:
            self._dynamic_keys[name] = frozenset(
                self._dynamic.keys_from(self._scope, name, 0, _DYNAMIC_PAGE)
            )
        return self._dynamic_keys[name]

    def _dep(self, node: definitions_pb2.AssetNode, dep: definitions_pb2.AssetDep) -> Dep:
        upstream_key = "/".join(dep.asset_key.path)
        upstream = self._graph.node(upstream_key)
        if upstream is None or not upstream.HasField("partitions_def"):
            return Dep(upstream_key, "unpartitioned")
        mapping = (
            dep.partition_mapping.WhichOneof("kind") if dep.HasField("partition_mapping") else None
        )
        if not node.HasField("partitions_def") or mapping == "all":
            return Dep(upstream_key, "all")
        same = node.partitions_def == upstream.partitions_def
        if mapping in (None, "identity") and same:
            return Dep(upstream_key, "identity")
        try:  # any other mapping: through the partitions engine, as launches and backfills
            related = dependency_mapping(
                self._graph.nodes, key_string(node.key), upstream_key, self._dynamic_spaces
            )
        except ApiError as exc:
            return Dep(upstream_key, exc.message)
        return Dep(upstream_key, "mapped", EngineRelation(related, self.now.timestamp()))


def _latest_windows(
    space: TimeWindowKeySpace, now: float, keys: Partitions
) -> Callable[[float | None], Partitions]:
    """The keys whose windows end within a lookback of the latest window's end."""
    last = space.last_key(now)

    def within(lookback: float | None) -> Partitions:
        if last is None:
            return frozenset()
        if not lookback:
            return frozenset({last})
        last_end = space.window(space.require_tick(last))[1].timestamp()
        bounds = space.tick_bounds(now)
        assert bounds is not None
        first = space.clock.prev_tick(math.floor(last_end - lookback))
        return frozenset(space.keys_between(max(first, bounds[0]), bounds[1])) & keys

    return within


def _latest_multi_windows(
    space: MultiKeySpace, now: float, keys: Partitions
) -> Callable[[float | None], Partitions] | None:
    at = next(
        (i for i, (_, s) in enumerate(space.dimensions) if isinstance(s, TimeWindowKeySpace)),
        None,
    )
    if at is None:
        return None
    time_space = space.dimensions[at][1]
    assert isinstance(time_space, TimeWindowKeySpace)
    windows = _latest_windows(time_space, now, frozenset(time_space.keys(now)))

    def within(lookback: float | None) -> Partitions:
        latest = windows(lookback)
        return frozenset(k for k in keys if (space.split(k) or [""] * (at + 1))[at] in latest)

    return within


class EngineRelation:
    """An edge's keys both ways through the shared partitions engine, leaving out upstream
    partitions that do not exist (the first day of a day-before mapping reads none): to
    automation they are not there to be missing or updated."""

    def __init__(self, mapping: DependencyMapping, now: float) -> None:
        if dataclasses.is_dataclass(mapping.mapping) and hasattr(mapping.mapping, "allow_missing"):
            mapping = dataclasses.replace(
                mapping, mapping=dataclasses.replace(mapping.mapping, allow_missing=True)
            )
        self._mapping, self._now = mapping, now

    def upstream_keys(self, downstream_keys: Collection[str]) -> Collection[str]:
        keys = sorted(downstream_keys)
        try:
            return self._mapping.upstream_keys(keys, self._now)
        except InvalidArgumentError:  # some read keys upstream does not have: key by key
            found: set[str] = set()
            for key in keys:
                with contextlib.suppress(InvalidArgumentError):
                    found.update(self._mapping.upstream_keys([key], self._now))
            return found

    def downstream_keys(self, upstream_keys: Collection[str]) -> Collection[str]:
        return self._mapping.downstream_keys(sorted(upstream_keys), self._now)
