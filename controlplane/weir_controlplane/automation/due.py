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

import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from weir_protos.v1 import definitions_pb2

from weir_controlplane.api.asset_graph import DeploymentGraph
from weir_controlplane.automation.conditions import AssetMemory, Evaluation, walk
from weir_controlplane.automation.facts import StoredFacts
from weir_controlplane.storage import DeploymentScope
from weir_controlplane.storage.automation import TickClaim

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
        "changed": sorted(facts.changed),
        "requested": sorted(requested),
        "in_progress": {key: sorted(parts) for key, parts in facts.in_progress.items()},
        "backfilling": {key: sorted(parts) for key, parts in facts.backfilling.items()},
    }


class DueAssets:
    def __init__(self) -> None:
        self._digests: dict[tuple[str, str], tuple[str, str]] = {}
        self._timely: dict[tuple[str, str], bool] = {}
        self._cron_conditions: dict[str, bool] = {}
        self._timely_sets: dict[str, set[str]] = {}
        self._kept: dict[int, _Kept] = {}

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
        found = kept.unsettled | self._timely_targets(graph, targets) | changed
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
            or self._is_timely(graph, key)
            or not changed.isdisjoint(graph.parents(key))
        )

    def digests(self, graph: DeploymentGraph, key: str) -> tuple[str, str]:
        """(the condition's hash, the definition's digest), computed once per snapshot."""
        cache_key = (graph.union.content_hash, key)
        found = self._digests.get(cache_key)
        if found is None:
            if len(self._digests) > _MAX_CACHED:
                self._digests.clear()
            node = graph.nodes[key]
            condition = node.automation_condition.SerializeToString(deterministic=True)
            definition = definitions_pb2.AssetNode(
                deps=node.deps, partitions_def=node.partitions_def, is_executable=node.is_executable
            ).SerializeToString(deterministic=True)
            found = self._digests[cache_key] = (
                hashlib.sha256(condition).hexdigest()[:32],
                hashlib.sha256(definition).hexdigest()[:16],
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
        memories.update((e.key, e.memory) for e in evaluations)
        kept = self._kept.get(scope.deployment_id)
        if kept is not None and kept.tick_number == claim.tick_number - 1:
            unsettled = kept.unsettled
            for evaluation in evaluations:
                (unsettled.discard if evaluation.memory.settled else unsettled.add)(evaluation.key)
        else:
            unsettled = {k for k in targets if k not in memories or not memories[k].settled}
        self._kept[scope.deployment_id] = _Kept(
            claim.tick_number, graph.union.content_hash, memories, unsettled
        )

    def forget(self, scope: DeploymentScope) -> None:
        self._kept.pop(scope.deployment_id, None)

    def _timely_targets(self, graph: DeploymentGraph, targets: list[str]) -> set[str]:
        found = self._timely_sets.get(graph.union.content_hash)
        if found is None:
            if len(self._timely_sets) > 64:
                self._timely_sets.clear()
            found = {key for key in targets if self._is_timely(graph, key)}
            self._timely_sets[graph.union.content_hash] = found
        return found

    def _has_cron(self, graph: DeploymentGraph, key: str) -> bool:
        """Whether the asset's condition has a cron_tick_passed node (once per condition)."""
        condition_hash = self.digests(graph, key)[0]
        found = self._cron_conditions.get(condition_hash)
        if found is None:
            if len(self._cron_conditions) > _MAX_CACHED:
                self._cron_conditions.clear()
            condition = graph.nodes[key].automation_condition
            found = any(n.node_type == "cron_tick_passed" for n in walk(condition))
            self._cron_conditions[condition_hash] = found
        return found

    def _is_timely(self, graph: DeploymentGraph, key: str) -> bool:
        """Whether the asset's facts can change with time alone (cron ticks, time windows,
        dynamic keys)."""
        cache_key = (graph.union.content_hash, key)
        found = self._timely.get(cache_key)
        if found is None:
            node = graph.nodes[key]
            found = (
                node.HasField("partitions_def")
                or any(
                    parent is not None and parent.HasField("partitions_def")
                    for parent in map(graph.node, graph.parents(key))
                )
                or self._has_cron(graph, key)
            )
            if len(self._timely) > _MAX_CACHED:
                self._timely.clear()
            self._timely[cache_key] = found
        return found
