"""The condition engine's view of a `weir.Instance`: what an in-process evaluation reads.

The control plane reads the same facts from its database (weir_controlplane.automation
.facts); here they come from what the instance recorded and from the SDK's definitions.
Asset keys are strings ("a/b") and an unpartitioned asset has the partition "", as the
engine keys them. Freshness is not evaluated in process: an asset has no freshness state.
"""

from __future__ import annotations

import contextlib
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

from weir_partitions import MultiKeySpace, TimeWindowKeySpace
from weir_partitions.conditions import (
    UNPARTITIONED,
    AssetFacts,
    AssetMemory,
    CheckFacts,
    Dep,
    Partitions,
)
from weir_partitions.conditions.windows import latest_multi_windows, latest_windows

from weir._automation.conditions import AutomationCondition
from weir._checks import AssetChecksDefinition
from weir._errors import PartitionKeyError
from weir._graph import AssetGraph
from weir._instance import Instance
from weir._key import AssetKey
from weir._partitions.base import PartitionsDefinition


class ConditionParameters:
    """`NodeParameters` of `weir.AutomationCondition` nodes."""

    def dep_filters(
        self, node: AutomationCondition
    ) -> tuple[frozenset[str] | None, frozenset[str]]:
        return None, frozenset()  # the SDK's deps_match nodes take every dependency

    def blocking_only(self, node: AutomationCondition) -> bool:
        return bool(node.parameters.get("blocking_only"))

    def cron(self, node: AutomationCondition) -> tuple[str, str]:
        params = node.parameters
        return params["cron_schedule"], params.get("cron_timezone") or "UTC"

    def lookback_seconds(self, node: AutomationCondition) -> float | None:
        return node.parameters.get("lookback_seconds")


