"""An AssetGraph as the `weir_selection.SelectionGraph` selections are evaluated over.

One index is kept per graph for as long as the graph lives, so repeated resolutions (every
job, sensor and request) share it and its attribute lookups.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable
from threading import Lock
from typing import Any

from weir_selection import SelectionGraph

from weir._definitions import split_assets_and_checks
from weir._errors import DefinitionError, SelectionError
from weir._graph import AssetGraph
from weir._key import AssetKey

_indexes: weakref.WeakKeyDictionary[AssetGraph, AssetGraphIndex] = weakref.WeakKeyDictionary()
_indexes_lock = Lock()


def index_of(graph: AssetGraph) -> AssetGraphIndex:
    index = _indexes.get(graph)
    if index is None:
        with _indexes_lock:
            index = _indexes.get(graph)
            if index is None:
                index = _indexes[graph] = AssetGraphIndex(graph)
    return index


class AssetGraphIndex(SelectionGraph):
    """The SelectionGraph of one AssetGraph (which never changes), plus its AssetKeys."""

    def __init__(self, graph: AssetGraph):
        # No reference back to `graph`: the cache holds indexes weakly by graph, and a strong
        # one would keep every graph alive.
        asset_keys = list(graph.specs)
        position = {key: i for i, key in enumerate(asset_keys)}
        by_key = graph.assets_def_by_key
        super().__init__(
            keys=[key.to_user_string() for key in asset_keys],
            parents=[[position[p] for p in graph.parents[key]] for key in asset_keys],
            attributes=list(graph.specs.values()),
            external=[i for i, key in enumerate(asset_keys) if not by_key[key].is_executable],
            run_together=[
                [position[key] for key in assets_def.keys]
                for assets_def in graph.assets_defs
                if not assets_def.can_subset and len(assets_def.specs) > 1
            ],
        )
        self.asset_keys = asset_keys
        self.asset_key_set = frozenset(asset_keys)

    def asset_keys_at(self, positions: set[int]) -> set[AssetKey]:
        keys = self.asset_keys
        if len(positions) * 2 <= len(keys):
            return {keys[i] for i in positions}
        # Most of the graph: copy the hashed set of every key (a copy reuses stored hashes,
        # where building anew calls AssetKey.__hash__ per key) and drop the few left out.
        selected = set(self.asset_key_set)
        selected.difference_update([keys[i] for i in self.every - positions])
        return selected


def as_asset_graph(target: Any) -> AssetGraph:
    """An AssetGraph from a graph, a Definitions, or an iterable of assets, specs and checks."""
    if isinstance(target, AssetGraph):
        return target
    get_graph = getattr(target, "get_asset_graph", None)  # a Definitions
    if callable(get_graph):
        graph = get_graph()
        if isinstance(graph, AssetGraph):
            return graph
    if isinstance(target, (str, bytes)) or not isinstance(target, Iterable):
        raise SelectionError(
            "resolve() takes an AssetGraph, a Definitions, or a list of assets and AssetSpecs; "
            f"got {type(target).__name__}"
        )
    try:
        assets, checks = split_assets_and_checks(target)
    except DefinitionError as exc:
        raise SelectionError(
            f"resolve() takes assets, AssetSpecs and asset checks: {exc}"
        ) from None
    return AssetGraph(assets, checks)
