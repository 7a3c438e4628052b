"""Selections built from other selections: set algebra, graph walks and filters."""

from __future__ import annotations

from dataclasses import dataclass

from weir._key import AssetKey
from weir._selection.resolution import Resolution
from weir._selection.selection import AssetSelection


@dataclass(frozen=True, repr=False)
class OrSelection(AssetSelection):
    operands: tuple[AssetSelection, ...]

    def _resolve(self, resolution: Resolution) -> set[AssetKey]:
        keys: set[AssetKey] = set()
        for operand in self.operands:
            keys |= operand._resolve(resolution)
        return keys

    def _text(self) -> str:
        return " or ".join(o._operand_text() for o in self.operands)

    def _python(self) -> str:
        return "(" + " | ".join(o._python() for o in self.operands) + ")"


@dataclass(frozen=True, repr=False)
class AndSelection(AssetSelection):
    operands: tuple[AssetSelection, ...]

    def _resolve(self, resolution: Resolution) -> set[AssetKey]:
        first, *rest = self.operands
        keys = first._resolve(resolution)
        for operand in rest:
            # Resolve every operand even once `keys` is empty, so unknown keys still raise.
            keys &= operand._resolve(resolution)
        return keys

    def _text(self) -> str:
        return " and ".join(o._operand_text() for o in self.operands)

    def _python(self) -> str:
        return "(" + " & ".join(o._python() for o in self.operands) + ")"


@dataclass(frozen=True, repr=False)
class SubtractSelection(AssetSelection):
    left: AssetSelection
    right: AssetSelection

    def _resolve(self, resolution: Resolution) -> set[AssetKey]:
        keys = self.left._resolve(resolution)
        keys -= self.right._resolve(resolution)
        return keys

    @property
    def _is_term(self) -> bool:  # type: ignore[override]
        return self._is_negation  # `not x` binds tighter than and/or

    @property
    def _is_negation(self) -> bool:
        from weir._selection.attributes import AllSelection

        return self.left == AllSelection()

    def _text(self) -> str:
        if self._is_negation:
            return f"not {self.right._operand_text()}"
        return f"{self.left._operand_text()} and not {self.right._operand_text()}"

    def _python(self) -> str:
        return f"({self.left._python()} - {self.right._python()})"


class _Walk(AssetSelection):
    """Upstream or downstream: a breadth-first walk of the graph from the child's keys."""

    __slots__ = ()
    child: AssetSelection
    depth: int | None
    include_self: bool
    include_sources: bool
    _method = ""

    def _resolve(self, resolution: Resolution) -> set[AssetKey]:
        start = self.child._resolve(resolution)
        graph = resolution.graph
        walk = graph.upstream if self._method == "upstream" else graph.downstream
        reached = walk(start, self.depth)
        if not self.include_sources:
            reached = (reached - start) & resolution.executable | start
        if not self.include_self:
            reached -= start
        return reached

    def _text(self) -> str:
        if self.include_sources:
            return AssetSelection._text(self)
        walked = self._walk_text(self.child._primary_text())
        if self.include_self:
            return walked
        return f"{walked} and not {self.child._operand_text()}"

    def _walk_text(self, child: str) -> str:
        raise NotImplementedError

    @property
    def _is_term(self) -> bool:  # type: ignore[override]
        return self.include_self

    def _python(self) -> str:
        args = []
        if self.depth is not None:
            args.append(f"depth={self.depth}")
        if not self.include_self:
            args.append("include_self=False")
        if self.include_sources:
            args.append("include_sources=True")
        return f"{self.child._python()}.{self._method}({', '.join(args)})"


@dataclass(frozen=True, repr=False)
class UpstreamSelection(_Walk):
    child: AssetSelection
    depth: int | None = None
    include_self: bool = True
    include_sources: bool = False
    _method = "upstream"

    def _walk_text(self, child: str) -> str:
        levels = {None: "*", 1: "+"}.get(self.depth, f"{self.depth}+")
        return f"{levels}{child}"


@dataclass(frozen=True, repr=False)
class DownstreamSelection(_Walk):
    child: AssetSelection
    depth: int | None = None
    include_self: bool = True
    include_sources: bool = False
    _method = "downstream"

    def _walk_text(self, child: str) -> str:
        levels = {None: "*", 1: "+"}.get(self.depth, f"+{self.depth}")
        return f"{child}{levels}"


@dataclass(frozen=True, repr=False)
class RootsSelection(AssetSelection):
    child: AssetSelection
    _is_term = _is_primary = True

    def _resolve(self, resolution: Resolution) -> set[AssetKey]:
        keys = self.child._resolve(resolution)
        parents = resolution.graph.parents
        return {k for k in keys if not any(p in keys for p in parents[k])}

    def _text(self) -> str:
        return f"roots({self.child._text()})"

    def _python(self) -> str:
        return f"{self.child._python()}.roots()"


@dataclass(frozen=True, repr=False)
class SinksSelection(AssetSelection):
    child: AssetSelection
    _is_term = _is_primary = True

    def _resolve(self, resolution: Resolution) -> set[AssetKey]:
        keys = self.child._resolve(resolution)
        children = resolution.graph.children
        return {k for k in keys if not any(c in keys for c in children[k])}

    def _text(self) -> str:
        return f"sinks({self.child._text()})"

    def _python(self) -> str:
        return f"{self.child._python()}.sinks()"


@dataclass(frozen=True, repr=False)
class RequiredNeighborsSelection(AssetSelection):
    child: AssetSelection

    def _resolve(self, resolution: Resolution) -> set[AssetKey]:
        keys = self.child._resolve(resolution)
        by_key = resolution.graph.assets_def_by_key
        for assets_def in {id(by_key[k]): by_key[k] for k in keys}.values():
            if not assets_def.can_subset:
                keys.update(assets_def.keys)
        return keys

    def _python(self) -> str:
        return f"{self.child._python()}.required_multi_asset_neighbors()"


@dataclass(frozen=True, repr=False)
class MaterializableSelection(AssetSelection):
    child: AssetSelection

    def _resolve(self, resolution: Resolution) -> set[AssetKey]:
        return self.child._resolve(resolution) & resolution.executable

    def _python(self) -> str:
        return f"{self.child._python()}.materializable()"


@dataclass(frozen=True, repr=False)
class ParentSourcesSelection(AssetSelection):
    child: AssetSelection

    def _resolve(self, resolution: Resolution) -> set[AssetKey]:
        keys = self.child._resolve(resolution)
        return resolution.graph.upstream(keys) - keys - resolution.executable

    def _python(self) -> str:
        return f"{self.child._python()}.upstream_source_assets()"
