"""Partition indexes: key <-> index agrees with walking the keys in every zone and
schedule shape, the arithmetic path included, and index sets combine as sets do."""

from __future__ import annotations

import itertools
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st
from test_time_window import key_spaces
from weir_partitions import (
    CronClock,
    IndexRanges,
    MultiKeySpace,
    StaticKeySpace,
    TickIndex,
    TimeWindowKeySpace,
    parse_cron,
)

FIXED_ZONES = ["UTC", "Etc/GMT-5", "Etc/GMT+3", "Asia/Kolkata"]


@settings(max_examples=120, deadline=None)
@given(key_spaces())
def test_index_of_and_key_at_agree_with_walking_keys(case: tuple[TimeWindowKeySpace, float]):
    space, now = case
    keys = space.keys(now)
    assert space.count(now) == len(keys)
    for index, key in enumerate(keys):
        assert space.index_of(key, now) == index
        assert space.key_at(index) == key
    assert space.keys_slice(1, 3, now) == keys[1:4]


@settings(max_examples=80, deadline=None)
@given(
    st.sampled_from(FIXED_ZONES),
    st.sampled_from(["{m} * * * *", "{m} {h} * * *", "{m} {h} * * {d}", "*/15 * * * 1-5"]),
    st.integers(0, 59),
    st.integers(0, 23),
    st.integers(0, 6),
    st.datetimes(min_value=datetime(1950, 1, 1), max_value=datetime(2090, 1, 1)),
)
def test_arithmetic_indexes_of_fixed_zones_match_the_clock(zone, template, m, h, d, start):
    space = TimeWindowKeySpace(
        template.format(m=m, h=h, d=d), zone, "%Y-%m-%d %H:%M", start.replace(tzinfo=UTC)
    )
    index = space.tick_index
    assert index._periodic is not None  # the arithmetic, not the walk, answers
    for position, (tick, _) in zip(
        range(300), space.clock.iter_ticks(space.first_tick), strict=False
    ):
        assert index.index_of(tick) == position
        assert index.tick_at(position) == tick


def test_a_million_hourly_partitions_are_counted_and_addressed_without_walking():
    space = TimeWindowKeySpace(
        "0 * * * *", "UTC", "%Y-%m-%d-%H:%M", datetime(1900, 1, 1, tzinfo=UTC)
    )
    now = datetime(2014, 1, 29, 16, tzinfo=UTC).timestamp()
    started = time.perf_counter()
    count = space.count(now)
    last = space.key_at(count - 1)
    assert space.index_of(last, now) == count - 1
    assert time.perf_counter() - started < 0.1
    assert count == 1_000_000 and last == "2014-01-29-15:00"


def test_static_keys_are_indexed_by_position():
    space = StaticKeySpace(["eu", "us", "apac"])
    assert [space.index_of(k) for k in ("eu", "apac", "mars")] == [0, 2, None]
    assert space.key_at(1) == "us" and space.keys_slice(1, 5) == ["us", "apac"]


@given(st.sets(st.integers(0, 200)), st.sets(st.integers(0, 200)))
def test_index_ranges_combine_like_sets(a: set[int], b: set[int]):
    left, right = IndexRanges.of(a), IndexRanges.of(b)
    assert set(left | right) == a | b
    assert set(left & right) == a & b
    assert set(left - right) == a - b
    assert len(left) == len(a)
    assert IndexRanges.from_bytes(left.to_bytes()) == left
    assert all((i in left) == (i in a) for i in range(-1, 202))
    runs = left.runs()
    assert all(end < start for (_, end), (start, _) in itertools.pairwise(runs))  # never touching


def test_multi_keys_are_numbered_time_window_first_and_round_trip():
    daily = TimeWindowKeySpace("0 0 * * *", "UTC", "%Y-%m-%d", datetime(2024, 1, 1, tzinfo=UTC))
    grid = MultiKeySpace(
        [
            ("color", StaticKeySpace(["red", "blue"])),
            ("date", daily),
            ("size", StaticKeySpace(["s", "m", "l"])),
        ]
    )
    now = datetime(2024, 1, 5, tzinfo=UTC).timestamp()
    assert grid.indexable() and grid.count(now) == 4 * 2 * 3
    keys = grid.keys_slice(0, 100, now)
    assert keys[:4] == [
        "red|2024-01-01|s",
        "red|2024-01-01|m",
        "red|2024-01-01|l",
        "blue|2024-01-01|s",
    ]
    assert sorted(keys) == sorted(
        f"{c}|{d}|{s}" for c in ("red", "blue") for d in daily.keys(now) for s in ("s", "m", "l")
    )
    assert [grid.index_of(k, now) for k in keys] == list(range(len(keys)))
    assert grid.index_of("red|2024-01-09|s", now) is None and grid.index_of("red|x", now) is None
    two_windows = MultiKeySpace([("a", daily), ("b", daily)])
    assert not two_windows.indexable()
    # Frozen at a moment, the second window numbers by its keys of then, the first grows.
    frozen = two_windows.frozen(now)
    assert frozen.indexable() and frozen.count(now) == 4 * 4
    later = datetime(2024, 1, 7, tzinfo=UTC).timestamp()
    assert frozen.count(later) == 6 * 4 and frozen.key_at(4 * 4) == "2024-01-05|2024-01-01"
    assert frozen.index_of("2024-01-02|2024-01-03", later) == 4 + 2
    assert frozen.index_of("2024-01-01|2024-01-05", later) is None  # not a key of then