class InstanceFacts:
    """`weir_partitions.conditions.Facts` over an instance, for one evaluation."""

    def __init__(
        self,
        graph: AssetGraph,
        instance: Instance,
        *,
        now: datetime,
        previous_tick_at: float | None,
        storage_cursor: int,
        memories: Mapping[str, AssetMemory],
    ) -> None:
        self.now = now
        self.previous_tick_at = previous_tick_at
        self._graph = graph
        self._instance = instance
        self._cursor = storage_cursor  # entries past it are newly updated
        self._memories = memories
        self._keys = {key.to_user_string(): key for key in graph.specs}
        self._facts: dict[str, AssetFacts] = {}
        self._requested: dict[str, Partitions] = {}

    def asset(self, key: str) -> AssetFacts:
        found = self._facts.get(key)
        if found is None:
            found = self._facts[key] = self._build(self._keys[key])
        return found

    def previous(self, key: str) -> AssetMemory | None:
        return self._memories.get(key)

    def run_targets(self, run_id: str) -> frozenset[str]:
        run = self._instance.get_run(run_id)
        return frozenset(k.to_user_string() for k in run.asset_keys) if run else frozenset()

    def requested_now(self, key: str) -> Partitions:
        return self._requested.get(key, frozenset())

    def record_request(self, key: str, partitions: Partitions) -> None:
        self._requested[key] = partitions

    def data_versions(self, key: str, partitions: Partitions) -> Mapping[str, str]:
        # In-process materializations carry no data version: each update counts as a change.
        latest = self._instance.materialized_partitions(self._keys[key])
        return {p: str(latest[p or None].storage_id) for p in partitions if (p or None) in latest}

    def checks(self, key: str) -> Sequence[CheckFacts]:
        asset_key = self._keys[key]
        asset = self.asset(key)
        evaluations = self._instance.latest_check_evaluations(asset_key)
        found = []
        for check_key in self._graph.check_keys_by_asset.get(asset_key, ()):
            rows = {
                partition or UNPARTITIONED: entry
                for (name, partition), entry in evaluations.items()
                if name == check_key.name
            }
            failed = frozenset(
                p
                for p, e in rows.items()
                if e.asset_check_evaluation and not e.asset_check_evaluation.passed
            )
            facts = AssetFacts(
                key=key,
                universe=asset.universe,
                materialized=frozenset(rows),
                failed=failed,
                newly_updated=frozenset(p for p, e in rows.items() if e.storage_id > self._cursor),
                latest_run={p: e.run_id for p, e in rows.items() if e.run_id},
                code_version=asset.code_version,
                latest_window=asset.latest_window,
                executable=asset.executable,
                check=check_key.name,
            )
            found.append(CheckFacts(check_key.name, self._blocking(check_key), facts))
        return found

    def freshness(self, key: str) -> str | None:
        return None

    # --- building -----------------------------------------------------------------------

    def _build(self, key: AssetKey) -> AssetFacts:
        spec = self._graph.specs[key]
        universe, window = self._universe(spec.partitions_def)
        latest = self._instance.materialized_partitions(key)
        materialized = {partition or UNPARTITIONED: entry for partition, entry in latest.items()}
        return AssetFacts(
            key=key.to_user_string(),
            universe=universe,
            materialized=frozenset(materialized),
            failed=frozenset(p or UNPARTITIONED for p in self._instance.failed_partitions(key)),
            newly_updated=frozenset(
                p for p, entry in materialized.items() if entry.storage_id > self._cursor
            ),
            latest_run={p: entry.run_id for p, entry in materialized.items() if entry.run_id},
            code_version=spec.code_version or "",
            deps=tuple(self._dep(key, parent) for parent in self._graph.parents[key]),
            latest_window=window,
            executable=key in self._graph.executable_keys,
        )

    def _universe(self, partitions_def: PartitionsDefinition | None) -> tuple[Partitions, Any]:
        if partitions_def is None:
            return frozenset({UNPARTITIONED}), None
        keys = frozenset(
            partitions_def.get_partition_keys(self.now, dynamic_partitions_store=self._instance)
        )
        space = partitions_def._key_space(self.now, self._instance)
        now = self.now.timestamp()
        if isinstance(space, TimeWindowKeySpace):
            return keys, latest_windows(space, now, keys)
        if isinstance(space, MultiKeySpace):
            return keys, latest_multi_windows(space, now, keys)
        return keys, None

    def _dep(self, key: AssetKey, parent: AssetKey) -> Dep:
        own_def = self._graph.specs[key].partitions_def
        upstream_def = self._graph.specs[parent].partitions_def
        name = parent.to_user_string()
        if upstream_def is None:
            return Dep(name, "unpartitioned")
        from weir._partitions.mappings.infer import infer_partition_mapping
        from weir._partitions.mappings.simple import AllPartitionMapping

        explicit = next(
            (d.partition_mapping for d in self._graph.specs[key].deps if d.asset_key == parent),
            None,
        )
        if own_def is None or isinstance(explicit, AllPartitionMapping):
            return Dep(name, "all")
        if explicit is None and own_def == upstream_def:
            return Dep(name, "identity")
        mapping = infer_partition_mapping(explicit, upstream_def, own_def)
        relation = _MappingRelation(mapping, own_def, upstream_def, self.now, self._instance)
        return Dep(name, "mapped", relation)

    def _blocking(self, check_key: Any) -> bool:
        owner = self._graph.checks_by_key[check_key]
        if isinstance(owner, AssetChecksDefinition):
            return owner.spec.blocking
        return next(s.blocking for s in owner.check_specs if s.key == check_key)


class _MappingRelation:
    """A `KeyRelation` through an SDK partition mapping, leaving out upstream partitions
    that do not exist (as the control plane's `EngineRelation` does)."""

    def __init__(
        self,
        mapping: Any,
        downstream_def: PartitionsDefinition,
        upstream_def: PartitionsDefinition,
        now: datetime,
        instance: Instance,
    ) -> None:
        self._mapping = mapping
        self._down, self._up = downstream_def, upstream_def
        self._now, self._store = now, instance

    def upstream_keys(self, downstream_keys: Collection[str]) -> Collection[str]:
        found: set[str] = set()
        for key in sorted(downstream_keys):
            with contextlib.suppress(PartitionKeyError):  # upstream lacks some: key by key
                found.update(
                    self._mapping.get_upstream_partitions(
                        [key], self._down, self._up, self._now, self._store
                    )
                )
        return found

    def downstream_keys(self, upstream_keys: Collection[str]) -> Collection[str]:
        return self._mapping.get_downstream_partitions(
            sorted(upstream_keys), self._up, self._down, self._now, self._store
        )
