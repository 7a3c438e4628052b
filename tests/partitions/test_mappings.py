"""Partition mappings over key spaces (`weir_partitions.mappings`), the engine the SDK and
the control plane share: time windows across DST in random zones, laws both directions
obey, and errors that name what cannot be related."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, available_timezones

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from weir_partitions import (
    DynamicKeySpace,
    DynamicKeysUnknownError,
    MappingError,
    MissingUpstreamKeysError,
    MultiKeySpace,
    StaticKeySpace,
    TimeWindowKeySpace,
    UnknownPartitionKeyError,
)
from weir_partitions.mappings import (
    AllMapping,
    DimensionMapping,
    IdentityMapping,
    MultiDimensionMapping,
    MultiToSingleDimensionMapping,
    StaticMapping,
    TimeWindowMapping,
    default_mapping,
)

ZONES = sorted(z for z in available_timezones() if "/" in z and not z.startswith("Etc/"))
JAN = datetime(2024, 1, 1, tzinfo=UTC)
NOW = datetime(2024, 2, 1, tzinfo=UTC).timestamp()
DAYS = TimeWindowKeySpace("0 0 * * *", "UTC", "%Y-%m-%d", JAN)
HOURS = TimeWindowKeySpace("0 * * * *", "UTC", "%Y-%m-%d-%H:%M", JAN)
REGIONS = StaticKeySpace(["eu", "us", "apac"])
CADENCES = [
    ("0 * * * *", "%Y-%m-%d-%H:%M"),
    ("30 * * * *", "%Y-%m-%d-%H:%M"),
    ("0 0 * * *", "%Y-%m-%d"),
    ("30 2 * * *", "%Y-%m-%d %H:%M"),
    ("0 */6 * * *", "%Y-%m-%d %H:%M"),
    ("0 0 * * 1", "%Y-%m-%d"),
    ("0 0 1 * *", "%Y-%m-%d"),
]


@st.composite
def dst_pairs(draw: st.DrawFn) -> tuple[TimeWindowKeySpace, TimeWindowKeySpace, float]:
    """Two time windows of one random zone starting near each other, and a moment a few
    weeks on: ranges that hold a daylight-saving change in most zones' spring or autumn."""
    zone = draw(st.sampled_from(ZONES))
    month = draw(st.sampled_from([3, 4, 10, 11]))
    base = datetime(draw(st.integers(2000, 2030)), month, 1, tzinfo=ZoneInfo(zone))
    spaces = []
    for _ in range(2):
        cron, fmt = draw(st.sampled_from(CADENCES))
        start = base + timedelta(hours=draw(st.integers(-48, 48)))
        spaces.append(TimeWindowKeySpace(cron, zone, fmt, start))
    now = base + timedelta(days=draw(st.integers(3, 45)))
    return spaces[0], spaces[1], now.timestamp()


@settings(max_examples=150, deadline=None)
@given(dst_pairs(), st.integers(-2, 2), st.integers(0, 3), st.data())
def test_each_direction_holds_the_other_across_dst(pair, start_offset, width, data):
    upstream, downstream, now = pair
    mapping = TimeWindowMapping(start_offset, start_offset + width, allow_missing=True)
    down_keys = downstream.keys(now)
    if down_keys:
        key = data.draw(st.sampled_from(down_keys))
        ups = mapping.upstream_keys(key, downstream, upstream, now)
        assert ups == upstream.sort_keys(ups, now)
        for up in ups:
            assert key in mapping.downstream_keys(up, upstream, downstream, now)
    up_keys = upstream.keys(now)
    if up_keys:
        key = data.draw(st.sampled_from(up_keys))
        for down in mapping.downstream_keys(key, upstream, downstream, now):
            assert key in mapping.upstream_keys(down, downstream, upstream, now)


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(ZONES), st.integers(2000, 2030), st.sampled_from([3, 4, 10, 11]))
def test_the_days_of_a_month_read_each_hour_once_across_dst(zone, year, month):
    tz = ZoneInfo(zone)
    start = datetime(year, month, 1, tzinfo=tz)
    days = TimeWindowKeySpace("0 0 * * *", zone, "%Y-%m-%d", start)
    hours = TimeWindowKeySpace("0 * * * *", zone, "%Y-%m-%d-%H:%M", start)
    now = (start + timedelta(days=31)).timestamp()
    mapping = default_mapping(hours, days)
    per_day = [mapping.upstream_keys(day, days, hours, now) for day in days.keys(now)]
    read = list(itertools.chain.from_iterable(per_day))
    # Every hour of the month once, in order: 23 or 25 on the days the clocks change.
    assert read == hours.keys(now)[: len(read)]
    for day, hours_read in zip(days.keys(now), per_day, strict=True):
        begin, end = days.window(days.require_tick(day))
        offsets = [begin.utcoffset(), end.utcoffset()]
        if all(o is not None and o.total_seconds() % 3600 == 0 for o in offsets):
            assert len(hours_read) == round((end.timestamp() - begin.timestamp()) / 3600)


