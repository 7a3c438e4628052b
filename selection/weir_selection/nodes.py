"""The selection AST: immutable values, compared and hashed by structure.

The parser builds these from a string, the SDK's `AssetSelection` builds them from Python
calls, `evaluate` resolves them over a `SelectionGraph`, and `to_text` prints them back.
Keys are user strings (``"raw/orders"``: the key's path joined with ``/``).

Leaves that match an attribute skip external assets (those a run cannot materialize)
unless ``include_sources``; exact keys always select what they name.

>>> from weir_selection import parse
>>> parse("group:raw+") == Downstream(Groups(("raw",)), depth=1)
True
"""

from __future__ import annotations

from dataclasses import dataclass


class Node:
    """A selection: one of the dataclasses below."""

    __slots__ = ()


# -- leaves -------------------------------------------------------------------------------


@dataclass(frozen=True)
class AllAssets(Node):
    """``*``: every asset."""

    include_sources: bool = False


@dataclass(frozen=True)
class Keys(Node):
    """Exact keys: ``raw/orders``, ``"my key"``, ``key:raw/orders``. An empty tuple selects
    nothing. A key the graph lacks is an error when the selection is evaluated."""

    keys: tuple[str, ...]


@dataclass(frozen=True)
class KeyPrefixes(Node):
    """Keys whose path starts with one of ``prefixes`` (each a tuple of path parts)."""

    prefixes: tuple[tuple[str, ...], ...]
    include_sources: bool = False


@dataclass(frozen=True)
class KeyPattern(Node):
    """``key:raw/*``: keys whose user string matches ``pattern``, where ``*`` is any text."""

    pattern: str
    include_sources: bool = False


@dataclass(frozen=True)
class KeySubstring(Node):
    """``key_substring:ord``: keys whose user string contains ``substring``."""

    substring: str
    include_sources: bool = False


@dataclass(frozen=True)
class Groups(Node):
    """``group:g``: assets in any of ``groups`` (an asset without a group is in "default")."""

    groups: tuple[str, ...]
    include_sources: bool = False


@dataclass(frozen=True)
class Tag(Node):
    """``tag:k=v`` (``value`` "v") or ``tag:k`` (``value`` None: the tag is present)."""

    key: str
    value: str | None = None
    include_sources: bool = False


@dataclass(frozen=True)
class Owner(Node):
    """``owner:team:data``, ``owner:ana@example.com``."""

    owner: str
    include_sources: bool = False


@dataclass(frozen=True)
class Kind(Node):
    """``kind:dbt``."""

    kind: str
    include_sources: bool = False


# -- set algebra ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Union(Node):
    """``a or b``, ``a b``, ``a, b``. Build with `union`, which keeps unions flat."""

    operands: tuple[Node, ...]


@dataclass(frozen=True)
class Intersection(Node):
    """``a and b``. Build with `intersection`, which keeps intersections flat."""

    operands: tuple[Node, ...]


@dataclass(frozen=True)
class Difference(Node):
    """``a and not b``; ``not b`` alone is ``Difference(AllAssets(), b)``."""

    left: Node
    right: Node


# -- graph walks and filters ----------------------------------------------------------------


@dataclass(frozen=True)
class Upstream(Node):
    """``*a`` (depth None: every level), ``+a``, ``2+a``: ``child`` and its ancestors.

    The walk passes through external assets but adds them only with ``include_sources``.
    """

    child: Node
    depth: int | None = None
    include_self: bool = True
    include_sources: bool = False


@dataclass(frozen=True)
class Downstream(Node):
    """``a*``, ``a+``, ``a+2``: ``child`` and its descendants (see `Upstream`)."""

    child: Node
    depth: int | None = None
    include_self: bool = True
    include_sources: bool = False


@dataclass(frozen=True)
class Roots(Node):
    """``roots(x)``: the assets of ``child`` with no parent inside it."""

    child: Node


@dataclass(frozen=True)
class Sinks(Node):
    """``sinks(x)``: the assets of ``child`` with no child inside it."""

    child: Node


@dataclass(frozen=True)
class RunTogether(Node):
    """``child`` plus every asset that must run in the same step as one of it (a multi-asset
    that cannot run a subset of its outputs). No string form."""

    child: Node


@dataclass(frozen=True)
class Materializable(Node):
    """``child`` without its external assets. No string form."""

    child: Node


@dataclass(frozen=True)
class ExternalParents(Node):
    """The external assets upstream of ``child``. No string form."""

    child: Node


def union(*nodes: Node) -> Node:
    """The union of ``nodes``, with nested unions flattened into one."""
    return _flat(Union, nodes)


def intersection(*nodes: Node) -> Node:
    """The intersection of ``nodes``, with nested intersections flattened into one."""
    return _flat(Intersection, nodes)


def _flat(kind: type[Union] | type[Intersection], nodes: tuple[Node, ...]) -> Node:
    operands: list[Node] = []
    for node in nodes:
        operands.extend(node.operands if isinstance(node, kind) else (node,))
    return operands[0] if len(operands) == 1 else kind(tuple(operands))
