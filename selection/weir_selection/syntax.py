"""Lexical rules of selection strings, shared by the parser and the printer.

Keeping them in one place is what makes ``parse(to_text(node))`` select the same assets as
``node``.
"""

from __future__ import annotations

import re
import string

# Characters of an unquoted asset key path part (a valid @asset name is a subset).
KEY_PART_CHARS = frozenset(string.ascii_letters + string.digits + "_-.")
KEY_CHARS = KEY_PART_CHARS | {"/"}
# `key:` values may also hold `*` wildcards.
KEY_VALUE_CHARS = KEY_CHARS | {"*"}
# An unquoted group/tag/owner/kind value ends at any of these (or whitespace); `+` and `*`
# are left for traversals, so `group:g+` walks downstream of the group.
VALUE_STOP_CHARS = frozenset('()",+*')
# A term may start with one of these, which is how juxtaposition (`a b`) is recognised.
PRIMARY_START_CHARS = KEY_PART_CHARS | {'"', "("}
TERM_END_CHARS = frozenset("),")

KEYWORDS = frozenset({"and", "or", "not"})
ATTRIBUTES = ("key", "key_substring", "group", "tag", "owner", "kind")
FUNCTIONS = ("roots", "sinks")

_PLAIN_KEY_RE = re.compile(r"[A-Za-z0-9_.\-]+(?:/[A-Za-z0-9_.\-]+)*")
_PLAIN_VALUE_RE = re.compile(r'[^\s()",+*=]+')


def quote(text: str) -> str:
    """``text`` as a double-quoted string literal of the selection syntax."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def key_text(user_string: str) -> str:
    """How a key is written in a selection string: bare when it can be, else ``key:"..."``."""
    # An all-digit key is quoted: `2+3` reads as two levels upstream of key 3.
    plain = _PLAIN_KEY_RE.fullmatch(user_string) and not user_string.isdigit()
    if plain and user_string.lower() not in KEYWORDS:
        return user_string
    return "key:" + quote(user_string)


def key_pattern_text(pattern: str) -> str:
    """A ``key:`` wildcard pattern; always bare, since a quoted ``key:`` value is exact."""
    return "key:" + pattern


def value_text(value: str) -> str:
    """An attribute value, bare when the parser would read it back unchanged."""
    return value if _PLAIN_VALUE_RE.fullmatch(value) else quote(value)
