"""Cron schedules in a timezone: the instants at which time-window partitions begin.

A five-field cron string (minute hour day-of-month month day-of-week) names wall-clock
times. `ScheduleClock` turns them into instants (integer POSIX seconds) in an IANA
timezone and answers "next tick at or after t" / "last tick at or before t" by
arithmetic on dates and offsets, never by stepping minute by minute.

Daylight-saving rules, the same as Dagster's:
- schedules that run every hour keep both instances of a repeated hour (fall back) and
  have no tick in a skipped hour (spring forward), so each window is an hour long;
- coarser schedules tick once at the first instance of a repeated time, and a wall-clock
  time skipped by spring forward ticks at the first instant after the gap.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

_MACROS = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}
_MONTHS = {
    name: number
    for number, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
}
_WEEKDAYS = {"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6}
_FIELDS: tuple[tuple[str, int, int, dict[str, int]], ...] = (
    ("minute", 0, 59, {}),
    ("hour", 0, 23, {}),
    ("day of month", 1, 31, {}),
    ("month", 1, 12, _MONTHS),
    ("day of week", 0, 7, _WEEKDAYS),
)
# Every schedule fires at least once in this many years (a 29 February one, every 4 or 8).
_SEARCH_YEARS = 10
_ONE_DAY = timedelta(days=1)
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


class CronError(ValueError):
    """A cron string this module cannot read; the message says which part and why."""


@dataclass(frozen=True)
class CronSchedule:
    """The parsed fields of a five-field cron string (day of week 0 = Sunday)."""

    expression: str
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    days_of_month: frozenset[int]
    last_day_of_month: bool
    months: frozenset[int]
    days_of_week: frozenset[int]
    # Vixie cron: when both day fields are restricted a day matching either one fires.
    day_fields_or: bool

    @property
    def every_hour(self) -> bool:
        return len(self.hours) == 24

    @property
    def every_day(self) -> bool:
        if len(self.months) != 12:
            return False
        all_month_days, all_weekdays = len(self.days_of_month) == 31, len(self.days_of_week) == 7
        if self.day_fields_or:
            return all_month_days or all_weekdays
        return all_month_days and all_weekdays

    def matches_date(self, day: date) -> bool:
        if day.month not in self.months:
            return False
        in_month = day.day in self.days_of_month or (
            self.last_day_of_month and day.day == days_in_month(day.year, day.month)
        )
        in_week = day.isoweekday() % 7 in self.days_of_week
        return (in_month or in_week) if self.day_fields_or else (in_month and in_week)


def parse_cron(expression: str) -> CronSchedule:
    """Parse a five-field cron string (names, ranges, steps, lists, `L`, `@daily` macros).

    >>> parse_cron("15 3 * * mon-fri").days_of_week == frozenset({1, 2, 3, 4, 5})
    True
    """
    if not isinstance(expression, str):
        raise CronError(f"a cron schedule must be a string, got {expression!r}")
    text = _MACROS.get(expression.strip().lower(), expression)
    parts = text.split()
    if len(parts) != 5:
        raise CronError(
            f"{expression!r} has {len(parts)} fields; expected 5 "
            "(minute hour day-of-month month day-of-week)"
        )
    values: list[set[int]] = []
    last_day = False
    for part, (name, low, high, names) in zip(parts, _FIELDS, strict=True):
        allow_last = name == "day of month"
        field, saw_last = _parse_field(expression, part, name, low, high, names, allow_last)
        last_day = last_day or saw_last
        values.append(field)
    minutes, hours, doms, months, dows = values
    dows = {d % 7 for d in dows}
    dom_star, dow_star = parts[2].startswith("*"), parts[4].startswith("*")
    schedule = CronSchedule(
        expression=expression,
        minutes=tuple(sorted(minutes)),
        hours=tuple(sorted(hours)),
        days_of_month=frozenset(doms),
        last_day_of_month=last_day,
        months=frozenset(months),
        days_of_week=frozenset(dows),
        day_fields_or=not (dom_star or dow_star),
    )
    if not _fires_at_all(schedule):
        raise CronError(f"{expression!r} names no date that exists, so it never fires")
    return schedule


def _parse_field(
    expression: str,
    part: str,
    name: str,
    low: int,
    high: int,
    names: dict[str, int],
    allow_last: bool,
) -> tuple[set[int], bool]:
    def number(token: str) -> int:
        token_l = token.lower()
        if token_l in names:
            return names[token_l]
        if not token.isdigit():
            raise CronError(f"{expression!r}: {token!r} is not a valid {name}")
        value = int(token)
        if not low <= value <= high:
            raise CronError(f"{expression!r}: {name} {value} is outside {low}-{high}")
        return value

    result: set[int] = set()
    saw_last = False
    for item in part.split(","):
        if allow_last and item.upper() == "L":
            saw_last = True
            continue
        body, _, step_text = item.partition("/")
        step = 1
        if step_text:
            if not step_text.isdigit() or int(step_text) == 0:
                raise CronError(f"{expression!r}: step {step_text!r} in {name} must be >= 1")
            step = int(step_text)
        if body in ("*", "?"):
            start, stop = low, high
        elif "-" in body:
            first, _, last = body.partition("-")
            start, stop = number(first), number(last)
            if start > stop:
                raise CronError(f"{expression!r}: range {body!r} in {name} runs backwards")
        else:
            start = number(body)
            stop = high if step_text else start
        result.update(range(start, stop + 1, step))
    return result, saw_last


def _fires_at_all(schedule: CronSchedule) -> bool:
    if schedule.day_fields_or or len(schedule.days_of_month) == 31:
        return True  # every month has every weekday and day 1
    longest = {m: days_in_month(2000, m) for m in schedule.months}  # 2000 is a leap year
    return schedule.last_day_of_month or any(
        d <= longest[m] for m in schedule.months for d in schedule.days_of_month
    )


class ScheduleClock:
    """The tick instants of a cron schedule in one timezone.

    >>> from zoneinfo import ZoneInfo
    >>> clock = ScheduleClock(parse_cron("0 0 * * *"), ZoneInfo("UTC"))
    >>> clock.next_tick(1)  # the first midnight after the epoch
    86400
    """

    def __init__(self, schedule: CronSchedule, tz: tzinfo):
        self.schedule = schedule
        self.tz = tz
        self.every_hour = schedule.every_hour
        # "Every hour of every day" schedules are periodic in absolute time (up to offset
        # changes), so ticks come from offset arithmetic instead of a walk over dates.
        self._periodic = schedule.every_hour and schedule.every_day
        self._phases = [m * 60 for m in schedule.minutes]
        self._times = [(h, m) for h in schedule.hours for m in schedule.minutes]
        self._days_by_month: dict[tuple[int, int], list[int]] = {}
        self._last_offset = 0

    # -- public -----------------------------------------------------------------------------

    def local(self, ts: int) -> datetime:
        return datetime.fromtimestamp(ts, self.tz)

    def next_tick(self, ts: int) -> int:
        """The first tick at or after `ts`."""
        if self._periodic:
            return self._next_periodic(ts)
        day = self.local(ts).date() - _ONE_DAY
        for tick, _ in self._iter_calendar(day):
            if tick >= ts:
                return tick
        raise AssertionError("unreachable: calendar ticks are unbounded")

    def prev_tick(self, ts: int) -> int:
        """The last tick at or before `ts`."""
        if self._periodic:
            return self._prev_periodic(ts)
        day = self.local(ts).date() + _ONE_DAY
        while True:
            day = self._matching_date(day, forward=False)
            for tick, _ in reversed(self._ticks_on(day)):
                if tick <= ts:
                    return tick
            day -= _ONE_DAY

    def shift(self, tick: int, count: int) -> int:
        """The tick `count` ticks after (or before, if negative) the tick `tick`."""
        for _ in range(count):
            tick = self.next_tick(tick + 1)
        for _ in range(-count):
            tick = self.prev_tick(tick - 1)
        return tick

    def iter_ticks(self, start: int) -> Iterator[tuple[int, datetime]]:
        """Ticks at or after `start`, ascending, each with its aware local datetime."""
        if not self._periodic:
            day = self.local(start).date() - _ONE_DAY
            yield from ((t, local) for t, local in self._iter_calendar(day) if t >= start)
            return
        local_of = self.local
        gaps = _cyclic_gaps(self._phases)
        tick = self._next_periodic(start)
        local = local_of(tick)
        offset = _seconds(local)
        while True:
            yield tick, local
            gap = gaps.get(local.minute * 60 + local.second)
            if gap is not None:
                candidate = local_of(tick + gap)
                candidate_offset = _seconds(candidate)
                # An offset change of whole hours keeps the wall-clock minutes, so the
                # candidate is still the next tick; anything else takes the careful path.
                if (candidate_offset - offset) % 3600 == 0:
                    tick, local, offset = tick + gap, candidate, candidate_offset
                    continue
            tick = self._next_periodic(tick + 1)
            local = local_of(tick)
            offset = _seconds(local)

    # -- every-hour schedules ------------------------------------------------------------------

    def _offset(self, ts: int) -> int:
        return _seconds(self.local(ts))

    def _next_periodic(self, ts: int) -> int:
        phases = self._phases
        while True:
            offset = self._offset(ts)
            within = (ts + offset) % 3600
            i = bisect.bisect_left(phases, within)
            delta = phases[i] - within if i < len(phases) else 3600 - within + phases[0]
            candidate = ts + delta
            if self._offset(candidate) == offset:
                return candidate
            # The offset changes before the candidate: no tick under the old offset comes
            # first, so start again from the change.
            ts = self._first_instant_with_new_offset(ts, candidate, offset)

    def _prev_periodic(self, ts: int) -> int:
        phases = self._phases
        while True:
            offset = self._offset(ts)
            within = (ts + offset) % 3600
            i = bisect.bisect_right(phases, within) - 1
            delta = within - phases[i] if i >= 0 else within + 3600 - phases[-1]
            candidate = ts - delta
            if self._offset(candidate) == offset:
                return candidate
            ts = self._first_instant_with_offset(candidate, ts, offset) - 1

    def _first_instant_with_new_offset(self, lo: int, hi: int, old: int) -> int:
        """Smallest t in (lo, hi] whose offset differs from `old` (offset(hi) != old)."""
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if self._offset(mid) == old:
                lo = mid
            else:
                hi = mid
        return hi

    def _first_instant_with_offset(self, lo: int, hi: int, new: int) -> int:
        """Smallest t in (lo, hi] whose offset is `new` (offset(lo) != new == offset(hi))."""
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if self._offset(mid) == new:
                hi = mid
            else:
                lo = mid
        return hi

    # -- calendar schedules ----------------------------------------------------------------

    def _iter_calendar(self, day: date) -> Iterator[tuple[int, datetime]]:
        # Unbounded: parse_cron rejects schedules that name no existing date.
        last = None
        year, month, first_day = day.year, day.month, day.day
        while True:
            for d in self._matching_days(year, month):
                if d < first_day:
                    continue
                for tick, local in self._ticks_on(date(year, month, d)):
                    if last is None or tick > last:  # a skipped hour can merge two ticks
                        last = tick
                        yield tick, local
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
            first_day = 1

    def _ticks_on(self, day: date) -> list[tuple[int, datetime]]:
        """The ticks on a local date, ascending."""
        ticks: list[tuple[int, datetime]] = []
        midnight = (day.toordinal() - _EPOCH_ORDINAL) * 86400
        guess = self._last_offset
        for hour, minute in self._times:
            # Most wall-clock times exist once: guess the offset, then check the guess.
            ts = midnight + hour * 3600 + minute * 60 - guess
            local = self.local(ts)
            if (
                not self.every_hour
                and local.fold == 0
                and local.minute == minute
                and local.hour == hour
                and local.day == day.day
            ):
                ticks.append((ts, local))
                continue
            ticks.extend(self._resolve(datetime(day.year, day.month, day.day, hour, minute)))
            if ticks:
                guess = _seconds(ticks[-1][1])
        self._last_offset = guess
        if len(ticks) > 1:
            ticks.sort(key=lambda pair: pair[0])
        return ticks

    def _resolve(self, naive: datetime) -> list[tuple[int, datetime]]:
        """The instants of a wall-clock time: none, one, or two (see the module docstring)."""
        first = naive.replace(tzinfo=self.tz)
        second = naive.replace(tzinfo=self.tz, fold=1)
        before, after = _seconds(first), _seconds(second)
        if before == after:
            return [(int(first.timestamp()), first)]
        if before > after:  # a repeated wall-clock time (fall back)
            if self.every_hour:
                return [(int(first.timestamp()), first), (int(second.timestamp()), second)]
            return [(int(first.timestamp()), first)]
        if self.every_hour:  # a skipped wall-clock time
            return []
        # Coarser schedules tick when the gap ends.
        ts = self._first_instant_with_offset(int(second.timestamp()), int(first.timestamp()), after)
        return [(ts, self.local(ts))]

    def _matching_date(self, day: date, *, forward: bool) -> date:
        """The nearest date at or after (before, if not forward) `day` with ticks."""
        year, month = day.year, day.month
        for _ in range(12 * _SEARCH_YEARS + 1):
            days = self._matching_days(year, month)
            if forward:
                i = bisect.bisect_left(days, day.day)
                if i < len(days):
                    return date(year, month, days[i])
                year, month = (year + 1, 1) if month == 12 else (year, month + 1)
                day = date(year, month, 1)
            else:
                i = bisect.bisect_right(days, day.day) - 1
                if i >= 0:
                    return date(year, month, days[i])
                year, month = (year - 1, 12) if month == 1 else (year, month - 1)
                day = date(year, month, days_in_month(year, month))
        raise AssertionError(f"{self.schedule.expression!r} has no tick within {_SEARCH_YEARS}y")

    def _matching_days(self, year: int, month: int) -> list[int]:
        cached = self._days_by_month.get((year, month))
        if cached is None:
            if month in self.schedule.months:
                length = days_in_month(year, month)
                cached = [
                    d
                    for d in range(1, length + 1)
                    if self.schedule.matches_date(date(year, month, d))
                ]
            else:
                cached = []
            if len(self._days_by_month) > 4096:
                self._days_by_month.clear()
            self._days_by_month[(year, month)] = cached
        return cached


def _seconds(local: datetime) -> int:
    """The UTC offset of an aware datetime, in seconds."""
    return int(local.utcoffset().total_seconds())  # type: ignore[union-attr]


def days_in_month(year: int, month: int) -> int:
    if month == 12:
        return 31
    return (date(year, month + 1, 1) - date(year, month, 1)).days


def _cyclic_gaps(phases: list[int]) -> dict[int, int]:
    """For each phase (seconds past the hour), the seconds until the next phase."""
    following = [*phases[1:], phases[0] + 3600]
    return {p: nxt - p for p, nxt in zip(phases, following, strict=True)}
