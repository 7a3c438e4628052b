"""Opaque page cursors. Today a cursor is a row id; callers must not rely on that."""

from __future__ import annotations

from weir_controlplane.storage.errors import InvalidCursorError

_MAX_ID = 2**63 - 1


def encode(row_id: int) -> str:
    return str(row_id)


def decode(cursor: str | None) -> int | None:
    """The row id a cursor stands for; None for no cursor (the first page)."""
    if cursor is None or cursor == "":
        return None
    # Row ids are signed 64-bit: a longer number would overflow the database driver.
    if not (cursor.isascii() and cursor.isdigit()) or len(cursor) > 19 or int(cursor) > _MAX_ID:
        raise InvalidCursorError(cursor)
    return int(cursor)
