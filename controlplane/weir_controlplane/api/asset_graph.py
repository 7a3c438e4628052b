"""One asset graph over every code location of a deployment, for the API's reads.

An asset in one code location may depend on an asset of another, and a selection such
as "*revenue" must follow that edge, so the API resolves selections and walks lineage on
the union of the locations' snapshot graphs. The union is built once per combination of
snapshot hashes and cached; a deployment with one code location uses its graph as is.
"""

from __future__ import annotations

import functools
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Mapping
from collections.abc import Set as AbstractSet
from typing import TypeVar

from weir_protos.v1 import control_plane_pb2 as cp
from weir_protos.v1 import definitions_pb2

from weir_controlplane.api import convert, limits
from weir_controlplane.api.asset_encoding import field_entry
from weir_controlplane.api.graph_index import GraphIndex
from weir_controlplane.api.graph_layout import Layout, layered_layout
from weir_controlplane.errors import InvalidArgumentError
from weir_controlplane.locations import SnapshotGraph

_CACHE_SIZE = 8
# Lineage plans and the like per graph: a whole-graph lineage of 10,000 assets is ~1 MB.
_DERIVED_PER_GRAPH = 8
_T = TypeVar("_T")


_EDGES_FIELD = cp.GetAssetLineageResponse.EDGES_FIELD_NUMBER


