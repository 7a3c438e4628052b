"""Time-window key spaces across DST in random time zones: keys are unique and ordered,
their windows tile the timeline, and every key names its own window and nothing else."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, available_timezones

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from weir_partitions import KeySpaceError, TimeWindowKeySpace, UnknownPartitionKeyError

ZONES = sorted(z for z in available_timezones() if "/" in z and not z.startswith("Etc/"))
SHAPES = [
    ("{m} * * * *", "%Y-%m-%d-%H:%M", timedelta(hours=200)),
    ("{m} {h} * * *", "%Y-%m-%d", timedelta(days=90)),
    ("{m} {h} * * {d}", "%Y-%m-%d", timedelta(weeks=40)),
    ("0 {h} 1 * *", "%Y-%m-%d", timedelta(days=700)),
    ("*/20 * * * *", "%Y-%m-%d %H:%M", timedelta(hours=60)),
    ("0 0 * * 1#2", "%Y-%m-%d", timedelta(days=500)),
]


@st.composite
def key_spaces(draw: st.DrawFn) -> tuple[TimeWindowKeySpace, float]:
    zone = draw(st.sampled_from(ZONES))
    template, fmt, longest = draw(st.sampled_from(SHAPES))
    cron = template.format(
        m=draw(st.integers(0, 59)), h=draw(st.integers(0, 23)), d=draw(st.integers(0, 6))
    )
    start = draw(st.datetimes(min_value=datetime(1995, 1, 1), max_value=datetime(2035, 1, 1)))
    start = start.replace(tzinfo=ZoneInfo(zone))
    space = TimeWindowKeySpace(cron, zone, fmt, start, end_offset=draw(st.integers(-2, 2)))
    now = start + longest * draw(st.floats(0, 1))
    return space, now.timestamp()


@settings(max_examples=120, deadline=None)
@given(key_spaces())
def test_keys_are_unique_ordered_and_their_windows_tile(case):
    space, now = case
    keys = space.keys(now)
    ticks = [space.require_tick(k) for k in keys]
    assert len(set(keys)) == len(keys)
    assert ticks == sorted(ticks) and len(set(ticks)) == len(ticks)
    windows = [space.window(t) for t in ticks]
    for (_, end), (start, _) in itertools.pairwise(windows):
        assert end.timestamp() == start.timestamp()  # no gap, no overlap
    assert space.count(now) == len(keys)
    if keys:
        assert (space.first_key(now), space.last_key(now)) == (keys[0], keys[-1])
        if space.end_offset <= 0:
            assert windows[-1][1].timestamp() <= now


@settings(max_examples=120, deadline=None)
@given(key_spaces())
def test_every_key_names_its_own_window_and_neighbours_are_not_keys(case):
    space, now = case
    keys = space.keys(now)
    for key in keys[:40]:
        tick = space.require_tick(key)
        assert space.format_tick(tick) == key and space.has_key(key, now)
        start, end = space.window(tick)
        assert space.clock.prev_tick(int(end.timestamp()) - 1) == tick
        inside = space.key_format.format(start + timedelta(minutes=1))
        assert inside == key or space.tick_of_key(inside) is None  # a time inside: not a key
    if keys:
        before = space.clock.prev_tick(space.first_tick - 1)
        assert not space.has_key(space.format_tick(before), now)


def test_an_unknown_key_names_the_first_and_last_valid_keys():
    space = TimeWindowKeySpace(
        "0 0 * * *",
        "Europe/Berlin",
        "%Y-%m-%d",
        datetime(2024, 1, 1, tzinfo=ZoneInfo("Europe/Berlin")),
    )
    now = datetime(2024, 1, 10, 12, tzinfo=ZoneInfo("Europe/Berlin")).timestamp()
    with pytest.raises(UnknownPartitionKeyError) as error:
        space.validate_key("2024-01-10", now)
    assert str(error.value) == (
        "Unknown partition key '2024-01-10'; it comes after the last partition; valid keys "
        "are formatted as '%Y-%m-%d' in timezone Europe/Berlin and run from '2024-01-01' to "
        "'2024-01-09' now"
    )


def test_a_format_coarser_than_the_schedule_is_refused():
    with pytest.raises(KeySpaceError, match="cannot tell apart"):
        TimeWindowKeySpace(
            "0 * * * *", "UTC", "%Y-%m-%d", datetime(2024, 1, 1, tzinfo=ZoneInfo("UTC"))
        )
