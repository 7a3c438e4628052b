"""GraphIndex: an AssetGraph renumbered 0..n-1, with attribute lookups built on first use.

Selections resolve over these integer positions rather than over AssetKeys: hashing an int
is done in C, while AssetKey's hash is a Python method, and a walk over 10,000 assets makes
tens of thousands of set operations. One index is kept per graph for as long as the graph
lives, so repeated resolutions (every job, sensor and request) share it.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable, Sequence
from itertools import chain
from threading import Lock
from typing import Any

from weir._assets import DEFAULT_GROUP
from weir._graph import AssetGraph
from weir._key import AssetKey
from weir._specs import AssetSpec

_EMPTY: frozenset[int] = frozenset()
_indexes: weakref.WeakKeyDictionary[AssetGraph, GraphIndex] = weakref.WeakKeyDictionary()
_indexes_lock = Lock()


def index_of(graph: AssetGraph) -> GraphIndex:
    index = _indexes.get(graph)
    if index is None:
        with _indexes_lock:
            index = _indexes.get(graph)
            if index is None:
                index = _indexes[graph] = GraphIndex(graph)
    return index


class GraphIndex:
    """Positions, edges and attribute lookups of one AssetGraph (which never changes)."""

    def __init__(self, graph: AssetGraph):
        # No reference back to `graph`: the cache holds indexes weakly by graph, and a strong
        # one would keep every graph alive.
        self.keys: list[AssetKey] = list(graph.specs)
        self.specs: list[AssetSpec] = list(graph.specs.values())
        self.assets_defs = graph.assets_defs
        self.position: dict[AssetKey, int] = {key: i for i, key in enumerate(self.keys)}
        position = self.position
        self.parents: list[tuple[int, ...]] = [
            tuple(position[p] for p in graph.parents[key]) for key in self.keys
        ]
        self.children: list[tuple[int, ...]] = [
            tuple(position[c] for c in graph.children[key]) for key in self.keys
        ]
        self.key_set: frozenset[AssetKey] = frozenset(self.keys)
        self.every: frozenset[int] = frozenset(range(len(self.keys)))
        by_key = graph.assets_def_by_key
        self.executable: frozenset[int] = frozenset(
            i for i, key in enumerate(self.keys) if by_key[key].is_executable
        )
        self.all_executable = len(self.executable) == len(self.keys)
        self._user_strings: list[str] | None = None
        self._required_siblings: list[tuple[int, ...]] | None = None
        self._groups: dict[str, frozenset[int]] | None = None
        self._owners: dict[str, frozenset[int]] | None = None
        self._kinds: dict[str, frozenset[int]] | None = None
        self._tag_keys: dict[str, frozenset[int]] | None = None
        self._tag_values: dict[tuple[str, str], frozenset[int]] | None = None

    def keys_at(self, positions: set[int]) -> set[AssetKey]:
        keys = self.keys
        if len(positions) * 2 <= len(keys):
            return {keys[i] for i in positions}
        # Most of the graph: copy the hashed set of every key (a copy reuses stored hashes,
        # where building anew calls AssetKey.__hash__ per key) and drop the few left out.
        selected = set(self.key_set)
        selected.difference_update([keys[i] for i in self.every - positions])
        return selected

    @property
    def user_strings(self) -> list[str]:
        if self._user_strings is None:
            self._user_strings = [key.to_user_string() for key in self.keys]
        return self._user_strings

    @property
    def required_siblings(self) -> list[tuple[int, ...]]:
        """Per position: the other assets its multi-asset must run with (can_subset=False)."""
        if self._required_siblings is None:
            siblings: list[tuple[int, ...]] = [()] * len(self.keys)
            for assets_def in self.assets_defs:
                if assets_def.can_subset or len(assets_def.specs) < 2:
                    continue
                together = tuple(self.position[k] for k in assets_def.keys)
                for i in together:
                    siblings[i] = together
            self._required_siblings = siblings
        return self._required_siblings

    def in_group(self, group: str) -> frozenset[int]:
        if self._groups is None:
            self._groups = self._group_by(lambda s: (s.group_name or DEFAULT_GROUP,))
        return self._groups.get(group, _EMPTY)

    def owned_by(self, owner: str) -> frozenset[int]:
        if self._owners is None:
            self._owners = self._group_by(lambda s: s.owners)
        return self._owners.get(owner, _EMPTY)

    def of_kind(self, kind: str) -> frozenset[int]:
        if self._kinds is None:
            self._kinds = self._group_by(lambda s: s.kinds)
        return self._kinds.get(kind, _EMPTY)

    def tagged(self, key: str, value: str | None) -> frozenset[int]:
        if self._tag_keys is None or self._tag_values is None:
            self._tag_keys = self._group_by(lambda s: s.tags)
            self._tag_values = self._group_by(lambda s: s.tags.items())
        if value is None:
            return self._tag_keys.get(key, _EMPTY)
        return self._tag_values.get((key, value), _EMPTY)

    def _group_by(
        self, labels_of: Callable[[AssetSpec], Iterable[Any]]
    ) -> dict[Any, frozenset[int]]:
        """{label: positions} for the labels `labels_of(spec)` yields for each asset."""
        found: dict[Any, list[int]] = {}
        for i, spec in enumerate(self.specs):
            for label in labels_of(spec):
                found.setdefault(label, []).append(i)
        return {label: frozenset(positions) for label, positions in found.items()}


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
