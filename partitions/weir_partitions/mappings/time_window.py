"""Time windows mapped to the overlapping time windows of another schedule, with offsets."""

from __future__ import annotations

from dataclasses import dataclass

from weir_partitions.errors import MappingError, MissingUpstreamKeysError
from weir_partitions.key_spaces import KeySpace
from weir_partitions.mappings.base import KeyMapping, require_kind
from weir_partitions.time_window import TimeWindowKeySpace

Window = tuple[int, int]  # [start tick, end tick) in POSIX seconds


@dataclass(frozen=True)
class TimeWindowMapping(KeyMapping):
    """A downstream window reads every upstream window that overlaps it.

    Same schedules: the identity. A coarser upstream (daily feeding hourly): each hour reads
    its day. A finer upstream (hourly feeding daily): each day reads its hours.

    `start_offset` and `end_offset` move the start and end of the downstream window by that
    many downstream windows before matching (``start_offset=-1``: day D reads D-1 and D).
    Offsets never reach past the first or last upstream window; upstream windows that do not
    exist raise `MissingUpstreamKeysError` unless `allow_missing` leaves them out.

    >>> from datetime import UTC, datetime
    >>> days = TimeWindowKeySpace("0 0 * * *", "UTC", "%Y-%m-%d", datetime(2024, 1, 1, tzinfo=UTC))
    >>> now = datetime(2024, 2, 1, tzinfo=UTC).timestamp()
    >>> TimeWindowMapping(start_offset=-1).upstream_keys("2024-01-10", days, days, now)
    ['2024-01-09', '2024-01-10']
    """

    start_offset: int = 0
    end_offset: int = 0
    allow_missing: bool = False
    name = "TimeWindowPartitionMapping"

    def validate(self, upstream: KeySpace | None, downstream: KeySpace | None) -> None:
        require_kind(
            self, upstream, downstream, TimeWindowKeySpace, "time-window partitions definitions"
        )
        assert isinstance(upstream, TimeWindowKeySpace)
        assert isinstance(downstream, TimeWindowKeySpace)
        if upstream.timezone != downstream.timezone:
            raise MappingError(
                f"{self.name} needs both partitions definitions in one timezone; upstream "
                f"{upstream!r} is in {upstream.timezone}, downstream {downstream!r} in "
                f"{downstream.timezone}"
            )

    def _upstream(
        self, downstream_keys: list[str], downstream: KeySpace | None, upstream: KeySpace | None,
        now: float,
    ) -> list[str]:  # fmt: skip
        down, up = _time(downstream), _time(upstream)
        bounds = up.tick_bounds(now)
        wanted: list[Window] = []
        missing: list[Window] = []
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
        if missing and not self.allow_missing:
            absent = [
                k
                for a, b in _merged(missing)
                for k in up.keys_between(a, b)
                if not up.has_key(k, now)
            ]
            hint = " (pass allow_nonexistent_upstream_partitions=True to leave them out)"
            raise MissingUpstreamKeysError(absent, up, hint)
        return [k for a, b in _merged(wanted) for k in up.keys_between(a, b)]

    def _downstream(
        self, upstream_keys: list[str], upstream: KeySpace | None, downstream: KeySpace | None,
        now: float,
    ) -> list[str]:  # fmt: skip
        up, down = _time(upstream), _time(downstream)
        bounds = down.tick_bounds(now)
        if bounds is None:
            return []
        wanted: list[Window] = []
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
        return [k for a, b in _merged(wanted) for k in down.keys_between(a, b)]

    def _windows_of(self, space: TimeWindowKeySpace, keys: list[str]) -> list[Window]:
        """The windows of `keys`, adjacent ones joined into runs so a long range of keys is
        mapped as one window. (Joining is exact when end_offset >= start_offset: the mapped
        windows of neighbours then touch or overlap.)"""
        ticks = sorted(space.require_tick(k) for k in keys)
        windows = [(t, space.clock.next_tick(t + 1)) for t in ticks]
        if self.end_offset < self.start_offset:
            return windows
        runs: list[Window] = []
        for start, end in windows:
            if runs and runs[-1][1] == start:
                runs[-1] = (runs[-1][0], end)
            else:
                runs.append((start, end))
        return runs


def _time(space: KeySpace | None) -> TimeWindowKeySpace:
    assert isinstance(space, TimeWindowKeySpace)  # validate said so
    return space


def _shifted(space: TimeWindowKeySpace, tick: int, offset: int, bounds: Window | None) -> int:
    """`tick` moved by `offset` of `space`'s windows, but not past `bounds` (as Dagster does)."""
    tick = space.clock.shift(tick, offset)
    if bounds is None:
        return tick
    if offset < 0:
        return max(tick, bounds[0])
    if offset > 0:
        return min(tick, bounds[1])
    return tick


def _aligned(space: TimeWindowKeySpace, start: int, end: int) -> Window | None:
    """The smallest run of `space`'s windows covering [start, end), or None if empty."""
    if start >= end:
        return None
    return space.clock.prev_tick(start), space.clock.next_tick(end)


def _intersect(window: Window, bounds: Window | None) -> Window | None:
    if bounds is None:
        return None
    start, end = max(window[0], bounds[0]), min(window[1], bounds[1])
    return (start, end) if start < end else None


def _merged(windows: list[Window]) -> list[Window]:
    merged: list[Window] = []
    for start, end in sorted(windows):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged
