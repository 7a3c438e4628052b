"""Evaluating one asset's automation condition tree, without user code.

A tree is a weir.v1.AutomationConditionNode (protos/weir/v1/automation.proto lists the
node types). Every node is evaluated on a set of candidate partitions of an asset and
answers the subset where it is true; an unpartitioned asset has the one partition "".
`&` narrows its candidates operand by operand, so a partitioned asset behind
`in_latest_time_window()` is evaluated on its latest window only.

What a node needs to know comes from `Facts` (the tick's view of stored state) and from
the asset's `AssetMemory` of the previous evaluation: the true partitions of its `since`
and `newly_true` nodes, what it requested, the condition's hash. A node not evaluated on a
tick (its candidates were empty) keeps what it remembered.

Example::

    evaluation = evaluate("revenue", node.automation_condition, condition_hash, memory, facts)
    evaluation.requested  # the partitions to run; evaluation.memory is for the next tick
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any, NamedTuple, Protocol

from weir_partitions import CronClock, load_timezone, parse_cron
from weir_protos.v1 import automation_pb2

Partitions = frozenset[str]
Node = automation_pb2.AutomationConditionNode
UNPARTITIONED = ""
_NOTHING: Partitions = frozenset()


class UnsupportedConditionError(Exception):
    """A node the evaluator cannot evaluate; the asset's evaluation reports it."""


class KeyRelation(Protocol):
    """The keys across one edge, both ways (`partitions.DependencyMapping`)."""

    def upstream_keys(self, downstream_keys: Collection[str]) -> Collection[str]: ...

    def downstream_keys(self, upstream_keys: Collection[str]) -> Collection[str]: ...


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class AssetFacts:
    """What stored state says about one asset at this tick."""

    key: str
    universe: Partitions  # every partition it has now
    materialized: Partitions = _NOTHING
    failed: Partitions = _NOTHING  # latest outcome is a failure
    in_progress: Partitions = _NOTHING  # in a queued or running run
    backfill_in_progress: Partitions = _NOTHING  # in a queued or running run of a backfill
    newly_updated: Partitions = _NOTHING  # materialized since the previous tick
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


@dataclass(frozen=True)
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
        return {
            "hash": self.condition_hash,
            "nodes": {path: sorted(keys) for path, keys in self.nodes.items() if keys},
            "requested": sorted(self.requested),
            "code_version": self.code_version,
            "outcome": self.outcome,
            "settled": self.settled,
            "definition": self.definition,
        }

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

    node: Node
    candidates: int
    true: Partitions
    children: tuple[NodeResult, ...] = ()
    dependency: str | None = None
    check: str | None = None


@dataclass(frozen=True)
class Evaluation:
    key: str
    requested: Partitions
    result: NodeResult | None
    error: str | None
    memory: AssetMemory


