"""to_text: a selection as the string `parse` reads back to the same assets.

Parentheses are added only where the grammar needs them: a *term* needs none as an operand
of and/or/not (``*a``, ``group:g``), a *primary* needs none even as the operand of a walk
(``group:g``, but not ``*a`` or ``*``).
"""

from __future__ import annotations

from weir_selection import syntax
from weir_selection.errors import NoTextFormError
from weir_selection.nodes import (
    AllAssets,
    Difference,
    Downstream,
    Groups,
    Intersection,
    KeyPattern,
    Keys,
    KeySubstring,
    Kind,
    Node,
    Owner,
    Roots,
    Sinks,
    Tag,
    Union,
    Upstream,
)


def to_text(node: Node) -> str:
    """`node` in the selection syntax; `NoTextFormError` for what the syntax cannot say
    (key prefixes, ``include_sources=True``, run-together and external-parent selections).

    >>> from weir_selection import parse
    >>> to_text(parse("( group:raw )+  ,  tag:tier=gold"))
    'group:raw+ or tag:tier=gold'
    """
    match node:
        case Keys(keys):
            if not keys:
                return "not *"  # the empty selection
            return " or ".join(syntax.key_text(key) for key in keys)
        case AllAssets(False):
            return "*"
        case Groups(groups, False):
            if not groups:
                return "not *"
            return " or ".join("group:" + syntax.value_text(g) for g in groups)
        case Tag(key, value, False):
            text = "tag:" + syntax.value_text(key)
            return text if value is None else f"{text}={syntax.value_text(value)}"
        case Owner(owner, False):
            return "owner:" + syntax.value_text(owner)
        case Kind(kind, False):
            return "kind:" + syntax.value_text(kind)
        case KeyPattern(pattern, False):
            return syntax.key_pattern_text(pattern)
        case KeySubstring(part, False):
            bare = all(c in syntax.KEY_CHARS for c in part)
            return "key_substring:" + (part if bare else syntax.quote(part))
        case Union(operands):
            return " or ".join(map(_operand_text, operands))
        case Intersection(operands):
            return " and ".join(map(_operand_text, operands))
        case Difference(left, right):
            # Even `not y` is parenthesized as an operand: `x and (not y)` is an
            # intersection, where `x and not y` reads back as the difference x - y.
            if left == AllAssets():
                return f"not {_operand_text(right)}"
            return f"{_operand_text(left)} and not {_operand_text(right)}"
        case Upstream(child, depth, include_self, False):
            levels = {None: "*", 1: "+"}.get(depth, f"{depth}+")
            return _walk_text(f"{levels}{_primary_text(child)}", child, include_self)
        case Downstream(child, depth, include_self, False):
            levels = {None: "*", 1: "+"}.get(depth, f"+{depth}")
            return _walk_text(f"{_primary_text(child)}{levels}", child, include_self)
        case Roots(child):
            return f"roots({to_text(child)})"
        case Sinks(child):
            return f"sinks({to_text(child)})"
    raise NoTextFormError(node)


def _walk_text(walked: str, child: Node, include_self: bool) -> str:
    return walked if include_self else f"{walked} and not {_operand_text(child)}"


def _is_term(node: Node) -> bool:
    match node:
        case Keys(keys):
            return len(keys) == 1
        case Groups(groups):
            return len(groups) == 1
        case Upstream() | Downstream():
            return node.include_self
        case AllAssets() | Tag() | Owner() | Kind() | KeyPattern() | KeySubstring():
            return True
        case Roots() | Sinks():
            return True
    return False


def _is_primary(node: Node) -> bool:
    # `**a` and `key:raw/**` would not read back; every other term is also a primary.
    if isinstance(node, AllAssets | KeyPattern | Upstream | Downstream):
        return False
    return _is_term(node)


def _operand_text(node: Node) -> str:
    text = to_text(node)
    return text if _is_term(node) else f"({text})"


def _primary_text(node: Node) -> str:
    text = to_text(node)
    return text if _is_primary(node) else f"({text})"
