"""A deployment graph's edges as integer arrays, for lineage walks that touch thousands.

Each asset gets its position in the topological order; parents and children are stored
compressed (CSR: `offsets[i]:offsets[i + 1]` slices `targets`), so a walk over 5,000
ancestors is integer work on flat arrays, and putting a lineage in topological order is
sorting its positions rather than filtering the whole graph's key list. Built once per
graph, which is itself kept per combination of snapshot hashes (api/asset_graph.py).

Example::

    index = GraphIndex.build(toposorted_keys, parents_of)
    ancestors = index.walk(index.position["revenue"], index.parents, depth=None)
    [index.keys[p] for p in sorted(ancestors)]
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Adjacency:
    offsets: array[int]
    targets: array[int]

    def of(self, position: int) -> array[int]:
        return self.targets[self.offsets[position] : self.offsets[position + 1]]


@dataclass(frozen=True)
class GraphIndex:
    keys: Sequence[str]  # by position: the topological order
    position: dict[str, int]
    parents: Adjacency
    children: Adjacency

    @classmethod
    def build(
        cls, toposorted: Sequence[str], parents_of: Callable[[str], Iterable[str]]
    ) -> GraphIndex:
        position = {key: index for index, key in enumerate(toposorted)}
        parent_lists = [
            [position[parent] for parent in parents_of(key) if parent in position]
            for key in toposorted
        ]
        child_lists: list[list[int]] = [[] for _ in toposorted]
        for child, parents in enumerate(parent_lists):
            for parent in parents:
                child_lists[parent].append(child)
        return cls(tuple(toposorted), position, _compressed(parent_lists), _compressed(child_lists))

    def walk(self, start: int, edges: Adjacency, depth: int | None) -> set[int]:
        """`start` and what `edges` reach from it within `depth` steps (None: any)."""
        seen = {start}
        frontier = [start]
        level = 0
        offsets, targets = edges.offsets, edges.targets
        while frontier and (depth is None or level < depth):
            level += 1
            reached = []
            for node in frontier:
                for other in targets[offsets[node] : offsets[node + 1]]:
                    if other not in seen:
                        seen.add(other)
                        reached.append(other)
            frontier = reached
        return seen


def _compressed(lists: list[list[int]]) -> Adjacency:
    offsets = array("i", [0])
    targets = array("i")
    for items in lists:
        targets.extend(items)
        offsets.append(len(targets))
    return Adjacency(offsets, targets)
