"""What one `AssetSelection.resolve` call works against: the graph's index and the unknown
keys met so far, so one error can name all of them."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

from weir._assets import AssetsDefinition
from weir._checks import AssetChecksDefinition
from weir._errors import SelectionError
from weir._graph import AssetGraph
from weir._key import AssetKey
from weir._selection.index import GraphIndex, index_of
from weir._specs import AssetSpec

_MAX_SUGGESTIONS = 5


class Resolution:
    """One resolution of a selection: positions in `index`, plus the keys it lacks."""

    def __init__(self, graph: AssetGraph, allow_missing: bool = False):
        self.index: GraphIndex = index_of(graph)
        self.allow_missing = allow_missing
        self.missing: dict[AssetKey, None] = {}  # ordered, so errors list keys as written

    def sources_filtered(self, positions: frozenset[int], include_sources: bool) -> set[int]:
        """`positions` without external assets unless `include_sources` (always a new set)."""
        if include_sources or self.index.all_executable:
            return set(positions)
        return set(positions & self.index.executable)

    def positions_of(self, keys: Iterable[AssetKey]) -> set[int]:
        """The positions of the keys the graph has; the others are remembered for one error."""
        found: set[int] = set()
        position = self.index.position
        for key in keys:
            at = position.get(key)
            if at is not None:
                found.add(at)
            elif not self.allow_missing:
                self.missing[key] = None
        return found

    def raise_if_missing(self) -> None:
        if not self.missing:
            return
        described = [f"'{k.to_user_string()}'{self._did_you_mean(k)}" for k in self.missing]
        noun = "an asset" if len(described) == 1 else "assets"
        raise SelectionError(
            f"The selection names {noun} not in these definitions: {'; '.join(described)}. "
            "Check the spelling, or add the asset to the Definitions"
        )

    def _did_you_mean(self, missing: AssetKey) -> str:
        index = self.index
        close = difflib.get_close_matches(
            missing.to_user_string(), index.user_strings, n=_MAX_SUGGESTIONS
        )
        tail = missing.path[-1]
        same_tail = sorted(
            name
            for key, name in zip(index.keys, index.user_strings, strict=True)
            if key.path[-1] == tail
        )
        picks = list(dict.fromkeys([*close, *same_tail]))[:_MAX_SUGGESTIONS]
        return f" (did you mean {' or '.join(repr(p) for p in picks)}?)" if picks else ""


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
    assets: list[AssetsDefinition] = []
    checks: list[AssetChecksDefinition] = []
    for item in target:
        if isinstance(item, AssetsDefinition):
            assets.append(item)
        elif isinstance(item, AssetSpec):
            assets.append(AssetsDefinition.external(item))
        elif isinstance(item, AssetChecksDefinition):
            checks.append(item)
        else:
            raise SelectionError(
                "resolve() takes a list of @asset / @multi_asset definitions, AssetSpecs and "
                f"@asset_checks; got {type(item).__name__}: {item!r}"
            )
    return AssetGraph(assets, checks)
