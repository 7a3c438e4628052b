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

import json
from collections.abc import Hashable, Mapping
from json.encoder import encode_basestring_ascii  # json.dumps of a string, less its overhead
from typing import Protocol

from weir_controlplane.automation.conditions import (
    AssetMemory,
    Dep,
    Evaluation,
    Facts,
    Node,
    NodeResult,
    Outline,
    UnsupportedConditionError,
)
from weir_controlplane.automation.history import MAX_REQUESTED_KEYS, evaluation_message, listed
from weir_controlplane.storage.automation import SharedTree

Keys = dict[str, str]  # a dependency key of the shared evaluation -> the asset's own
# An asset's own dependency keys, in the order of its definition's (and of `Shared.dep_keys`).
OwnKeys = tuple[str, ...]
_DEPS_NODES = frozenset({"any_deps_match", "all_deps_match"})
# Facts these nodes read are not in a situation.
_UNSHAREABLE = frozenset(
    {"data_version_changed", "any_checks_match", "all_checks_match", "check_passed", "check_failed"}
)
_shareable_trees: dict[str, bool] = {}
# What a situation reads of an upstream (see `Signatures.upstreams`).
Upstream = tuple[frozenset[str], int, tuple[Hashable, ...]]
_UNREAD: Upstream = (frozenset(), -1, ())  # (by identity) an upstream not read yet


class OutlinedFacts(Facts, Protocol):
    """Facts that also outline each asset (facts.StoredFacts)."""

    def outline(self, key: str) -> Outline: ...


def situation(
    key: str,
    condition: Node,
    condition_hash: str,
    definition: str,
    previous: AssetMemory | None,
    facts: OutlinedFacts,
    signatures: Signatures,
) -> Hashable | None:
    """What `key`'s evaluation reads, or None when it cannot be shared. `signatures` is the
    tick's cache of each asset's facts as they enter a situation (an asset is read as
    itself and by each of its downstreams)."""
    shareable = _shareable_trees.get(condition_hash)  # (the call only on a tree's first)
    if not (_shareable(condition, condition_hash) if shareable is None else shareable):
        return None
    try:
        own = signatures.outline(key, facts)
        if own.latest_window is not None:
            return None
        deps = []
        upstreams = signatures.upstreams
        for dep in own.deps:
            if dep.relation is not None or dep.key == key:
                return None
            read = upstreams.get(dep.key, _UNREAD)
            if read is _UNREAD:
                read = signatures.upstream(dep.key, facts)
            if read is None:
                return None
            targeted, entry, rest = read
            if key in targeted:  # what it reads depends on `key`: not the cached entry
                entry = signatures.interned((_facts(dep.key, key, facts, signatures), *rest))
            deps.append((dep.mapping, entry))
    except UnsupportedConditionError:
        return None  # evaluated on its own, to fail with its own message
    # The definition digest names the dependencies; whether it changed is what counts.
    redefined = previous is None or previous.definition != definition
    found = signatures.facts.get(key) or signatures.own(key, facts, own)
    # What it reads of its own facts: their signature alone unless its latest runs
    # targeted it (executed_with_root_target), as they most often do not.
    itself = found[0] if key not in found[1] else _facts(key, key, facts, signatures)
    remembered = None if previous is None else _memory(previous, own.deps)
    return (condition_hash, redefined, remembered, itself, tuple(deps))


def quiet(
    key: str, condition: Node, condition_hash: str, previous: AssetMemory | None, facts: Facts
) -> bool:
    """Whether `key`'s evaluation on this tick reads no passing event: it is not its first,
    and neither it nor a dependency was newly updated, requested on the previous tick or
    on this one, or changed its code version. Only for trees that read no further than
    their direct dependencies and no checks (those `situation` shares): what they read
    beyond that is not looked at here."""
    if previous is None or previous.requested or not _shareable(condition, condition_hash):
        return False
    asset = facts.asset(key)
    if asset.newly_updated:
        return False
    for dep in asset.deps:
        upstream = facts.asset(dep.key)
        remembered = facts.previous(dep.key)
        if upstream.newly_updated or facts.requested_now(dep.key):
            return False
        # A dependency without a condition has no memory: nothing of it passes but these.
        if remembered is not None and (
            remembered.requested or remembered.code_version != upstream.code_version
        ):
            return False
    return True


