"""Partitions that are consecutive time windows cut by a cron schedule in a timezone."""

from __future__ import annotations

import math
import re
import time
from collections.abc import Iterable
from datetime import date, datetime
from enum import Enum
from typing import TYPE_CHECKING, Any, NamedTuple

from weir._errors import DefinitionError, PartitionKeyError
from weir._partitions.base import (
    DynamicPartitionsStore,
    PartitionKeyRange,
    PartitionsDefinition,
    range_ends,
)
from weir._partitions.loading_context import effective_time

if TYPE_CHECKING:
    from weir_partitions import CronClock, KeyFormat, TimeWindowKeySpace

_SCHEDULE_TYPE_PATTERNS = (
    ("HOURLY", r"\d+ \* \* \* \*"),
    ("DAILY", r"\d+ \d+ \* \* \*"),
    ("WEEKLY", r"\d+ \d+ \* \* \d+"),
    ("MONTHLY", r"\d+ \d+ \d+ \* \*"),
)


class TimeWindow(NamedTuple):
    """A half-open time interval ``[start, end)`` of aware datetimes: one partition."""

    start: datetime
    end: datetime


class ScheduleType(Enum):
    """The cadence of a time-window partitions definition."""

    HOURLY = "HOURLY"
    DAILY = "DAILY"
    WEEKLY = "WEEKLY"
    MONTHLY = "MONTHLY"


