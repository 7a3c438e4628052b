"""Weir's cron ticks, time windows and partition key spaces, one engine for both sides.

A partitions definition is written against the SDK (``weir.DailyPartitionsDefinition``,
schedules' cron strings) and read by the control plane from a code location's snapshot
(to check the partition key of a launch, and later for schedules and backfills). The two
must agree on every tick and every key, yet the SDK never imports the control plane and
the control plane never imports the SDK. So the engine lives here, on croniter and the
standard library's zoneinfo:

- `parse_cron` reads a five-field cron string (or raises `CronError`); `CronClock` gives
  its ticks in a time zone across daylight-saving changes (`cron`'s docstring has the rules);
- `TimeWindowKeySpace` holds the windows and keys of time-window partitions;
- `StaticKeySpace`, `DynamicKeySpace` and `MultiKeySpace` the other kinds of keys;
- `IndexedKeySpace` numbers keys 0..n-1 (`TickIndex` for time windows; many keys at
  once by arithmetic in `key_index`), and `IndexRanges` holds sets of those indexes as
  runs (partition status), and `carry_over` says how a changed definition's numbering
  maps the old one's (shifted, or renumbered);
- `load_timezone` reads an IANA name, suggesting a close one when it is misspelled;
- `weir_partitions.mappings` relates the keys of two key spaces (partition mappings).

>>> from datetime import UTC, datetime
>>> daily = TimeWindowKeySpace("@daily", "UTC", "%Y-%m-%d", datetime(2024, 1, 1, tzinfo=UTC))
>>> daily.first_key(now=datetime(2024, 5, 1, tzinfo=UTC).timestamp())
'2024-01-01'
"""

from weir_partitions.cron import CronClock, CronSchedule, parse_cron
from weir_partitions.errors import (
    CronError,
    CronFieldCountError,
    CronNeverFiresError,
    DynamicKeysUnknownError,
    KeySpaceError,
    MappingError,
    MissingUpstreamKeysError,
    PartitionsError,
    UnknownPartitionKeyError,
    UnknownTimezoneError,
)
from weir_partitions.key_spaces import (
    MULTIPARTITION_KEY_DELIMITER,
    DynamicKeySpace,
    IndexedKeySpace,
    KeySpace,
    MultiKeySpace,
    StaticKeySpace,
)
from weir_partitions.keyformat import KeyFormat
from weir_partitions.numbering import CarryOver, carry_over, numbering_of
from weir_partitions.ranges import IndexRanges
from weir_partitions.tick_index import TickIndex
from weir_partitions.time_window import TimeWindowKeySpace
from weir_partitions.timezones import load_timezone

__all__ = [
    "MULTIPARTITION_KEY_DELIMITER",
    "CarryOver",
    "CronClock",
    "CronError",
    "CronFieldCountError",
    "CronNeverFiresError",
    "CronSchedule",
    "DynamicKeySpace",
    "DynamicKeysUnknownError",
    "IndexRanges",
    "IndexedKeySpace",
    "KeyFormat",
    "KeySpace",
    "KeySpaceError",
    "MappingError",
    "MissingUpstreamKeysError",
    "MultiKeySpace",
    "PartitionsError",
    "StaticKeySpace",
    "TickIndex",
    "TimeWindowKeySpace",
    "UnknownPartitionKeyError",
    "UnknownTimezoneError",
    "carry_over",
    "load_timezone",
    "numbering_of",
    "parse_cron",
]