def test_defaults_follow_the_two_key_spaces():
    by_region = MultiKeySpace([("date", DAYS), ("region", REGIONS)])
    assert default_mapping(HOURS, DAYS) == TimeWindowMapping()
    assert default_mapping(by_region, DAYS) == MultiToSingleDimensionMapping()
    assert default_mapping(REGIONS, REGIONS) == IdentityMapping()
    assert default_mapping(None, REGIONS) == default_mapping(REGIONS, None) == AllMapping()


def test_a_mapping_that_cannot_relate_two_definitions_names_both():
    with pytest.raises(MappingError) as caught:
        TimeWindowMapping().upstream_keys("eu", REGIONS, DAYS, NOW)
    message = str(caught.value)
    assert "the downstream one is StaticPartitionsDefinition(['eu', 'us', 'apac'])" in message
    assert "the upstream one TimeWindowPartitionsDefinition(start='2024-01-01T00:00" in message
    berlin = TimeWindowKeySpace("0 0 * * *", "Europe/Berlin", "%Y-%m-%d", JAN)
    with pytest.raises(MappingError, match=r"one timezone.*Europe/Berlin"):
        TimeWindowMapping().validate(berlin, DAYS)


def test_keys_are_checked_on_the_side_they_come_from():
    with pytest.raises(UnknownPartitionKeyError) as caught:
        IdentityMapping().upstream_keys(["mars", "moon", "eu"], REGIONS, REGIONS, NOW)
    assert caught.value.side == "downstream" and caught.value.key == "mars"
    assert str(caught.value).startswith("Unknown downstream partition key 'mars' (and 1 more)")
    with pytest.raises(MissingUpstreamKeysError) as missing:
        IdentityMapping().upstream_keys("apac", REGIONS, StaticKeySpace(["eu", "us"]), NOW)
    assert missing.value.keys == ["apac"]


def test_listing_dynamic_keys_that_are_not_at_hand_says_which():
    files = DynamicKeySpace("files")
    assert IdentityMapping().upstream_keys("a.csv", files, files, NOW) == ["a.csv"]
    with pytest.raises(DynamicKeysUnknownError) as caught:
        AllMapping().upstream_keys("eu", REGIONS, files, NOW)
    assert caught.value.name == "files"
    stored = DynamicKeySpace("files", ["b.csv", "a.csv"])
    assert AllMapping().upstream_keys("eu", REGIONS, stored, NOW) == ["b.csv", "a.csv"]


def test_multi_dimension_mappings_check_their_dimensions():
    down = MultiKeySpace([("day", DAYS), ("tier", StaticKeySpace(["gold", "silver"]))])
    up = MultiKeySpace([("date", DAYS), ("region", REGIONS)])
    by_day = MultiDimensionMapping((DimensionMapping(TimeWindowMapping(-1), "date", "day"),))
    assert by_day.upstream_keys("2024-01-05|gold", down, up, NOW) == [
        f"{day}|{region}" for day in ("2024-01-04", "2024-01-05") for region in ("eu", "us", "apac")
    ]
    twice = MultiDimensionMapping(
        (
            DimensionMapping(IdentityMapping(), "date", "day"),
            DimensionMapping(IdentityMapping(), "region", "day"),
        )
    )
    with pytest.raises(MappingError, match="maps one downstream dimension twice"):
        twice.validate(up, down)
    nowhere = MultiDimensionMapping((DimensionMapping(IdentityMapping(), "date", "when"),))
    with pytest.raises(MappingError, match="downstream dimension 'when'"):
        nowhere.validate(up, down)


def test_a_static_table_compares_by_value():
    assert StaticMapping.of({"a": ["x", "y"], "b": ["x"]}) == StaticMapping.of(
        {"b": ["x"], "a": ["y", "x", "y"]}
    )
    assert StaticMapping.of({"a": ["x"]}) != StaticMapping.of({"a": ["y"]})
