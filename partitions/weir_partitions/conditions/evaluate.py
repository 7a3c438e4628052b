"""Evaluating one asset's automation condition tree, without user code.

The one engine behind the control plane's automation daemon (over the protobuf nodes of
a snapshot) and the SDK's in-process `evaluate_automation_conditions` (over
`weir.AutomationCondition`). Every node is evaluated on a set of candidate partitions of
an asset and answers the subset where it is true; an unpartitioned asset has the one
partition "". `&` narrows its candidates operand by operand, so a partitioned asset
behind `in_latest_time_window()` is evaluated on its latest window only.

What a node needs to know comes from `Facts` (the tick's view of stored state) and from
the asset's `AssetMemory` of the previous evaluation: the true partitions of its `since`
and `newly_true` nodes, what it requested, the condition's hash. A node not evaluated on a
tick (its candidates were empty) keeps what it remembered. What a node carries besides its
type and operands (a cron string, a lookback) is read through `NodeParameters`.

Example::

    evaluation = evaluate("revenue", condition, condition_hash, memory, facts,
                          parameters=reader)
    evaluation.requested  # the partitions to run; evaluation.memory is for the next tick
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from weir_partitions.conditions.nodes import NODES, TreeEvaluator
from weir_partitions.conditions.state import (
    NOTHING,
    AssetMemory,
    ConditionNode,
    Facts,
    NodeParameters,
    NodeResult,
    Partitions,
    UnsupportedConditionError,
)


class Evaluation:
    """One asset's evaluation: what it requests, its tree's result (None when it failed
    with `error`) and its memory for the next tick.

    A copy of another asset's evaluation (automation/alike.py) is given `rebuild` in place
    of its result, and builds its tree only if asked: a tick stores copies from the shared
    tree's message and needs the tree of few of them.
    """

    __slots__ = ("_rebuild", "_result", "error", "key", "memory", "requested")

    def __init__(
        self,
        key: str,
        requested: Partitions,
        result: NodeResult | None,
        error: str | None,
        memory: AssetMemory,
        *,
        rebuild: Callable[[], NodeResult] | None = None,
    ) -> None:
        self.key, self.requested, self.error, self.memory = key, requested, error, memory
        self._result, self._rebuild = result, rebuild

    @property
    def result(self) -> NodeResult | None:
        if self._rebuild is not None:
            self._result, self._rebuild = self._rebuild(), None
        return self._result


def evaluate(
    key: str,
    condition: ConditionNode,
    condition_hash: str,
    previous: AssetMemory | None,
    facts: Facts,
    definition: str = "",
    *,
    parameters: NodeParameters,
    quiet: bool = False,
) -> Evaluation:
    """Evaluate `key`'s condition tree on every partition it has now; `definition` is a
    digest of the asset's definition, kept in its memory; `parameters` reads the nodes'
    parameters from the caller's kind of node.

    `quiet` says that nothing this evaluation reads is a passing event (see
    `alike.quiet`): with its memory unchanged and nothing requested, the next evaluation
    reads exactly what this one read, so the asset settles now rather than after an
    evaluation more that repeats this outcome."""
    problem = tree_problem(condition, condition_hash)
    fresh = previous is None or previous.condition_hash != condition_hash
    run = TreeEvaluator(key, facts, None if fresh else previous, parameters)
    try:
        if problem is not None:
            raise UnsupportedConditionError(problem)
        asset = facts.asset(key)
        result = run.node(condition, "0", asset, asset.universe)
    except UnsupportedConditionError as exc:
        kept = previous.nodes if previous is not None and not fresh else {}
        outcome = f"error:{exc}"
        settled = previous is not None and not fresh and previous.outcome == outcome
        code_version = "" if previous is None else previous.code_version
        memory = AssetMemory(
            condition_hash, kept, NOTHING, code_version, outcome, settled, definition
        )
        return Evaluation(key, NOTHING, None, str(exc), memory)
    requested = result.true - asset.in_progress if asset.executable else NOTHING
    outcome = _digest(run.trace, requested)
    nodes = {path: keys for path, keys in run.memory.items() if keys}
    settled = (
        previous is not None
        and not fresh
        and not requested
        and not previous.requested
        and (quiet or previous.outcome == outcome)
        and previous.code_version == asset.code_version
        and previous.definition == definition
        and {p: k for p, k in previous.nodes.items() if k} == nodes
    )
    memory = AssetMemory(
        condition_hash=condition_hash,
        nodes=nodes,
        requested=requested,
        code_version=asset.code_version,
        outcome=outcome,
        settled=settled,
        definition=definition,
    )
    return Evaluation(key, requested, result, None, memory)


_problems: dict[str, str | None] = {}


def tree_problem(condition: ConditionNode, condition_hash: str) -> str | None:
    """Why the tree cannot be evaluated (a node type not known here), or None; checked
    once per tree, so that a node reached only on some ticks fails on every tick."""
    if condition_hash not in _problems:
        if len(_problems) > 10_000:
            _problems.clear()
        unknown = sorted({n.node_type for n in walk(condition) if n.node_type not in NODES})
        _problems[condition_hash] = (
            None
            if not unknown
            else f"the condition has nodes of type {', '.join(map(repr, unknown))}, which "
            f"this evaluator does not know (it evaluates: {', '.join(sorted(NODES))})"
        )
    return _problems[condition_hash]


def walk(node: ConditionNode) -> list[ConditionNode]:
    """The node and every node below it."""
    found = [node]
    for child in node.children:
        found += walk(child)
    return found


def _digest(trace: list[str], requested: Partitions) -> str:
    """A short text that changes when any node's true partitions or the request change."""
    text = " ".join(trace) + "|" + ",".join(sorted(requested))
    if len(text) > 200:
        return hashlib.sha256(text.encode()).hexdigest()
    return text
