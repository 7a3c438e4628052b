"""Partition mappings: each direction of each built-in mapping, defaults, errors, laws."""

import dataclasses
import pickle
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import weir as dg
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from weir._partitions import infer_partition_mapping

NOW = datetime(2024, 1, 10, 12)
DAYS = dg.DailyPartitionsDefinition("2024-01-01")
HOURS = dg.HourlyPartitionsDefinition("2024-01-01-00:00")
REGIONS = dg.StaticPartitionsDefinition(["eu", "us", "apac"])
DAYS_BY_REGION = dg.MultiPartitionsDefinition({"date": DAYS, "region": REGIONS})


def up(mapping, keys, downstream_def, upstream_def, now=NOW):
    return mapping.get_upstream_partitions(keys, downstream_def, upstream_def, current_time=now)


def down(mapping, keys, upstream_def, downstream_def, now=NOW):
    return mapping.get_downstream_partitions(keys, upstream_def, downstream_def, current_time=now)


# -- identity -----------------------------------------------------------------------------------


def test_identity_maps_keys_to_themselves_in_definition_order():
    identity = dg.IdentityPartitionMapping()
    assert up(identity, ["us", "eu"], REGIONS, REGIONS) == ["eu", "us"]
    assert down(identity, "apac", REGIONS, REGIONS) == ["apac"]


def test_identity_needs_the_keys_upstream_and_drops_them_downstream():
    identity = dg.IdentityPartitionMapping()
    fewer = dg.StaticPartitionsDefinition(["eu", "us"])
    with pytest.raises(dg.PartitionKeyError, match="Upstream partition 'apac' does not exist"):
        up(identity, "apac", REGIONS, fewer)
    assert down(identity, ["apac", "eu"], REGIONS, fewer) == ["eu"]


def test_unknown_keys_are_rejected_on_the_side_they_come_from():
    identity = dg.IdentityPartitionMapping()
    with pytest.raises(dg.PartitionKeyError, match="Unknown downstream partition key 'mars'"):
        up(identity, "mars", REGIONS, REGIONS)
    with pytest.raises(dg.PartitionKeyError, match="Unknown upstream partition key 'mars'"):
        down(identity, "mars", REGIONS, REGIONS)


def test_identity_with_an_unpartitioned_side_is_a_definition_error():
    with pytest.raises(dg.DefinitionError, match="the upstream asset is unpartitioned"):
        up(dg.IdentityPartitionMapping(), "eu", REGIONS, None)


# -- time windows -------------------------------------------------------------------------------


def test_time_window_mapping_between_same_schedules_is_the_identity():
    mapping = dg.TimeWindowPartitionMapping()
    assert up(mapping, "2024-01-05", DAYS, DAYS) == ["2024-01-05"]
    assert down(mapping, "2024-01-05", DAYS, DAYS) == ["2024-01-05"]


def test_finer_upstream_gives_every_overlapping_window():
    mapping = dg.TimeWindowPartitionMapping()
    hours = up(mapping, "2024-01-02", DAYS, HOURS)
    assert hours == [f"2024-01-02-{h:02d}:00" for h in range(24)]
    assert down(mapping, "2024-01-02-07:00", HOURS, DAYS) == ["2024-01-02"]


def test_coarser_upstream_gives_the_containing_window():
    mapping = dg.TimeWindowPartitionMapping()
    assert up(mapping, "2024-01-02-07:00", HOURS, DAYS) == ["2024-01-02"]
    assert down(mapping, "2024-01-02", DAYS, HOURS) == [f"2024-01-02-{h:02d}:00" for h in range(24)]


def test_hourly_to_daily_across_fall_back_gives_25_hours():
    hours = dg.HourlyPartitionsDefinition("2024-11-01-00:00", timezone="America/New_York")
    days = dg.DailyPartitionsDefinition("2024-11-01", timezone="America/New_York")
    now = datetime(2024, 11, 5, tzinfo=ZoneInfo("America/New_York"))
    mapped = up(dg.TimeWindowPartitionMapping(), "2024-11-03", days, hours, now)
    assert len(mapped) == 25 and "2024-11-03-01:00-0500" in mapped


