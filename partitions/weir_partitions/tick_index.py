"""Positions of a cron clock's ticks, counted from a first tick: index <-> tick.

Partition status and key paging address time-window partitions by index (0 is the
first window), so an hourly definition of a million windows must find the index of a
key, and the key at an index, without walking a million ticks (2 µs each).

- In a zone whose UTC offset does not change (UTC, ``Etc/GMT-5``, or any zone over a
  span without transitions) a schedule of listed times on listed weekdays (hourly,
  daily, weekly, every 15 minutes…) fires at the same wall-clock times every week, so
  index and tick are arithmetic on the week's firing times.
- Otherwise (daylight saving, or schedules croniter walks such as monthly ones) ticks
  are walked once and kept in an array, extended as later ticks are asked for.

Both answer exactly what `CronClock.iter_ticks` yields; the tests compare them.

>>> from zoneinfo import ZoneInfo
>>> from weir_partitions.cron import CronClock, parse_cron
>>> hourly = TickIndex(CronClock(parse_cron("0 * * * *"), ZoneInfo("UTC")), 0)
>>> hourly.index_of(7200), hourly.tick_at(3)
(2, 10800)
"""

from __future__ import annotations

import bisect
from array import array
from datetime import UTC, datetime
from itertools import islice

from weir_partitions.cron import CronClock

_DAY = 86400
_WEEK = 7 * _DAY
_EPOCH_WEEKDAY = 4  # 1970-01-01 was a Thursday; cron counts from Sunday = 0
# The arithmetic covers ticks before this instant when the zone's offset is constant up
# to it (checked monthly); later ticks are walked from there.
_HORIZON = int(datetime(2100, 1, 1, tzinfo=UTC).timestamp())
_SAMPLE_STEP = 28 * _DAY


class TickIndex:
    """index_of(tick) = how many ticks lie in [first_tick, tick); tick_at is its inverse."""

    def __init__(self, clock: CronClock, first_tick: int):
        self.clock = clock
        self.first_tick = first_tick
        offset = _constant_offset(clock, first_tick, _HORIZON)
        weekly_days = clock.schedule.weekly_days
        self._periodic: _WeeklyTicks | None = None
        if offset is not None and weekly_days is not None and first_tick < _HORIZON:
            self._periodic = _WeeklyTicks(clock, first_tick, offset)
            after = clock.next_tick(_HORIZON)
            self._walked = _WalkedTicks(clock, after, self._periodic.index_of(after))
        else:
            self._walked = _WalkedTicks(clock, first_tick, 0)

    def index_of(self, tick: int) -> int:
        """The index of `tick`, a tick at or after the first (or the end of the last window)."""
        if self._periodic is not None and tick < self._walked.base_tick:
            return self._periodic.index_of(tick)
        return self._walked.index_of(tick)

    def tick_at(self, index: int) -> int:
        if self._periodic is not None and index < self._walked.base_index:
            return self._periodic.tick_at(index)
        return self._walked.tick_at(index)


class _WeeklyTicks:
    """Ticks of a weekly-periodic schedule in a zone of constant UTC offset."""

    def __init__(self, clock: CronClock, first_tick: int, offset: int):
        times = sorted(
            h * 3600 + m * 60 for h in clock.schedule.hours for m in clock.schedule.minutes
        )
        days = clock.schedule.weekly_days or frozenset()
        self._firings = [
            day * _DAY + t for day in range(7) if (day + _EPOCH_WEEKDAY) % 7 in days for t in times
        ]
        self._offset = offset
        self._base = self._wall_index(first_tick + offset)

    def _wall_index(self, wall: int) -> int:
        """How many firings come before the wall-clock time `wall` (seconds from 1970)."""
        weeks, within = divmod(wall, _WEEK)
        return weeks * len(self._firings) + bisect.bisect_left(self._firings, within)

    def index_of(self, tick: int) -> int:
        return self._wall_index(tick + self._offset) - self._base

    def tick_at(self, index: int) -> int:
        weeks, at = divmod(index + self._base, len(self._firings))
        return weeks * _WEEK + self._firings[at] - self._offset


class _WalkedTicks:
    """Ticks from `base_tick` (whose index is `base_index`) on, walked once and kept."""

    def __init__(self, clock: CronClock, base_tick: int, base_index: int):
        self.clock = clock
        self.base_tick = base_tick
        self.base_index = base_index
        self._ticks = array("q", [base_tick])

    def _extend(self) -> None:
        # Doubling: a monthly schedule asks for few ticks, an hourly one for many.
        following = islice(self.clock.iter_ticks(self._ticks[-1] + 1), max(64, len(self._ticks)))
        self._ticks.extend(tick for tick, _ in following)

    def index_of(self, tick: int) -> int:
        while self._ticks[-1] < tick:
            self._extend()
        return self.base_index + bisect.bisect_left(self._ticks, tick)

    def tick_at(self, index: int) -> int:
        at = index - self.base_index
        while len(self._ticks) <= at:
            self._extend()
        return self._ticks[at]


def _constant_offset(clock: CronClock, start: int, stop: int) -> int | None:
    """The zone's UTC offset in seconds if it is the same at every sample of [start, stop)."""
    offset = clock.local(start).utcoffset()
    ts = start
    while ts < stop:
        ts = min(ts + _SAMPLE_STEP, stop)
        if clock.local(ts).utcoffset() != offset:
            return None
    return None if offset is None else int(offset.total_seconds())
