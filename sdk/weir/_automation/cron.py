"""Cron strings and timezones: validation with clear errors, and tick times across DST.

Ticks are computed in the wall-clock time of a timezone, then placed on the timeline:

- A wall time skipped by a forward DST jump (02:30 on the spring-forward night) fires at the
  end of the gap (03:00), so a daily schedule still runs that day.
- A wall time that happens twice (01:30 on the fall-back night) fires once, at its first
  occurrence.
- Schedules that fire every hour (hour field ``*``) keep their cadence in real time instead:
  a skipped hour does not fire and a repeated hour fires twice, so they run once an hour.

croniter is imported inside functions: it costs ~80 ms and ``import weir`` must stay light.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from weir._errors import DefinitionError

CRON_EXAMPLE = "'0 6 * * *' (06:00 every day) or '*/15 * * * *' (every 15 minutes)"
TIMEZONE_EXAMPLE = "'UTC', 'Europe/Berlin' or 'America/New_York'"

# Python requires |utcoffset| < 24 h, so a wall time t lands on the timeline strictly
# within 24 hours of t read as UTC. The tick merge below relies on this bound.
_MAX_OFFSET = timedelta(hours=24)


def validate_cron(cron: object, where: str) -> str:
    """Return `cron` if it is a five-field cron string that fires, else raise DefinitionError.

    `where` names the owner for the message, e.g. ``"Schedule 'daily'"``.
    """
    from croniter import CroniterBadDateError, CroniterError

    if not isinstance(cron, str) or not cron.strip():
        raise DefinitionError(
            f"{where} needs a cron string, got {cron!r}; for example {CRON_EXAMPLE}"
        )
    try:
        fields = _expand(cron)
    except (CroniterError, ValueError) as exc:
        raise DefinitionError(
            f"{where} has an invalid cron string {cron!r} ({exc}); use five fields "
            f"(minute hour day-of-month month day-of-week), for example {CRON_EXAMPLE}"
        ) from None
    if len(fields) != 5:
        raise DefinitionError(
            f"{where} has a cron string with {len(fields)} fields, {cron!r}; Weir's cron "
            f"strings have five (minute hour day-of-month month day-of-week, no seconds or "
            f"years), for example {CRON_EXAMPLE}"
        )
    try:
        next(_wall_ticks(cron, datetime(2000, 1, 1)))
    except CroniterBadDateError:
        raise DefinitionError(
            f"{where} has a cron string that never fires, {cron!r}; check the day of month "
            f"against the month, for example {CRON_EXAMPLE}"
        ) from None
    return cron


def validate_timezone(name: object, where: str) -> ZoneInfo:
    """The ZoneInfo for an IANA timezone name, or a DefinitionError suggesting a close name."""
    if isinstance(name, str) and name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    hint = _closest_timezone(name) if isinstance(name, str) else None
    did_you_mean = f" (did you mean {hint!r}?)" if hint else ""
    raise DefinitionError(
        f"{where} has an unknown timezone {name!r}{did_you_mean}; use an IANA timezone "
        f"name such as {TIMEZONE_EXAMPLE}"
    )


def cron_ticks_after(
    cron_strings: Sequence[str], tz: ZoneInfo, after: datetime
) -> Iterator[datetime]:
    """Yield the tick times of the cron strings strictly after `after`, ascending, in `tz`.

    `after` must be timezone-aware. Equal ticks of several cron strings are yielded once.

    >>> ticks = cron_ticks_after(["0 6 * * *"], ZoneInfo("UTC"), datetime(2024, 1, 1, tzinfo=UTC))
    >>> next(ticks).isoformat()
    '2024-01-01T06:00:00+00:00'
    """
    if after.tzinfo is None:
        raise ValueError("cron_ticks_after needs a timezone-aware datetime")
    # Start early enough that no wall time whose instant is past `after` is missed.
    start_wall = after.astimezone(tz).replace(tzinfo=None, fold=0) - 2 * _MAX_OFFSET
    wall_times = heapq.merge(
        *(
            ((wall, _fires_every_hour(cron)) for wall in _wall_ticks(cron, start_wall))
            for cron in cron_strings
        )
    )
    # Instants are kept in UTC: Python compares two datetimes of the same zone by wall time,
    # ignoring fold, which would confuse the two occurrences of a repeated hour.
    after_utc = after.astimezone(UTC)
    pending: list[datetime] = []  # a heap of instants not yet yielded
    last: datetime | None = None
    for wall, every_hour in wall_times:
        for instant in _instants_of_wall_time(wall, tz, every_hour):
            heapq.heappush(pending, instant.astimezone(UTC))
        # Every later wall time lands after this horizon, so what is below it is final.
        horizon = wall.replace(tzinfo=UTC) - _MAX_OFFSET
        while pending and pending[0] <= horizon:
            instant = heapq.heappop(pending)
            if instant > after_utc and instant != last:
                last = instant
                yield instant.astimezone(tz)


def _wall_ticks(cron: str, start: datetime) -> Iterator[datetime]:
    """Naive wall-clock tick times strictly after naive `start` (pure calendar arithmetic)."""
    from croniter import croniter

    iterator = croniter(cron, start)
    while True:
        yield iterator.get_next(datetime)


def _instants_of_wall_time(wall: datetime, tz: ZoneInfo, every_hour: bool) -> list[datetime]:
    first = wall.replace(tzinfo=tz, fold=0)
    second = wall.replace(tzinfo=tz, fold=1)
    if first.utcoffset() == second.utcoffset():
        return [first]
    # (astimezone to the same zone is a no-op, so go through UTC to normalize.)
    exists = first.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == wall
    if exists:  # the wall time happens twice; fold=0 is the first occurrence
        return [first, second] if every_hour else [first]
    # The wall time falls in a gap: per PEP 495, fold=1 reads it with the offset after the
    # transition, which puts it before the transition instant; fold=0 puts it after.
    return [] if every_hour else [_transition_instant(second, first, tz)]


def _transition_instant(before: datetime, after: datetime, tz: ZoneInfo) -> datetime:
    """The first instant in (before, after] whose UTC offset differs from `before`'s."""
    lo = int(before.timestamp())
    hi = int(after.timestamp())
    offset_before = datetime.fromtimestamp(lo, tz).utcoffset()
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if datetime.fromtimestamp(mid, tz).utcoffset() == offset_before:
            lo = mid
        else:
            hi = mid
    return datetime.fromtimestamp(hi, tz)


@lru_cache(maxsize=256)
def _expand(cron: str) -> list[list[object]]:
    from croniter import croniter

    fields, _ = croniter.expand(cron)
    return fields


def _fires_every_hour(cron: str) -> bool:
    hours = _expand(cron)[1]
    return hours == ["*"] or set(hours) == set(range(24))


def _closest_timezone(name: str) -> str | None:
    import difflib
    from zoneinfo import available_timezones

    matches = difflib.get_close_matches(name, sorted(available_timezones()), n=1, cutoff=0.6)
    return matches[0] if matches else None
