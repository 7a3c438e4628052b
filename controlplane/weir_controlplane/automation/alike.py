"""Evaluating identically situated assets once per tick.

Ten thousand assets new to the evaluator, with one condition and the same stored state,
would each evaluate the same tree to the same outcome. An asset's *situation* is what its
evaluation reads: its condition and definition digests, what it remembered, its own facts
and, dependency by dependency, its upstreams' facts. Two assets in the same situation get
the same evaluation up to the dependency keys, which `rekeyed` puts back.

A tree is shared only when every fact it reads is in the situation: no nested dependency
nodes, no data versions (read from storage per partition), no time windows or mapped
partitions (their keys depend on the asset's definition beyond its universe).
"""

from __future__ import annotations

from collections.abc import Hashable

from weir_protos.v1 import automation_pb2

from weir_controlplane.automation.conditions import (
    AssetFacts,
    AssetMemory,
    Evaluation,
    Facts,
    Node,
    NodeResult,
    UnsupportedConditionError,
)
from weir_controlplane.automation.history import copied_message, evaluation_message

Keys = dict[str, str]  # a dependency key of the shared evaluation -> the asset's own
_DEPS_NODES = frozenset({"any_deps_match", "all_deps_match"})
# Facts these nodes read are not in a situation.
_UNSHAREABLE = frozenset(
    {"data_version_changed", "any_checks_match", "all_checks_match", "check_passed", "check_failed"}
)
_shareable_trees: dict[str, bool] = {}


def situation(
    key: str,
    condition: Node,
    condition_hash: str,
    definition: str,
    previous: AssetMemory | None,
    facts: Facts,
) -> Hashable | None:
    """What `key`'s evaluation reads, or None when it cannot be shared."""
    if not _shareable(condition, condition_hash):
        return None
    try:
        asset = facts.asset(key)
        if asset.latest_window is not None:
            return None
        deps = []
        for dep in asset.deps:
            if dep.relation is not None or not _plain(dep.key) or dep.key == key:
                return None
            upstream = facts.asset(dep.key)
            if upstream.latest_window is not None:
                return None
            remembered = facts.previous(dep.key)
            deps.append(
                (
                    dep.mapping,
                    _facts(upstream, key, facts),
                    None if remembered is None else (remembered.code_version, remembered.requested),
                    facts.requested_now(dep.key),
                )
            )
    except UnsupportedConditionError:
        return None  # evaluated on its own, to fail with its own message
    dep_keys = [dep.key for dep in asset.deps]
    # The definition digest names the dependencies; whether it changed is what counts.
    redefined = previous is None or previous.definition != definition
    return (
        condition_hash,
        redefined,
        _memory(previous, dep_keys),
        _facts(asset, key, facts),
        tuple(deps),
    )


class Shared:
    """The first evaluation in a situation, with where its dependency keys are: the index
    path of each dependency node in its result tree (which its message tree mirrors)."""

    def __init__(self, evaluation: Evaluation, dep_keys: list[str]) -> None:
        self.evaluation = evaluation
        self.dep_keys = dep_keys
        # Its memory's node paths split around the dependency key each names, if any.
        self.nodes = [
            (*_split(path), partitions) for path, partitions in evaluation.memory.nodes.items()
        ]
        self.paths: list[tuple[tuple[int, ...], str]] = []
        if evaluation.result is not None:
            _find_dependencies(evaluation.result, (), self.paths)
        # Every node on the way to a dependency node: what a copy rebuilds.
        self.prefixes = {at[:i] for at, _ in self.paths for i in range(len(at) + 1)}
        self._message: automation_pb2.AutomationConditionEvaluation | None = None

    def message(self, keys: Keys) -> automation_pb2.AutomationConditionEvaluation:
        """The stored message of a copy whose dependency keys `keys` replaced (the shared
        tree's message is built once, then copied)."""
        result = self.evaluation.result
        assert result is not None
        if self._message is None:
            self._message = evaluation_message(result, self.evaluation.memory.condition_hash)
        return copied_message(self._message, [(at, keys[dep]) for at, dep in self.paths])