def test_start_offset_reads_previous_windows():
    rolling = dg.TimeWindowPartitionMapping(start_offset=-2)
    assert up(rolling, "2024-01-05", DAYS, DAYS) == ["2024-01-03", "2024-01-04", "2024-01-05"]
    # Offsets stop at the first upstream window.
    assert up(rolling, "2024-01-01", DAYS, DAYS) == ["2024-01-01"]
    assert down(rolling, "2024-01-03", DAYS, DAYS) == ["2024-01-03", "2024-01-04", "2024-01-05"]


def test_self_dependency_on_the_previous_partition():
    previous = dg.TimeWindowPartitionMapping(start_offset=-1, end_offset=-1)
    assert up(previous, "2024-01-05", DAYS, DAYS) == ["2024-01-04"]
    assert up(previous, "2024-01-01", DAYS, DAYS) == []  # the first has no predecessor
    assert down(previous, "2024-01-04", DAYS, DAYS) == ["2024-01-05"]
    assert down(previous, "2024-01-09", DAYS, DAYS) == []  # the 10th does not exist yet


def test_offsets_are_counted_in_downstream_windows():
    mapping = dg.TimeWindowPartitionMapping(start_offset=-1)
    # The hour before 00:00 on the 2nd belongs to the 1st.
    assert up(mapping, "2024-01-02-00:00", HOURS, DAYS) == ["2024-01-01", "2024-01-02"]


def test_end_offset_stops_at_the_last_upstream_window():
    ahead = dg.TimeWindowPartitionMapping(end_offset=1)
    assert up(ahead, "2024-01-05", DAYS, DAYS) == ["2024-01-05", "2024-01-06"]
    assert up(ahead, "2024-01-09", DAYS, DAYS) == ["2024-01-09"]


def test_missing_upstream_windows_raise_unless_allowed():
    late = dg.DailyPartitionsDefinition("2024-01-05")
    with pytest.raises(dg.PartitionKeyError, match="allow_nonexistent_upstream_partitions"):
        up(dg.TimeWindowPartitionMapping(), "2024-01-02", DAYS, late)
    lenient = dg.TimeWindowPartitionMapping(allow_nonexistent_upstream_partitions=True)
    assert up(lenient, ["2024-01-02", "2024-01-06"], DAYS, late) == ["2024-01-06"]


def test_downstream_in_progress_window_needs_upstream_in_progress_window():
    running = dg.DailyPartitionsDefinition("2024-01-01", end_offset=1)
    with pytest.raises(dg.PartitionKeyError, match="'2024-01-10' does not exist"):
        up(dg.TimeWindowPartitionMapping(), "2024-01-10", running, DAYS)


def test_time_window_mapping_rejects_other_definitions_and_mixed_timezones():
    mapping = dg.TimeWindowPartitionMapping()
    with pytest.raises(dg.DefinitionError, match="upstream one is StaticPartitionsDefinition"):
        up(mapping, "2024-01-02", DAYS, REGIONS)
    berlin = dg.DailyPartitionsDefinition("2024-01-01", timezone="Europe/Berlin")
    with pytest.raises(dg.DefinitionError, match="one timezone"):
        up(mapping, "2024-01-02", DAYS, berlin)


# -- all, last, specific, static ---------------------------------------------------------------


def test_all_partition_mapping():
    everything = dg.AllPartitionMapping()
    assert up(everything, "2024-01-03", DAYS, REGIONS) == ["eu", "us", "apac"]
    assert down(everything, "eu", REGIONS, DAYS) == DAYS.get_partition_keys(NOW)
    assert down(everything, [], REGIONS, DAYS) == []
    # An unpartitioned upstream feeds every partition; a partitioned upstream feeds an
    # unpartitioned downstream with all its keys.
    assert down(everything, None, None, REGIONS) == ["eu", "us", "apac"]
    assert up(everything, None, None, REGIONS) == ["eu", "us", "apac"]
    assert up(everything, "eu", REGIONS, None) == []


