"""Errors of the selection language. Each message says what to fix; callers show it as is.

SelectionError                  (ValueError) anything wrong with a selection
├── SelectionSyntaxError        the text does not parse: column, caret, what was expected
├── UnknownAssetsError          exact keys the graph lacks, with close matches
└── NoTextFormError             a selection the string syntax cannot express

The SDK re-raises these as `weir.SelectionError`, the control plane as an
INVALID_ARGUMENT error, both with the message unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from weir_selection.nodes import Node


class SelectionError(ValueError):
    """Something is wrong with an asset selection; the message says what."""


class SelectionSyntaxError(SelectionError):
    """A selection string that does not parse.

    ``column`` is 1-based; ``reason`` is the message without the position and caret.

    >>> from weir_selection import parse
    >>> try:
    ...     parse("a and")
    ... except SelectionSyntaxError as error:
    ...     print(error)
    Invalid asset selection: expected a selection after 'and' (column 6):
        a and
             ^
    """

    def __init__(self, text: str, column: int, reason: str):
        self.text = text
        self.column = column
        self.reason = reason
        super().__init__(
            f"Invalid asset selection: {reason} (column {column}):\n"
            f"    {text}\n"
            f"    {' ' * (column - 1)}^"
        )


class UnknownAssetsError(SelectionError):
    """A selection names assets (by exact key) that the graph does not have.

    ``keys`` are the unknown keys in the order the selection names them; ``suggestions``
    maps each to the graph's keys it may have meant (possibly none).
    """

    def __init__(self, keys: Sequence[str], suggestions: Mapping[str, Sequence[str]]):
        self.keys = tuple(keys)
        self.suggestions = {key: tuple(suggestions.get(key, ())) for key in self.keys}
        described = [f"'{key}'{_did_you_mean(self.suggestions[key])}" for key in self.keys]
        noun = "an asset" if len(described) == 1 else "assets"
        super().__init__(
            f"The selection names {noun} not in these definitions: {'; '.join(described)}. "
            "Check the spelling, or add the asset to the Definitions"
        )


class NoTextFormError(SelectionError):
    """A selection (``node``) the string syntax cannot say, such as one including sources."""

    def __init__(self, node: Node):
        self.node = node
        super().__init__(f"{node!r} has no selection-string form")


def _did_you_mean(picks: Sequence[str]) -> str:
    return f" (did you mean {' or '.join(repr(p) for p in picks)}?)" if picks else ""
