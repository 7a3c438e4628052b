"""The keys of time-window partitions: consecutive windows cut by a cron schedule in a zone.

A key is the start of its window formatted with `fmt`. As of a moment only complete
windows exist; `end_offset=n` adds the next n windows (the current, unfinished one first),
and a negative one holds back the last -n. The SDK's `TimeWindowPartitionsDefinition` and
the control plane (which reads the definition from a snapshot) both answer from here.

>>> from datetime import UTC, datetime
>>> space = TimeWindowKeySpace("0 0 * * *", "UTC", "%Y-%m-%d", datetime(2024, 1, 1, tzinfo=UTC))
>>> now = datetime(2024, 1, 3, 12, tzinfo=UTC).timestamp()
>>> space.keys(now)
['2024-01-01', '2024-01-02']
>>> space.has_key("2024-01-03", now)
False
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from datetime import datetime

from weir_partitions.cron import CronClock, parse_cron
from weir_partitions.errors import KeySpaceError, UnknownPartitionKeyError
from weir_partitions.key_index import BulkKeyIndex
from weir_partitions.keyformat import KeyFormat
from weir_partitions.ranges import IndexRanges
from weir_partitions.tick_index import TickIndex
from weir_partitions.timezones import load_timezone

_KEY_CACHE_SIZE = 1 << 16  # keys -> start ticks; enough for a large backfill


class TimeWindowKeySpace:
    """The windows and keys of one time-window partitions definition.

    Instants are POSIX seconds (ticks are integers); `start` and `end` are aware datetimes.
    Raises `CronError`, `UnknownTimezoneError` or `KeySpaceError` for a definition that
    cannot be built.
    """

    def __init__(
        self,
        cron_schedule: str,
        timezone: str,
        fmt: str,
        start: datetime,
        end: datetime | None = None,
        end_offset: int = 0,
    ):
        if not isinstance(fmt, str) or not fmt:
            raise KeySpaceError(f"fmt must be a strftime format string, got {fmt!r}")
        if start.tzinfo is None or (end is not None and end.tzinfo is None):
            raise KeySpaceError("start and end of a time-window key space must be aware")
        if end is not None and end <= start:
            raise KeySpaceError(f"end {end} must come after start {start}")
        schedule = parse_cron(cron_schedule)
        self.cron_schedule = cron_schedule
        self.timezone = timezone or "UTC"
        self.fmt = fmt
        self.end_offset = end_offset
        self.tz = load_timezone(self.timezone)
        self.start = start.astimezone(self.tz)
        self.end = None if end is None else end.astimezone(self.tz)
        self.clock = CronClock(schedule, self.tz)
        self.key_format = KeyFormat(fmt, mark_repeated_hours=schedule.every_hour)
        self.first_tick = self.clock.next_tick(math.ceil(start.timestamp()))
        self.end_ts = None if end is None else math.floor(end.timestamp())
        self._tick_by_key: dict[str, int | None] = {}
        self._ticks: TickIndex | None = None
        self._bulk: BulkKeyIndex | None = None
        self._check_format_tells_windows_apart()

    # -- bounds and keys ----------------------------------------------------------------

    def tick_bounds(self, now: float) -> tuple[int, int] | None:
        """(first window start, last window end) as of `now`, or None if no windows yet."""
        clock, first = self.clock, self.first_tick
        base = clock.prev_tick(math.floor(now))
        cap = None if self.end_ts is None else clock.prev_tick(self.end_ts)
        if self.end_offset >= 0:
            last = clock.shift(max(base, first), self.end_offset)
            last = last if cap is None else min(last, cap)
        else:
            last = clock.shift(base if cap is None else min(base, cap), self.end_offset)
        return (first, last) if last > first else None

    def keys(self, now: float) -> list[str]:
        """Every key as of `now`, in order."""
        bounds = self.tick_bounds(now)
        return [] if bounds is None else self.keys_between(*bounds)

    def count(self, now: float) -> int:
        bounds = self.tick_bounds(now)
        return 0 if bounds is None else self.tick_index.index_of(bounds[1])

    def keys_between(self, start_tick: int, stop: int) -> list[str]:
        """Keys of the windows starting at ticks in [start_tick, stop)."""
        fmt = self.key_format.format
        keys: list[str] = []
        for tick, local in self.clock.iter_ticks(start_tick):
            if tick >= stop:
                return keys
            keys.append(fmt(local))
        raise AssertionError("unreachable: ticks are unbounded")

    def first_key(self, now: float) -> str | None:
        bounds = self.tick_bounds(now)
        return None if bounds is None else self.format_tick(bounds[0])

    def last_key(self, now: float) -> str | None:
        bounds = self.tick_bounds(now)
        return None if bounds is None else self.format_tick(self.clock.prev_tick(bounds[1] - 1))

    def has_key(self, key: object, now: float) -> bool:
        tick = self.tick_of_key(key)
        if tick is None:
            return False
        bounds = self.tick_bounds(now)
        return bounds is not None and bounds[0] <= tick < bounds[1]

    def unknown_keys(self, keys: Iterable[str], now: float) -> list[str]:
        """The keys among `keys` that are not keys as of `now` (bounds computed once)."""
        bounds = self.tick_bounds(now)
        unknown = []
        for key in keys:
            tick = self.tick_of_key(key)
            if tick is None or bounds is None or not bounds[0] <= tick < bounds[1]:
                unknown.append(key)
        return unknown

    def sort_keys(self, keys: Iterable[str], now: float = 0) -> list[str]:
        return sorted(set(keys), key=self.require_tick)

    def validate_key(self, key: object, now: float, as_of: str = "now") -> None:
        """Raise `UnknownPartitionKeyError` saying what valid keys look like."""
        if not self.has_key(key, now):
            raise UnknownPartitionKeyError(key, self.describe_valid_keys(key, now, as_of))

    # -- indexes: window 0 is the first ----------------------------------------------

    @property
    def tick_index(self) -> TickIndex:
        if self._ticks is None:
            self._ticks = TickIndex(self.clock, self.first_tick)
        return self._ticks

    def index_of(self, key: object, now: float) -> int | None:
        """The index of `key` among the keys as of `now`, or None if it is not one."""
        tick = self.tick_of_key(key)
        bounds = self.tick_bounds(now)
        if tick is None or bounds is None or not bounds[0] <= tick < bounds[1]:
            return None
        return self.tick_index.index_of(tick)

    def indexes_of(self, keys: Sequence[str], now: float) -> list[int | None]:
        """`index_of` each of `keys`, by arithmetic where it holds (`BulkKeyIndex`): a
        million hourly keys in a fraction of a second."""
        return self._bulk_index().indexes_of(keys, now)

    def index_ranges(self, keys: Sequence[str], now: float) -> IndexRanges:
        """The indexes of those of `keys` that are keys as of `now`, in bulk as
        `indexes_of`: what a partition status is rebuilt from."""
        return self._bulk_index().index_ranges(keys, now)

    def _bulk_index(self) -> BulkKeyIndex:
        if self._bulk is None:
            self._bulk = BulkKeyIndex(self)
        return self._bulk

    def key_at(self, index: int) -> str:
        """The key of window `index` (which may not have ended yet)."""
        return self.format_tick(self.tick_index.tick_at(index))

    def keys_slice(self, offset: int, limit: int, now: float) -> list[str]:
        """At most `limit` keys as of `now`, from the one at index `offset`."""
        stop = min(self.count(now), offset + limit)
        if offset >= stop:
            return []
        start = self.tick_index.tick_at(offset)
        fmt = self.key_format.format
        return [
            fmt(local) for _, local in itertools.islice(self.clock.iter_ticks(start), stop - offset)
        ]

    # -- windows ------------------------------------------------------------------------

    def format_tick(self, tick: int) -> str:
        return self.key_format.format(self.clock.local(tick))

    def window(self, tick: int) -> tuple[datetime, datetime]:
        """The window starting at `tick`: aware local start and end."""
        clock = self.clock
        return clock.local(tick), clock.local(clock.next_tick(tick + 1))

    def tick_of_key(self, key: object) -> int | None:
        """The start tick a well-formed key names (existing yet or not), or None."""
        if not isinstance(key, str):
            return None
        if key in self._tick_by_key:
            return self._tick_by_key[key]
        tick = None
        try:
            parsed: datetime | None = self.key_format.parse(key)
        except (ValueError, TypeError):
            parsed = None
        if parsed is not None:
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=self.tz)
            candidate = self.clock.next_tick(math.ceil(parsed.timestamp()))
            tick = candidate if self.format_tick(candidate) == key else None
        if len(self._tick_by_key) >= _KEY_CACHE_SIZE:
            self._tick_by_key.clear()
        self._tick_by_key[key] = tick
        return tick

    def require_tick(self, key: object) -> int:
        """The start tick a key names, or `UnknownPartitionKeyError` saying why it names none."""
        tick = self.tick_of_key(key)
        if tick is None:
            raise UnknownPartitionKeyError(
                key, f"it {self.why_not_a_window(key)}; {self.format_hint()}"
            )
        return tick

    # -- messages -----------------------------------------------------------------------

    def why_not_a_window(self, key: object) -> str:
        if not isinstance(key, str):
            return "is not a string"
        try:
            self.key_format.parse(key)
        except (ValueError, TypeError):
            return f"does not match the format {self.fmt!r}"
        return f"is not the start of a window of the schedule {self.cron_schedule!r}"

    def format_hint(self) -> str:
        example = self.format_tick(self.first_tick)
        return f"keys look like {example!r} (format {self.fmt!r}, timezone {self.timezone})"

    def describe_valid_keys(self, key: object, now: float, as_of: str = "now") -> str:
        """Why `key` is not a key as of `now` and what the valid keys are (first and last)."""
        bounds = self.tick_bounds(now)
        tick = self.tick_of_key(key)
        if tick is None:
            reason = f"it {self.why_not_a_window(key)}; " if isinstance(key, str) else ""
        elif bounds is not None and tick < bounds[0]:
            reason = "it comes before the first partition; "
        elif bounds is not None and tick >= bounds[1]:
            reason = "it comes after the last partition; "
        else:
            reason = ""
        if bounds is None:
            first = self.format_tick(self.first_tick)
            return f"{reason}there are no partitions {as_of} (the first will be {first!r})"
        first = self.format_tick(bounds[0])
        last = self.format_tick(self.clock.prev_tick(bounds[1] - 1))
        return (
            f"{reason}valid keys are formatted as {self.fmt!r} in timezone {self.timezone} "
            f"and run from {first!r} to {last!r} {as_of}"
        )

    # -- value semantics ----------------------------------------------------------------

    def _identity(self) -> tuple[object, ...]:
        end = None if self.end is None else self.end.timestamp()
        return (self.cron_schedule, self.start.timestamp(), end, self.timezone, self.fmt,
                self.end_offset)  # fmt: skip

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TimeWindowKeySpace) and other._identity() == self._identity()

    def __hash__(self) -> int:
        return hash(self._identity())

    def __repr__(self) -> str:
        end = "" if self.end is None else f", end={self.end.isoformat()!r}"
        offset = f", end_offset={self.end_offset}" if self.end_offset else ""
        return (
            f"TimeWindowPartitionsDefinition(start={self.start.isoformat()!r}, fmt={self.fmt!r}"
            f"{end}, timezone={self.timezone!r}, cron_schedule={self.cron_schedule!r}{offset})"
        )

    def _check_format_tells_windows_apart(self) -> None:
        # A format coarser than the schedule (hourly windows keyed "%Y-%m-%d") would give
        # several windows one key; the first few windows show it.
        seen: set[str] = set()
        for tick, local in self.clock.iter_ticks(self.first_tick):
            key = self.key_format.format(local)
            if key in seen or self.tick_of_key(key) != tick:
                raise KeySpaceError(
                    f"The format {self.fmt!r} cannot tell apart the windows of the schedule "
                    f"{self.cron_schedule!r}: the window starting {local.isoformat()} would have "
                    f"the key {key!r}. Use a format with finer fields."
                )
            seen.add(key)
            if len(seen) == 3:
                return
