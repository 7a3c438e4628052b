"""Whether a changed partitions definition numbers the old one's keys the same way.

A partition status is stored as index ranges under one numbering. Most definition
changes keep it, up to a constant: a time window whose end moves (windows appended or
dropped at the end), or whose start moves by whole windows (every index shifts by the
number of windows it moved), or a static definition gaining keys at the end. Then the
stored ranges are shifted and clipped (`CarryOver`), and only the indexes the old
numbering did not have are looked up, instead of renumbering every outcome by key.
Other changes (format, schedule, zone, keys reordered or removed) renumber.

`numbering_of` describes a space's numbering in a short string stored beside the status;
`carry_over` compares it with the new space.

>>> from datetime import UTC, datetime
>>> old = TimeWindowKeySpace("0 0 * * *", "UTC", "%Y-%m-%d", datetime(2024, 1, 3, tzinfo=UTC))
>>> new = TimeWindowKeySpace("0 0 * * *", "UTC", "%Y-%m-%d", datetime(2024, 1, 1, tzinfo=UTC))
>>> now = datetime(2024, 1, 10, tzinfo=UTC).timestamp()
>>> carry = carry_over(numbering_of(old, now), new, now)
>>> carry.shift, carry.exposed
(2, IndexRanges([(0, 2)]))
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from weir_partitions.key_spaces import StaticKeySpace
from weir_partitions.ranges import IndexRanges
from weir_partitions.tick_index import TickIndex
from weir_partitions.time_window import TimeWindowKeySpace

_SEPARATOR = "\x1f"


@dataclass(frozen=True)
class CarryOver:
    """New index = old index + `shift` for the new indexes in `kept`; the new indexes in
    `exposed` are keys the old numbering did not have."""

    shift: int
    kept: IndexRanges
    exposed: IndexRanges

    def carried(self, old: IndexRanges) -> IndexRanges:
        """`old` (a set of old indexes) under the new numbering."""
        return old.shifted(self.shift) & self.kept


def numbering_of(space: object, now: float) -> str | None:
    """A short description of how `space` numbers its keys as of `now` (under 60
    characters); None for spaces whose numbering is not carried over (multi, dynamic)."""
    if isinstance(space, TimeWindowKeySpace):
        return f"t:{_grid(space)}:{space.first_tick}:{space.count(now)}"
    if isinstance(space, StaticKeySpace):
        return f"s:{_digest(space.key_list)}:{len(space.key_list)}"
    return None


def carry_over(old: str, space: object, now: float) -> CarryOver | None:
    """How the status stored under the numbering `old` (from `numbering_of`) maps onto
    `space`'s, as of `now`; None when `space` renumbers the keys."""
    parts = old.split(":")
    if isinstance(space, TimeWindowKeySpace) and len(parts) == 4 and parts[0] == "t":
        if parts[1] != _grid(space) or not (parts[2].lstrip("-").isdigit() and parts[3].isdigit()):
            return None
        old_first, old_count = int(parts[2]), int(parts[3])
        if space.clock.next_tick(old_first) != old_first:
            return None
        return _clipped(_windows_between(space, old_first), old_count, space.count(now))
    if isinstance(space, StaticKeySpace) and len(parts) == 3 and parts[0] == "s":
        if not parts[2].isdigit():
            return None
        old_count = int(parts[2])
        if old_count > len(space.key_list) or _digest(space.key_list[:old_count]) != parts[1]:
            return None  # keys removed or reordered
        return _clipped(0, old_count, len(space.key_list))
    return None


def _windows_between(space: TimeWindowKeySpace, old_first: int) -> int:
    """The new index of the old first window: how many windows the start moved back
    (negative when it moved forward)."""
    new_first = space.first_tick
    if old_first >= new_first:
        return space.tick_index.index_of(old_first)
    return -TickIndex(space.clock, old_first).index_of(new_first)


def _clipped(shift: int, old_count: int, new_count: int) -> CarryOver:
    every = IndexRanges.span(0, new_count)
    kept = IndexRanges.span(shift, shift + old_count) & every
    return CarryOver(shift, kept, every - kept)


def _grid(space: TimeWindowKeySpace) -> str:
    """What fixes the windows and their keys, apart from where they start and end."""
    return _digest([space.cron_schedule, space.timezone, space.fmt])


def _digest(parts: list[str]) -> str:
    return hashlib.sha256(_SEPARATOR.join(parts).encode()).hexdigest()[:16]