class Signatures:
    """One tick's cache of what assets' situations read of each asset: its facts as they
    enter a situation, and as an upstream. Valid through the tick because assets are
    evaluated upstream first: an upstream's request of this tick is known before any
    downstream reads it."""

    def __init__(self) -> None:
        # Asset key -> (the id of its facts' signature, the assets its latest runs targeted).
        self.facts: dict[str, tuple[int, frozenset[str]]] = {}
        # Upstream key -> (the assets its latest runs targeted, the id of what a downstream
        # not among them reads of it, what a downstream reads besides its facts), or None
        # when it cannot be shared.
        self.upstreams: dict[str, Upstream | None] = {}
        # Each distinct signature of the tick -> a number: a situation names its parts by
        # these, so looking it up hashes a few numbers rather than every asset's sets.
        self._ids: dict[Hashable, int] = {}
        self._outlines: dict[str, Outline] = {}
        # id() of a latest-run mapping -> the assets its runs targeted (see `own`).
        self._targeted: dict[int, frozenset[str]] = {}
        self._kept: list[Mapping[str, str]] = []

    def outline(self, key: str, facts: OutlinedFacts) -> Outline:
        found = self._outlines.get(key)
        if found is None:
            found = self._outlines[key] = facts.outline(key)
        return found

    def own(
        self, key: str, facts: OutlinedFacts, outline: Outline | None = None
    ) -> tuple[int, frozenset[str]]:
        """`facts[key]`, made: the id of the asset's facts' signature, and every asset the
        runs of its latest materializations targeted (`outline`: the asset's, if read)."""
        if outline is None:
            outline = self.outline(key, facts)
        # Most assets' latest materializations are of one run, or of none; an unpartitioned
        # asset's mapping is shared by the assets whose latest run is the same (facts.py).
        latest_run = outline.latest_run
        targeted = self._targeted.get(id(latest_run))
        if targeted is None:
            runs = set(latest_run.values())
            if len(runs) == 1:
                targeted = facts.run_targets(runs.pop())
            else:
                targeted = frozenset().union(*map(facts.run_targets, runs))
            self._targeted[id(latest_run)] = targeted
            self._kept.append(latest_run)  # its id names it while the tick lasts
        ids = self._ids  # (`interned`, inline: once an asset)
        signature = ids.get(outline.signature)
        if signature is None:
            signature = ids[outline.signature] = len(ids)
        found = self.facts[key] = (signature, targeted)
        return found

    def interned(self, value: Hashable) -> int:
        found = self._ids.get(value)
        if found is None:
            found = self._ids[value] = len(self._ids)
        return found

    def upstream(self, key: str, facts: OutlinedFacts) -> Upstream | None:
        if key in self.upstreams:
            return self.upstreams[key]
        found = None
        if _plain(key) and self.outline(key, facts).latest_window is None:
            remembered = facts.previous(key)
            # What a downstream its latest runs did not target reads of its facts (`_facts`):
            # their signature.
            signature, targeted = self.facts.get(key) or self.own(key, facts)
            rest = (
                None if remembered is None else (remembered.code_version, remembered.requested),
                facts.requested_now(key),
            )
            found = (targeted, self.interned((signature, *rest)), rest)
        self.upstreams[key] = found
        return found


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
        # Where each dependency path's key is among the dependencies (None when one is not
        # among them: then looked up by key, to fail naming it).
        at = {dep: i for i, dep in enumerate(dep_keys)}
        found = [at.get(dep) for _, dep in self.paths]
        self._positions = None if None in found else tuple(i for i in found if i is not None)
        # Most trees name the dependencies once each, in the definition's order: a copy's
        # own keys are then its dependencies as they are.
        self._in_order = self._positions == tuple(range(len(dep_keys)))
        # Whether a node path names a dependency: a copy's memory renames it. Otherwise
        # every copy's memory shares the first's nodes (a memory's are never changed).
        self.renames_nodes = any(dep is not None for _, dep, _, _ in self.nodes)
        self.memory_nodes = evaluation.memory.nodes
        # What every copy's stored row lists of its requests (the same partitions).
        self.requested_listed = listed(evaluation.requested, MAX_REQUESTED_KEYS)
        self._tree: SharedTree | None = None
        # Its memory's text up to the definition digest, when its copies' memories differ
        # from it by that digest alone (no node path names a dependency).
        self._state_head: str | None = None
        if all(dep is None for _, dep, _, _ in self.nodes):
            data = evaluation.memory.to_json()
            del data["definition"]
            self._state_head = json.dumps(data)[:-1] + ', "definition": '

    def tree(self) -> SharedTree:
        """The tree its copies are, as stored once (built on the first copy stored)."""
        if self._tree is None:
            result = self.evaluation.result
            assert result is not None
            message = evaluation_message(result, self.evaluation.memory.condition_hash)
            self._tree = SharedTree(message.SerializeToString(), tuple(at for at, _ in self.paths))
        return self._tree

    def state(self, memory: AssetMemory) -> str:
        """A copy's memory (`rekeyed`'s) as stored: JSON text."""
        if self._state_head is None:
            return memory.to_text()
        return f"{self._state_head}{encode_basestring_ascii(memory.definition)}}}"

    def dependencies(self, ours: OwnKeys) -> tuple[str, ...]:
        """A copy's own dependencies (`ours`) at the tree's dependency paths."""
        if self._in_order:
            return ours
        if self._positions is None:
            keys = self.keys(ours)
            return tuple(keys[dep] for _, dep in self.paths)
        return tuple(map(ours.__getitem__, self._positions))

    def keys(self, ours: OwnKeys) -> Keys:
        """Each of the shared evaluation's dependency keys -> the copy's own."""
        return dict(zip(self.dep_keys, ours, strict=True))


