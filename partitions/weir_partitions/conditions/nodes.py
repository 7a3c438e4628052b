"""The node types of the condition engine: operators, operands, and the walk down a tree.

Each node is evaluated on a set of candidate partitions and answers the subset where it
is true (`state.NodeResult`). `NODES` maps every node type to its evaluation.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from weir_partitions.conditions.state import (
    NOTHING,
    UNPARTITIONED,
    AssetFacts,
    AssetMemory,
    ConditionNode,
    Dep,
    Facts,
    NodeParameters,
    NodeResult,
    Partitions,
    UnsupportedConditionError,
)
from weir_partitions.cron import CronClock, parse_cron
from weir_partitions.timezones import load_timezone


class TreeEvaluator:
    """One asset's walk down its tree: what each node remembers, in the order evaluated."""

    def __init__(
        self, root: str, facts: Facts, previous: AssetMemory | None, parameters: NodeParameters
    ) -> None:
        self.root = root
        self.facts = facts
        self.parameters = parameters
        self.previous = previous
        # Starts as what was remembered, so nodes skipped on this tick keep it.
        self.memory: dict[str, Partitions] = dict(previous.nodes) if previous else {}
        # Each evaluated node's true partitions (a count, or the key when one), in the
        # order evaluated: what `Evaluation.memory.outcome` digests.
        self.trace: list[str] = []

    def node(
        self, node: ConditionNode, path: str, asset: AssetFacts, candidates: Partitions
    ) -> NodeResult:
        if not candidates:
            self.trace.append("-")
            return NodeResult(node, 0, NOTHING)
        result = NODES[node.node_type](self, node, path, asset, candidates)
        true = result.true
        self.trace.append(str(len(true)) if len(true) != 1 else f"'{next(iter(true))}'")
        return result

    def remembered(self, path: str) -> Partitions:
        return self.memory.get(path, NOTHING)

    def previous_evaluation_time(self) -> float | None:
        return None if self.previous is None else self.facts.previous_tick_at


# --- operators ------------------------------------------------------------------------

_Eval = Callable[[TreeEvaluator, ConditionNode, str, AssetFacts, Partitions], NodeResult]


def _and(
    ev: TreeEvaluator, node: ConditionNode, path: str, asset: AssetFacts, cands: Partitions
) -> NodeResult:
    results = []
    remaining = cands
    for i, child in enumerate(node.children):
        result = ev.node(child, f"{path}.{i}", asset, remaining)
        results.append(result)
        remaining = result.true
    return NodeResult(node, len(cands), remaining, tuple(results))


def _or(
    ev: TreeEvaluator, node: ConditionNode, path: str, asset: AssetFacts, cands: Partitions
) -> NodeResult:
    results = [ev.node(c, f"{path}.{i}", asset, cands) for i, c in enumerate(node.children)]
    true = frozenset().union(*(r.true for r in results))
    return NodeResult(node, len(cands), true, tuple(results))


def _not(
    ev: TreeEvaluator, node: ConditionNode, path: str, asset: AssetFacts, cands: Partitions
) -> NodeResult:
    _arity(node, 1)
    result = ev.node(node.children[0], f"{path}.0", asset, cands)
    return NodeResult(node, len(cands), cands - result.true, (result,))


def _since(
    ev: TreeEvaluator, node: ConditionNode, path: str, asset: AssetFacts, cands: Partitions
) -> NodeResult:
    """True from a partition's trigger until its reset; a reset on the same tick wins."""
    _arity(node, 2)
    trigger = ev.node(node.children[0], f"{path}.0", asset, cands)
    reset = ev.node(node.children[1], f"{path}.1", asset, cands)
    held = (ev.remembered(path) | trigger.true) - reset.true
    ev.memory[path] = held
    return NodeResult(node, len(cands), held & cands, (trigger, reset))


def _newly_true(
    ev: TreeEvaluator, node: ConditionNode, path: str, asset: AssetFacts, cands: Partitions
) -> NodeResult:
    _arity(node, 1)
    child = ev.node(node.children[0], f"{path}.0", asset, cands)
    before = ev.remembered(path)
    ev.memory[path] = (before - cands) | child.true
    return NodeResult(node, len(cands), child.true - before, (child,))


