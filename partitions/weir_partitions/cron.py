"""Cron schedules read by croniter, placed on the timeline of an IANA time zone.

croniter reads the five-field string (names, ranges, steps, lists, ``L``, ``1#2``,
``@daily``) and walks its wall-clock times; `CronClock` puts each wall-clock time on the
timeline of a zone (integer POSIX seconds). When day of month and month are ``*`` and
day of week is ``*`` or a list of days, the wall-clock times are every listed time of
those weekdays, so they are counted out directly rather than asked of croniter one by one
(hourly, daily and weekly partitions list many keys).

Daylight saving, the same rules as Dagster's:
- a schedule that fires every hour (hour field ``*``) keeps its cadence in real time: a
  wall-clock time skipped by spring forward does not fire, and one repeated by fall back
  fires twice, so each window is an hour long;
- any other schedule fires once at the first instance of a repeated time, and a time
  skipped by spring forward fires at the end of the gap (02:30 fires at 03:00).

croniter is imported when a cron string is first read (it costs ~80 ms), so importing
this package stays cheap.
"""

from __future__ import annotations

import bisect
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from functools import lru_cache

from weir_partitions.errors import CronError, CronFieldCountError, CronNeverFiresError

_FIELDS = (
    ("minute", 0, 59),
    ("hour", 0, 23),
    ("day of month", 1, 31),
    ("month", 1, 12),
    ("day of week", 0, 7),
)
_EPOCH = datetime(1970, 1, 1)
_EPOCH_ORDINAL = _EPOCH.toordinal()
_EPOCH_WEEKDAY = 4  # 1970-01-01 was a Thursday; cron counts from Sunday = 0
_DAY = 86400


@dataclass(frozen=True)
class CronSchedule:
    """A five-field cron string and its expanded fields (day of week 0 = Sunday).

    >>> schedule = parse_cron("15 3 * * mon-fri")
    >>> schedule.days_of_week, schedule.weekly_days
    ((1, 2, 3, 4, 5), frozenset({1, 2, 3, 4, 5}))
    """

    expression: str
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    days_of_month: tuple[int, ...]
    last_day_of_month: bool
    months: tuple[int, ...]
    days_of_week: tuple[int, ...]
    # When day of month and month are "*" and day of week is "*" or plain days: the days
    # of the week on which every listed time fires (else None: croniter walks the dates).
    weekly_days: frozenset[int] | None

    @property
    def every_hour(self) -> bool:
        return len(self.hours) == 24


@lru_cache(maxsize=1024)
def parse_cron(expression: str) -> CronSchedule:
    """Read a five-field cron string with croniter, or raise `CronError` saying what is wrong."""
    if not isinstance(expression, str) or not expression.strip():
        raise CronError(expression, "a cron schedule must be a non-empty string")
    from croniter import CroniterBadDateError, CroniterError, croniter

    text = expression.strip()
    if not text.startswith("@") and len(text.split()) != 5:
        raise CronFieldCountError(expression, len(text.split()))
    try:
        fields, nth_weekdays = croniter.expand(text)
    except (CroniterError, ValueError) as exc:
        raise CronError(expression, _why_invalid(text, exc)) from None
    if len(fields) != 5:
        raise CronFieldCountError(expression, len(fields))
    try:
        croniter(text, datetime(2000, 1, 1)).get_next(datetime)
    except CroniterBadDateError:
        raise CronNeverFiresError(expression) from None

    def values(index: int) -> tuple[int, ...]:
        _, low, high = _FIELDS[index]
        field = fields[index]
        if field == ["*"]:
            return tuple(range(low, min(high, 6 if index == 4 else high) + 1))
        return tuple(sorted({v % 7 if index == 4 else v for v in field if isinstance(v, int)}))

    return CronSchedule(
        expression=expression,
        minutes=values(0),
        hours=values(1),
        days_of_month=values(2),
        last_day_of_month="l" in fields[2],
        months=values(3),
        days_of_week=values(4),
        weekly_days=(
            frozenset(values(4))
            if fields[2] == ["*"]
            and fields[3] == ["*"]
            and not nth_weekdays
            and all(v == "*" or isinstance(v, int) for v in fields[4])
            else None
        ),
    )


