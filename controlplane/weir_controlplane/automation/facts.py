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
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from datetime import datetime

from weir_partitions import MultiKeySpace, StaticKeySpace, TimeWindowKeySpace
from weir_partitions.conditions.windows import latest_multi_windows, latest_windows
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
    Outline,
    Partitions,
    UnsupportedConditionError,
)
from weir_controlplane.backfills.daemon import BACKFILL_TAG
from weir_controlplane.errors import ApiError, InvalidArgumentError
from weir_controlplane.locations.graph import key_string
from weir_controlplane.partitions import DependencyMapping, dependency_mapping
from weir_controlplane.partitions.wire import DynamicSpaces
from weir_controlplane.storage import DeploymentScope, DynamicPartitionStorage
from weir_controlplane.storage.automation import AutomationStorage, LatestCheck, LatestOutcome

_ONE: Partitions = frozenset({UNPARTITIONED})
_NONE: Partitions = frozenset()
_NO_RUNS: Mapping[str, str] = {}  # shared, never changed
_new_outline = tuple.__new__
# An asset's universe, latest window, code version, dependencies, whether executable.
_Definition = tuple[
    Partitions, Callable[[float | None], Partitions] | None, str, tuple[Dep, ...], bool
]
# The most keys of a dynamic definition a tick evaluates (the first added).
_DYNAMIC_PAGE = 100_000
# The most partitions of a multi-partitioned asset a tick evaluates.
_MAX_MULTI_KEYS = 1_000_000


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
        definitions: dict[str, _Definition] | None = None,
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
        # What an asset's facts take from its definition alone, kept by the caller across
        # ticks of one snapshot: for assets and edges whose keys do not move with time.
        self._definitions = {} if definitions is None else definitions
        self._freshness: dict[str, str] | None = None
        self._facts: dict[str, AssetFacts] = {}
        self._requested: dict[str, Partitions] = {}
        self._dynamic_keys: dict[str, tuple[StaticKeySpace, Partitions]] = {}
        # Assets with a materialization or failure past the cursor: changed since the
        # previous tick (found by the database; their outcomes are read when needed).
        self.changed, self.event_cursor = storage.changed_assets(scope, after=event_cursor)
        self._cursor = event_cursor
        self._loaded: set[str] = set()
        # Per asset read, its partitions by outcome, frozen as they are read (most assets'
        # are the unpartitioned partition alone: the one shared set `_ONE`).
        self._materialized: dict[str, Partitions] = {}
        self._failed: dict[str, Partitions] = {}
        self._newly: dict[str, Partitions] = {}
        # Partition -> the run of its latest materialization; an unpartitioned asset's is
        # one dict shared by every asset whose latest run is the same (never changed).
        self._latest_run: dict[str, Mapping[str, str]] = {}
        self._runs_alone: dict[str, Mapping[str, str]] = {}
        # The event id of each latest materialization: of an asset's unpartitioned
        # partition, and of its other partitions.
        self._latest_alone: dict[str, int] = {}
        self._latest_event: dict[str, dict[str, int]] = {}
        # Per asset, the partitions in queued or running runs, and in those of backfills.
        self.in_progress, self.backfilling = storage.unended_run_partitions(
            scope, tagged=BACKFILL_TAG
        )
        # The same, frozen once for outlines (few assets are in progress).
        self._in_progress = {key: _frozen(parts) for key, parts in self.in_progress.items()}
        self._backfilling = {key: _frozen(parts) for key, parts in self.backfilling.items()}
        self._unpartitioned_deps: dict[str, Dep] = {}
        self._targets: dict[str, frozenset[str]] = {}
        self._checks: dict[str, tuple[CheckFacts, ...]] = {}
        self._check_rows: dict[tuple[str, str], list[LatestCheck]] | None = None

    def unread(self, keys: Iterable[str]) -> set[str]:
        """Those of `keys` whose outcomes this tick has not read yet."""
        return set(keys).difference(self._loaded)

    def prefetch(self, keys: Collection[str]) -> None:
        """Read the outcomes of `keys` (and their upstreams) in one batch, ahead of their
        evaluation; the runs that newly updated them at once too."""
        nodes, parents = self._graph.nodes, self._graph.union.parents
        if len(keys) * 2 > len(nodes):  # most of the graph (a graph's first tick): all of it
            wanted = nodes.keys() - self._loaded
        else:
            wanted = set(keys)
            for key in keys:
                wanted.update(parents.get(key, ()))
            wanted -= self._loaded
        if not wanted:
            return
        every = len(wanted) * 2 > len(nodes)
        rows = self._storage.latest_outcomes(self._scope, None if every else wanted)
        earlier = set(self._loaded) if every else ()  # read before: already in place
        self._loaded |= wanted
        new_runs = set()
        cursor = self._cursor
        # Unpacked, not read by attribute, and the tables bound once: a graph's first tick
        # reads a row per asset. An unpartitioned row's sets are the shared `_ONE`; the rows
        # of partitions are gathered and frozen once per asset below.
        materialized, latest_event, latest_run = (
            self._materialized,
            self._latest_alone,
            self._latest_run,
        )
        newly, failed, runs_alone = self._newly, self._failed, self._runs_alone
        partitioned = []
        for row in rows:
            key, partition, success, run_id, failure = row
            if key in earlier:
                continue
            if partition:
                partitioned.append(row)
                continue
            if success is not None:
                materialized[key] = _ONE
                latest_event[key] = success
                if run_id is not None:
                    alone = runs_alone.get(run_id)
                    if alone is None:
                        alone = runs_alone[run_id] = {UNPARTITIONED: run_id}
                    latest_run[key] = alone
                if success > cursor:
                    newly[key] = _ONE
                    if run_id is not None:
                        new_runs.add(run_id)
            if failure is not None and (success is None or failure > success):
                failed[key] = _ONE
        if partitioned:
            new_runs |= self._read_partitions(partitioned)
        if every:
            self._loaded.update(nodes)
        self._define_unpartitioned(wanted)
        new_runs -= self._targets.keys()
        if new_runs:
            self._targets.update(self._storage.run_targets(self._scope, new_runs))

    def _read_partitions(self, rows: Iterable[LatestOutcome]) -> set[str]:
        """`prefetch`'s rows of partitions, set by set (an asset read with the unpartitioned
        partition too keeps it); the runs that newly updated them."""
        materialized: dict[str, set[str]] = defaultdict(set)
        failed: dict[str, set[str]] = defaultdict(set)
        newly: dict[str, set[str]] = defaultdict(set)
        latest_run: dict[str, dict[str, str]] = defaultdict(dict)
        new_runs = set()
        for key, partition, success, run_id, failure in rows:
            if success is not None:
                materialized[key].add(partition)
                self._latest_event.setdefault(key, {})[partition] = success
                if run_id is not None:
                    latest_run[key][partition] = run_id
                if success > self._cursor:
                    newly[key].add(partition)
                    if run_id is not None:
                        new_runs.add(run_id)
            if failure is not None and (success is None or failure > success):
                failed[key].add(partition)
        for read, found in (
            (materialized, self._materialized),
            (failed, self._failed),
            (newly, self._newly),
        ):
            for key, partitions in read.items():
                found[key] = found.get(key, _NONE) | partitions
        for key, runs in latest_run.items():
            self._latest_run[key] = {**self._latest_run.get(key, _NO_RUNS), **runs}
        return new_runs

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
        if key in self._latest_alone:
            events = {**events, UNPARTITIONED: self._latest_alone[key]}
        ids = {p: events[p] for p in partitions if p in events}
        versions = self._storage.materialization_data_versions(self._scope, ids.values())
        return {p: versions.get(event_id, "") for p, event_id in ids.items()}

    def freshness(self, key: str) -> str | None:
        # Read once per tick, and only by a tick whose conditions ask.
        if self._freshness is None:
            self._freshness = self._storage.freshness_states(self._scope)
        return self._freshness.get(key)

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

    def outline(self, key: str) -> Outline:
        """What alike.py reads of the asset's facts: a graph's first ticks read it of every
        asset, and build the AssetFacts of few."""
        if key not in self._loaded:
            self.prefetch([key])
        definition = self._definitions.get(key)
        if definition is None:
            definition = self._definition(key)
        universe, window, code_version, deps, executable = definition
        signature = (
            universe,
            self._materialized.get(key, _NONE),
            self._failed.get(key, _NONE),
            self._in_progress.get(key, _NONE),
            self._backfilling.get(key, _NONE),
            self._newly.get(key, _NONE),
            code_version,
            executable,
        )
        # (tuple.__new__: a NamedTuple's own __new__ costs more, and a tick makes one an asset)
        return _new_outline(Outline, (signature, self._latest_run.get(key, _NO_RUNS), deps, window))

    def _build(self, key: str) -> AssetFacts:
        signature, latest_run, deps, window = self.outline(key)
        universe, materialized, failed, in_progress, backfilling, newly, code, executable = (
            signature
        )
        return AssetFacts(  # by position: a graph's first tick builds many
            key, universe, materialized, failed, in_progress, backfilling, newly, latest_run,
            code, deps, window, executable,
        )  # fmt: skip

    def _definition(self, key: str) -> _Definition:
        node = self._graph.node(key)
        if node is None:
            return _ONE, None, "", (), False
        if not node.HasField("partitions_def"):
            self._define_unpartitioned([key])
            return self._definitions[key]
        universe, window = self._universe(key, node)
        deps = tuple(self._dep(node, d) for d in node.deps)
        return universe, window, node.code_version, deps, node.is_executable

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
            return keys, latest_windows(space, now, keys)
        if isinstance(space, StaticKeySpace):
            return frozenset(space.keys_slice(0, space.count(), now)), None
        assert isinstance(space, MultiKeySpace)
        if not space.indexable():
            # A dynamic dimension (its stored keys, read now) or a second time window: the
            # keys as of now, every dimension but the first time window listed.
            try:  # dynamic dimensions with their keys as this tick read them
                stored = space_of(node, self._dynamic_listed)
            except ApiError as exc:
                raise UnsupportedConditionError(exc.message) from None
            assert isinstance(stored, MultiKeySpace)
            space = stored.frozen(now)
        count = space.count(now)
        if count > _MAX_MULTI_KEYS:
            raise UnsupportedConditionError(
                f"asset {key!r} has {count:,} partitions, more than automation evaluates "
                f"at once ({_MAX_MULTI_KEYS:,})"
            )
        keys = frozenset(space.keys_slice(0, count, now))
        return keys, latest_multi_windows(space, now, keys)

    def _dynamic_universe(self, name: str) -> Partitions:
        return self._dynamic_read(name)[1]

    def _dynamic_listed(self, name: str) -> StaticKeySpace:
        return self._dynamic_read(name)[0]

    def _dynamic_read(self, name: str) -> tuple[StaticKeySpace, Partitions]:
        """A dynamic definition's keys (in the order added, and as a set), read once per
        tick."""
        found = self._dynamic_keys.get(name)
        if found is None:
            listed = self._dynamic.keys_from(self._scope, name, 0, _DYNAMIC_PAGE)
            found = self._dynamic_keys[name] = (StaticKeySpace(listed), frozenset(listed))
        return found

    def _define_unpartitioned(self, keys: Iterable[str]) -> None:
        """The definitions of the unpartitioned assets among `keys` not yet defined, in one
        pass (a graph's first tick defines every asset). Each edge's mapping is its
        upstream's alone: one Dep per upstream, shared; nothing in them moves with time."""
        plain, parents, definitions = (
            self._graph.union.definition_facts,
            self._graph.union.parents,
            self._definitions,
        )
        deps_of, dep = self._unpartitioned_deps, self._unpartitioned_dep
        # (Most are defined already: the caller keeps the definitions across ticks.)
        for key in set(keys).difference(definitions):
            found = plain.get(key)
            if found is None or found.partitioned:
                continue
            ups = parents.get(key)
            deps = tuple([deps_of.get(up) or dep(up) for up in ups]) if ups else ()
            definitions[key] = (_ONE, None, found.code_version, deps, found.executable)

    def _unpartitioned_dep(self, upstream_key: str) -> Dep:
        """The edge from `upstream_key` to an unpartitioned asset."""
        found = self._unpartitioned_deps.get(upstream_key)
        if found is None:
            upstream = self._graph.union.definition_facts.get(upstream_key)
            partitioned = upstream is not None and upstream.partitioned
            found = Dep(upstream_key, "all" if partitioned else "unpartitioned")
            self._unpartitioned_deps[upstream_key] = found
        return found

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


def _frozen(partitions: set[str] | None) -> Partitions:
    """`partitions` frozen; none, or the unpartitioned partition alone, as one shared set
    (most assets' sets are one of the two, and a shared set's hash is computed once)."""
    if not partitions:
        return _NONE
    if len(partitions) == 1 and UNPARTITIONED in partitions:
        return _ONE
    return frozenset(partitions)


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
