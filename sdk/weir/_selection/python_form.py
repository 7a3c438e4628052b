"""How an `AssetSelection` is written in Python: its repr, and its str when the selection
syntax cannot say it (``AssetSelection.key_prefixes('raw')``)."""

from __future__ import annotations

from weir_selection import (
    AllAssets,
    Difference,
    Downstream,
    ExternalParents,
    Groups,
    Intersection,
    KeyPattern,
    KeyPrefixes,
    Keys,
    KeySubstring,
    Kind,
    Materializable,
    Node,
    Owner,
    Roots,
    RunTogether,
    Sinks,
    Tag,
    Union,
    Upstream,
)
from weir_selection.syntax import key_pattern_text

_METHOD_OF = {
    Roots: "roots",
    Sinks: "sinks",
    RunTogether: "required_multi_asset_neighbors",
    Materializable: "materializable",
    ExternalParents: "upstream_source_assets",
}


def python_form(node: Node) -> str:
    """The Python expression that builds `node`.

    >>> from weir_selection import parse
    >>> python_form(parse("group:g+2 and not kind:dbt"))
    "(AssetSelection.groups('g').downstream(depth=2) - AssetSelection.kind('dbt'))"
    """
    match node:
        case AllAssets(sources):
            return f"AssetSelection.all({'include_sources=True' if sources else ''})"
        case Keys(keys):
            return f"AssetSelection.assets({', '.join(map(repr, keys))})"
        case KeyPrefixes(prefixes, sources):
            args = ", ".join(repr("/".join(p)) for p in prefixes)
            return f"AssetSelection.key_prefixes({args}{_sources(sources)})"
        case KeyPattern(pattern, sources):
            text = key_pattern_text(pattern)
            return f"AssetSelection.from_string({text!r}{_sources(sources)})"
        case KeySubstring(part, sources):
            return f"AssetSelection.key_substring({part!r}{_sources(sources)})"
        case Groups(groups, sources):
            args = ", ".join(map(repr, groups))
            return f"AssetSelection.groups({args}{_sources(sources)})"
        case Tag(key, value, sources):
            value_arg = "" if value is None else f", {value!r}"
            return f"AssetSelection.tag({key!r}{value_arg}{_sources(sources)})"
        case Owner(owner, sources):
            return f"AssetSelection.owner({owner!r}{_sources(sources)})"
        case Kind(kind, sources):
            return f"AssetSelection.kind({kind!r}{_sources(sources)})"
        case Union(operands):
            return "(" + " | ".join(map(python_form, operands)) + ")"
        case Intersection(operands):
            return "(" + " & ".join(map(python_form, operands)) + ")"
        case Difference(left, right):
            return f"({python_form(left)} - {python_form(right)})"
        case Upstream(child, depth, include_self, sources) | Downstream(
            child, depth, include_self, sources
        ):
            options: list[str] = []
            if depth is not None:
                options.append(f"depth={depth}")
            if not include_self:
                options.append("include_self=False")
            if sources:
                options.append("include_sources=True")
            method = "upstream" if isinstance(node, Upstream) else "downstream"
            return f"{python_form(child)}.{method}({', '.join(options)})"
        case (
            Roots(child)
            | Sinks(child)
            | RunTogether(child)
            | Materializable(child)
            | ExternalParents(child)
        ):
            return f"{python_form(child)}.{_METHOD_OF[type(node)]}()"
    raise TypeError(f"not a selection node: {node!r}")


def _sources(include_sources: bool) -> str:
    return ", include_sources=True" if include_sources else ""
