"""Which assets a tick evaluates.

Evaluating a condition is a function of the asset's facts, its upstreams' facts, what
they requested and the asset's memory. So an asset whose last evaluation left its memory
and outcome as they were and requested nothing ("settled") gives the same result again
unless something it reads changed: a materialization or failure of it or an upstream
since the previous tick (or on the one before, which that tick saw as newly updated), a
run of it or an upstream starting or ending, an upstream requested now or on the previous
tick, its condition or definition changed. Assets whose facts move with time alone
(partitioned ones, those with partitioned upstreams, cron conditions) are evaluated on
every tick. A quiet tick then costs the changes, not the size of the graph.

`DueAssets` keeps, per deployment, the memories and the unsettled assets of the last
tick this process finished, so the next tick neither reads every asset's state nor
checks every asset; another replica's tick in between makes it read and check them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from weir_controlplane.api.asset_graph import DeploymentGraph
from weir_controlplane.automation.conditions import AssetMemory, Evaluation, Node, walk
from weir_controlplane.automation.facts import StoredFacts
from weir_controlplane.locations.graph import SnapshotGraph
from weir_controlplane.storage import DeploymentScope
from weir_controlplane.storage.automation import TickClaim

T = TypeVar("T")

# Per-snapshot caches are dropped past this many entries (snapshots changed many times).
_MAX_CACHED = 200_000


@dataclass
class _Kept:
    tick_number: int
    graph_hash: str
    memories: dict[str, AssetMemory]
    unsettled: set[str]


def changed_assets(facts: StoredFacts, carry: Mapping[str, Any]) -> set[str]:
    """The assets whose facts differ from what the previous tick saw."""
    changed = facts.changed | set(carry.get("changed", ())) | set(carry.get("requested", ()))
    for name, now in (("in_progress", facts.in_progress), ("backfilling", facts.backfilling)):
        before = carry.get(name, {})
        changed.update(
            key
            for key in now.keys() | before.keys()
            if sorted(now.get(key, ())) != before.get(key, [])
        )
    return changed


def next_carry(facts: StoredFacts, requested: Iterable[str]) -> dict[str, Any]:
    """What the next tick compares with (see `changed_assets`)."""
    return {
        "changed": list(facts.changed),  # read as a set (a graph's first tick: every asset)
        "requested": sorted(requested),
        "in_progress": {key: sorted(parts) for key, parts in facts.in_progress.items()},
        "backfilling": {key: sorted(parts) for key, parts in facts.backfilling.items()},
    }


class DueAssets:
    def __init__(self) -> None:
        self._cron_conditions: dict[str, bool] = {}
        self._timely_sets: dict[str, set[str]] = {}
        # Per deployment graph: every location's digests, by asset key.
        self._digests: dict[str, dict[str, tuple[str, str]]] = {}
        self._conditions: dict[str, dict[str, Node]] = {}
        self._kept: dict[int, _Kept] = {}
        self._definitions: dict[str, dict[str, Any]] = {}
        self._targets: dict[str, list[str]] = {}

    def memories(
        self,
        scope: DeploymentScope,
        claim: TickClaim,
        load: Callable[[], dict[str, AssetMemory]],
    ) -> dict[str, AssetMemory]:
        """The memories the previous tick left: kept here if this process finished it."""
        kept = self._kept.get(scope.deployment_id)
        if kept is not None and kept.tick_number == claim.tick_number - 1:
            return kept.memories
        return load()

    def candidates(
        self,
        scope: DeploymentScope,
        claim: TickClaim,
        graph: DeploymentGraph,
        targets: list[str],
        memories: Mapping[str, AssetMemory],
        changed: set[str],
    ) -> set[str]:
        """The assets that may be due (`due` decides each); a superset."""
        kept = self._kept.get(scope.deployment_id)
        if (
            kept is None
            or kept.tick_number != claim.tick_number - 1
            or kept.graph_hash != graph.union.content_hash
        ):
            return {key for key in targets if self.due(graph, key, memories.get(key), changed)}
        found = kept.unsettled | self._timely_targets(graph) | changed
        if found.issuperset(targets):
            return found  # every target already (as on a graph's second tick)
        for key in changed:
            found.update(graph.children(key))
        return found

    def due(
        self, graph: DeploymentGraph, key: str, previous: AssetMemory | None, changed: set[str]
    ) -> bool:
        """Whether the asset's condition must be evaluated on this tick."""
        if previous is None or not previous.settled:
            return True
        condition_hash, definition = self.digests(graph, key)
        return (
            previous.condition_hash != condition_hash
            or previous.definition != definition
            or previous.code_version != graph.nodes[key].code_version
            or key in changed
            or key in self._timely_targets(graph)
            or not changed.isdisjoint(graph.parents(key))
        )

    def targets(self, graph: DeploymentGraph) -> list[str]:
        """The assets with a condition, upstream first (once per snapshot)."""
        found = self._targets.get(graph.union.content_hash)
        if found is None:
            if len(self._targets) > 8:
                self._targets.clear()
            nodes = graph.nodes
            found = [k for k in graph.union.toposorted if nodes[k].HasField("automation_condition")]
            self._targets[graph.union.content_hash] = found
        return found

    def digests(self, graph: DeploymentGraph, key: str) -> tuple[str, str]:
        """(the condition's hash, the definition's digest), made once per snapshot by the
        snapshot graph of the location defining the asset."""
        return self.all_digests(graph)[key]

    def all_digests(self, graph: DeploymentGraph) -> Mapping[str, tuple[str, str]]:
        """`digests` of every asset with a condition, by key."""
        return _merged(self._digests, graph, lambda location: location.automation_digests)

    def all_conditions(self, graph: DeploymentGraph) -> Mapping[str, Node]:
        """The condition tree of every asset with one, by key (read at the snapshot's load)."""
        return _merged(self._conditions, graph, lambda location: location.automation_conditions)

    def definitions(self, graph: DeploymentGraph) -> dict[str, Any]:
        """The snapshot's cache for `StoredFacts` (what assets take from their definitions)."""
        found = self._definitions.get(graph.union.content_hash)
        if found is None:
            if len(self._definitions) > 8:
                self._definitions.clear()
            # An unpartitioned asset's, made as the snapshot loaded; the others' on first use.
            found = self._definitions[graph.union.content_hash] = dict(
                graph.union.unpartitioned_definitions
            )
        return found

    def keep(
        self,
        scope: DeploymentScope,
        claim: TickClaim,
        graph: DeploymentGraph,
        targets: list[str],
        memories: dict[str, AssetMemory],
        evaluations: list[Evaluation],
    ) -> None:
        """Remember a finished tick's memories for the next one."""
        memories.update({e.key: e.memory for e in evaluations})
        kept = self._kept.get(scope.deployment_id)
        if kept is not None and kept.tick_number == claim.tick_number - 1:
            unsettled = kept.unsettled
            unsettled.difference_update(e.key for e in evaluations if e.memory.settled)
            unsettled.update(e.key for e in evaluations if not e.memory.settled)
        else:
            unsettled = {k for k in targets if k not in memories or not memories[k].settled}
        self._kept[scope.deployment_id] = _Kept(
            claim.tick_number, graph.union.content_hash, memories, unsettled
        )

    def forget(self, scope: DeploymentScope) -> None:
        self._kept.pop(scope.deployment_id, None)

    def _timely_targets(self, graph: DeploymentGraph) -> set[str]:
        """The assets with a condition whose facts can change with time alone (cron ticks,
        time windows, dynamic keys): set by set, once per snapshot."""
        found = self._timely_sets.get(graph.union.content_hash)
        if found is None:
            if len(self._timely_sets) > 64:
                self._timely_sets.clear()
            digests, definitions = self.all_digests(graph), graph.union.definition_facts
            partitioned = {key for key, facts in definitions.items() if facts.partitioned}
            conditions = self.all_conditions(graph)
            cron: dict[str, bool] = {}  # once per condition, not per asset
            for key, (condition_hash, _) in digests.items():
                if condition_hash not in cron:
                    cron[condition_hash] = self._has_cron(condition_hash, conditions[key])
            found = {
                key
                for key, (condition_hash, _) in digests.items()
                if key in partitioned
                or (partitioned and not partitioned.isdisjoint(graph.parents(key)))
                or cron[condition_hash]
            }
            self._timely_sets[graph.union.content_hash] = found
        return found

    def _has_cron(self, condition_hash: str, condition: Node) -> bool:
        """Whether the condition has a cron_tick_passed node (once per condition)."""
        found = self._cron_conditions.get(condition_hash)
        if found is None:
            if len(self._cron_conditions) > _MAX_CACHED:
                self._cron_conditions.clear()
            found = any(n.node_type == "cron_tick_passed" for n in walk(condition))
            self._cron_conditions[condition_hash] = found
        return found


def _merged(
    cache: dict[str, dict[str, T]],
    graph: DeploymentGraph,
    of_location: Callable[[SnapshotGraph], Mapping[str, T]],
) -> Mapping[str, T]:
    """`of_location` of every location of the deployment merged by key, the first
    location's winning, kept per deployment graph (at most 9)."""
    found = cache.get(graph.union.content_hash)
    if found is None:
        if len(cache) > 8:
            cache.clear()
        found = {}
        for location in reversed(graph.graphs.values()):
            found.update(of_location(location))
        cache[graph.union.content_hash] = found
    return found
