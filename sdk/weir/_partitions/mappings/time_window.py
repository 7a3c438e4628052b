"""Mapping time windows to the overlapping time windows of another schedule, with offsets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from weir._errors import DefinitionError
from weir._partitions.base import DynamicPartitionsStore, PartitionsDefinition
from weir._partitions.mappings.base import PartitionMapping, missing_upstream_error
from weir._partitions.time_window import TimeWindowPartitionsDefinition


@dataclass(frozen=True)
class TimeWindowPartitionMapping(PartitionMapping):
    """A downstream window reads every upstream window that overlaps it.

    Same schedules: the identity. A coarser upstream (daily feeding hourly): each hour reads
    its day. A finer upstream (hourly feeding daily): each day reads its 24 hours.

    `start_offset` and `end_offset` move the start and end of the downstream window by
    that many downstream windows before matching: ``start_offset=-1`` makes day D read
    days D-1 and D (a rolling window, or an asset that reads its own previous partition).
    Offsets never reach past the first or last upstream partition; upstream windows the
    downstream one needs that do not exist raise `PartitionKeyError`, unless
    `allow_nonexistent_upstream_partitions` is set, in which case they are left out.

    >>> from weir import DailyPartitionsDefinition
    >>> days = DailyPartitionsDefinition("2024-01-01", end_date="2024-02-01")
    >>> TimeWindowPartitionMapping(start_offset=-1).get_upstream_partitions(
    ...     "2024-01-10", days, days
    ... )
    ['2024-01-09', '2024-01-10']
    """

    start_offset: int = 0
    end_offset: int = 0
    allow_nonexistent_upstream_partitions: bool = False

    def __post_init__(self) -> None:
        for name in ("start_offset", "end_offset"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool):
                raise DefinitionError(f"TimeWindowPartitionMapping {name} must be an int")
        if not isinstance(self.allow_nonexistent_upstream_partitions, bool):
            raise DefinitionError(
                "TimeWindowPartitionMapping allow_nonexistent_upstream_partitions must be a bool"
            )

    def validate_partition_mapping(
        self, upstream_partitions_def: Any, downstream_partitions_def: Any
    ) -> None:
        for side, defn in (
            ("upstream", upstream_partitions_def),
            ("downstream", downstream_partitions_def),
        ):
            if not isinstance(defn, TimeWindowPartitionsDefinition):
                raise DefinitionError(
                    "TimeWindowPartitionMapping relates two time-window partitions definitions; "
                    f"the {side} one is {defn!r}"
                )
        if upstream_partitions_def.timezone != downstream_partitions_def.timezone:
            raise DefinitionError(
                "TimeWindowPartitionMapping needs both partitions definitions in one timezone; "
                f"upstream is in {upstream_partitions_def.timezone}, downstream in "
                f"{downstream_partitions_def.timezone}"
            )

    def _upstream(
        self,
        downstream_keys: list[str],
        downstream_def: PartitionsDefinition | None,
        upstream_def: PartitionsDefinition | None,
        now: datetime,
        store: DynamicPartitionsStore | None,
    ) -> list[str]:
        down, up = _time(downstream_def), _time(upstream_def)
        bounds = up._tick_bounds(now)
        wanted: list[tuple[int, int]] = []
        missing: list[tuple[int, int]] = []
        for start, end in self._windows_of(down, downstream_keys):
            # Offsets count downstream windows and stop at the upstream's first or last window.
            start = _shifted(down, start, self.start_offset, bounds)
            end = _shifted(down, end, self.end_offset, bounds)
            window = _aligned(up, start, end)
            if window is None:
                continue
            inside = _intersect(window, bounds)
            if inside is not None:
                wanted.append(inside)
            if inside != window:
                missing.append(window)
        if missing and not self.allow_nonexistent_upstream_partitions:
            absent = [
                k
                for a, b in _merged(missing)
                for k in up._keys_between(a, b)
                if not up.has_partition_key(k, now)
            ]
            raise missing_upstream_error(
                absent,
                up,
                " (pass allow_nonexistent_upstream_partitions=True to leave them out)",
            )
        return [k for a, b in _merged(wanted) for k in up._keys_between(a, b)]

    def _downstream(
        self,
        upstream_keys: list[str],
        upstream_def: PartitionsDefinition | None,
        downstream_def: PartitionsDefinition | None,
        now: datetime,
        store: DynamicPartitionsStore | None,
    ) -> list[str]:
        up, down = _time(upstream_def), _time(downstream_def)
        bounds = down._tick_bounds(now)
        if bounds is None:
            return []
        wanted: list[tuple[int, int]] = []
        for start, end in self._windows_of(up, upstream_keys):
            window = _aligned(down, start, end)
            if window is None:
                continue
            # The inverse of the upstream direction: offsets negated and swapped.
            start = _shifted(down, window[0], -self.end_offset, bounds)
            end = _shifted(down, window[1], -self.start_offset, bounds)
            inside = _intersect((start, end), bounds) if start < end else None
            if inside is not None:
                wanted.append(inside)
        return [k for a, b in _merged(wanted) for k in down._keys_between(a, b)]

    def _windows_of(
        self, defn: TimeWindowPartitionsDefinition, keys: list[str]
    ) -> list[tuple[int, int]]:
        """The windows of `keys`, adjacent ones joined into runs so a long range of keys is
        mapped as one window. (Joining is exact when end_offset >= start_offset: the mapped
        windows of neighbours then touch or overlap.)"""
        ticks = sorted(defn._require_tick(k) for k in keys)
        windows = [(t, defn._clock.next_tick(t + 1)) for t in ticks]
        if self.end_offset < self.start_offset:
            return windows
        runs: list[tuple[int, int]] = []
        for start, end in windows:
            if runs and runs[-1][1] == start:
                runs[-1] = (runs[-1][0], end)
            else:
                runs.append((start, end))
        return runs


def _time(defn: PartitionsDefinition | None) -> TimeWindowPartitionsDefinition:
    assert isinstance(defn, TimeWindowPartitionsDefinition)  # validate_partition_mapping said so
    return defn


def _shifted(
    defn: TimeWindowPartitionsDefinition, tick: int, offset: int, bounds: tuple[int, int] | None
) -> int:
    """`tick` moved by `offset` of `defn`'s windows, but not past `bounds` (as Dagster does)."""
    tick = defn._clock.shift(tick, offset)
    if bounds is None:
        return tick
    if offset < 0:
        return max(tick, bounds[0])
    if offset > 0:
        return min(tick, bounds[1])
    return tick


def _aligned(defn: TimeWindowPartitionsDefinition, start: int, end: int) -> tuple[int, int] | None:
    """The smallest run of `defn`'s windows covering [start, end), or None if empty."""
    if start >= end:
        return None
    return defn._clock.prev_tick(start), defn._clock.next_tick(end)


def _intersect(window: tuple[int, int], bounds: tuple[int, int] | None) -> tuple[int, int] | None:
    if bounds is None:
        return None
    start, end = max(window[0], bounds[0]), min(window[1], bounds[1])
    return (start, end) if start < end else None


def _merged(windows: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(windows):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged
