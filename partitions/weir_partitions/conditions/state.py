"""What the condition engine reads and leaves: the facts of a tick, an asset's memory.

`Facts` is the tick's view of stored state (the control plane's database, or the SDK's
in-process `weir.Instance`); `AssetMemory` what an asset's evaluation leaves for the next
one; `NodeResult` one node's evaluation.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple, Protocol

Partitions = frozenset[str]
UNPARTITIONED = ""
NOTHING: Partitions = frozenset()


class ConditionNode(Protocol):
    """A node of a condition tree as the engine reads it: its type and operands.

    The control plane's protobuf nodes and the SDK's `AutomationCondition` both have these;
    what else a node carries (cron string, lookback...) is read through `NodeParameters`.
    """

    @property
    def node_type(self) -> str: ...

    @property
    def children(self) -> Sequence[Any]: ...  # of ConditionNode (protobuf's own sequence)


class NodeParameters(Protocol):
    """Reads the parameters of the node types that have them, from one kind of node."""

    def dep_filters(self, node: Any) -> tuple[frozenset[str] | None, frozenset[str]]:
        """any_deps_match / all_deps_match: the dependencies allowed (None: all) and ignored."""
        ...

    def blocking_only(self, node: Any) -> bool:
        """any_checks_match / all_checks_match: whether only blocking checks count."""
        ...

    def cron(self, node: Any) -> tuple[str, str]:
        """cron_tick_passed: the cron string and its time zone ("" for UTC)."""
        ...

    def lookback_seconds(self, node: Any) -> float | None:
        """in_latest_time_window: the lookback, or None for the latest window alone."""
        ...


class UnsupportedConditionError(Exception):
    """A node the evaluator cannot evaluate; the asset's evaluation reports it."""


class KeyRelation(Protocol):
    """The keys across one edge, both ways (`partitions.DependencyMapping`)."""

    def upstream_keys(self, downstream_keys: Collection[str]) -> Collection[str]: ...

    def downstream_keys(self, upstream_keys: Collection[str]) -> Collection[str]: ...


# Slots: the control plane keeps one per asset of every loaded graph.
@dataclass(frozen=True, slots=True)
class Dep:
    """An edge to an upstream asset and how this asset's partitions map onto its own.

    `mapping` is "identity" (same keys), "unpartitioned" (the upstream has the one
    partition ""), "all" (each partition depends on all upstream partitions), "mapped"
    (through `relation`: the edge's partition mapping, by the shared partitions engine),
    or a reason the mapping cannot be evaluated, which fails the evaluation naming it.
    """

    key: str
    mapping: str
    relation: KeyRelation | None = None


# Not frozen: a tick builds one per asset, and a frozen dataclass's __init__ costs some
# four times as much (it sets each field through object.__setattr__). Not changed once built.
@dataclass(slots=True)
class AssetFacts:
    """What stored state says about one asset at this tick."""

    key: str
    universe: Partitions  # every partition it has now
    materialized: Partitions = NOTHING
    failed: Partitions = NOTHING  # latest outcome is a failure
    in_progress: Partitions = NOTHING  # in a queued or running run
    backfill_in_progress: Partitions = NOTHING  # in a queued or running run of a backfill
    newly_updated: Partitions = NOTHING  # materialized since the previous tick
    # Partition -> the run of its latest materialization (for the partitions that have one).
    latest_run: Mapping[str, str] = field(default_factory=dict)
    code_version: str = ""
    deps: tuple[Dep, ...] = ()
    # in_latest_time_window: the partitions within `lookback` seconds (None: none) of the
    # latest time window; None for an asset without time partitions (all count).
    latest_window: Callable[[float | None], Partitions] | None = None
    executable: bool = True
    # For a check evaluated under any_checks_match / all_checks_match (as its asset, with
    # `materialized` the partitions evaluated and `failed` those whose latest failed): its
    # name. None for an asset.
    check: str | None = None


@dataclass(frozen=True)
class CheckFacts:
    """One check of an asset, for any_checks_match / all_checks_match."""

    name: str
    blocking: bool
    facts: AssetFacts


class Facts(Protocol):
    """The tick's view of stored state, shared by every asset evaluated on it."""

    now: datetime
    # When the deployment's previous tick evaluated (POSIX seconds); None before the first.
    previous_tick_at: float | None

    def asset(self, key: str) -> AssetFacts: ...

    def previous(self, key: str) -> AssetMemory | None:
        """What the asset remembered after its previous evaluation."""
        ...

    def run_targets(self, run_id: str) -> frozenset[str]:
        """The assets a run targeted."""
        ...

    def requested_now(self, key: str) -> Partitions:
        """What this tick requests of `key` (assets upstream are evaluated first)."""
        ...

    def data_versions(self, key: str, partitions: Partitions) -> Mapping[str, str]:
        """The data version of each partition's latest materialization ('' for none)."""
        ...

    def checks(self, key: str) -> Sequence[CheckFacts]:
        """The asset's checks and what stored state says about each."""
        ...

    def freshness(self, key: str) -> str | None:
        """The asset's freshness state ("PASS", "WARN", "FAIL", "UNKNOWN"); None without
        a policy."""
        ...


@dataclass(slots=True)  # not frozen, as AssetFacts: one per asset evaluated on a tick
class AssetMemory:
    """What an asset's evaluation leaves for the next one; stored as JSON."""

    condition_hash: str
    nodes: Mapping[str, Partitions]  # node path -> its true partitions
    requested: Partitions
    code_version: str
    outcome: str  # a digest of the evaluation's outcome, to store only changes
    # The evaluation left its memory and outcome as they were and requested nothing: with
    # the same facts, evaluating again gives the same (the daemon may skip it).
    settled: bool = False
    # A digest of the asset's definition (its dependencies, partitions) when evaluated.
    definition: str = ""

    def to_json(self) -> dict[str, Any]:
        # Fields at their defaults are left out (`from_json` reads them back as such): a
        # graph's first ticks store one state an asset, and a quarter of each is defaults.
        # "definition" stays last, where automation/alike.py appends each copy's.
        data: dict[str, Any] = {"hash": self.condition_hash}
        nodes = {path: sorted(keys) for path, keys in self.nodes.items() if keys}
        if nodes:
            data["nodes"] = nodes
        if self.requested:
            data["requested"] = sorted(self.requested)
        if self.code_version:
            data["code_version"] = self.code_version
        data["outcome"] = self.outcome
        if self.settled:
            data["settled"] = True
        data["definition"] = self.definition
        return data

    def to_text(self) -> str:
        """`to_json` as JSON text, as stored."""
        return json.dumps(self.to_json())

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AssetMemory:
        return cls(
            condition_hash=data["hash"],
            nodes={path: frozenset(keys) for path, keys in data.get("nodes", {}).items()},
            requested=frozenset(data.get("requested", ())),
            code_version=data.get("code_version", ""),
            outcome=data.get("outcome", ""),
            settled=bool(data.get("settled", False)),
            definition=data.get("definition", ""),
        )


class NodeResult(NamedTuple):
    """One node's evaluation: on how many candidates, where true, and its operands'.

    `children` is empty for a node whose candidates were empty (its operands were not
    evaluated); `dependency` is set under any_deps_match / all_deps_match, `check` under
    any_checks_match / all_checks_match. (A tuple: a
    tick makes some twenty per asset.)
    """

    node: Any  # a ConditionNode of the caller's kind, handed back as given
    candidates: int
    true: Partitions
    children: tuple[NodeResult, ...] = ()
    dependency: str | None = None
    check: str | None = None