def test_last_partition_mapping_follows_the_clock():
    last = dg.LastPartitionMapping()
    assert up(last, "eu", REGIONS, DAYS) == ["2024-01-09"]
    assert up(last, "eu", REGIONS, DAYS, now=NOW + timedelta(days=1)) == ["2024-01-10"]
    assert down(last, "2024-01-09", DAYS, REGIONS) == ["eu", "us", "apac"]
    assert down(last, "2024-01-08", DAYS, REGIONS) == []


def test_specific_partitions_mapping():
    specific = dg.SpecificPartitionsPartitionMapping(["us", "eu"])
    assert up(specific, "2024-01-03", DAYS, REGIONS) == ["eu", "us"]
    assert down(specific, "apac", REGIONS, DAYS) == []
    assert down(specific, ["apac", "us"], REGIONS, DAYS) == DAYS.get_partition_keys(NOW)
    with pytest.raises(dg.DefinitionError, match=r"\['mars'\]"):
        up(dg.SpecificPartitionsPartitionMapping(["mars"]), "2024-01-03", DAYS, REGIONS)


def test_static_partition_mapping_both_ways():
    shards = dg.StaticPartitionsDefinition(["eu-1", "eu-2", "us-1", "global"])
    mapping = dg.StaticPartitionMapping(
        {"eu-1": "eu", "eu-2": "eu", "us-1": "us", "global": ["eu", "us", "apac"]}
    )
    assert up(mapping, "eu", REGIONS, shards) == ["eu-1", "eu-2", "global"]
    assert up(mapping, "apac", REGIONS, shards) == ["global"]
    assert down(mapping, ["eu-2", "us-1"], shards, REGIONS) == ["eu", "us"]
    assert down(mapping, "global", shards, REGIONS) == ["eu", "us", "apac"]


def test_static_partition_mapping_checks_its_table_against_static_definitions():
    with pytest.raises(dg.DefinitionError, match=r"downstream keys \['mars'\]"):
        up(dg.StaticPartitionMapping({"eu": "mars"}), "eu", REGIONS, REGIONS)
    with pytest.raises(dg.DefinitionError, match=r"upstream keys \['moon'\]"):
        up(dg.StaticPartitionMapping({"moon": "eu"}), "eu", REGIONS, REGIONS)


# -- multi-dimensional ------------------------------------------------------------------------


def test_multi_to_single_dimension_both_directions():
    mapping = dg.MultiToSingleDimensionPartitionMapping()
    # A daily asset reads every region of its day...
    assert up(mapping, "2024-01-02", DAYS, DAYS_BY_REGION) == [
        "2024-01-02|eu",
        "2024-01-02|us",
        "2024-01-02|apac",
    ]
    assert down(mapping, "2024-01-02|us", DAYS_BY_REGION, DAYS) == ["2024-01-02"]
    # ...and a per-region daily asset reads its day of a daily asset.
    assert up(mapping, "2024-01-02|us", DAYS_BY_REGION, DAYS) == ["2024-01-02"]
    assert down(mapping, "2024-01-02", DAYS, DAYS_BY_REGION)[0] == "2024-01-02|eu"


def test_multi_to_single_matches_a_time_dimension_of_another_cadence():
    mapping = dg.MultiToSingleDimensionPartitionMapping()
    assert up(mapping, "2024-01-02-05:00", HOURS, DAYS_BY_REGION) == [
        "2024-01-02|eu",
        "2024-01-02|us",
        "2024-01-02|apac",
    ]


def test_multi_to_single_needs_a_dimension_it_can_find():
    two_regions = dg.MultiPartitionsDefinition({"from": REGIONS, "to": REGIONS})
    with pytest.raises(dg.DefinitionError, match="partition_dimension_name"):
        up(dg.MultiToSingleDimensionPartitionMapping(), "eu", REGIONS, two_regions)
    named = dg.MultiToSingleDimensionPartitionMapping(partition_dimension_name="to")
    assert up(named, "eu", REGIONS, two_regions) == ["eu|eu", "us|eu", "apac|eu"]
    with pytest.raises(dg.DefinitionError, match="'nowhere' is not one of"):
        up(dg.MultiToSingleDimensionPartitionMapping("nowhere"), "eu", REGIONS, two_regions)


