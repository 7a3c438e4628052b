"""Cron strings and timezones of schedules: validation with clear errors, and tick times.

The cron engine is `weir_partitions` (croniter, placed on a zone's timeline), the same one
that cuts time-window partitions and that the control plane reads snapshots with; its
docstring has the daylight-saving rules. This module only words its errors for schedules,
automation conditions and freshness policies, and merges the ticks of several strings.

The engine is imported inside functions: croniter costs ~80 ms and ``import weir`` must
stay light.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterator, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from weir._errors import DefinitionError

CRON_EXAMPLE = "'0 6 * * *' (06:00 every day) or '*/15 * * * *' (every 15 minutes)"
TIMEZONE_EXAMPLE = "'UTC', 'Europe/Berlin' or 'America/New_York'"


def validate_cron(cron: object, where: str) -> str:
    """Return `cron` if it is a five-field cron string that fires, else raise DefinitionError.

    `where` names the owner for the message, e.g. ``"Schedule 'daily'"``.
    """
    from weir_partitions import CronError, CronFieldCountError, CronNeverFiresError, parse_cron

    if not isinstance(cron, str) or not cron.strip():
        raise DefinitionError(
            f"{where} needs a cron string, got {cron!r}; for example {CRON_EXAMPLE}"
        )
    try:
        parse_cron(cron)
    except CronFieldCountError as exc:
        raise DefinitionError(
            f"{where} has an invalid cron string {cron!r} with {exc.field_count} fields; "
            f"Weir's cron strings have five (minute hour day-of-month month day-of-week, no "
            f"seconds or years), for example {CRON_EXAMPLE}"
        ) from None
    except CronNeverFiresError:
        raise DefinitionError(
            f"{where} has a cron string that never fires, {cron!r}; check the day of month "
            f"against the month, for example {CRON_EXAMPLE}"
        ) from None
    except CronError as exc:
        raise DefinitionError(
            f"{where} has an invalid cron string {cron!r} ({exc.reason}); use five fields "
            f"(minute hour day-of-month month day-of-week), for example {CRON_EXAMPLE}"
        ) from None
    return cron


def validate_timezone(name: object, where: str) -> ZoneInfo:
    """The ZoneInfo for an IANA timezone name, or a DefinitionError suggesting a close name."""
    from weir_partitions import UnknownTimezoneError, load_timezone

    try:
        return load_timezone(name)
    except UnknownTimezoneError as exc:
        did_you_mean = f" (did you mean {exc.suggestion!r}?)" if exc.suggestion else ""
        raise DefinitionError(
            f"{where} has an unknown timezone {name!r}{did_you_mean}; use an IANA timezone "
            f"name such as {TIMEZONE_EXAMPLE}"
        ) from None


def cron_ticks_after(
    cron_strings: Sequence[str], tz: ZoneInfo, after: datetime
) -> Iterator[datetime]:
    """Yield the tick times of the cron strings strictly after `after`, ascending, in `tz`.

    `after` must be timezone-aware. Equal ticks of several cron strings are yielded once.

    >>> from datetime import UTC
    >>> ticks = cron_ticks_after(["0 6 * * *"], ZoneInfo("UTC"), datetime(2024, 1, 1, tzinfo=UTC))
    >>> next(ticks).isoformat()
    '2024-01-01T06:00:00+00:00'
    """
    from weir_partitions import CronClock, parse_cron

    if after.tzinfo is None:
        raise ValueError("cron_ticks_after needs a timezone-aware datetime")
    first = math.floor(after.timestamp()) + 1  # ticks are whole seconds
    streams = [CronClock(parse_cron(cron), tz).iter_ticks(first) for cron in cron_strings]
    last = None
    for tick, local in heapq.merge(*streams, key=lambda pair: pair[0]):
        if tick != last:
            last = tick
            yield local
