"""Selection strings: a small recursive-descent parser producing `nodes` values.

Grammar, loosest binding first::

    selection  := union EOF
    union      := and_expr ( ("or" | "," | <whitespace>) and_expr )*
    and_expr   := not_expr ( "and" ["not"] not_expr )*   "and not" is a set difference
    not_expr   := "not" not_expr | traversal
    traversal  := up? primary down?
    up         := "*" | "+"+ | DIGITS "+"        e.g. *a  +a  ++a  2+a
    down       := "*" | "+"+ | "+" DIGITS        e.g. a*  a+  a++  a+2
    primary    := "(" union ")" | ("roots" | "sinks") "(" union ")" | "*"
                | ATTRIBUTE ":" VALUE | KEY | QUOTED
    ATTRIBUTE  := key | key_substring | group | tag | owner | kind

- Traversals follow the op-selection syntax: each ``+`` is one level, ``*`` is every level,
  and ``N+`` / ``+N`` are N levels (``2+a`` is ``++a``). ``*a*`` and ``+a+`` are the union of
  the upstream and the downstream walk. (Dagster's newer syntax reads a bare ``+`` as every
  level; here it is one level, as in Dagster's op selection and dbt.)
- ``and`` / ``or`` / ``not`` are keywords in any case. Juxtaposition and commas are unions,
  as is ``or``: ``"a b+"`` is ``a`` plus ``b`` and its children. ``x and not y`` is
  ``x - y``; a ``not y`` of its own is every asset Weir can run but ``y``.
- A KEY is path parts of letters, digits, ``_``, ``-`` and ``.`` joined by ``/``
  (``raw/orders``); any other key is written quoted, ``"my key"`` or ``key:"my key"``.
- ``key:`` takes a key or, unquoted, a pattern where ``*`` matches any text (``key:raw/*``);
  a quoted ``key:`` value is an exact key. ``key_substring:ord`` matches part of ``a/b/c``.
- ``tag:k=v`` matches a tag value, ``tag:k`` the tag's presence. Unquoted group, tag, owner
  and kind values end at whitespace, ``(``, ``)``, ``,``, ``+`` and ``*``, so
  ``owner:team:data`` and ``owner:ana@example.com`` need no quotes, and ``group:g+`` walks
  downstream of the group.
- An unknown key is reported when the selection is resolved; an attribute that matches
  nothing selects nothing.
- A selection nests at most `MAX_DEPTH` levels: parentheses, ``not``, ``roots(...)`` and
  ``sinks(...)`` while parsing, and the depth of the resulting tree (a chain of
  ``and not`` adds a level per term). Deeper text is a `SelectionSyntaxError`, not a
  RecursionError: selections arrive from API clients.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from typing import Any, NoReturn

from weir_selection import syntax
from weir_selection.errors import SelectionError, SelectionSyntaxError
from weir_selection.nodes import (
    AllAssets,
    Difference,
    Downstream,
    Groups,
    KeyPattern,
    Keys,
    KeySubstring,
    Kind,
    Node,
    Owner,
    Roots,
    Sinks,
    Tag,
    Upstream,
    intersection,
    union,
)

_EVERY_LEVEL = -1  # a parsed `*` traversal, before it becomes depth=None
_DIGITS = frozenset("0123456789")  # not str.isdigit, which also accepts "²"
# How deep a selection may nest. Far above what a person writes; far below what would
# exhaust Python's stack in the parser, the evaluator, or a node's hash and repr.
MAX_DEPTH = 64


def parse(text: str, include_sources: bool = False) -> Node:
    """The selection `text` says; `SelectionSyntaxError` (column, caret, what was expected)
    when it is malformed. With `include_sources`, attribute matches and walks keep external
    assets too.

    >>> parse("group:raw and not tag:pii")
    Difference(left=Groups(groups=('raw',), include_sources=False), right=Tag(key='pii', \
value=None, include_sources=False))
    """
    if not isinstance(text, str):
        raise SelectionError(f"A selection string must be a str, got {type(text).__name__}")
    return _Parser(text, include_sources).parse()


class _Parser:
    def __init__(self, text: str, include_sources: bool):
        self.text = text
        self.pos = 0
        self.include_sources = include_sources
        self.nesting = 0  # open parentheses, `not`s and functions around the cursor

    # -- grammar ------------------------------------------------------------------------------

    def parse(self) -> Node:
        self._skip_space()
        if self._at_end():
            self._fail("expected an asset key, an attribute such as group:name, or '*'")
        selection = self._union()
        if not self._at_end():  # only a stray ')' stops a union early
            self._fail("found ')' without a matching '('")
        if _depth(selection) > MAX_DEPTH:
            self._fail(
                f"the selection nests deeper than {MAX_DEPTH} levels (parentheses, 'not', "
                "'and not' chains); write it flatter, e.g. 'x and not (a or b or c)'",
                at=0,
            )
        return selection

    def _union(self) -> Node:
        operands = [self._and()]
        while True:
            self._skip_space()
            if self._at_end() or self._peek() == ")":
                break
            if self._peek() == ",":
                self.pos += 1
            else:
                self._keyword("or")  # optional: whitespace alone also separates
            operands.append(self._and())
        return union(*operands)

    def _and(self) -> Node:
        selection = self._not()
        while True:
            self._skip_space()
            if not self._keyword("and"):
                return selection
            # `x and not y` is the difference x - y, which keeps any external assets of x
            # (intersecting with `not y`, everything Weir materializes but y, would not).
            difference = self._keyword("not")
            operand = self._not()
            if difference:
                selection = Difference(selection, operand)
            else:
                selection = intersection(selection, operand)

    def _not(self) -> Node:
        self._skip_space()
        if self._keyword("not"):
            with self._nested():
                return Difference(AllAssets(self.include_sources), self._not())
        return self._traversal()

    def _traversal(self) -> Node:
        self._skip_space()
        up = self._up()
        primary = self._primary(after_traversal=up is not None)
        down = self._down()
        if not (self._at_end() or self._peek().isspace() or self._peek() in syntax.TERM_END_CHARS):
            self._fail("expected whitespace, an operator or ')' after this term")
        sources = self.include_sources
        walks: list[Node] = [
            Upstream(primary, depth, include_sources=sources) for depth in _depths(up)
        ] + [Downstream(primary, depth, include_sources=sources) for depth in _depths(down)]
        return union(*walks) if walks else primary

    def _up(self) -> int | None:
        char = self._peek()
        if char == "*" and self._peek(1) in syntax.PRIMARY_START_CHARS:
            self.pos += 1
            return _EVERY_LEVEL
        if char == "+":
            return self._count_pluses()
        if char in _DIGITS:
            end = self.pos
            while self.text[end : end + 1] in _DIGITS:
                end += 1
            after_plus = self.text[end + 1 : end + 2]
            if self.text[end : end + 1] == "+" and after_plus in syntax.PRIMARY_START_CHARS:
                levels = int(self.text[self.pos : end])
                self.pos = end + 1
                return levels
        return None

    def _down(self) -> int | None:
        if self._peek() == "*":
            self.pos += 1
            return _EVERY_LEVEL
        if self._peek() != "+":
            return None
        levels = self._count_pluses()
        if self._peek() not in _DIGITS:
            return levels
        if levels > 1:
            self._fail("expected either repeated '+' or '+N', not both")
        start = self.pos
        while self._peek() in _DIGITS:
            self.pos += 1
        return int(self.text[start : self.pos])

    def _count_pluses(self) -> int:
        start = self.pos
        while self._peek() == "+":
            self.pos += 1
        return self.pos - start

    def _primary(self, after_traversal: bool) -> Node:
        start, char = self.pos, self._peek()
        if char == "(":
            return self._parenthesized()
        if char == '"':
            return self._key(self._quoted(), start)
        if char == "*":
            self.pos += 1
            return AllAssets(self.include_sources)
        if char in syntax.KEY_PART_CHARS:
            return self._word_primary(start)
        found = f"'{char}'" if char else "the end"
        what = "after the traversal" if after_traversal else "here"
        self._fail(
            f"expected an asset key, an attribute such as group:name, '*' or '(' {what}, "
            f"found {found}"
        )

    def _parenthesized(self) -> Node:
        opened = self.pos
        self.pos += 1
        self._skip_space()
        if self._peek() == ")":
            self._fail("expected a selection inside the parentheses")
        with self._nested():
            inner = self._union()
        if self._peek() != ")":
            self._fail(f"expected ')' to close the '(' opened at column {opened + 1}")
        self.pos += 1
        return inner

    def _word_primary(self, start: int) -> Node:
        while self._peek() in syntax.KEY_CHARS:
            self.pos += 1
        word = self.text[start : self.pos]
        if self._peek() == ":":
            return self._attribute(word, start)
        if self._peek() == "(":
            if word not in syntax.FUNCTIONS:
                self._fail(
                    f"unknown function '{word}'; expected roots(...) or sinks(...)", at=start
                )
            inner = self._parenthesized()
            return Roots(inner) if word == "roots" else Sinks(inner)
        if word.lower() in syntax.KEYWORDS:
            self._fail(f"expected an asset selection before '{word}'", at=start)
        if word.endswith("/") and self._peek() == "*":
            self._fail(
                f"'{word}*' is not a key; for every key under {word} write key:{word}*", at=start
            )
        return self._key(word, start)

    def _attribute(self, name: str, start: int) -> Node:
        if name not in syntax.ATTRIBUTES:
            known = ", ".join(f"{a}:" for a in syntax.ATTRIBUTES)
            self._fail(f"unknown attribute '{name}:'; expected one of {known}", at=start)
        self.pos += 1  # the ':'
        sources = self.include_sources
        if name == "key":
            value_start = self.pos
            if self._peek() == '"':
                return self._key(self._quoted(), value_start)
            pattern = self._bare(syntax.KEY_VALUE_CHARS, "key:")
            if "*" in pattern:
                return KeyPattern(pattern, include_sources=sources)
            return self._key(pattern, value_start)
        if name == "key_substring":
            substring = self._value("key_substring:", allowed=syntax.KEY_CHARS)
            return KeySubstring(substring, include_sources=sources)
        if name == "tag":
            tag = self._value("tag:", stop="=")
            if self._peek() != "=":
                return Tag(tag, None, include_sources=sources)
            self.pos += 1
            return Tag(tag, self._value(f"tag:{tag}="), include_sources=sources)
        value = self._value(f"{name}:")
        if name == "group":
            return Groups((value,), include_sources=sources)
        if name == "owner":
            return Owner(value, include_sources=sources)
        return Kind(value, include_sources=sources)

    # -- values -------------------------------------------------------------------------------

    def _key(self, text: str, start: int) -> Node:
        if "" in text.split("/"):
            self._fail(f"'{text}' is not an asset key: key path parts cannot be empty", at=start)
        return Keys((text,))

    def _value(self, label: str, allowed: frozenset[str] | None = None, stop: str = "") -> str:
        """A quoted or bare value; bare ones end at `VALUE_STOP_CHARS` or outside `allowed`."""
        if self._peek() == '"':
            return self._quoted()
        if allowed is not None:
            return self._bare(allowed, label)
        start = self.pos
        while (
            (char := self._peek())
            and not char.isspace()
            and char not in syntax.VALUE_STOP_CHARS
            and char not in stop
        ):
            self.pos += 1
        if self.pos == start:
            self._fail(f"expected a value after '{label}'")
        return self.text[start : self.pos]

    def _bare(self, allowed: frozenset[str], label: str) -> str:
        start = self.pos
        while self._peek() in allowed:
            self.pos += 1
        if self.pos == start:
            self._fail(f"expected a value after '{label}'")
        return self.text[start : self.pos]

    def _quoted(self) -> str:
        opened = self.pos
        self.pos += 1
        chars: list[str] = []
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char == '"':
                self.pos += 1
                return "".join(chars)
            if char == "\\" and self.pos + 1 < len(self.text):
                self.pos += 1
                char = self.text[self.pos]
            chars.append(char)
            self.pos += 1
        self._fail("this quoted string is never closed", at=opened)

    # -- characters -----------------------------------------------------------------------------

    @contextlib.contextmanager
    def _nested(self) -> Iterator[None]:
        """One more level of nesting, refused past `MAX_DEPTH`."""
        if self.nesting >= MAX_DEPTH:
            self._fail(
                f"the selection nests deeper than {MAX_DEPTH} levels (parentheses, 'not', "
                "roots(...), sinks(...)); write it flatter"
            )
        self.nesting += 1
        try:
            yield
        finally:
            self.nesting -= 1

    def _peek(self, ahead: int = 0) -> str:
        """The character `ahead` of the cursor, or "" past the end (in no character set)."""
        return self.text[self.pos + ahead : self.pos + ahead + 1]

    def _at_end(self) -> bool:
        return self.pos >= len(self.text)

    def _skip_space(self) -> None:
        while self._peek().isspace():
            self.pos += 1

    def _keyword(self, word: str) -> bool:
        """Consume `word` (any case) if it stands here as a whole word."""
        end = self.pos + len(word)
        if self.text[self.pos : end].lower() != word:
            return False
        follower = self.text[end : end + 1]
        if follower and (follower in syntax.KEY_CHARS or follower == ":"):
            return False  # a key or attribute that merely starts with the word: `order`
        self.pos = end
        self._skip_space()
        if word != "not" and (self._at_end() or self._peek() in syntax.TERM_END_CHARS):
            self._fail(f"expected a selection after '{word}'")
        return True

    def _fail(self, message: str, at: int | None = None) -> NoReturn:
        position = self.pos if at is None else at
        raise SelectionSyntaxError(self.text, position + 1, message)


def _depths(levels: int | None) -> list[int | None]:
    if levels is None:
        return []
    return [None if levels == _EVERY_LEVEL else levels]


def _depth(node: Node) -> int:
    """How many levels deep the tree under `node` goes, counted without recursion."""
    deepest = 0
    stack: list[tuple[object, int]] = [(node, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, tuple):
            stack.extend((child, level) for child in item)
            continue
        if not isinstance(item, Node):
            continue
        deepest = max(deepest, level)
        if level > MAX_DEPTH:
            return level  # deep enough to refuse; no need to measure the rest
        instance: Any = item  # every Node subclass is a dataclass; the base class is not
        stack.extend((getattr(instance, f.name), level + 1) for f in dataclasses.fields(instance))
    return deepest