def rekeyed(shared: Shared, key: str, definition: str, facts: Facts) -> tuple[Evaluation, Keys]:
    """The shared evaluation as `key`'s (another asset in the same situation, whose
    definition digest is `definition`), and the dependency keys it replaced by `key`'s."""
    source = shared.evaluation
    ours = [dep.key for dep in facts.asset(key).deps]
    keys = dict(zip(shared.dep_keys, ours, strict=True))
    nodes = {
        head if dep is None else f"{head}@{keys[dep]}{tail}": partitions
        for head, dep, tail, partitions in shared.nodes
    }
    result = source.result
    if result is not None and shared.paths:
        result = _replaced(result, (), shared.prefixes, keys)
    was = source.memory  # (built field by field: dataclasses.replace costs more, per copy)
    memory = AssetMemory(
        was.condition_hash, nodes, was.requested, was.code_version, was.outcome, was.settled,
        definition,
    )  # fmt: skip
    return Evaluation(key, source.requested, result, source.error, memory), keys


def _shareable(condition: Node, condition_hash: str) -> bool:
    known = _shareable_trees.get(condition_hash)
    if known is None:
        if len(_shareable_trees) > 10_000:
            _shareable_trees.clear()
        known = _shareable_trees[condition_hash] = not _unshareable(condition, under_deps=False)
    return known


def _unshareable(node: Node, *, under_deps: bool) -> bool:
    if node.node_type in _UNSHAREABLE or (under_deps and node.node_type in _DEPS_NODES):
        return True
    nested = under_deps or node.node_type in _DEPS_NODES
    return any(_unshareable(child, under_deps=nested) for child in node.children)


def _plain(key: str) -> bool:
    """A key that cannot be mistaken for part of a node path."""
    return not any(mark in key for mark in ".@#")


def _facts(asset: AssetFacts, root: str, facts: Facts) -> Hashable:
    # executed_with_root_target: the partitions whose latest run targeted the root.
    by_root = frozenset(p for p, run in asset.latest_run.items() if root in facts.run_targets(run))
    return (
        asset.universe,
        asset.materialized,
        asset.failed,
        asset.in_progress,
        asset.backfill_in_progress,
        asset.newly_updated,
        asset.code_version,
        asset.executable,
        by_root,
    )


def _memory(memory: AssetMemory | None, dep_keys: list[str]) -> Hashable:
    if memory is None:
        return None
    positions = {key: f"#{i}" for i, key in enumerate(dep_keys)}
    nodes = tuple(sorted((_path(p, positions), k) for p, k in memory.nodes.items() if k))
    return (
        memory.condition_hash,
        nodes,
        memory.requested,
        memory.code_version,
        memory.outcome,
        memory.settled,
    )


def _split(path: str) -> tuple[str, str | None, str]:
    """A node path ("0.1@upstream.0") as the part before its dependency key, the key (None
    when it names none) and the part after."""
    if "@" not in path:
        return path, None, ""
    head, _, rest = path.partition("@")
    dep, dot, tail = rest.partition(".")
    return head, dep, f"{dot}{tail}"


def _path(path: str, keys: dict[str, str]) -> str:
    """A node path with its dependency key replaced through `keys`."""
    head, dep, tail = _split(path)
    return head if dep is None else f"{head}@{keys.get(dep, dep)}{tail}"


def _find_dependencies(
    result: NodeResult, at: tuple[int, ...], found: list[tuple[tuple[int, ...], str]]
) -> None:
    if result.dependency is not None:
        found.append((at, result.dependency))
    for i, child in enumerate(result.children):
        _find_dependencies(child, (*at, i), found)


def _replaced(
    result: NodeResult, at: tuple[int, ...], prefixes: set[tuple[int, ...]], keys: Keys
) -> NodeResult:
    """`result` naming the dependencies through `keys`, rebuilt only along `prefixes`."""
    children = list(result.children)
    for i, child in enumerate(children):
        below = (*at, i)
        if below in prefixes:
            children[i] = _replaced(child, below, prefixes, keys)
    dependency = result.dependency
    return NodeResult(
        result.node,
        result.candidates,
        result.true,
        tuple(children),
        None if dependency is None else keys[dependency],
    )
