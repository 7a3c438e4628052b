"""Plain-text output for the CLI: aligned tables and short times."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # only annotations: `weir --help` loads this module without protobuf
    from google.protobuf.timestamp_pb2 import Timestamp


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


def when(stamp: Timestamp | None) -> str:
    """A timestamp in local time to the second, or "-" when it is unset."""
    if stamp is None or (stamp.seconds == 0 and stamp.nanos == 0):
        return "-"
    moment = stamp.ToDatetime(tzinfo=UTC).astimezone()
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def duration(start: Timestamp, end: Timestamp) -> str:
    """How long from `start` to `end` (or to now, while `end` is unset): "40ms", "1m 05s"."""
    if start.seconds == 0 and start.nanos == 0:
        return "-"
    began = start.ToDatetime(tzinfo=UTC)
    ended = end.ToDatetime(tzinfo=UTC) if end.seconds or end.nanos else datetime.now(UTC)
    seconds = max(0.0, (ended - began).total_seconds())
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m" if hours else f"{minutes}m {secs:02d}s"


def shorten(text: str, width: int) -> str:
    """`text` on one line, cut to `width` characters with an ellipsis."""
    line = " ".join(text.split())
    return line if len(line) <= width else line[: width - 1] + "…"
