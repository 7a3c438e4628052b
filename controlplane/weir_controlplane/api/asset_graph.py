"""One asset graph over every code location of a deployment, for the API's reads.

An asset in one code location may depend on an asset of another, and a selection such
as "*revenue" must follow that edge, so the API resolves selections and walks lineage on
the union of the locations' snapshot graphs. The union is built once per combination of
snapshot hashes and cached; a deployment with one code location uses its graph as is.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping

from weir_protos.v1 import definitions_pb2

from weir_controlplane.api import limits
from weir_controlplane.errors import InvalidArgumentError
from weir_controlplane.locations import SnapshotGraph

_CACHE_SIZE = 8


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

    def parents(self, key: str) -> list[str]:
        return self.union.parents.get(key, [])

    def children(self, key: str) -> list[str]:
        return self.union.children.get(key, [])

    def walk(self, start: str, *, upstream: int | None, downstream: int | None) -> set[str]:
        """`start` with its ancestors to `upstream` levels and descendants to `downstream`
        levels (None: all levels)."""
        return _walk(start, self.parents, upstream) | _walk(start, self.children, downstream)

    def toposorted(self, keys: Iterable[str]) -> list[str]:
        """`keys` with every asset after the assets it depends on."""
        wanted = set(keys)
        order = [key for key in self.union.toposorted if key in wanted]
        # Keys outside the union (deps on assets no location defines) go first: they are
        # only ever upstream.
        missing = sorted(wanted.difference(order))
        return missing + order


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