def _deps_match(require_all: bool) -> _Eval:
    def evaluate_deps(
        ev: TreeEvaluator, node: ConditionNode, path: str, asset: AssetFacts, cands: Partitions
    ) -> NodeResult:
        _arity(node, 1)
        allow, ignore = ev.parameters.dep_filters(node)
        true = cands if require_all else NOTHING
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
        ev: TreeEvaluator, node: ConditionNode, path: str, asset: AssetFacts, cands: Partitions
    ) -> NodeResult:
        _arity(node, 1)
        if asset.check is not None:
            raise UnsupportedConditionError(f"a {node.node_type!r} node is under another one")
        blocking_only = ev.parameters.blocking_only(node)
        true = cands if require_all else NOTHING
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
        ev: TreeEvaluator, node: ConditionNode, path: str, asset: AssetFacts, cands: Partitions
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
            frozenset(dep.relation.upstream_keys(cands)) & upstream.universe if cands else NOTHING
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
            return NOTHING
        return frozenset(dep.relation.downstream_keys(upstream_true)) & cands
    return cands if upstream_true else NOTHING


# --- operands -------------------------------------------------------------------------


def _operand(
    pick: Callable[[TreeEvaluator, ConditionNode, AssetFacts, Partitions], Partitions],
) -> _Eval:
    def evaluate_operand(
        ev: TreeEvaluator, node: ConditionNode, path: str, asset: AssetFacts, cands: Partitions
    ) -> NodeResult:
        return NodeResult(node, len(cands), pick(ev, node, asset, cands) & cands)

    return evaluate_operand


def _newly_requested(
    ev: TreeEvaluator, node: ConditionNode, asset: AssetFacts, c: Partitions
) -> Partitions:
    previous = ev.facts.previous(asset.key)
    return NOTHING if previous is None else previous.requested


def _initial_evaluation(
    ev: TreeEvaluator, node: ConditionNode, asset: AssetFacts, c: Partitions
) -> Partitions:
    return c if ev.previous is None else NOTHING


def _will_be_requested(
    ev: TreeEvaluator, node: ConditionNode, asset: AssetFacts, c: Partitions
) -> Partitions:
    # Of the asset being evaluated itself this is not known yet: only of upstreams.
    return NOTHING if asset.key == ev.root else ev.facts.requested_now(asset.key)


def _executed_with_root_target(
    ev: TreeEvaluator, node: ConditionNode, asset: AssetFacts, c: Partitions
) -> Partitions:
    return frozenset(
        p
        for p in c
        if p in asset.latest_run and ev.root in ev.facts.run_targets(asset.latest_run[p])
    )


def _data_version_changed(
    ev: TreeEvaluator, node: ConditionNode, path: str, asset: AssetFacts, cands: Partitions
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
    ev: TreeEvaluator, node: ConditionNode, asset: AssetFacts, c: Partitions
) -> Partitions:
    previous = ev.facts.previous(asset.key)
    changed = previous is not None and previous.code_version != asset.code_version
    return c if changed else NOTHING


def _cron_tick_passed(
    ev: TreeEvaluator, node: ConditionNode, asset: AssetFacts, c: Partitions
) -> Partitions:
    since = ev.previous_evaluation_time()
    if since is None:
        return NOTHING  # no previous evaluation for a tick to have passed since
    cron, timezone = ev.parameters.cron(node)
    latest = _latest_tick(cron, timezone or "UTC", int(ev.facts.now.timestamp()))
    return c if latest > since else NOTHING


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
    ev: TreeEvaluator, node: ConditionNode, asset: AssetFacts, c: Partitions
) -> Partitions:
    if asset.latest_window is None:
        return c
    return asset.latest_window(ev.parameters.lookback_seconds(node))


def _freshness_is(
    state: str,
) -> Callable[[TreeEvaluator, ConditionNode, AssetFacts, Partitions], Partitions]:
    """An operand true on every candidate when the asset's freshness state is `state`."""

    def pick(
        ev: TreeEvaluator, node: ConditionNode, asset: AssetFacts, c: Partitions
    ) -> Partitions:
        return c if ev.facts.freshness(asset.key) == state else NOTHING

    return pick


def _arity(node: ConditionNode, count: int) -> None:
    if len(node.children) != count:
        raise UnsupportedConditionError(
            f"a {node.node_type!r} node takes {count} operand(s), this one has {len(node.children)}"
        )


NODES: dict[str, _Eval] = {
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
    "false": _operand(lambda ev, n, a, c: NOTHING),
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
    "freshness_passed": _operand(_freshness_is("PASS")),
    "freshness_warned": _operand(_freshness_is("WARN")),
    "freshness_failed": _operand(_freshness_is("FAIL")),
}
