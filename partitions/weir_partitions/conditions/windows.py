"""`in_latest_time_window`: which partitions of a time-partitioned asset are in its
latest window, or within a lookback of it."""

from __future__ import annotations

import math
from collections.abc import Callable

from weir_partitions.conditions.state import Partitions
from weir_partitions.key_spaces import MultiKeySpace
from weir_partitions.time_window import TimeWindowKeySpace


def latest_windows(
    space: TimeWindowKeySpace, now: float, keys: Partitions
) -> Callable[[float | None], Partitions]:
    """The keys whose windows end within a lookback of the latest window's end."""
    last = space.last_key(now)

    def within(lookback: float | None) -> Partitions:
        if last is None:
            return frozenset()
        if not lookback:
            return frozenset({last})
        last_end = space.window(space.require_tick(last))[1].timestamp()
        bounds = space.tick_bounds(now)
        assert bounds is not None
        first = space.clock.prev_tick(math.floor(last_end - lookback))
        return frozenset(space.keys_between(max(first, bounds[0]), bounds[1])) & keys

    return within


def latest_multi_windows(
    space: MultiKeySpace, now: float, keys: Partitions
) -> Callable[[float | None], Partitions] | None:
    at = next(
        (i for i, (_, s) in enumerate(space.dimensions) if isinstance(s, TimeWindowKeySpace)),
        None,
    )
    if at is None:
        return None
    time_space = space.dimensions[at][1]
    assert isinstance(time_space, TimeWindowKeySpace)
    windows = latest_windows(time_space, now, frozenset(time_space.keys(now)))

    def within(lookback: float | None) -> Partitions:
        latest = windows(lookback)
        return frozenset(k for k in keys if (space.split(k) or [""] * (at + 1))[at] in latest)

    return within