def _why_invalid(text: str, exc: Exception) -> str:
    """Which field croniter refused, and why, found by trying each field alone."""
    from croniter import croniter

    parts = text.split()
    if len(parts) == 5:
        for index, (name, low, high) in enumerate(_FIELDS):
            probe = ["*"] * 5
            probe[index] = parts[index]
            try:
                croniter.expand(" ".join(probe))
            except (ValueError, TypeError) as field_exc:
                if "out of range" in str(field_exc):
                    return f"the {name} {parts[index]!r} is outside {low}-{high}"
                return f"{parts[index]!r} is not a valid {name} ({field_exc})"
    return str(exc)


class CronClock:
    """The tick instants of a cron schedule in one time zone, as integer POSIX seconds.

    >>> from zoneinfo import ZoneInfo
    >>> clock = CronClock(parse_cron("0 0 * * *"), ZoneInfo("UTC"))
    >>> clock.next_tick(1)  # the first midnight after the epoch
    86400
    >>> clock.prev_tick(86399)
    0
    """

    def __init__(self, schedule: CronSchedule, tz: tzinfo):
        self.schedule = schedule
        self.tz = tz
        self.every_hour = schedule.every_hour
        self._times = sorted(h * 3600 + m * 60 for h in schedule.hours for m in schedule.minutes)
        self._offset_guess = 0  # a hint only: any value gives the same ticks

    def local(self, ts: int) -> datetime:
        """The aware local datetime of an instant."""
        return datetime.fromtimestamp(ts, self.tz)

    def next_tick(self, ts: int) -> int:
        """The first tick at or after `ts`."""
        for tick, _ in self.iter_ticks(ts):
            return tick
        raise AssertionError("unreachable: parse_cron rejects schedules that never fire")

    def prev_tick(self, ts: int) -> int:
        """The last tick at or before `ts`."""
        local = self.local(ts)
        # A later wall-clock time has an earlier instant only within a repeated interval.
        wall = _wall_seconds(local) + (_fold_gap(local) if local.fold else 0)
        best: tuple[int, datetime] | None = None
        for w in self._walls_down(wall):
            instants = self._instants(w)
            for tick, tick_local, _ in instants:
                if tick <= ts and (best is None or tick > best[0]):
                    best = (tick, tick_local)
            # Instants fall as wall-clock times fall, except between the two instances of
            # repeated times of an every-hour schedule.
            if best is not None and len(instants) < 2:
                return best[0]
        raise AssertionError("unreachable: parse_cron rejects schedules that never fire")

    def shift(self, tick: int, count: int) -> int:
        """The tick `count` ticks after (or before, if negative) the tick `tick`."""
        if count > 0:
            for seen, (following, _) in enumerate(self.iter_ticks(tick + 1), 1):
                if seen == count:
                    return following
        for _ in range(-count):
            tick = self.prev_tick(tick - 1)
        return tick

    def iter_ticks(self, start: int) -> Iterator[tuple[int, datetime]]:
        """Ticks at or after `start`, ascending, each with its aware local datetime."""
        local = self.local(start)
        # Earlier wall-clock times can land at or after `start`: the first instances of a
        # repeated interval (their second instances come later), and times in a gap that
        # ends exactly at `start`.
        before = self.local(start - 1).utcoffset()
        gap = int((local.utcoffset() - before).total_seconds())  # type: ignore[operator]
        wall = _wall_seconds(local) - max(_fold_gap(local), gap, 0)
        pending: deque[tuple[int, datetime]] = deque()  # second instances, ascending
        last = start - 1
        for w in self._walls_up(wall):
            for tick, tick_local, second in self._instants(w):
                if second:
                    pending.append((tick, tick_local))
                    continue
                # Second instances of a repeated interval come before every later time.
                while pending and pending[0][0] < tick:
                    earlier = pending.popleft()
                    if earlier[0] > last:
                        last = earlier[0]
                        yield earlier
                if tick > last:
                    last = tick
                    yield tick, tick_local

    # -- wall-clock times -----------------------------------------------------------------

    def _instants(self, wall: int) -> list[tuple[int, datetime, bool]]:
        """The instants a wall-clock time fires at: (tick, local, is second instance)."""
        # Most wall-clock times occur once at the offset of the last one: try that first.
        tick = wall - self._offset_guess
        local = datetime.fromtimestamp(tick, self.tz)
        if (
            not local.fold
            and local.toordinal() == wall // _DAY + _EPOCH_ORDINAL
            and local.hour * 3600 + local.minute * 60 + local.second == wall % _DAY
            # A first instance of a repeated time has a second only for every-hour schedules.
            and (not self.every_hour or local.replace(fold=1).utcoffset() == local.utcoffset())
        ):
            return [(tick, local, False)]
        instants = self._resolve(wall)
        if instants:
            self._offset_guess = wall - instants[-1][0]
        return instants

    def _resolve(self, wall: int) -> list[tuple[int, datetime, bool]]:
        """`_instants` the careful way: both readings of the wall-clock time."""
        naive = _EPOCH + timedelta(seconds=wall)
        first = naive.replace(tzinfo=self.tz)
        second = naive.replace(tzinfo=self.tz, fold=1)
        before = int(first.utcoffset().total_seconds())  # type: ignore[union-attr]
        after = int(second.utcoffset().total_seconds())  # type: ignore[union-attr]
        if before == after:
            return [(wall - before, first, False)]
        if before > after:  # repeated (fall back); fold=0 is the first instance
            if self.every_hour:
                return [(wall - before, first, False), (wall - after, second, True)]
            return [(wall - before, first, False)]
        if self.every_hour:  # skipped (spring forward)
            return []
        end_of_gap = self._transition(wall - after, wall - before)
        return [(end_of_gap, self.local(end_of_gap), False)]

    def _transition(self, lo: int, hi: int) -> int:
        """The first instant in (lo, hi] whose offset differs from lo's."""
        offset = self.local(lo).utcoffset()
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if self.local(mid).utcoffset() == offset:
                lo = mid
            else:
                hi = mid
        return hi

    def _walls_up(self, wall: int) -> Iterator[int]:
        """Wall-clock times (naive POSIX seconds) of the schedule at or after `wall`."""
        weekly_days = self.schedule.weekly_days
        if weekly_days is not None:
            times = self._times
            day, within = divmod(wall, _DAY)
            i = bisect.bisect_left(times, within)
            while True:
                if (day + _EPOCH_WEEKDAY) % 7 in weekly_days:
                    base = day * _DAY
                    for t in times[i:]:
                        yield base + t
                day, i = day + 1, 0
        from croniter import croniter

        walk = croniter(self.schedule.expression.strip(), _naive(wall - 1))
        while True:
            yield _wall_seconds(walk.get_next(datetime))

    def _walls_down(self, wall: int) -> Iterator[int]:
        """Wall-clock times of the schedule at or before `wall`, descending."""
        weekly_days = self.schedule.weekly_days
        if weekly_days is not None:
            times = self._times
            day, within = divmod(wall, _DAY)
            i = bisect.bisect_right(times, within)
            while True:
                if (day + _EPOCH_WEEKDAY) % 7 in weekly_days:
                    base = day * _DAY
                    for t in reversed(times[:i]):
                        yield base + t
                day, i = day - 1, len(times)
        from croniter import croniter

        walk = croniter(self.schedule.expression.strip(), _naive(wall + 1))
        while True:
            yield _wall_seconds(walk.get_prev(datetime))


def _naive(wall: int) -> datetime:
    return _EPOCH + timedelta(seconds=wall)


def _wall_seconds(local: datetime) -> int:
    """A datetime's wall-clock reading as seconds since 1970-01-01 00:00 (ignoring zone)."""
    delta = local.replace(tzinfo=None) - _EPOCH
    return delta.days * _DAY + delta.seconds


def _fold_gap(local: datetime) -> int:
    """How much wall-clock time repeats around `local`: 0 unless its reading occurs twice."""
    first = local.replace(fold=0).utcoffset()
    second = local.replace(fold=1).utcoffset()
    return max(0, int((first - second).total_seconds()))  # type: ignore[operator]
