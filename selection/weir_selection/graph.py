"""SelectionGraph: an asset graph renumbered 0..n-1, which selections are evaluated over.

Each side builds one from what it holds (the SDK from its AssetGraph, the control plane
from a snapshot's AssetNode messages) and keeps it for as long as that graph lives, so
repeated evaluations share the attribute lookups it builds on first use.

Positions rather than keys: hashing an int is done in C, and a walk over 10,000 assets
makes tens of thousands of set operations.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from typing import Protocol

DEFAULT_GROUP = "default"  # the group of an asset declared without one

_EMPTY: frozenset[int] = frozenset()


class AssetAttributes(Protocol):
    """What attribute selections read of an asset. An SDK `AssetSpec` and a weir.v1
    `AssetNode` both fit as they are; an empty or None ``group_name`` is "default"."""

    @property
    def group_name(self) -> str | None: ...

    @property
    def tags(self) -> Mapping[str, str]: ...

    @property
    def owners(self) -> Iterable[str]: ...

    @property
    def kinds(self) -> Iterable[str]: ...


class SelectionGraph:
    """The assets of one graph by position: keys, edges, which are external, attributes.

    - ``keys``: each asset's user string (``"raw/orders"``), unique.
    - ``parents``: per position, the positions it depends on.
    - ``attributes``: per position, its group, tags, owners and kinds (None: no attributes).
    - ``external``: positions of assets a run cannot materialize.
    - ``run_together``: groups of positions that only run together (a multi-asset that
      cannot run a subset of its outputs).

    >>> graph = SelectionGraph(["raw/orders", "revenue"], parents=[[], [0]])
    >>> graph.children
    [(1,), ()]
    >>> sorted(graph.keys_of({1}))
    ['revenue']
    """

    def __init__(
        self,
        keys: Sequence[str],
        parents: Sequence[Iterable[int]],
        attributes: Sequence[AssetAttributes] | None = None,
        external: Iterable[int] = (),
        run_together: Iterable[Iterable[int]] = (),
    ):
        self.keys: list[str] = list(keys)
        size = len(self.keys)
        self.position: dict[str, int] = {key: i for i, key in enumerate(self.keys)}
        if len(self.position) != size:
            repeated = sorted(k for k, n in Counter(self.keys).items() if n > 1)
            raise ValueError(f"SelectionGraph keys must be unique; repeated: {repeated}")
        if len(parents) != size or (attributes is not None and len(attributes) != size):
            raise ValueError("SelectionGraph needs parents and attributes for every key")
        self.parents: list[tuple[int, ...]] = [tuple(p) for p in parents]
        children: list[list[int]] = [[] for _ in range(size)]
        for child, its_parents in enumerate(self.parents):
            for parent in its_parents:
                children[parent].append(child)
        self.children: list[tuple[int, ...]] = [tuple(c) for c in children]
        self.every: frozenset[int] = frozenset(range(size))
        self.executable: frozenset[int] = self.every - frozenset(external)
        self.all_executable = len(self.executable) == size
        siblings: list[tuple[int, ...]] = [()] * size
        for group in run_together:
            together = tuple(group)
            for i in together:
                siblings[i] = together
        self.required_siblings = siblings
        self._attributes: Sequence[AssetAttributes] = attributes or ()
        self._groups: dict[Hashable, frozenset[int]] | None = None
        self._owners: dict[Hashable, frozenset[int]] | None = None
        self._kinds: dict[Hashable, frozenset[int]] | None = None
        self._tag_keys: dict[Hashable, frozenset[int]] | None = None
        self._tag_values: dict[Hashable, frozenset[int]] | None = None

    def __len__(self) -> int:
        return len(self.keys)

    def keys_of(self, positions: Iterable[int]) -> set[str]:
        """The user strings of `positions`."""
        keys = self.keys
        return {keys[i] for i in positions}

    def in_group(self, group: str) -> frozenset[int]:
        if not self._attributes:  # none given: every asset is in the default group
            return self.every if group == DEFAULT_GROUP else _EMPTY
        if self._groups is None:
            self._groups = self._group_by(lambda a: (a.group_name or DEFAULT_GROUP,))
        return self._groups.get(group, _EMPTY)

    def owned_by(self, owner: str) -> frozenset[int]:
        if self._owners is None:
            self._owners = self._group_by(lambda a: a.owners)
        return self._owners.get(owner, _EMPTY)

    def of_kind(self, kind: str) -> frozenset[int]:
        if self._kinds is None:
            self._kinds = self._group_by(lambda a: a.kinds)
        return self._kinds.get(kind, _EMPTY)

    def tagged(self, key: str, value: str | None) -> frozenset[int]:
        """Positions with tag `key` set to `value`, or set at all when `value` is None."""
        if self._tag_keys is None or self._tag_values is None:
            self._tag_keys = self._group_by(lambda a: a.tags)
            self._tag_values = self._group_by(lambda a: a.tags.items())
        if value is None:
            return self._tag_keys.get(key, _EMPTY)
        return self._tag_values.get((key, value), _EMPTY)

    def _group_by(
        self, labels_of: Callable[[AssetAttributes], Iterable[Hashable]]
    ) -> dict[Hashable, frozenset[int]]:
        """{label: positions} for the labels `labels_of(attributes)` yields for each asset."""
        found: dict[Hashable, list[int]] = {}
        for i, attributes in enumerate(self._attributes):
            for label in labels_of(attributes):
                found.setdefault(label, []).append(i)
        return {label: frozenset(positions) for label, positions in found.items()}
