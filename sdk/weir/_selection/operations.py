"""Selections built from other selections: set algebra, graph walks and filters."""

from __future__ import annotations

from dataclasses import dataclass

from weir._selection.attributes import AllSelection
from weir._selection.index import walk
from weir._selection.resolution import Resolution
from weir._selection.selection import AssetSelection


@dataclass(frozen=True, repr=False)
class OrSelection(AssetSelection):
    operands: tuple[AssetSelection, ...]

    def _resolve(self, resolution: Resolution) -> set[int]:
        positions: set[int] = set()
        for operand in self.operands:
            positions |= operand._resolve(resolution)
        return positions

    def _text(self) -> str:
        return " or ".join(o._operand_text() for o in self.operands)

    def _python(self) -> str:
        return "(" + " | ".join(o._python() for o in self.operands) + ")"


@dataclass(frozen=True, repr=False)
class AndSelection(AssetSelection):
    operands: tuple[AssetSelection, ...]

    def _resolve(self, resolution: Resolution) -> set[int]:
        first, *rest = self.operands
        positions = first._resolve(resolution)
        for operand in rest:
            # Resolve every operand even once the result is empty, so unknown keys still raise.
            positions &= operand._resolve(resolution)
        return positions

    def _text(self) -> str:
        return " and ".join(o._operand_text() for o in self.operands)

    def _python(self) -> str:
        return "(" + " & ".join(o._python() for o in self.operands) + ")"


@dataclass(frozen=True, repr=False)
class SubtractSelection(AssetSelection):
    left: AssetSelection
    right: AssetSelection

    def _resolve(self, resolution: Resolution) -> set[int]:
        positions = self.left._resolve(resolution)
        positions -= self.right._resolve(resolution)
        return positions

    # Even `not y` is parenthesized as an operand: `x and (not y)` is an intersection,
    # where `x and not y` reads back as the difference x - y.

    @property
    def _is_negation(self) -> bool:
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

    def _resolve(self, resolution: Resolution) -> set[int]:
        start = self.child._resolve(resolution)
        index = resolution.index
        edges = index.parents if self._method == "upstream" else index.children
        reached = walk(start, edges, self.depth)
        reached -= start
        if not self.include_sources:
            reached &= index.executable  # walk through external assets, but do not add them
        if self.include_self:
            reached |= start
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

    def _resolve(self, resolution: Resolution) -> set[int]:
        positions = self.child._resolve(resolution)
        parents = resolution.index.parents
        return {i for i in positions if positions.isdisjoint(parents[i])}

    def _text(self) -> str:
        return f"roots({self.child._text()})"

    def _python(self) -> str:
        return f"{self.child._python()}.roots()"


@dataclass(frozen=True, repr=False)
class SinksSelection(AssetSelection):
    child: AssetSelection
    _is_term = _is_primary = True

    def _resolve(self, resolution: Resolution) -> set[int]:
        positions = self.child._resolve(resolution)
        children = resolution.index.children
        return {i for i in positions if positions.isdisjoint(children[i])}

    def _text(self) -> str:
        return f"sinks({self.child._text()})"

    def _python(self) -> str:
        return f"{self.child._python()}.sinks()"


@dataclass(frozen=True, repr=False)
class RequiredNeighborsSelection(AssetSelection):
    child: AssetSelection

    def _resolve(self, resolution: Resolution) -> set[int]:
        positions = self.child._resolve(resolution)
        siblings = resolution.index.required_siblings
        for i in list(positions):
            positions.update(siblings[i])
        return positions

    def _python(self) -> str:
        return f"{self.child._python()}.required_multi_asset_neighbors()"


@dataclass(frozen=True, repr=False)
class MaterializableSelection(AssetSelection):
    child: AssetSelection

    def _resolve(self, resolution: Resolution) -> set[int]:
        positions = self.child._resolve(resolution)
        positions &= resolution.index.executable
        return positions

    def _python(self) -> str:
        return f"{self.child._python()}.materializable()"


@dataclass(frozen=True, repr=False)
class ParentSourcesSelection(AssetSelection):
    child: AssetSelection

    def _resolve(self, resolution: Resolution) -> set[int]:
        positions = self.child._resolve(resolution)
        upstream = walk(positions, resolution.index.parents, None)
        upstream -= positions
        upstream -= resolution.index.executable
        return upstream

    def _python(self) -> str:
        return f"{self.child._python()}.upstream_source_assets()"
