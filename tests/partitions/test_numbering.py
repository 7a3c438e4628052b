"""Carrying a partition status over a definition change: a changed time window or static
definition maps the old indexes onto the new ones exactly as renumbering by key would, and
changes that renumber (schedule, zone, format, keys reordered or removed) are refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from weir_partitions import (
    IndexRanges,
    StaticKeySpace,
    TimeWindowKeySpace,
    carry_over,
    numbering_of,
)

ZONES = ["UTC", "America/New_York", "Europe/Berlin", "Australia/Lord_Howe"]
SHAPES = [("0 * * * *", "%Y-%m-%d-%H:%M", timedelta(hours=1)),
          ("0 0 * * *", "%Y-%m-%d", timedelta(days=1)),
          ("30 2 * * 1-5", "%Y-%m-%d %H:%M", timedelta(days=1))]  # fmt: skip
NOW = datetime(2024, 12, 1, tzinfo=UTC).timestamp()


def window(shape: int, zone: str, start: datetime, end: datetime | None) -> TimeWindowKeySpace:
    cron, fmt, _ = SHAPES[shape]
    return TimeWindowKeySpace(cron, zone, fmt, start, end)


@settings(max_examples=150, deadline=None)
@given(
    st.integers(0, len(SHAPES) - 1),
    st.sampled_from(ZONES),
    st.datetimes(min_value=datetime(2023, 1, 1), max_value=datetime(2024, 6, 1)),
    st.integers(-400, 400),
    st.one_of(st.none(), st.integers(1, 3000)),
    st.one_of(st.none(), st.integers(1, 3000)),
)
def test_a_moved_start_or_end_maps_every_old_index_to_its_key_in_the_new_numbering(
    shape: int,
    zone: str,
    start: datetime,
    moved: int,
    old_end: int | None,
    new_end: int | None,
) -> None:
    period = SHAPES[shape][2]
    start = start.replace(tzinfo=UTC)
    old = window(shape, zone, start, None if old_end is None else start + old_end * period)
    # The new start is a window of the old schedule, `moved` periods away (about).
    new_start = datetime.fromtimestamp(old.clock.shift(old.first_tick, moved), UTC)
    new_end_at = None if new_end is None else start + new_end * period
    if new_end_at is not None and new_end_at <= new_start:
        new_end_at = None
    new = window(shape, zone, new_start, new_end_at)
    carry = carry_over(numbering_of(old, NOW) or "", new, NOW)
    assert carry is not None
    old_keys, new_keys = old.keys(NOW), new.keys(NOW)
    position = {key: at for at, key in enumerate(new_keys)}
    expected_kept = IndexRanges.of(position[k] for k in old_keys if k in position)
    assert carry.kept == expected_kept
    assert carry.exposed == IndexRanges.span(0, len(new_keys)) - expected_kept
    for at, key in enumerate(old_keys):
        if key in position:
            assert at + carry.shift == position[key]
    # A status carried over is the status renumbered by key.
    subset = IndexRanges.of(range(0, len(old_keys), 3))
    by_key = IndexRanges.of(position[old_keys[i]] for i in subset if old_keys[i] in position)
    assert carry.carried(subset) == by_key


def test_changes_that_renumber_are_not_carried_over() -> None:
    start = datetime(2024, 3, 1, tzinfo=UTC)
    old = TimeWindowKeySpace("0 * * * *", "UTC", "%Y-%m-%d-%H:%M", start)
    numbering = numbering_of(old, NOW)
    assert numbering is not None
    for new in (
        TimeWindowKeySpace("0 * * * *", "UTC", "%Y%m%d%H%M", start),  # format
        TimeWindowKeySpace("0 * * * *", "Europe/Berlin", "%Y-%m-%d-%H:%M", start),  # zone
        TimeWindowKeySpace("30 * * * *", "UTC", "%Y-%m-%d-%H:%M", start),  # schedule
    ):
        assert carry_over(numbering, new, NOW) is None
    assert carry_over(numbering, StaticKeySpace(["a"]), NOW) is None


def test_static_keys_appended_are_carried_removed_or_reordered_are_not() -> None:
    numbering = numbering_of(StaticKeySpace(["eu", "us", "apac"]), NOW)
    assert numbering is not None
    carry = carry_over(numbering, StaticKeySpace(["eu", "us", "apac", "latam", "mena"]), NOW)
    assert carry is not None
    assert (carry.shift, carry.kept, carry.exposed) == (
        0,
        IndexRanges.span(0, 3),
        IndexRanges.span(3, 5),
    )
    assert carry_over(numbering, StaticKeySpace(["eu", "us"]), NOW) is None
    assert carry_over(numbering, StaticKeySpace(["us", "eu", "apac"]), NOW) is None
    assert carry_over(numbering, StaticKeySpace(["eu", "apac", "us", "latam"]), NOW) is None