def _near_misses(space: TimeWindowKeySpace, keys: list[str]) -> list[str]:
    """Strings that look like keys but are not, or are keys of other moments."""
    before = space.format_tick(space.clock.prev_tick(space.first_tick - 1))
    shifted = [k[:-1] + ("1" if k[-1] == "0" else "0") for k in keys[:20]]
    return [before, "", "not-a-key", "2024-13-01", *shifted, *(k + "-0500" for k in keys[:3])]


@settings(max_examples=150, deadline=None)
@given(key_spaces(), st.randoms(use_true_random=False))
def test_indexes_of_many_keys_match_index_of_each(case, rng):
    space, now = case
    keys = space.keys(now + 86400 * 3)  # some keys of later, not keys as of now
    probe = keys + _near_misses(space, keys)
    rng.shuffle(probe)
    assert space.indexes_of(probe, now) == [space.index_of(k, now) for k in probe]


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from([*FIXED_ZONES, "America/New_York", "Europe/London", "Australia/Lord_Howe"]),
    st.sampled_from(
        [
            ("{m} * * * *", "%Y-%m-%d-%H:%M"),
            ("{m} {h} * * *", "%Y-%m-%d"),
            ("{m} {h} * * 1-5", "%Y%m%d %H%M"),
            ("*/15 * * * *", "%Y-%m-%dT%H:%M:%S"),
        ]
    ),
    st.integers(0, 59),
    st.integers(0, 23),
    st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2060, 1, 1)),
)
def test_arithmetic_bulk_indexes_match_the_exact_path_across_dst(zone, shape, m, h, start):
    template, fmt = shape
    space = TimeWindowKeySpace(
        template.format(m=m, h=h), zone, fmt, start.replace(tzinfo=ZoneInfo(zone))
    )
    now = (start + timedelta(days=400)).replace(tzinfo=UTC).timestamp()
    keys = space.keys(now)
    assert space.indexes_of(keys, now) == list(range(len(keys)))
    later = space.keys(now + 86400 * 30)[len(keys) :]
    misses = _near_misses(space, keys) + later
    assert space.indexes_of(misses, now) == [space.index_of(k, now) for k in misses]


def test_a_million_hourly_keys_are_indexed_in_well_under_a_second():
    space = TimeWindowKeySpace(
        "0 * * * *", "UTC", "%Y-%m-%d-%H:%M", datetime(1900, 1, 1, tzinfo=UTC)
    )
    now = datetime(2014, 1, 29, 16, tzinfo=UTC).timestamp()
    keys = space.keys_slice(0, 1_000_000, now)
    started = time.process_time()
    indexes = space.indexes_of(keys, now)
    elapsed = time.process_time() - started
    assert indexes == list(range(1_000_000))
    assert elapsed < 1.5, f"{elapsed:.2f} s of CPU for a million keys"


def test_multi_keys_are_indexed_in_bulk_like_one_by_one():
    daily = TimeWindowKeySpace("0 0 * * *", "UTC", "%Y-%m-%d", datetime(2024, 1, 1, tzinfo=UTC))
    grid = MultiKeySpace([("color", StaticKeySpace(["red", "blue"])), ("date", daily)])
    now = datetime(2024, 3, 1, tzinfo=UTC).timestamp()
    keys = [*grid.keys_slice(0, 200, now), "red|2025-01-01", "green|2024-01-01", "red", "a|b|c"]
    assert grid.indexes_of(keys, now) == [grid.index_of(k, now) for k in keys]


DST_ZONES = ["America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "America/Santiago",
             "Asia/Tehran", "Africa/Casablanca", "America/Havana"]  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(DST_ZONES),
    st.sampled_from(["0 * * * *", "30 * * * *", "*/20 * * * 1-5", "0 2 * * *", "30 1 * * 0"]),
    st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2080, 1, 1)),
    st.randoms(use_true_random=False),
)
def test_ticks_of_daylight_saving_zones_are_counted_per_day_as_the_clock_walks_them(
    zone: str, cron: str, start: datetime, rng: Any
) -> None:
    clock = CronClock(parse_cron(cron), ZoneInfo(zone))
    first = clock.next_tick(int(start.replace(tzinfo=UTC).timestamp()))
    ticks = [tick for tick, _ in itertools.islice(clock.iter_ticks(first), 2500)]
    sample = [0, 1, len(ticks) - 1, *rng.sample(range(len(ticks)), 150)]
    counted = TickIndex(clock, first)
    assert [counted.index_of(ticks[i]) for i in sample] == sample
    inverse = TickIndex(clock, first)
    assert [inverse.tick_at(i) for i in sample] == [ticks[i] for i in sample]


def test_hourly_keys_of_a_daylight_saving_zone_are_numbered_without_walking_ticks() -> None:
    start = datetime(2010, 1, 1, tzinfo=UTC)
    now = (start + timedelta(hours=100_000)).timestamp()
    reference = TimeWindowKeySpace("0 * * * *", "America/New_York", "%Y-%m-%d-%H:%M", start)
    keys = reference.keys(now)  # walking: the reference
    space = TimeWindowKeySpace("0 * * * *", "America/New_York", "%Y-%m-%d-%H:%M", start)
    assert space.indexes_of(keys[::-1], now) == list(range(len(keys)))[::-1]
    assert space.count(now) == len(keys)
    assert space.keys_slice(len(keys) - 3, 3, now) == keys[-3:]
    # The clock was walked over the days with a change only, never the whole span.
    assert len(space.tick_index._walked._ticks) == 1
