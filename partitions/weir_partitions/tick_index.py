"""Positions of a cron clock's ticks, counted from a first tick: index <-> tick.

Partition status and key paging address time-window partitions by index (0 is the
first window), so an hourly definition of a million windows must find the index of a
key, and the key at an index, without walking a million ticks (2 µs each).

- In a zone whose UTC offset does not change (UTC, ``Etc/GMT-5``, or any zone over a
  span without transitions) a schedule of listed times on listed weekdays (hourly,
  daily, weekly, every 15 minutes…) fires at the same wall-clock times every week, so
  index and tick are arithmetic on the week's firing times.
- In a zone with daylight saving, such a schedule still fires at its listed times on
  every local day without an offset change, so ticks are counted per local day: days
  without a change by the same arithmetic, the few days with one (found by sampling the
  zone's offset) walked once each, their surplus or shortfall of ticks summed up.
- Otherwise (schedules croniter walks, such as monthly ones) ticks are walked once and
  kept in an array, extended as later ticks are asked for.

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
        self._daily: _DailyTicks | None = None
        if offset is not None and weekly_days is not None and first_tick < _HORIZON:
            self._periodic = _WeeklyTicks(clock, first_tick, offset)
            after = clock.next_tick(_HORIZON)
            self._walked = _WalkedTicks(clock, after, self._periodic.index_of(after))
        else:
            self._walked = _WalkedTicks(clock, first_tick, 0)
            if weekly_days is not None:
                self._daily = _DailyTicks(clock, first_tick)

    def index_of(self, tick: int) -> int:
        """The index of `tick`, a tick at or after the first (or the end of the last window)."""
        if self._periodic is not None and tick < self._walked.base_tick:
            return self._periodic.index_of(tick)
        if self._daily is not None:
            return self._daily.index_of(tick)
        return self._walked.index_of(tick)

    def tick_at(self, index: int) -> int:
        if self._periodic is not None and index < self._walked.base_index:
            return self._periodic.tick_at(index)
        if self._daily is not None:
            return self._daily.tick_at(index)
        return self._walked.tick_at(index)

    def day_start_index(self, day: int) -> int | None:
        """The index of the first tick at or after the local midnight starting `day` (days
        from 1970-01-01), negative before the first tick, when arithmetic gives it (a
        constant UTC offset up to the horizon, or a day after the first without an
        offset change); None otherwise."""
        if self._daily is not None:
            return self._daily.day_start_index(day)
        periodic = self._periodic
        if periodic is None or (day + 1) * _DAY - periodic.offset > _HORIZON:
            return None
        return periodic.wall_index(day * _DAY)


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
        self.offset = offset
        self._base = self._wall_index(first_tick + offset)

    def wall_index(self, wall: int) -> int:
        """The index of the first tick at or after the wall-clock time `wall`."""
        return self._wall_index(wall) - self._base

    def _wall_index(self, wall: int) -> int:
        """How many firings come before the wall-clock time `wall` (seconds from 1970)."""
        weeks, within = divmod(wall, _WEEK)
        return weeks * len(self._firings) + bisect.bisect_left(self._firings, within)

    def index_of(self, tick: int) -> int:
        return self._wall_index(tick + self.offset) - self._base

    def tick_at(self, index: int) -> int:
        weeks, at = divmod(index + self._base, len(self._firings))
        return weeks * _WEEK + self._firings[at] - self.offset


class _DailyTicks:
    """Ticks of a schedule of listed times on listed weekdays in a zone whose offset
    changes, counted per local day (days from 1970-01-01).

    On a day without an offset change the ticks are the schedule's wall-clock firings, so
    the ticks before a day are the firings since the first tick (`_WeeklyTicks` in wall
    time) plus, for each earlier day with a change (and the first day, which starts at
    the first tick), how many more ticks it had than firings. Those days' ticks are
    walked once and kept. Changes are found by sampling the offset weekly and bisecting
    to the second (two changes within a week, which no zone has had since 1970, would go
    unseen)."""

    _STEP = 7 * _DAY

    def __init__(self, clock: CronClock, first_tick: int):
        self.clock = clock
        self.first_tick = first_tick
        self._wall = _WeeklyTicks(clock, 0, 0)  # wall-clock firings: index <-> wall time
        self._first_wall = first_tick + self._offset(first_tick)
        self._first_day = self._first_wall // _DAY
        self._day_ticks: dict[int, list[int]] = {}
        self._changed: list[int] = []  # days with a change (and the first), in order
        self._surplus: list[int] = [0]  # [k]: extra ticks of _changed[:k]
        self._sampled = first_tick  # changes are known up to this instant
        self._mark(self._first_day)

    def _offset(self, ts: int) -> int:
        offset = self.clock.local(ts).utcoffset()
        return 0 if offset is None else int(offset.total_seconds())

    def _ticks_of(self, day: int) -> list[int]:
        """The ticks of local `day` at or after the first tick, walked once."""
        ticks = self._day_ticks.get(day)
        if ticks is None:
            start = max(self.first_tick, day * _DAY - 15 * 3600)  # zones are within ±14 h
            ticks = []
            for tick, local in self.clock.iter_ticks(start):
                at = (tick + int(local.utcoffset().total_seconds())) // _DAY  # type: ignore[union-attr]
                if at > day:
                    break
                if at == day:
                    ticks.append(tick)
            self._day_ticks[day] = ticks
        return ticks

    def _mark(self, day: int) -> None:
        if self._changed and day <= self._changed[-1]:
            return
        walls = self._wall._wall_index((day + 1) * _DAY) - self._wall._wall_index(
            max(day * _DAY, self._first_wall)
        )
        self._changed.append(day)
        self._surplus.append(self._surplus[-1] + len(self._ticks_of(day)) - walls)

    def _sample_to(self, ts: int) -> None:
        """Find the offset changes up to `ts`."""
        while self._sampled < ts:
            lo, hi = self._sampled, self._sampled + self._STEP
            before, after = self._offset(lo), self._offset(hi)
            if before != after:
                while hi - lo > 1:
                    mid = (lo + hi) // 2
                    lo, hi = (mid, hi) if self._offset(mid) == before else (lo, mid)
                for day in range((hi - 1 + before) // _DAY, (hi + after) // _DAY + 1):
                    self._mark(day)
            self._sampled = hi  # the offset at hi is `after`: sample on from there

    def _base(self, day: int) -> int:
        """How many ticks come before local `day` (a day after the first)."""
        self._sample_to((day + 1) * _DAY + _DAY)
        surplus = self._surplus[bisect.bisect_left(self._changed, day)]
        return (
            self._wall._wall_index(day * _DAY) - self._wall._wall_index(self._first_wall) + surplus
        )

    def _is_changed(self, day: int) -> bool:
        at = bisect.bisect_left(self._changed, day)
        return at < len(self._changed) and self._changed[at] == day

    def day_start_index(self, day: int) -> int | None:
        if day <= self._first_day:
            return None
        base = self._base(day)
        return None if self._is_changed(day) else base

    def index_of(self, tick: int) -> int:
        day = (tick + self._offset(tick)) // _DAY
        if day <= self._first_day:
            return bisect.bisect_left(self._ticks_of(self._first_day), tick)
        base = self._base(day)
        if self._is_changed(day):
            return base + bisect.bisect_left(self._ticks_of(day), tick)
        wall = tick + self._offset(tick)
        return base + self._wall._wall_index(wall) - self._wall._wall_index(day * _DAY)

    def tick_at(self, index: int) -> int:
        first = self._ticks_of(self._first_day)
        if index < len(first):
            return first[index]
        # The day holding the index: the last whose base is at most it. Firings alone
        # place it within a day or two (changes add or remove a few ticks); step from there.
        firings = self._wall._wall_index(self._first_wall) + index - len(first)
        day = max(self._first_day + 1, self._wall.tick_at(firings) // _DAY)
        while day > self._first_day + 1 and self._base(day) > index:
            day -= 1
        while self._base(day + 1) <= index:
            day += 1
        within = index - self._base(day)
        if self._is_changed(day):
            return self._ticks_of(day)[within]
        wall = self._wall.tick_at(self._wall._wall_index(day * _DAY) + within)
        # The day's one offset, read at an instant inside it (its local noon, give or take
        # the guess's error, which is under 12 hours).
        noon = day * _DAY + _DAY // 2
        return wall - self._offset(noon - self._offset(noon))


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
