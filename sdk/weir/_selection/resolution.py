"""What one `AssetSelection.resolve` call works against: the graph, plus indexes built lazily.

Every selection node resolves through a shared `Resolution`, so the whole expression costs one
pass per attribute atom and one breadth-first walk per traversal, whatever its shape.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator
from typing import Any

from weir._assets import AssetsDefinition
from weir._checks import AssetChecksDefinition
from weir._errors import SelectionError
from weir._graph import AssetGraph
from weir._key import AssetKey
from weir._specs import AssetSpec

_MAX_SUGGESTIONS = 5


class Resolution:
    """The graph a selection resolves against and the unknown keys it has met so far."""

    def __init__(self, graph: AssetGraph, allow_missing: bool = False):
        self.graph = graph
        self.allow_missing = allow_missing
        self.missing: dict[AssetKey, None] = {}  # ordered, so errors list keys as written
        self._executable: frozenset[AssetKey] | None = None
        self._user_strings: dict[AssetKey, str] | None = None

    @property
    def executable(self) -> frozenset[AssetKey]:
        if self._executable is None:
            self._executable = frozenset(self.graph.executable_keys)
        return self._executable

    @property
    def user_strings(self) -> dict[AssetKey, str]:
        if self._user_strings is None:
            self._user_strings = {key: key.to_user_string() for key in self.graph.specs}
        return self._user_strings

    def candidates(self, include_sources: bool) -> Iterator[tuple[AssetKey, AssetSpec]]:
        """Every (key, spec) an attribute atom may match: external assets only on request."""
        if include_sources:
            return iter(self.graph.specs.items())
        executable = self.executable
        return ((k, s) for k, s in self.graph.specs.items() if k in executable)

    def keep(self, keys: set[AssetKey], include_sources: bool) -> set[AssetKey]:
        return keys if include_sources else keys & self.executable

    def known(self, keys: Iterable[AssetKey]) -> set[AssetKey]:
        """The keys that exist in the graph; the others are remembered for one error."""
        found: set[AssetKey] = set()
        specs = self.graph.specs
        for key in keys:
            if key in specs:
                found.add(key)
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
        names = self.user_strings
        wanted = missing.to_user_string()
        close = difflib.get_close_matches(wanted, names.values(), n=_MAX_SUGGESTIONS)
        same_tail = sorted(n for k, n in names.items() if k.path[-1] == missing.path[-1])
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
