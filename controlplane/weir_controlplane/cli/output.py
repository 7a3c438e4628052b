"""Plain-text output for the CLI: aligned tables and short times."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Columns padded to their widest cell; the last column is never padded.

    Example::

        print(table(["KEY", "GROUP"], [["orders", "sales"], ["raw/users", "default"]]))
        KEY        GROUP
        orders     sales
        raw/users  default
    """
    cells = [[str(cell) for cell in row] for row in rows]
    widths = [
        max(len(header), *(len(row[i]) for row in cells)) if cells else len(header)
        for i, header in enumerate(headers)
    ]
    lines = []
    for row in [list(headers), *cells]:
        padded = [cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=False)]
        lines.append("  ".join([*padded, row[-1]]).rstrip())
    return "\n".join(lines)


def key_text(key: dict[str, Any] | None) -> str:
    """An AssetKey in the API's JSON as the CLI writes it: {"path": ["raw", "orders"]} ->
    "raw/orders"."""
    return "/".join((key or {}).get("path", []))


def when(stamp: str | None) -> str:
    """A timestamp (RFC 3339, as the API's JSON writes it) in local time to the second, or
    "-" when it is unset."""
    moment = _moment(stamp)
    if moment is None:
        return "-"
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def duration(start: str | None, end: str | None) -> str:
    """How long from `start` to `end` (or to now, while `end` is unset): "40ms", "1m 05s"."""
    began = _moment(start)
    if began is None:
        return "-"
    ended = _moment(end) or datetime.now(UTC)
    seconds = max(0.0, (ended - began).total_seconds())
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m" if hours else f"{minutes}m {secs:02d}s"


def _moment(stamp: str | None) -> datetime | None:
    """ "2024-01-01T10:00:00.123456789Z" -> an aware datetime (to the microsecond); None for
    an unset (left out) or zero timestamp."""
    if not stamp:
        return None
    head, dot, tail = stamp.partition(".")
    if dot:  # protobuf writes up to 9 fractional digits; datetime keeps 6
        digits = len(tail) - len(tail.lstrip("0123456789"))
        tail = tail[:digits][:6] + tail[digits:]
    moment = datetime.fromisoformat(head + dot + tail)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if moment == datetime(1970, 1, 1, tzinfo=UTC):
        return None
    return moment


def shorten(text: str, width: int) -> str:
    """`text` on one line, cut to `width` characters with an ellipsis."""
    line = " ".join(text.split())
    return line if len(line) <= width else line[: width - 1] + "…"