def test_multi_partition_mapping_maps_dimensions_and_spreads_unmapped_ones():
    tiers = dg.StaticPartitionsDefinition(["gold", "silver"])
    downstream = dg.MultiPartitionsDefinition({"day": DAYS, "tier": tiers})
    mapping = dg.MultiPartitionMapping(
        {
            "date": dg.DimensionPartitionMapping(
                "day", dg.TimeWindowPartitionMapping(start_offset=-1)
            ),
        }
    )
    assert up(mapping, "2024-01-05|gold", downstream, DAYS_BY_REGION) == [
        f"{day}|{region}" for day in ("2024-01-04", "2024-01-05") for region in ("eu", "us", "apac")
    ]
    assert down(mapping, "2024-01-05|eu", DAYS_BY_REGION, downstream) == [
        f"{day}|{tier}" for day in ("2024-01-05", "2024-01-06") for tier in ("gold", "silver")
    ]


def test_multi_partition_mapping_names_must_exist():
    bad = dg.MultiPartitionMapping(
        {"date": dg.DimensionPartitionMapping("when", dg.IdentityPartitionMapping())}
    )
    with pytest.raises(dg.DefinitionError, match="downstream dimension 'when'"):
        up(bad, "2024-01-02|eu", DAYS_BY_REGION, DAYS_BY_REGION)
    with pytest.raises(dg.DefinitionError, match="two MultiPartitionsDefinitions"):
        up(dg.MultiPartitionMapping({}), "2024-01-02", DAYS, DAYS_BY_REGION)


# -- defaults and plain data -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("upstream_def", "downstream_def", "expected"),
    [
        (HOURS, DAYS, dg.TimeWindowPartitionMapping()),
        (DAYS_BY_REGION, DAYS, dg.MultiToSingleDimensionPartitionMapping()),
        (DAYS, DAYS_BY_REGION, dg.MultiToSingleDimensionPartitionMapping()),
        (REGIONS, REGIONS, dg.IdentityPartitionMapping()),
        (DAYS_BY_REGION, DAYS_BY_REGION, dg.IdentityPartitionMapping()),
        (None, DAYS, dg.AllPartitionMapping()),
        (DAYS, None, dg.AllPartitionMapping()),
    ],
)
def test_infer_partition_mapping_defaults(upstream_def, downstream_def, expected):
    assert infer_partition_mapping(None, upstream_def, downstream_def) == expected


def test_an_explicit_mapping_wins():
    explicit = dg.LastPartitionMapping()
    assert infer_partition_mapping(explicit, DAYS, DAYS) is explicit


MAPPINGS = [
    dg.IdentityPartitionMapping(),
    dg.AllPartitionMapping(),
    dg.LastPartitionMapping(),
    dg.TimeWindowPartitionMapping(start_offset=-1, allow_nonexistent_upstream_partitions=True),
    dg.SpecificPartitionsPartitionMapping(["a", "b"]),
    dg.StaticPartitionMapping({"a": "x", "b": ["x", "y"]}),
    dg.MultiToSingleDimensionPartitionMapping(partition_dimension_name="date"),
    dg.MultiPartitionMapping(
        {"date": dg.DimensionPartitionMapping("day", dg.TimeWindowPartitionMapping(end_offset=1))}
    ),
]


@pytest.mark.parametrize("mapping", MAPPINGS, ids=lambda m: type(m).__name__)
def test_mappings_are_plain_data(mapping):
    arguments = {f.name: getattr(mapping, f.name) for f in dataclasses.fields(mapping)}
    rebuilt = type(mapping)(**arguments)
    assert rebuilt == mapping and hash(rebuilt) == hash(mapping)
    assert pickle.loads(pickle.dumps(mapping)) == mapping
    assert type(mapping).__name__ in repr(mapping)


