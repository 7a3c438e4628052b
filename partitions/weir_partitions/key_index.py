"""Indexes of many time-window keys at once, by arithmetic on their date and time parts.

Rebuilding an asset's partition status numbers every key it has outcomes for: a million
for a million hourly windows. Parsing a key, finding its tick and counting the ticks
before it costs tens of microseconds, seconds for a million. But a key is its window's
date part then its time part (`KeyFormat`), and when the date part has a fixed width
(only %Y, %m, %d) and the schedule fires at listed times of listed weekdays, a key's
index is the index of its day's first window (worked out once per distinct day) plus the
position of its time among the schedule's times: two slices and two dictionary lookups.

A day qualifies when its windows are exactly the schedule's times: always in a zone of
constant UTC offset, otherwise on days without a daylight-saving change (`TickIndex`
counts both by arithmetic, the latter per local day). A day with a change has its ticks
walked once and its keys numbered in one dictionary; other schedules and formats take
the exact path (`TimeWindowKeySpace.index_of`). Both answer the same; the tests compare.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from itertools import repeat
from operator import add, itemgetter
from typing import TYPE_CHECKING

from weir_partitions.ranges import IndexRanges

if TYPE_CHECKING:
    from weir_partitions.time_window import TimeWindowKeySpace

_EPOCH_WEEKDAY = 4  # 1970-01-01 was a Thursday; cron counts from Sunday = 0
# Day bases that are not indexes: far below any index, so base + position stays negative
# (not a key) without a test in the loop; _EXACT sends the day's keys the exact way.
_NOT_A_DAY = -(1 << 62)
_EXACT = _NOT_A_DAY + (1 << 61)
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_DAYS_KEPT = 1 << 20  # distinct days remembered (a million hourly windows span 42,000)


class BulkKeyIndex:
    """`indexes_of` for one `TimeWindowKeySpace` (which owns one, built when first asked)."""

    def __init__(self, space: TimeWindowKeySpace):
        self._space = space
        schedule = space.clock.schedule
        self._width = space.key_format.date_width
        self._weekdays = schedule.weekly_days
        times = sorted(h * 3600 + m * 60 for h in schedule.hours for m in schedule.minutes)
        self._times = {space.key_format.time_part(t): at for at, t in enumerate(times)}
        if self._weekdays is None or len(self._times) != len(times):
            self._width = None  # the time part does not tell a day's windows apart
        self._day_bases: dict[str, int] = {}

    def indexes_of(self, keys: Sequence[str], now: float) -> list[int | None]:
        """The index of each key as of `now` (None for one that is not a key then)."""
        valid = range(self._space.count(now))
        return [i if i in valid else None for i in self._candidates(keys, now)]

    def index_ranges(self, keys: Sequence[str], now: float) -> IndexRanges:
        """The indexes of those of `keys` that are keys as of `now`."""
        valid = range(self._space.count(now))
        return IndexRanges.of(filter(valid.__contains__, self._candidates(keys, now)))

    def _candidates(self, keys: Sequence[str], now: float) -> list[int]:
        """Each key's index if it is a key (ignoring `now`'s bounds), else a number that
        is not an index (negative, or past the last index)."""
        bounds = self._space.tick_bounds(now)
        if self._width is None or bounds is None:
            return [-1 if (i := self._exact(key, bounds)) is None else i for key in keys]
        width, times, bases = self._width, self._times, self._day_bases
        if len(bases) > _DAYS_KEPT:
            bases.clear()
        # Whole-list steps (map over C methods) rather than a loop of per-key branches:
        # a million keys cost a few of those steps' passes.
        days = list(map(itemgetter(slice(None, width)), keys))
        distinct = set(days)
        for day in distinct.difference(bases):
            bases[day] = self._day_base(day)
        positions = map(times.get, map(itemgetter(slice(width, None)), keys), repeat(_NOT_A_DAY))
        candidates = list(map(add, map(bases.__getitem__, days), positions))
        exact = {day for day in distinct if bases[day] == _EXACT}
        if exact:
            # A day with a daylight-saving change: its keys numbered once, looked up.
            numbered = {day: self._day_keys(day, bounds) for day in exact}
            for at, day in enumerate(days):
                if day in exact:
                    candidates[at] = numbered[day].get(keys[at], -1)
        return candidates

    def _day_keys(self, date_part: str, bounds: tuple[int, int]) -> dict[str, int]:
        """The index of each key of the day `date_part` names (one walk over its ticks)."""
        space = self._space
        day = space.key_format.day_of(date_part)
        if day is None:
            return {}
        midnight = datetime.combine(date.fromordinal(_EPOCH_ORDINAL + day), time(), space.tz)
        start = max(bounds[0], int(midnight.timestamp()) - 3 * 3600)
        first: int | None = None
        numbered: dict[str, int] = {}
        for tick, local in space.clock.iter_ticks(start):
            if tick >= bounds[1] or local.date().toordinal() > _EPOCH_ORDINAL + day:
                break
            key = space.key_format.format(local)
            if key[: self._width] != date_part:
                continue  # the day before
            if first is None:
                first = space.tick_index.index_of(tick)
            numbered[key] = first + len(numbered)
        return numbered

    def _exact(self, key: str, bounds: tuple[int, int] | None) -> int | None:
        tick = self._space.tick_of_key(key)
        if tick is None or bounds is None or not bounds[0] <= tick < bounds[1]:
            return None
        return self._space.tick_index.index_of(tick)

    def _day_base(self, date_part: str) -> int:
        """The index of the first window of the day `date_part` names (negative when the
        first window starts later that day), _NOT_A_DAY if it names none or the schedule
        does not fire that weekday, _EXACT if its windows are not the schedule's times
        one by one (or arithmetic does not reach it)."""
        space = self._space
        day = space.key_format.day_of(date_part)
        if day is None:
            return _NOT_A_DAY
        assert self._weekdays is not None
        if (day + _EPOCH_WEEKDAY) % 7 not in self._weekdays:
            return _NOT_A_DAY
        index = space.tick_index.day_start_index(day)
        return self._day_base_walked(day) if index is None else index

    def _day_base_walked(self, day: int) -> int:
        """`_day_base` in a zone whose offset changes: a day whose two midnights have the
        same offset has no change (zones change at most once a day), so its windows are
        the schedule's times; its first is counted from the first window by `TickIndex`."""
        space = self._space
        midnight = datetime.combine(date.fromordinal(_EPOCH_ORDINAL + day), time(), space.tz)
        if midnight.utcoffset() != (midnight + timedelta(days=1)).utcoffset():
            return _EXACT
        tick = space.clock.next_tick(int(midnight.timestamp()))
        if tick < space.first_tick:
            return _EXACT  # the first window's day: its keys one by one
        return space.tick_index.index_of(tick)
