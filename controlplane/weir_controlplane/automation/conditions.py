"""The automation condition engine over a snapshot's protobuf condition trees.

The engine itself (`weir_partitions.conditions`) is shared with the SDK, which evaluates
`weir.AutomationCondition` trees in process; here it reads weir.v1.AutomationConditionNode
messages (protos/weir/v1/automation.proto lists the node types), their parameters
through `ProtoParameters`.

Example::

    evaluation = evaluate("revenue", node.automation_condition, condition_hash, memory, facts)
    evaluation.requested  # the partitions to run; evaluation.memory is for the next tick
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import NamedTuple

from weir_partitions.conditions import (
    UNPARTITIONED,
    AssetFacts,
    AssetMemory,
    CheckFacts,
    Dep,
    Evaluation,
    Facts,
    KeyRelation,
    NodeResult,
    Partitions,
    UnsupportedConditionError,
    walk,
)
from weir_partitions.conditions import evaluate as evaluate_tree
from weir_protos.v1 import automation_pb2, common_pb2

Node = automation_pb2.AutomationConditionNode

__all__ = [
    "UNPARTITIONED",
    "AssetFacts",
    "AssetMemory",
    "CheckFacts",
    "Dep",
    "Evaluation",
    "Facts",
    "KeyRelation",
    "Node",
    "NodeResult",
    "Outline",
    "Partitions",
    "ProtoParameters",
    "UnsupportedConditionError",
    "evaluate",
    "walk",
]


class Outline(NamedTuple):
    """What telling identically situated assets apart (automation/alike.py) reads of an
    asset's facts, without building its AssetFacts: `signature` is its universe,
    materialized, failed, in progress, backfill in progress and newly updated partitions,
    code version and whether it is executable."""

    signature: tuple[
        Partitions, Partitions, Partitions, Partitions, Partitions, Partitions, str, bool
    ]
    latest_run: Mapping[str, str]
    deps: tuple[Dep, ...]
    latest_window: Callable[[float | None], Partitions] | None


class ProtoParameters:
    """`NodeParameters` of protobuf condition nodes."""

    def dep_filters(self, node: Node) -> tuple[frozenset[str] | None, frozenset[str]]:
        allow = frozenset(map(_key, node.allow.keys)) if node.HasField("allow") else None
        return allow, frozenset(map(_key, node.ignore.keys))

    def blocking_only(self, node: Node) -> bool:
        return node.params.get("blocking_only") == "true"

    def cron(self, node: Node) -> tuple[str, str]:
        return node.cron_schedule, node.timezone

    def lookback_seconds(self, node: Node) -> float | None:
        return node.lookback.ToTimedelta().total_seconds() if node.HasField("lookback") else None


_PARAMETERS = ProtoParameters()


def evaluate(
    key: str,
    condition: Node,
    condition_hash: str,
    previous: AssetMemory | None,
    facts: Facts,
    definition: str = "",
    *,
    quiet: bool = False,
) -> Evaluation:
    """`weir_partitions.conditions.evaluate` on a protobuf tree."""
    return evaluate_tree(
        key, condition, condition_hash, previous, facts, definition,
        parameters=_PARAMETERS, quiet=quiet,
    )  # fmt: skip


def _key(key: common_pb2.AssetKey) -> str:
    return "/".join(key.path)