class DeploymentGraph:
    """The union of a deployment's snapshot graphs, remembering which location has what.

    Example::

        graph = DeploymentGraph.of(registry.all_graphs(scope))
        keys = graph.resolve("orders+")        # {"orders", "revenue"}
        graph.location_of["revenue"]           # "quickstart"
    """

    # Unions by (location, snapshot hash) pairs; a few, as deployments are few.
    _cache: OrderedDict[tuple[tuple[str, str], ...], DeploymentGraph] = OrderedDict()
    _cache_lock = threading.Lock()

    def __init__(self, graphs: Mapping[str, SnapshotGraph]) -> None:
        self.graphs = dict(sorted(graphs.items()))
        self.location_of: dict[str, str] = {}
        for name, graph in self.graphs.items():
            for key in graph.nodes:
                self.location_of.setdefault(key, name)
        if len(self.graphs) == 1:
            self.union = next(iter(self.graphs.values()))
        else:
            merged = definitions_pb2.DefinitionsSnapshot(
                content_hash="+".join(g.content_hash for g in self.graphs.values())
            )
            # The first location (by name) wins a key two locations define.
            seen: set[str] = set()
            for graph in self.graphs.values():
                for key, node in graph.nodes.items():
                    if key not in seen:
                        seen.add(key)
                        merged.assets.append(node)
            self.union = SnapshotGraph(merged)
        self.sorted_keys = sorted(self.union.nodes)
        self._layout: Layout | None = None
        self._layout_lock = threading.Lock()
        self._index: GraphIndex | None = None
        self._index_lock = threading.Lock()
        # Lineage replies' edges into each asset, made once per graph: (parent, entry).
        self._edges_into: dict[str, EdgesInto] = {}
        # What requests work out from the definitions alone (`derived`), most recent last.
        self._derived: OrderedDict[Hashable, object] = OrderedDict()
        self._derived_lock = threading.Lock()

    @classmethod
    def of(cls, graphs: Mapping[str, SnapshotGraph]) -> DeploymentGraph:
        """The union of `graphs`, reused while no location's snapshot changes."""
        cache_key = tuple(sorted((name, graph.content_hash) for name, graph in graphs.items()))
        with cls._cache_lock:
            cached = cls._cache.get(cache_key)
            if cached is not None:
                cls._cache.move_to_end(cache_key)
                return cached
        built = cls(graphs)
        with cls._cache_lock:
            cls._cache[cache_key] = built
            while len(cls._cache) > _CACHE_SIZE:
                cls._cache.popitem(last=False)
        return built

    @property
    def nodes(self) -> dict[str, definitions_pb2.AssetNode]:
        return self.union.nodes

    def node(self, key: str) -> definitions_pb2.AssetNode | None:
        return self.union.nodes.get(key)

    def resolve(self, selection: str) -> set[str]:
        """The keys a selection string picks; INVALID_ARGUMENT naming what is wrong."""
        limits.check_selection(selection)
        if not self.graphs:
            raise InvalidArgumentError(
                f"selection {selection!r} cannot be resolved: no code location of this "
                "deployment has definitions loaded"
            )
        return set(self.union.resolve(selection))

    @functools.cached_property
    def content_hash(self) -> str:
        """Changes exactly when a location's definitions do (or a location comes or goes);
        asked by every kept reply and kept asset, so worked out once per graph."""
        text = "\n".join(f"{name}={g.content_hash}" for name, g in self.graphs.items())
        return hashlib.sha256(text.encode()).hexdigest()[:32]

    def layout(self) -> Layout:
        """The graph's layered layout, computed on first use and kept with the graph, which
        is itself kept per combination of snapshot hashes."""
        with self._layout_lock:  # one computation, however many callers arrive at once
            if self._layout is None:
                groups = {key: node.group_name for key, node in self.nodes.items()}
                self._layout = layered_layout(self.union.toposorted, self.union.parents, groups)
            return self._layout

    def parents(self, key: str) -> tuple[str, ...]:
        return self.union.parents.get(key, ())

    def edges_into(self, key: str) -> EdgesInto:
        """The `AssetEdge`s from each parent of `key`, encoded as entries of a lineage
        reply's `edges` field; made on first use and kept with the graph."""
        edges = self._edges_into.get(key)
        if edges is None:  # two threads may both make it: the same edges
            downstream = convert.key_proto(key)
            entries = []
            for parent in self.parents(key):
                edge = cp.AssetEdge(upstream=convert.key_proto(parent), downstream=downstream)
                entries.append((parent, field_entry(_EDGES_FIELD, edge.SerializeToString())))
            edges = self._edges_into[key] = EdgesInto(entries)
        return edges

    def derived(self, key: Hashable, make: Callable[[], _T]) -> _T:
        """`make()`, kept with the graph under `key` (a few, most recently used): for what
        depends on the definitions only, such as a lineage's order and edges. Two callers
        missing at once both make it: the same value."""
        with self._derived_lock:
            if key in self._derived:
                self._derived.move_to_end(key)
                return self._derived[key]  # type: ignore[return-value]
        value = make()
        with self._derived_lock:
            self._derived[key] = value
            while len(self._derived) > _DERIVED_PER_GRAPH:
                self._derived.popitem(last=False)
        return value

    def children(self, key: str) -> tuple[str, ...]:
        return self.union.children.get(key, ())

    @property
    def index(self) -> GraphIndex:
        """The edges as integer arrays (api/graph_index.py), built on first use."""
        with self._index_lock:
            if self._index is None:
                self._index = GraphIndex.build(self.union.toposorted, self.parents)
            return self._index

    def walk(self, start: str, *, upstream: int | None, downstream: int | None) -> set[str]:
        """`start` with its ancestors to `upstream` levels and descendants to `downstream`
        levels (None: all levels)."""
        index = self.index
        at = index.position.get(start)
        if at is None:  # not in the union: only its own edges, by name
            return _walk(start, self.parents, upstream) | _walk(start, self.children, downstream)
        reached = index.walk(at, index.parents, upstream) | index.walk(
            at, index.children, downstream
        )
        keys = index.keys
        return {keys[position] for position in reached}

    def toposorted(self, keys: Iterable[str]) -> list[str]:
        """`keys` with every asset after the assets it depends on."""
        index = self.index
        position = index.position
        wanted = set(keys)
        defined = position.keys()
        found = sorted(map(position.__getitem__, wanted & defined))
        # Keys outside the union (deps on assets no location defines) go first: they are
        # only ever upstream.
        missing = sorted(wanted - defined)
        return missing + list(map(index.keys.__getitem__, found))


class EdgesInto:
    """The encoded edges into one asset: all of them joined, for a lineage that holds
    every parent (any lineage closed upstream, such as "*"), or those from some parents."""

    __slots__ = ("entries", "joined", "parents")

    def __init__(self, entries: list[tuple[str, bytes]]) -> None:
        self.entries = entries  # (parent, encoded edge)
        self.parents = frozenset(parent for parent, _ in entries)
        self.joined = b"".join(entry for _, entry in entries)

    def within(self, keys: AbstractSet[str]) -> bytes:
        """The edges from the parents among `keys`, encoded and joined."""
        if self.parents <= keys:
            return self.joined
        return b"".join(entry for parent, entry in self.entries if parent in keys)


def _walk(start: str, neighbours: Callable[[str], Iterable[str]], depth: int | None) -> set[str]:
    seen = {start}
    frontier = [start]
    level = 0
    while frontier and (depth is None or level < depth):
        level += 1
        reached = []
        for key in frontier:
            for other in neighbours(key):
                if other not in seen:
                    seen.add(other)
                    reached.append(other)
        frontier = reached
    return seen