class TimeWindowPartitionsDefinition(PartitionsDefinition):
    """Partitions that are consecutive time windows; each key is its window's start.

    Window boundaries are the ticks of `cron_schedule` (or of `schedule_type` with its
    offsets) in `timezone`. The first window starts at the first tick at or after `start`;
    windows end before `end` if given. As of a moment (default: now) only complete windows
    exist; `end_offset=n` adds the next n windows (the current, unfinished one first), and
    a negative one holds back the last -n.

    >>> defn = TimeWindowPartitionsDefinition(
    ...     start="2024-01-01", fmt="%Y-%m-%d", cron_schedule="0 0 * * *"
    ... )
    >>> defn.get_partition_keys(current_time=datetime(2024, 1, 3, 12))
    ['2024-01-01', '2024-01-02']
    """

    def __init__(
        self,
        start: datetime | date | str,
        fmt: str,
        end: datetime | date | str | None = None,
        schedule_type: ScheduleType | str | None = None,
        timezone: str | None = None,
        end_offset: int = 0,
        minute_offset: int | None = None,
        hour_offset: int | None = None,
        day_offset: int | None = None,
        cron_schedule: str | None = None,
    ):
        if not isinstance(fmt, str) or not fmt:
            raise DefinitionError(f"fmt must be a strftime format string, got {fmt!r}")
        if not isinstance(end_offset, int) or isinstance(end_offset, bool):
            raise DefinitionError(f"end_offset must be an int, got {end_offset!r}")
        cron = _cron_from_arguments(
            schedule_type, cron_schedule, minute_offset, hour_offset, day_offset
        )
        self.timezone: str = timezone or "UTC"
        self.fmt: str = fmt
        self.end_offset: int = end_offset
        self.cron_schedule: str = cron
        # The engine loads with the first time-window definition, not with `import weir`.
        from weir_partitions import (
            CronError,
            KeyFormat,
            KeySpaceError,
            TimeWindowKeySpace,
            UnknownTimezoneError,
            load_timezone,
            parse_cron,
        )

        try:
            schedule = parse_cron(cron)
        except CronError as e:
            raise DefinitionError(f"Invalid cron schedule for time-window partitions: {e}") from e
        try:
            self._tz = load_timezone(self.timezone)
        except UnknownTimezoneError as e:
            raise DefinitionError(str(e)) from None
        key_format = KeyFormat(fmt, mark_repeated_hours=schedule.every_hour)
        self.start: datetime = self._coerce_moment(start, "start", key_format)
        self.end: datetime | None = (
            None if end is None else self._coerce_moment(end, "end", key_format)
        )
        try:
            self._space: TimeWindowKeySpace = TimeWindowKeySpace(
                cron, self.timezone, fmt, self.start, self.end, end_offset
            )
        except KeySpaceError as e:
            raise DefinitionError(str(e)) from None
        self._clock: CronClock = self._space.clock

    # -- keys -------------------------------------------------------------------------------

    def get_partition_keys(
        self,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> list[str]:
        bounds = self._tick_bounds(current_time)
        return [] if bounds is None else self._keys_between(*bounds)

    def get_num_partitions(
        self,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> int:
        bounds = self._tick_bounds(current_time)
        if bounds is None:
            return 0
        for count, (tick, _) in enumerate(self._clock.iter_ticks(bounds[0])):
            if tick >= bounds[1]:
                return count
        raise AssertionError("unreachable: ticks are unbounded")

    def has_partition_key(
        self,
        key: str,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> bool:
        tick = self._tick_of_key(key)
        if tick is None:
            return False
        bounds = self._tick_bounds(current_time)
        return bounds is not None and bounds[0] <= tick < bounds[1]

    def get_first_partition_key(
        self,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> str | None:
        bounds = self._tick_bounds(current_time)
        return None if bounds is None else self._format_tick(bounds[0])

    def get_last_partition_key(
        self,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> str | None:
        bounds = self._tick_bounds(current_time)
        return None if bounds is None else self._format_tick(self._clock.prev_tick(bounds[1] - 1))

    def get_first_partition_window(self, current_time: datetime | None = None) -> TimeWindow | None:
        bounds = self._tick_bounds(current_time)
        return None if bounds is None else self._window(bounds[0])

    def get_last_partition_window(self, current_time: datetime | None = None) -> TimeWindow | None:
        bounds = self._tick_bounds(current_time)
        return None if bounds is None else self._window(self._clock.prev_tick(bounds[1] - 1))

    def get_partition_keys_in_range(
        self,
        start: str | PartitionKeyRange,
        end: str | None = None,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> list[str]:
        """The keys from `start` to `end`, both included; both must be valid keys.

        >>> daily = TimeWindowPartitionsDefinition("2024-01-01", "%Y-%m-%d", cron_schedule="@daily")
        >>> daily.get_partition_keys_in_range("2024-01-30", "2024-02-01")
        ['2024-01-30', '2024-01-31', '2024-02-01']
        """
        first, last = range_ends(start, end)
        for key in (first, last):
            self.validate_partition_key(key, "", current_time)
        first_tick, last_tick = self._require_tick(first), self._require_tick(last)
        if first_tick > last_tick:
            raise PartitionKeyError(f"Partition key range {first!r}..{last!r} runs backwards")
        return self._keys_between(first_tick, last_tick + 1)

    def get_next_partition_key(
        self, partition_key: str, current_time: datetime | None = None
    ) -> str | None:
        """The key after `partition_key`, or None if that one is the last as of `current_time`."""
        tick = self._require_tick(partition_key)
        bounds = self._tick_bounds(current_time)
        following = self._clock.next_tick(tick + 1)
        if bounds is None or following >= bounds[1]:
            return None
        return self._format_tick(following)

    # -- windows ----------------------------------------------------------------------------

    def time_window_for_partition_key(self, partition_key: str) -> TimeWindow:
        """The window a key names, whether or not it exists yet as of now.

        >>> daily = TimeWindowPartitionsDefinition("2024-01-01", "%Y-%m-%d", cron_schedule="@daily")
        >>> daily.time_window_for_partition_key("2024-02-29").end.isoformat()
        '2024-03-01T00:00:00+00:00'
        """
        return self._window(self._require_tick(partition_key))

    def time_windows_for_partition_keys(self, partition_keys: Iterable[str]) -> list[TimeWindow]:
        return [self.time_window_for_partition_key(k) for k in partition_keys]

    def start_time_for_partition_key(self, partition_key: str) -> datetime:
        return self._clock.local(self._require_tick(partition_key))

    def end_time_for_partition_key(self, partition_key: str) -> datetime:
        return self.time_window_for_partition_key(partition_key).end

    def get_partition_keys_in_time_window(self, time_window: TimeWindow) -> list[str]:
        """Keys of the windows that start within `time_window` (existing or not)."""
        start = self._clock.next_tick(math.ceil(time_window.start.timestamp()))
        return self._keys_between(start, math.ceil(time_window.end.timestamp()))

    def get_partition_key_for_timestamp(self, timestamp: float) -> str:
        """The key of the window that contains `timestamp` (POSIX seconds)."""
        return self._format_tick(self._clock.prev_tick(math.floor(timestamp)))

    # -- what the cron string says ----------------------------------------------------------

    @property
    def schedule_type(self) -> ScheduleType | None:
        """HOURLY, DAILY, WEEKLY or MONTHLY when the cron string is one of those shapes."""
        for kind, pattern in _SCHEDULE_TYPE_PATTERNS:
            if re.fullmatch(pattern, self.cron_schedule.strip()):
                return ScheduleType(kind)
        return None

    @property
    def minute_offset(self) -> int:
        return self._clock.schedule.minutes[0]

    @property
    def hour_offset(self) -> int:
        return self._clock.schedule.hours[0]

    @property
    def day_offset(self) -> int:
        kind = self.schedule_type
        if kind is ScheduleType.WEEKLY:
            return min(self._clock.schedule.days_of_week)
        if kind is ScheduleType.MONTHLY:
            return min(self._clock.schedule.days_of_month)
        raise DefinitionError(f"{self.cron_schedule!r} is not a weekly or monthly schedule")

    # -- value semantics --------------------------------------------------------------------

    # The engine's key space compares, hashes and spells the definition (as the control
    # plane's does the same definition read from the wire).

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TimeWindowPartitionsDefinition) and self._space == other._space

    def __hash__(self) -> int:
        return hash(self._space)

    def __repr__(self) -> str:
        return repr(self._space)  # one eval-able form for every subclass (they compare equal)

    def __getstate__(self) -> dict[str, Any]:
        # The compiled clock and caches are rebuilt on load; only the arguments travel.
        return {
            "start": self.start,
            "fmt": self.fmt,
            "end": self.end,
            "timezone": self.timezone,
            "end_offset": self.end_offset,
            "cron_schedule": self.cron_schedule,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        TimeWindowPartitionsDefinition.__init__(self, **state)

    # -- internals shared with the partition mappings ---------------------------------------

    def _now(self, current_time: datetime | None) -> float:
        current_time = effective_time(current_time)
        if current_time is None:
            return time.time()
        if current_time.tzinfo is None:
            current_time = current_time.replace(tzinfo=self._tz)
        return current_time.timestamp()

    def _tick_bounds(self, current_time: datetime | None) -> tuple[int, int] | None:
        """(first window start, last window end) as of `current_time`, or None if no windows."""
        return self._space.tick_bounds(self._now(current_time))

    def _keys_between(self, start_tick: int, stop: int) -> list[str]:
        """Keys of the windows starting at ticks in [start_tick, stop)."""
        return self._space.keys_between(start_tick, stop)

    def _format_tick(self, tick: int) -> str:
        return self._space.format_tick(tick)

    def _window(self, tick: int) -> TimeWindow:
        return TimeWindow(*self._space.window(tick))

    def _tick_of_key(self, key: str) -> int | None:
        """The start tick a well-formed key names, or None if it names no window."""
        return self._space.tick_of_key(key)

    def _require_tick(self, key: str) -> int:
        tick = self._space.tick_of_key(key)
        if tick is None:
            space = self._space
            raise PartitionKeyError(
                f"Partition key {key!r} {space.why_not_a_window(key)}; {space.format_hint()}"
            )
        return tick

    def _describe_valid_keys(
        self,
        key: str,
        current_time: datetime | None,
        dynamic_partitions_store: DynamicPartitionsStore | None,
    ) -> str:
        as_of = "now" if current_time is None else f"as of {current_time.isoformat()}"
        return self._space.describe_valid_keys(key, self._now(current_time), as_of)

    def _unknown_keys(
        self,
        keys: Iterable[str],
        current_time: datetime | None,
        dynamic_partitions_store: DynamicPartitionsStore | None,
    ) -> list[str]:
        return self._space.unknown_keys(keys, self._now(current_time))

    def _key_space(
        self,
        current_time: datetime | None,
        dynamic_partitions_store: DynamicPartitionsStore | None,
    ) -> TimeWindowKeySpace:
        return self._space

    def _sort_keys(
        self,
        keys: Iterable[str],
        current_time: datetime | None,
        dynamic_partitions_store: DynamicPartitionsStore | None,
    ) -> list[str]:
        return sorted(set(keys), key=self._require_tick)

    def _coerce_moment(
        self, value: datetime | date | str, name: str, key_format: KeyFormat
    ) -> datetime:
        """A start or end argument as an aware datetime in the definition's timezone."""
        if isinstance(value, str):
            value = self._parse_moment(value, name, key_format)
        elif not isinstance(value, datetime):
            if not isinstance(value, date):
                raise DefinitionError(f"{name} must be a datetime, date or string, got {value!r}")
            value = datetime(value.year, value.month, value.day)
        if value.tzinfo is None:
            return value.replace(tzinfo=self._tz)
        return value.astimezone(self._tz)

    def _parse_moment(self, text: str, name: str, key_format: KeyFormat) -> datetime:
        try:
            return key_format.parse(text)
        except ValueError:
            pass
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            raise DefinitionError(
                f"{name} {text!r} matches neither the format {self.fmt!r} nor ISO 8601"
            ) from None


def _cron_from_arguments(
    schedule_type: ScheduleType | str | None,
    cron_schedule: str | None,
    minute_offset: int | None,
    hour_offset: int | None,
    day_offset: int | None,
) -> str:
    if cron_schedule is not None:
        if schedule_type is not None or minute_offset or hour_offset or day_offset:
            raise DefinitionError(
                "Pass either cron_schedule or schedule_type with minute/hour/day offsets, not both"
            )
        return cron_schedule
    if schedule_type is None:
        raise DefinitionError("One of schedule_type and cron_schedule must be given")
    try:
        name = schedule_type.upper() if isinstance(schedule_type, str) else schedule_type
        kind = ScheduleType(name)
    except ValueError:
        raise DefinitionError(
            f"schedule_type must be one of {[t.value for t in ScheduleType]}, got {schedule_type!r}"
        ) from None
    minute = _offset("minute_offset", minute_offset or 0, 0, 59)
    hour = _offset("hour_offset", hour_offset or 0, 0, 23)
    if kind is ScheduleType.HOURLY:
        return f"{minute} * * * *"
    if kind is ScheduleType.DAILY:
        return f"{minute} {hour} * * *"
    if kind is ScheduleType.WEEKLY:
        return f"{minute} {hour} * * {_offset('day_offset', day_offset or 0, 0, 6)}"
    # Day 0 of a month means its first day, as in Dagster.
    day = _offset("day_offset", day_offset or 1, 1, 31)
    return f"{minute} {hour} {day} * *"


def _offset(name: str, value: int, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise DefinitionError(f"{name} must be an int from {low} to {high}, got {value!r}")
    return value