def test_mappings_compare_by_value():
    assert dg.TimeWindowPartitionMapping(start_offset=-1) != dg.TimeWindowPartitionMapping()
    assert dg.StaticPartitionMapping({"a": "x"}) == dg.StaticPartitionMapping({"a": ["x"]})
    assert dg.StaticPartitionMapping({"a": "x"}) != dg.StaticPartitionMapping({"a": "y"})
    assert dg.IdentityPartitionMapping() != dg.AllPartitionMapping()


# -- laws ------------------------------------------------------------------------------------

CADENCES = {
    "hourly": lambda start, tz: dg.HourlyPartitionsDefinition(start, timezone=tz),
    "daily": lambda start, tz: dg.DailyPartitionsDefinition(start, timezone=tz),
    "daily at 06:30": lambda start, tz: dg.DailyPartitionsDefinition(
        start, hour_offset=6, minute_offset=30, timezone=tz
    ),
    "weekly": lambda start, tz: dg.WeeklyPartitionsDefinition(start, timezone=tz),
    "monthly": lambda start, tz: dg.MonthlyPartitionsDefinition(start, timezone=tz),
    "6-hourly": lambda start, tz: dg.TimeWindowPartitionsDefinition(
        start=start, fmt="%Y-%m-%d %H:%M", cron_schedule="0 */6 * * *", timezone=tz
    ),
}


@st.composite
def time_mapping_cases(draw):
    tz = draw(st.sampled_from(["UTC", "America/New_York", "Europe/Berlin"]))
    base = draw(st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2024, 1, 1)))
    up_start = base + timedelta(hours=draw(st.integers(-2000, 2000)))
    down_start = base + timedelta(hours=draw(st.integers(-2000, 2000)))
    upstream = CADENCES[draw(st.sampled_from(sorted(CADENCES)))](up_start, tz)
    downstream = CADENCES[draw(st.sampled_from(sorted(CADENCES)))](down_start, tz)
    now = max(up_start, down_start).replace(tzinfo=ZoneInfo(tz)) + timedelta(days=120)
    start_offset = draw(st.integers(-3, 3))
    end_offset = draw(st.integers(start_offset, 3))
    return upstream, downstream, now, start_offset, end_offset, draw(st.randoms())


@settings(max_examples=200, deadline=None)
@given(time_mapping_cases())
def test_time_window_round_trip_contains_the_original_key(case):
    upstream, downstream, now, start_offset, end_offset, rng = case
    mapping = dg.TimeWindowPartitionMapping(
        start_offset=start_offset,
        end_offset=end_offset,
        allow_nonexistent_upstream_partitions=True,
    )
    keys = downstream.get_partition_keys(current_time=now)
    assume(keys)
    key = rng.choice(keys)
    upstream_keys = up(mapping, key, downstream, upstream, now)
    assert upstream_keys == [k for k in upstream.get_partition_keys(now) if k in upstream_keys]
    for upstream_key in upstream_keys:
        # Each upstream partition a downstream one reads feeds it back.
        assert key in down(mapping, upstream_key, upstream, downstream, now)


@settings(max_examples=200, deadline=None)
@given(time_mapping_cases())
def test_time_window_downstream_then_upstream_contains_the_original_key(case):
    upstream, downstream, now, start_offset, end_offset, rng = case
    mapping = dg.TimeWindowPartitionMapping(
        start_offset=start_offset,
        end_offset=end_offset,
        allow_nonexistent_upstream_partitions=True,
    )
    keys = upstream.get_partition_keys(current_time=now)
    assume(keys)
    key = rng.choice(keys)
    for downstream_key in down(mapping, key, upstream, downstream, now):
        assert key in up(mapping, downstream_key, downstream, upstream, now)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.text("abcxyz", min_size=1, max_size=3), min_size=1, max_size=8, unique=True),
    st.data(),
)
def test_identity_round_trips(keys, data):
    defn = dg.StaticPartitionsDefinition(keys)
    chosen = data.draw(st.lists(st.sampled_from(keys), unique=True))
    identity = dg.IdentityPartitionMapping()
    upstream = up(identity, chosen, defn, defn)
    assert upstream == [k for k in keys if k in chosen]
    assert down(identity, upstream, defn, defn) == upstream


