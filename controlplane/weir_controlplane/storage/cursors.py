"""Opaque page cursors. Today a cursor is a row id; callers must not rely on that."""

from __future__ import annotations

from weir_controlplane.storage.errors import InvalidCursorError


def encode(row_id: int) -> str:
    return str(row_id)


def decode(cursor: str | None) -> int | None:
    """The row id a cursor stands for; None for no cursor (the first page)."""
    if cursor is None or cursor == "":
        return None
    if not (cursor.isascii() and cursor.isdigit()):
        raise InvalidCursorError(cursor)
    return int(cursor)