def rekeyed(
    shared: Shared, key: str, definition: str, facts: OutlinedFacts, signatures: Signatures
) -> tuple[Evaluation, OwnKeys]:
    """The shared evaluation as `key`'s (another asset in the same situation, whose
    definition digest is `definition`), and `key`'s own dependency keys, which replace
    the shared evaluation's (`Shared.keys`)."""
    source = shared.evaluation
    ours = tuple([dep.key for dep in signatures.outline(key, facts).deps])
    if len(ours) != len(shared.dep_keys):  # a situation names every dependency
        raise ValueError(f"{key!r} does not have its situation's dependencies")
    nodes = shared.memory_nodes
    if shared.renames_nodes:  # (most remember no true partitions under a dependency)
        keys = shared.keys(ours)
        nodes = {
            head if dep is None else f"{head}@{keys[dep]}{tail}": partitions
            for head, dep, tail, partitions in shared.nodes
        }
    result = source.result
    rebuild = None
    if result is not None and shared.paths:
        tree = result
        result = None

        def rebuild() -> NodeResult:
            return _replaced(tree, (), shared.prefixes, shared.keys(ours))

    was = source.memory  # (built field by field: dataclasses.replace costs more, per copy)
    memory = AssetMemory(
        was.condition_hash, nodes, was.requested, was.code_version, was.outcome, was.settled,
        definition,
    )  # fmt: skip
    evaluation = Evaluation(key, source.requested, result, source.error, memory, rebuild=rebuild)
    return evaluation, ours


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
    """A key that cannot be mistaken for part of a node path, nor for two keys where a
    shared evaluation's rows store keys one per line."""
    return "." not in key and "@" not in key and "#" not in key and "\n" not in key


def _facts(key: str, root: str, facts: OutlinedFacts, signatures: Signatures) -> Hashable:
    """What a situation whose asset is `root` reads of `key`'s facts."""
    found = signatures.facts.get(key)
    if found is None:
        found = signatures.own(key, facts)
    if root not in found[1]:
        return found[0]
    # executed_with_root_target: the partitions whose latest run targeted the root.
    latest_run = signatures.outline(key, facts).latest_run
    by_root = frozenset(p for p, run in latest_run.items() if root in facts.run_targets(run))
    return (found[0], by_root) if by_root else found[0]


def _memory(memory: AssetMemory, deps: tuple[Dep, ...]) -> Hashable:
    nodes: tuple[tuple[str, frozenset[str]], ...] = ()
    if memory.nodes:  # most remember no true partitions: nothing to rename
        positions = {dep.key: f"#{i}" for i, dep in enumerate(deps)}
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