def evaluate(
    key: str,
    condition: Node,
    condition_hash: str,
    previous: AssetMemory | None,
    facts: Facts,
    definition: str = "",
) -> Evaluation:
    """Evaluate `key`'s condition tree on every partition it has now; `definition` is a
    digest of the asset's definition, kept in its memory."""
    problem = tree_problem(condition, condition_hash)
    fresh = previous is None or previous.condition_hash != condition_hash
    run = _Evaluator(key, facts, None if fresh else previous)
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
            condition_hash, kept, _NOTHING, code_version, outcome, settled, definition
        )
        return Evaluation(key, _NOTHING, None, str(exc), memory)
    requested = result.true - asset.in_progress if asset.executable else _NOTHING
    outcome = _digest(run.trace, requested)
    nodes = {path: keys for path, keys in run.memory.items() if keys}
    settled = (
        previous is not None
        and not fresh
        and not requested
        and not previous.requested
        and previous.outcome == outcome
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


def tree_problem(condition: Node, condition_hash: str) -> str | None:
    """Why the tree cannot be evaluated (a node type not known here), or None; checked
    once per tree, so that a node reached only on some ticks fails on every tick."""
    if condition_hash not in _problems:
        if len(_problems) > 10_000:
            _problems.clear()
        unknown = sorted({n.node_type for n in walk(condition) if n.node_type not in _NODES})
        _problems[condition_hash] = (
            None
            if not unknown
            else f"the condition has nodes of type {', '.join(map(repr, unknown))}, which "
            f"this control plane does not evaluate (it evaluates: {', '.join(sorted(_NODES))})"
        )
    return _problems[condition_hash]


def walk(node: Node) -> list[Node]:
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


class _Evaluator:
    def __init__(self, root: str, facts: Facts, previous: AssetMemory | None) -> None:
        self.root = root
        self.facts = facts
        self.previous = previous
        # Starts as what was remembered, so nodes skipped on this tick keep it.
        self.memory: dict[str, Partitions] = dict(previous.nodes) if previous else {}
        # Each evaluated node's true partitions (a count, or the key when one), in the
        # order evaluated: what `Evaluation.memory.outcome` digests.
        self.trace: list[str] = []

    def node(self, node: Node, path: str, asset: AssetFacts, candidates: Partitions) -> NodeResult:
        if not candidates:
            self.trace.append("-")
            return NodeResult(node, 0, _NOTHING)
        result = _NODES[node.node_type](self, node, path, asset, candidates)
        true = result.true
        self.trace.append(str(len(true)) if len(true) != 1 else f"'{next(iter(true))}'")
        return result

    def remembered(self, path: str) -> Partitions:
        return self.memory.get(path, _NOTHING)

    def previous_evaluation_time(self) -> float | None:
        return None if self.previous is None else self.facts.previous_tick_at


# --- operators ------------------------------------------------------------------------

_Eval = Callable[[_Evaluator, Node, str, AssetFacts, Partitions], NodeResult]


def _and(ev: _Evaluator, node: Node, path: str, asset: AssetFacts, cands: Partitions) -> NodeResult:
    results = []
    remaining = cands
    for i, child in enumerate(node.children):
        result = ev.node(child, f"{path}.{i}", asset, remaining)
        results.append(result)
        remaining = result.true
    return NodeResult(node, len(cands), remaining, tuple(results))


def _or(ev: _Evaluator, node: Node, path: str, asset: AssetFacts, cands: Partitions) -> NodeResult:
    results = [ev.node(c, f"{path}.{i}", asset, cands) for i, c in enumerate(node.children)]
    true = frozenset().union(*(r.true for r in results))
    return NodeResult(node, len(cands), true, tuple(results))


def _not(ev: _Evaluator, node: Node, path: str, asset: AssetFacts, cands: Partitions) -> NodeResult:
    _arity(node, 1)
    result = ev.node(node.children[0], f"{path}.0", asset, cands)
    return NodeResult(node, len(cands), cands - result.true, (result,))


def _since(
    ev: _Evaluator, node: Node, path: str, asset: AssetFacts, cands: Partitions
) -> NodeResult:
    """True from a partition's trigger until its reset; a reset on the same tick wins."""
    _arity(node, 2)
    trigger = ev.node(node.children[0], f"{path}.0", asset, cands)
    reset = ev.node(node.children[1], f"{path}.1", asset, cands)
    held = (ev.remembered(path) | trigger.true) - reset.true
    ev.memory[path] = held
    return NodeResult(node, len(cands), held & cands, (trigger, reset))


def _newly_true(
    ev: _Evaluator, node: Node, path: str, asset: AssetFacts, cands: Partitions
) -> NodeResult:
    _arity(node, 1)
    child = ev.node(node.children[0], f"{path}.0", asset, cands)
    before = ev.remembered(path)
    ev.memory[path] = (before - cands) | child.true
    return NodeResult(node, len(cands), child.true - before, (child,))


def _deps_match(require_all: bool) -> _Eval:
    def evaluate_deps(
        ev: _Evaluator, node: Node, path: str, asset: AssetFacts, cands: Partitions
    ) -> NodeResult:
        _arity(node, 1)
        allow = {_key(k) for k in node.allow.keys} if node.HasField("allow") else None
        ignore = {_key(k) for k in node.ignore.keys}
        true = cands if require_all else _NOTHING
        results = []
        for dep in asset.deps:
            if (allow is not None and dep.key not in allow) or dep.key in ignore:
                continue
            upstream = ev.facts.asset(dep.key)
            mapped = _map_down(dep, asset.key, upstream, cands)
            result = ev.node(node.children[0], f"{path}@{dep.key}", upstream, mapped)
            matched = _map_up(dep, result.true, cands)
            true = (true & matched) if require_all else (true | matched)
            results.append(
                NodeResult(result.node, result.candidates, result.true, result.children, dep.key)
            )
        return NodeResult(node, len(cands), true, tuple(results))

    return evaluate_deps


def _checks_match(require_all: bool) -> _Eval:
    def evaluate_checks(
        ev: _Evaluator, node: Node, path: str, asset: AssetFacts, cands: Partitions
    ) -> NodeResult:
        _arity(node, 1)
        if asset.check is not None:
            raise UnsupportedConditionError(f"a {node.node_type!r} node is under another one")
        blocking_only = node.params.get("blocking_only") == "true"
        true = cands if require_all else _NOTHING
        results = []
        for check in ev.facts.checks(asset.key):
            if blocking_only and not check.blocking:
                continue
            result = ev.node(node.children[0], f"{path}!{check.name}", check.facts, cands)
            true = (true & result.true) if require_all else (true | result.true)
            results.append(result._replace(check=check.name))
        return NodeResult(node, len(cands), true, tuple(results))

    return evaluate_checks


def _on_check(pick: Callable[[AssetFacts], Partitions]) -> _Eval:
    """An operand of a check (check_passed, check_failed): only under *_checks_match."""

    def evaluate_on_check(
        ev: _Evaluator, node: Node, path: str, asset: AssetFacts, cands: Partitions
    ) -> NodeResult:
        if asset.check is None:
            raise UnsupportedConditionError(
                f"a {node.node_type!r} node is evaluated on a check: it must be under "
                "any_checks_match or all_checks_match"
            )
        return NodeResult(node, len(cands), pick(asset) & cands)

    return evaluate_on_check


def _map_down(dep: Dep, key: str, upstream: AssetFacts, cands: Partitions) -> Partitions:
    if dep.mapping == "identity":
        return cands & upstream.universe
    if dep.mapping == "unpartitioned":
        return frozenset({UNPARTITIONED})
    if dep.mapping == "all":
        return upstream.universe
    if dep.relation is not None:
        return (
            frozenset(dep.relation.upstream_keys(cands)) & upstream.universe if cands else _NOTHING
        )
    raise UnsupportedConditionError(
        f"the partitions of {key!r} cannot be mapped onto those of its dependency "
        f"{dep.key!r}: {dep.mapping}"
    )


def _map_up(dep: Dep, upstream_true: Partitions, cands: Partitions) -> Partitions:
    """The candidates with at least one mapped upstream partition in `upstream_true`."""
    if dep.mapping == "identity":
        return upstream_true & cands
    if dep.relation is not None:
        if not upstream_true:
            return _NOTHING
        return frozenset(dep.relation.downstream_keys(upstream_true)) & cands
    return cands if upstream_true else _NOTHING


# --- operands -------------------------------------------------------------------------


def _operand(pick: Callable[[_Evaluator, Node, AssetFacts, Partitions], Partitions]) -> _Eval:
    def evaluate_operand(
        ev: _Evaluator, node: Node, path: str, asset: AssetFacts, cands: Partitions
    ) -> NodeResult:
        return NodeResult(node, len(cands), pick(ev, node, asset, cands) & cands)

    return evaluate_operand


def _newly_requested(ev: _Evaluator, node: Node, asset: AssetFacts, c: Partitions) -> Partitions:
    previous = ev.facts.previous(asset.key)
    return _NOTHING if previous is None else previous.requested


def _initial_evaluation(ev: _Evaluator, node: Node, asset: AssetFacts, c: Partitions) -> Partitions:
    return c if ev.previous is None else _NOTHING


def _will_be_requested(ev: _Evaluator, node: Node, asset: AssetFacts, c: Partitions) -> Partitions:
    # Of the asset being evaluated itself this is not known yet: only of upstreams.
    return _NOTHING if asset.key == ev.root else ev.facts.requested_now(asset.key)


def _executed_with_root_target(
    ev: _Evaluator, node: Node, asset: AssetFacts, c: Partitions
) -> Partitions:
    return frozenset(
        p
        for p in c
        if p in asset.latest_run and ev.root in ev.facts.run_targets(asset.latest_run[p])
    )


def _data_version_changed(
    ev: _Evaluator, node: Node, path: str, asset: AssetFacts, cands: Partitions
) -> NodeResult:
    """Newly updated with a data version other than the one remembered for the partition
    (remembered as "partition<US>version"; a partition with none remembered counts)."""
    updated = asset.newly_updated & cands
    seen = dict(entry.split(_SEPARATOR, 1) for entry in ev.remembered(path))
    versions = ev.facts.data_versions(asset.key, updated) if updated else {}
    changed = frozenset(p for p, version in versions.items() if seen.get(p) != version)
    seen.update(versions)
    ev.memory[path] = frozenset(f"{p}{_SEPARATOR}{v}" for p, v in seen.items())
    return NodeResult(node, len(cands), changed)


_SEPARATOR = "\x1f"


def _code_version_changed(
    ev: _Evaluator, node: Node, asset: AssetFacts, c: Partitions
) -> Partitions:
    previous = ev.facts.previous(asset.key)
    changed = previous is not None and previous.code_version != asset.code_version
    return c if changed else _NOTHING


def _cron_tick_passed(ev: _Evaluator, node: Node, asset: AssetFacts, c: Partitions) -> Partitions:
    since = ev.previous_evaluation_time()
    if since is None:
        return _NOTHING  # no previous evaluation for a tick to have passed since
    latest = _latest_tick(node.cron_schedule, node.timezone or "UTC", int(ev.facts.now.timestamp()))
    return c if latest > since else _NOTHING


@lru_cache(maxsize=256)
def _latest_tick(cron: str, timezone: str, now: int) -> int:
    try:
        return _clock(cron, timezone).prev_tick(now)
    except Exception as exc:  # a location not written with the SDK may send anything
        raise UnsupportedConditionError(
            f"cron_tick_passed has cron schedule {cron!r} in {timezone!r}, which cannot be "
            f"read: {exc}"
        ) from None


@lru_cache(maxsize=64)
def _clock(cron: str, timezone: str) -> CronClock:
    return CronClock(parse_cron(cron), load_timezone(timezone))


def _in_latest_time_window(
    ev: _Evaluator, node: Node, asset: AssetFacts, c: Partitions
) -> Partitions:
    if asset.latest_window is None:
        return c
    lookback = node.lookback.ToTimedelta().total_seconds() if node.HasField("lookback") else None
    return asset.latest_window(lookback)


def _arity(node: Node, count: int) -> None:
    if len(node.children) != count:
        raise UnsupportedConditionError(
            f"a {node.node_type!r} node takes {count} operand(s), this one has {len(node.children)}"
        )


def _key(key: Any) -> str:
    return "/".join(key.path)


_NODES: dict[str, _Eval] = {
    "and": _and,
    "or": _or,
    "not": _not,
    "since": _since,
    "newly_true": _newly_true,
    "any_deps_match": _deps_match(require_all=False),
    "all_deps_match": _deps_match(require_all=True),
    "any_checks_match": _checks_match(require_all=False),
    "all_checks_match": _checks_match(require_all=True),
    "check_passed": _on_check(lambda a: a.materialized - a.failed),
    "check_failed": _on_check(lambda a: a.failed),
    "true": _operand(lambda ev, n, a, c: c),
    "false": _operand(lambda ev, n, a, c: _NOTHING),
    "missing": _operand(lambda ev, n, a, c: c - a.materialized),
    "in_progress": _operand(lambda ev, n, a, c: a.in_progress),
    "run_in_progress": _operand(lambda ev, n, a, c: a.in_progress),
    "backfill_in_progress": _operand(lambda ev, n, a, c: a.backfill_in_progress),
    "execution_failed": _operand(lambda ev, n, a, c: a.failed),
    "newly_updated": _operand(lambda ev, n, a, c: a.newly_updated),
    "newly_requested": _operand(_newly_requested),
    "initial_evaluation": _operand(_initial_evaluation),
    "will_be_requested": _operand(_will_be_requested),
    "executed_with_root_target": _operand(_executed_with_root_target),
    "code_version_changed": _operand(_code_version_changed),
    "data_version_changed": _data_version_changed,
    "cron_tick_passed": _operand(_cron_tick_passed),
    "in_latest_time_window": _operand(_in_latest_time_window),
}
