"""The runs of a backfill, planned from the snapshot alone: no storage, no RPCs.

Given the asset graph, the selected assets, the partitions to materialize of each and each
asset's backfill policy, `plan_backfill` returns the runs in an order where every run comes
after the runs it reads from, each run naming those runs (`after`), so a failed run fails
only the runs downstream of it.

Assets share a run when they have the same partitions definition, backfill policy and
target partitions, and each reads the other's partition of the same key (identity, or a
time window without offsets): the run then covers the same partitions of all of them. A
group never takes an asset that reads it through an asset outside it (the run would have
to wait for itself). Across other edges the dependency's partition mapping decides which
runs read which: the runs of an hourly asset covering day D come before the run of its
daily downstream for D; with ``TimeWindowPartitionMapping(start_offset=-1)`` day D's run
follows those of D-1 and D.

Example::

    plan = plan_backfill(graph, {"events", "daily"}, {"events": hours, "daily": days})
    plan.runs[0]   # PlannedRun(asset_keys=('events',), partition_keys=('2024-01-01-00:00',))
    plan.runs[24]  # PlannedRun(asset_keys=('daily',), partition_keys=('2024-01-01',),
                   #            after=(0, 1, ..., 23))
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

from weir_partitions import KeySpace
from weir_partitions.mappings import IdentityMapping, KeyMapping, TimeWindowMapping

from weir_controlplane.backfills.chunks import RunPolicy, chunks
from weir_controlplane.errors import InvalidArgumentError
from weir_controlplane.locations.graph import SnapshotGraph
from weir_controlplane.partitions import (
    DependencyMapping,
    DynamicSpaces,
    asset_space,
    dependency_mappings,
)


@dataclass(frozen=True)
class PlannedRun:
    """One run of a backfill: its assets (in dependency order), the partitions it covers (in
    their order; none for unpartitioned assets), and the indexes of the runs it reads from."""

    asset_keys: tuple[str, ...]
    partition_keys: tuple[str, ...]
    after: tuple[int, ...] = ()

    @property
    def partition_key(self) -> str | None:
        """The one partition of a single-partition run."""
        return self.partition_keys[0] if len(self.partition_keys) == 1 else None

    @property
    def partition_range(self) -> tuple[str, str] | None:
        """(first, last) of a run over several consecutive partitions."""
        keys = self.partition_keys
        return (keys[0], keys[-1]) if len(keys) > 1 else None


@dataclass(frozen=True)
class BackfillPlan:
    runs: tuple[PlannedRun, ...]

    def downstream_of(self, index: int) -> set[int]:
        """The runs that read, directly or not, from run `index`: those its failure fails."""
        readers: dict[int, list[int]] = {}
        for i, run in enumerate(self.runs):
            for before in run.after:
                readers.setdefault(before, []).append(i)
        found: set[int] = set()
        pending = [index]
        while pending:
            for reader in readers.get(pending.pop(), ()):
                if reader not in found:
                    found.add(reader)
                    pending.append(reader)
        return found


@dataclass
class _Group:
    """Assets that run together, and the runs cut from their target partitions."""

    assets: list[str]
    space: KeySpace | None
    policy: RunPolicy
    targets: tuple[str, ...]
    runs: list[int] = field(default_factory=list)  # indexes into the plan, in key order
    run_of_key: dict[str, int] = field(default_factory=dict)


def plan_backfill(
    graph: SnapshotGraph,
    selection: Collection[str],
    targets: Mapping[str, Sequence[str]],
    now: float | None = None,
    dynamic: DynamicSpaces | None = None,
) -> BackfillPlan:
    """The runs that materialize `targets[asset]` of each selected asset (nothing for an
    unpartitioned one, which runs once), in dependency order. `dynamic` gives the keys of
    dynamic partitions (the deployment's store).

    Raises InvalidArgumentError for an unknown asset, targets of an unselected asset, a
    partitioned asset without targets or a key an asset does not have; FailedPrecondition
    for a definition or mapping the snapshot holds that cannot apply.
    """
    moment = time.time() if now is None else now
    selected = _checked_selection(graph, selection, targets)
    spaces = {key: asset_space(graph.nodes[key], dynamic) for key in selected}
    wanted = {
        key: _checked_targets(key, spaces[key], targets.get(key, ()), moment) for key in selected
    }
    edges = {
        key: [e for e in dependency_mappings(graph.nodes, key, dynamic) if e.upstream in selected]
        for key in selected
    }
    order = _toposorted(selected, edges)
    groups, group_of = _grouped(graph, order, spaces, wanted, edges)
    runs: list[PlannedRun] = []
    for group in groups:
        for keys in _chunked(group):
            group.runs.append(len(runs))
            for key in keys:
                group.run_of_key[key] = len(runs)
            runs.append(PlannedRun(tuple(group.assets), tuple(keys)))
    for g, group in enumerate(groups):
        for index in group.runs:
            run = runs[index]
            after = _reads_from(run, index, g, groups, group_of, edges, moment)
            runs[index] = PlannedRun(run.asset_keys, run.partition_keys, tuple(sorted(after)))
    return BackfillPlan(_in_dependency_order(runs))


def _checked_selection(
    graph: SnapshotGraph, selection: Collection[str], targets: Mapping[str, Sequence[str]]
) -> set[str]:
    unknown = sorted(set(selection) - set(graph.nodes))
    if unknown:
        raise InvalidArgumentError(f"the backfill selects assets that are not defined: {unknown}")
    outside = sorted(set(targets) - set(selection))
    if outside:
        raise InvalidArgumentError(
            f"partitions are given for assets the backfill does not select: {outside}"
        )
    not_executable = sorted(k for k in selection if not graph.nodes[k].is_executable)
    if not_executable:
        raise InvalidArgumentError(
            f"the backfill selects external assets, which no run materializes: {not_executable}"
        )
    return set(selection)


def _checked_targets(
    key: str, space: KeySpace | None, keys: Sequence[str], now: float
) -> tuple[str, ...]:
    if space is None:
        if keys:
            raise InvalidArgumentError(
                f"asset {key!r} is not partitioned, but the backfill names partitions of it: "
                f"{list(keys[:5])}"
            )
        return ()
    if not keys:
        raise InvalidArgumentError(f"asset {key!r} is partitioned: name the partitions to backfill")
    unknown = space.unknown_keys(dict.fromkeys(keys), now)
    if unknown:
        more = f" (and {len(unknown) - 1} more)" if len(unknown) > 1 else ""
        raise InvalidArgumentError(
            f"{unknown[0]!r}{more} is not a partition of asset {key!r}: "
            f"{space.describe_valid_keys(unknown[0], now)}"
        )
    return tuple(space.sort_keys(keys, now))


def _toposorted(selected: set[str], edges: Mapping[str, list[DependencyMapping]]) -> list[str]:
    """The selected assets, each after its selected parents (an asset reading its own
    earlier partitions is no cycle)."""
    order: list[str] = []
    placed: set[str] = set()
    pending = {k: {e.upstream for e in edges[k] if e.upstream != k} for k in sorted(selected)}
    while pending:
        ready = [k for k, parents in pending.items() if parents <= placed]
        if not ready:
            raise InvalidArgumentError(
                f"the selected assets depend on each other in a cycle: {sorted(pending)}"
            )
        for key in ready:
            order.append(key)
            placed.add(key)
            del pending[key]
    return order


def _same_key(mapping: KeyMapping) -> bool:
    """Whether a mapping between two equal key spaces relates each key to itself alone."""
    if isinstance(mapping, TimeWindowMapping):
        return mapping.start_offset == mapping.end_offset == 0
    return isinstance(mapping, IdentityMapping)


def _grouped(
    graph: SnapshotGraph,
    order: list[str],
    spaces: Mapping[str, KeySpace | None],
    wanted: Mapping[str, tuple[str, ...]],
    edges: Mapping[str, list[DependencyMapping]],
) -> tuple[list[_Group], dict[str, int]]:
    groups: list[_Group] = []
    group_of: dict[str, int] = {}
    upstream_groups: dict[str, set[int]] = {}  # the groups each asset reads, at any depth
    for key in order:
        # An unpartitioned asset runs once whatever its policy says.
        policy = RunPolicy.of(graph.nodes[key], key) if spaces[key] is not None else RunPolicy()
        parents = [e for e in edges[key] if e.upstream != key]
        reads: set[int] = set()
        for edge in parents:
            reads |= upstream_groups[edge.upstream] | {group_of[edge.upstream]}
        chosen = None
        for edge in parents:
            g = group_of[edge.upstream]
            group = groups[g]
            joins = (
                group.space == spaces[key]
                and group.policy == policy
                and group.targets == wanted[key]
                # Every edge into the group relates equal keys...
                and all(
                    _same_key(e.mapping) or spaces[key] is None
                    for e in parents
                    if group_of[e.upstream] == g
                )
                # ...and no parent outside the group reads the group (it would run between).
                and all(
                    g not in upstream_groups[e.upstream]
                    for e in parents
                    if group_of[e.upstream] != g
                )
            )
            if joins:
                chosen = g
                break
        if chosen is None:
            chosen = len(groups)
            groups.append(_Group([], spaces[key], policy, wanted[key]))
        groups[chosen].assets.append(key)
        group_of[key] = chosen
        upstream_groups[key] = reads - {chosen}
    return groups, group_of


def _chunked(group: _Group) -> list[list[str]]:
    if group.space is None:
        return [[]]  # unpartitioned: one run
    return chunks(group.targets, group.space, group.policy)


def _reads_from(
    run: PlannedRun,
    index: int,
    g: int,
    groups: list[_Group],
    group_of: Mapping[str, int],
    edges: Mapping[str, list[DependencyMapping]],
    now: float,
) -> set[int]:
    """The runs holding the partitions that `run` (number `index`, of group `g`) reads of
    selected assets in other runs."""
    after: set[int] = set()
    for asset in run.asset_keys:
        for edge in edges[asset]:
            source = groups[group_of[edge.upstream]]
            if group_of[edge.upstream] == g and edge.upstream != asset:
                continue  # read within the run
            if source.space is None:
                after.update(source.runs)
                continue
            needed = edge.upstream_keys(list(run.partition_keys) or None, now)
            after.update(source.run_of_key[k] for k in needed if k in source.run_of_key)
    after.discard(index)  # an asset reading its own earlier partitions within this run
    return after


def _in_dependency_order(runs: list[PlannedRun]) -> tuple[PlannedRun, ...]:
    """`runs` reordered so each comes after the runs it reads from (stable otherwise),
    with `after` renumbered; a cycle (an asset reading its own later partitions, across
    runs) is an error."""
    readers: dict[int, list[int]] = {}
    waiting = [len(run.after) for run in runs]
    for i, run in enumerate(runs):
        for before in run.after:
            readers.setdefault(before, []).append(i)
    ready = [i for i, n in enumerate(waiting) if n == 0]
    heapq.heapify(ready)
    order: list[int] = []
    while ready:
        i = heapq.heappop(ready)
        order.append(i)
        for reader in readers.get(i, ()):
            waiting[reader] -= 1
            if waiting[reader] == 0:
                heapq.heappush(ready, reader)
    if len(order) != len(runs):
        stuck = next(runs[i] for i, n in enumerate(waiting) if n)
        raise InvalidArgumentError(
            f"the backfill's runs read each other in a cycle (e.g. {list(stuck.asset_keys)} "
            f"over {list(stuck.partition_keys[:3])}): an asset reads partitions of itself "
            "that come later; backfill it with a single-run policy"
        )
    position = {old: new for new, old in enumerate(order)}
    return tuple(
        PlannedRun(
            runs[i].asset_keys,
            runs[i].partition_keys,
            tuple(sorted(position[a] for a in runs[i].after)),
        )
        for i in order
    )
