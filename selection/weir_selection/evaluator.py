"""evaluate: the positions a selection picks in a SelectionGraph, by set algebra over ints."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from itertools import chain

from weir_selection.errors import UnknownAssetsError
from weir_selection.graph import SelectionGraph
from weir_selection.nodes import (
    AllAssets,
    Difference,
    Downstream,
    ExternalParents,
    Groups,
    Intersection,
    KeyPattern,
    KeyPrefixes,
    Keys,
    KeySubstring,
    Kind,
    Materializable,
    Node,
    Owner,
    Roots,
    RunTogether,
    Sinks,
    Tag,
    Union,
    Upstream,
)
from weir_selection.parser import parse

_MAX_SUGGESTIONS = 5


def evaluate(node: Node, graph: SelectionGraph, allow_missing: bool = False) -> set[int]:
    """The positions of `graph` that `node` selects, as a new set the caller owns.

    Raises `UnknownAssetsError` naming every exact key the graph lacks, with close matches,
    unless `allow_missing` (then such keys select nothing).

    >>> graph = SelectionGraph(["orders", "revenue"], parents=[[], [0]])
    >>> sorted(graph.keys_of(evaluate(parse("orders+"), graph)))
    ['orders', 'revenue']
    """
    evaluation = _Evaluation(graph, allow_missing)
    positions = evaluation.positions(node)
    evaluation.raise_if_missing()
    return positions


def resolve(text: str, graph: SelectionGraph) -> set[str]:
    """The keys a selection string picks: `parse` then `evaluate`.

    >>> graph = SelectionGraph(["orders", "revenue"], parents=[[], [0]])
    >>> sorted(resolve("*revenue", graph))
    ['orders', 'revenue']
    """
    return graph.keys_of(evaluate(parse(text), graph))


def walk(start: Iterable[int], edges: Sequence[Sequence[int]], depth: int | None) -> set[int]:
    """`start` plus every position reachable along `edges` in at most `depth` steps."""
    seen = set(start)
    frontier: Iterable[int] = seen
    level = 0
    while depth is None or level < depth:
        # One level at a time, so the inner loop over edges runs in C.
        reached = set(chain.from_iterable(map(edges.__getitem__, frontier)))
        reached -= seen
        if not reached:
            break
        seen |= reached
        frontier = reached
        level += 1
    return seen


class _Evaluation:
    """One evaluation: the graph, and the unknown keys met so far, so one error names all."""

    def __init__(self, graph: SelectionGraph, allow_missing: bool):
        self.graph = graph
        self.allow_missing = allow_missing
        self.missing: dict[str, None] = {}  # ordered, so the error lists keys as written

    def positions(self, node: Node) -> set[int]:
        graph = self.graph
        match node:
            case Keys(keys):
                return self._positions_of(keys)
            case AllAssets(sources):
                return self._filtered(graph.every, sources)
            case Groups(groups, sources):
                return self._filtered(frozenset().union(*map(graph.in_group, groups)), sources)
            case Tag(key, value, sources):
                return self._filtered(graph.tagged(key, value), sources)
            case Owner(owner, sources):
                return self._filtered(graph.owned_by(owner), sources)
            case Kind(kind, sources):
                return self._filtered(graph.of_kind(kind), sources)
            case KeyPattern(pattern, sources):
                return self._filtered(_matching_pattern(graph.keys, pattern), sources)
            case KeySubstring(part, sources):
                matched = frozenset(i for i, key in enumerate(graph.keys) if part in key)
                return self._filtered(matched, sources)
            case KeyPrefixes(prefixes, sources):
                return self._filtered(_under_prefixes(graph.keys, prefixes), sources)
            case Union(operands):
                positions: set[int] = set()
                for operand in operands:
                    positions |= self.positions(operand)
                return positions
            case Intersection(operands):
                first, *rest = operands
                positions = self.positions(first)
                for operand in rest:
                    # Evaluate every operand even once the result is empty: unknown keys in
                    # any of them are still reported.
                    positions &= self.positions(operand)
                return positions
            case Difference(left, right):
                positions = self.positions(left)
                positions -= self.positions(right)
                return positions
            case Upstream(child, depth, include_self, sources):
                return self._walk(child, graph.parents, depth, include_self, sources)
            case Downstream(child, depth, include_self, sources):
                return self._walk(child, graph.children, depth, include_self, sources)
            case Roots(child):
                positions = self.positions(child)
                parents = graph.parents
                return {i for i in positions if positions.isdisjoint(parents[i])}
            case Sinks(child):
                positions = self.positions(child)
                children = graph.children
                return {i for i in positions if positions.isdisjoint(children[i])}
            case RunTogether(child):
                positions = self.positions(child)
                siblings = graph.required_siblings
                for i in list(positions):
                    positions.update(siblings[i])
                return positions
            case Materializable(child):
                positions = self.positions(child)
                positions &= graph.executable
                return positions
            case ExternalParents(child):
                positions = self.positions(child)
                upstream = walk(positions, graph.parents, None)
                upstream -= positions
                upstream -= graph.executable
                return upstream
        raise TypeError(f"not a selection node: {node!r}")

    def _walk(
        self,
        child: Node,
        edges: Sequence[Sequence[int]],
        depth: int | None,
        include_self: bool,
        include_sources: bool,
    ) -> set[int]:
        start = self.positions(child)
        reached = walk(start, edges, depth)
        reached -= start
        if not include_sources:
            reached &= self.graph.executable  # walk through external assets, but add none
        if include_self:
            reached |= start
        return reached

    def _filtered(self, positions: frozenset[int], include_sources: bool) -> set[int]:
        """`positions` without external assets unless `include_sources` (always a new set)."""
        if include_sources or self.graph.all_executable:
            return set(positions)
        return set(positions & self.graph.executable)

    def _positions_of(self, keys: Iterable[str]) -> set[int]:
        """The positions of the keys the graph has; the others are remembered for one error."""
        found: set[int] = set()
        position = self.graph.position
        for key in keys:
            at = position.get(key)
            if at is not None:
                found.add(at)
            elif not self.allow_missing:
                self.missing[key] = None
        return found

    def raise_if_missing(self) -> None:
        if self.missing:
            keys = list(self.missing)
            raise UnknownAssetsError(keys, {key: suggestions(key, self.graph) for key in keys})


def suggestions(missing: str, graph: SelectionGraph) -> list[str]:
    """Keys of `graph` the user may have meant by `missing`: close spellings, then keys with
    the same last path part (``joined`` for ``staging/joined``)."""
    import difflib  # only on the error path; keeps importing the package cheap

    close = difflib.get_close_matches(missing, graph.keys, n=_MAX_SUGGESTIONS)
    tail = missing.rsplit("/", 1)[-1]
    same_tail = sorted(key for key in graph.keys if key.rsplit("/", 1)[-1] == tail)
    return list(dict.fromkeys([*close, *same_tail]))[:_MAX_SUGGESTIONS]


def _matching_pattern(keys: Sequence[str], pattern: str) -> frozenset[int]:
    head, *middle, tail = pattern.split("*")
    if not middle:  # the common `prefix*suffix`: plain string tests, no regex
        size = len(head) + len(tail)
        return frozenset(
            i
            for i, key in enumerate(keys)
            if key.startswith(head) and key.endswith(tail) and len(key) >= size
        )
    regex = re.compile(".*".join(re.escape(part) for part in pattern.split("*")))
    return frozenset(i for i, key in enumerate(keys) if regex.fullmatch(key))


def _under_prefixes(keys: Sequence[str], prefixes: Iterable[tuple[str, ...]]) -> frozenset[int]:
    by_length: dict[int, set[tuple[str, ...]]] = {}
    for prefix in prefixes:
        by_length.setdefault(len(prefix), set()).add(prefix)
    return frozenset(
        i
        for i, key in enumerate(keys)
        if any(tuple(key.split("/"))[:n] in same for n, same in by_length.items())
    )