@settings(max_examples=100, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["u1", "u2", "u3", "u4"]),
        st.lists(st.sampled_from(["d1", "d2", "d3"]), min_size=1, max_size=3),
        min_size=1,
    ),
    st.sampled_from(["d1", "d2", "d3"]),
)
def test_static_mapping_round_trips(table, downstream_key):
    upstream_def = dg.StaticPartitionsDefinition(["u1", "u2", "u3", "u4"])
    downstream_def = dg.StaticPartitionsDefinition(["d1", "d2", "d3"])
    mapping = dg.StaticPartitionMapping(table)
    for upstream_key in up(mapping, downstream_key, downstream_def, upstream_def):
        assert downstream_key in down(mapping, upstream_key, upstream_def, downstream_def)


@settings(max_examples=150, deadline=None)
@given(time_mapping_cases(), st.data())
def test_mapping_many_keys_at_once_is_the_union_of_mapping_each(case, data):
    upstream, downstream, now, start_offset, end_offset, _ = case
    mapping = dg.TimeWindowPartitionMapping(
        start_offset=start_offset,
        end_offset=end_offset,
        allow_nonexistent_upstream_partitions=True,
    )
    for source, target, method in (
        (downstream, upstream, mapping.get_upstream_partitions),
        (upstream, downstream, mapping.get_downstream_partitions),
    ):
        keys = source.get_partition_keys(current_time=now)
        assume(keys)
        first = data.draw(st.integers(0, len(keys) - 1))
        run = keys[first : first + data.draw(st.integers(1, 30))]  # adjacent keys: one run
        chosen = [*run, *data.draw(st.lists(st.sampled_from(keys), max_size=5))]
        each = {k for key in chosen for k in method(key, source, target, now)}
        together = method(chosen, source, target, now)
        assert together == [k for k in target.get_partition_keys(now) if k in each]


def test_definitions_refuse_a_mapping_that_cannot_relate_the_two_definitions():
    regions = dg.StaticPartitionsDefinition(["eu", "us"])
    days = dg.DailyPartitionsDefinition("2024-01-01")

    @dg.asset(partitions_def=regions)
    def raw() -> int:
        return 1

    lagged = dg.TimeWindowPartitionMapping(start_offset=-1)

    @dg.asset(partitions_def=days, ins={"raw": dg.AssetIn(partition_mapping=lagged)})
    def daily(raw: int) -> int:
        return raw

    with pytest.raises(dg.DefinitionError) as caught:
        dg.Definitions(assets=[raw, daily])
    message = str(caught.value)
    assert message.startswith("Asset 'daily' depends on 'raw' through TimeWindowPartitionMapping(")
    assert "relates two time-window partitions definitions" in message
    assert "'raw' is partitioned by StaticPartitionsDefinition(['eu', 'us'])" in message
    assert "'daily' by TimeWindowPartitionsDefinition(start='2024-01-01T00:00:00+00:00'" in message


def test_definitions_refuse_a_mapping_of_keys_to_an_unpartitioned_asset():
    @dg.asset
    def lookup() -> int:
        return 1

    @dg.asset(
        partitions_def=dg.DailyPartitionsDefinition("2024-01-01"),
        deps=[dg.AssetDep("lookup", partition_mapping=dg.IdentityPartitionMapping())],
    )
    def daily() -> None: ...

    with pytest.raises(dg.DefinitionError, match="'lookup' is partitioned by nothing"):
        dg.Definitions(assets=[lookup, daily])

    # The default mapping (every partition reads all of it) is fine.
    @dg.asset(partitions_def=dg.DailyPartitionsDefinition("2024-01-01"), deps=["lookup"])
    def daily_default() -> None: ...

    dg.Definitions(assets=[lookup, daily_default])
