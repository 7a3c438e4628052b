"""The control plane maps partitions across a dependency exactly as the SDK does: SDK
definitions and mappings converted to the wire by the code server, read back by
`weir_controlplane.partitions`, give the same keys both ways (or the same kind of error) in
random time zones, around daylight-saving changes, for every built-in mapping."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import weir as dg
from api_harness import sdk_asset, snapshot
from hypothesis import event, given, settings
from hypothesis import strategies as st
from weir._partitions import infer_partition_mapping
from weir_controlplane.api.partitions import StoredDynamicKeySpace
from weir_controlplane.errors import FailedPreconditionError, InvalidArgumentError
from weir_controlplane.locations.graph import SnapshotGraph
from weir_controlplane.partitions import dependency_mapping
from weir_partitions import DynamicKeySpace

# Zones with daylight saving in both hemispheres, one with a half-hour shift, and UTC.
ZONES = ["America/New_York", "Europe/Berlin", "Australia/Sydney", "Australia/Lord_Howe", "UTC"]
CADENCES: dict[str, Callable[[datetime, str], dg.PartitionsDefinition]] = {
    "hourly": lambda start, tz: dg.HourlyPartitionsDefinition(start, timezone=tz),
    "daily": lambda start, tz: dg.DailyPartitionsDefinition(start, timezone=tz),
    "daily at 02:30": lambda start, tz: dg.DailyPartitionsDefinition(
        start, hour_offset=2, minute_offset=30, timezone=tz
    ),
    "weekly": lambda start, tz: dg.WeeklyPartitionsDefinition(start, timezone=tz),
    "6-hourly": lambda start, tz: dg.TimeWindowPartitionsDefinition(
        start=start, fmt="%Y-%m-%d %H:%M", cron_schedule="0 */6 * * *", timezone=tz
    ),
}
REGIONS = dg.StaticPartitionsDefinition(["eu", "us", "apac"])
SHARDS = dg.StaticPartitionsDefinition(["eu-1", "eu-2", "us-1", "global"])
FILES = dg.DynamicPartitionsDefinition(name="files")  # keys neither side has at hand


@cache
def dst_changes(zone: str, year: int) -> list[datetime]:
    """The local midnights of the days on which `zone` changes its UTC offset in `year`."""
    tz = ZoneInfo(zone)
    days = [datetime(year, 1, 1, tzinfo=tz) + timedelta(days=n) for n in range(366)]
    return [
        day.replace(hour=0)
        for day in days
        if day.utcoffset() != (day + timedelta(days=1)).replace(hour=0).utcoffset()
    ] or [datetime(year, 3, 10, tzinfo=tz)]


@st.composite
def moments(draw: st.DrawFn, zone: str) -> datetime:
    """A moment a few days before a daylight-saving change (or any day, in UTC)."""
    change = draw(st.sampled_from(dst_changes(zone, draw(st.integers(2019, 2025)))))
    return change - timedelta(hours=draw(st.integers(0, 24 * 6)))


@st.composite
def cases(draw: st.DrawFn) -> tuple[Any, Any, Any, datetime]:
    """(upstream definition, downstream definition, mapping or None, now)."""
    zone = draw(st.sampled_from(ZONES))
    base = draw(moments(zone))
    now = base + timedelta(days=draw(st.integers(2, 20)))

    def time_window() -> dg.PartitionsDefinition:
        start = base + timedelta(hours=draw(st.integers(-30, 30)))
        return CADENCES[draw(st.sampled_from(sorted(CADENCES)))](start.replace(tzinfo=None), zone)

    def single() -> dg.PartitionsDefinition:
        return draw(st.sampled_from([time_window, lambda: REGIONS, lambda: SHARDS]))()

    def multi() -> dg.PartitionsDefinition:
        return dg.MultiPartitionsDefinition({"date": time_window(), "region": REGIONS})

    offsets = st.integers(-2, 2)
    window_mapping = st.builds(
        dg.TimeWindowPartitionMapping,
        start_offset=offsets,
        end_offset=offsets,
        allow_nonexistent_upstream_partitions=st.booleans(),
    )
    multi_to_single = st.builds(
        dg.MultiToSingleDimensionPartitionMapping, st.sampled_from([None, "date", "region"])
    )
    by_dimension = window_mapping.map(
        lambda m: dg.MultiPartitionMapping({"date": dg.DimensionPartitionMapping("date", m)})
    )
    simple = st.sampled_from(
        [
            None,
            dg.IdentityPartitionMapping(),
            dg.AllPartitionMapping(),
            dg.LastPartitionMapping(),
            dg.SpecificPartitionsPartitionMapping(["eu", "us"]),
            dg.StaticPartitionMapping({"eu-1": "eu", "eu-2": "eu", "global": ["eu", "us"]}),
        ]
    )
    kind = draw(st.sampled_from(["time", "static", "multi-single", "single-multi", "multi"]))
    # Mostly mappings that apply to the pair; sometimes any, to compare the refusals.
    if kind == "time":
        upstream, downstream = time_window(), time_window()
        mappings = st.one_of(window_mapping, simple)
    elif kind == "static":
        upstream, downstream = draw(
            st.sampled_from([(SHARDS, REGIONS), (REGIONS, REGIONS), (FILES, FILES)])
        )
        mappings = simple
    elif kind == "multi-single":
        upstream, downstream = multi(), single()
        mappings = st.one_of(multi_to_single, simple)
    elif kind == "single-multi":
        upstream, downstream = single(), multi()
        mappings = st.one_of(multi_to_single, simple)
    else:
        upstream, downstream = multi(), multi()
        mappings = st.one_of(by_dimension, simple)
    if draw(st.integers(0, 9)) == 0:
        mappings = st.one_of(window_mapping, multi_to_single, by_dimension, simple)
    if draw(st.integers(0, 9)) == 0:  # an unpartitioned side
        upstream, downstream = draw(
            st.sampled_from([(None, downstream), (upstream, None), (None, None)])
        )
    mapping = draw(mappings)
    return upstream, downstream, mapping, now


def outcome(call: Callable[[], list[str]]) -> tuple[str, list[str]]:
    """("ok", keys) or the kind of error: a definition the mapping cannot relate, keys of
    dynamic partitions that are not at hand, or bad keys."""
    try:
        return "ok", [str(k) for k in call()]
    except dg.DynamicPartitionsStoreError:
        return "dynamic keys needed", []
    except FailedPreconditionError as error:
        return ("dynamic keys needed" if "dynamic" in error.message else "cannot apply"), []
    except dg.DefinitionError:
        return "cannot apply", []
    except (dg.PartitionKeyError, InvalidArgumentError):
        return "bad keys", []


def some_keys(defn: Any, now: datetime, data: st.DataObject) -> list[str] | None:
    if defn is None:
        return None
    if isinstance(defn, dg.DynamicPartitionsDefinition):
        return data.draw(st.lists(st.sampled_from(["a.csv", "b.csv", ""]), min_size=1))
    keys = [str(k) for k in defn.get_partition_keys(current_time=now)]
    if not keys:
        return ["nope"]
    # Often the first keys: where offsets reach before the other asset's first partition.
    first = data.draw(st.integers(0, min(len(keys) - 1, data.draw(st.sampled_from([3, 10**6])))))
    chosen = keys[first : first + data.draw(st.integers(1, 4))]
    return chosen + data.draw(st.lists(st.sampled_from([*keys, "nope"]), max_size=2))


@settings(max_examples=300, deadline=None)
@given(cases(), st.data())
def test_the_control_plane_maps_partitions_as_the_sdk_does(case, data):
    upstream_def, downstream_def, mapping, now = case
    graph = SnapshotGraph(
        snapshot(sdk_asset("up", upstream_def), sdk_asset("down", downstream_def, {"up": mapping}))
    )
    sdk = infer_partition_mapping(mapping, upstream_def, downstream_def)
    some_downstream = some_keys(downstream_def, now, data)
    some_upstream = some_keys(upstream_def, now, data)
    sdk_up = outcome(
        lambda: sdk.get_upstream_partitions(
            some_downstream, downstream_def, upstream_def, current_time=now
        )
    )
    sdk_down = outcome(
        lambda: sdk.get_downstream_partitions(
            some_upstream, upstream_def, downstream_def, current_time=now
        )
    )
    moment = now.timestamp()
    try:
        edge = dependency_mapping(graph.nodes, "down", "up")
    except FailedPreconditionError:
        assert sdk_up[0] == sdk_down[0] == "cannot apply"
        event("cannot apply")
        return
    assert outcome(lambda: edge.upstream_keys(some_downstream, moment)) == sdk_up
    assert outcome(lambda: edge.downstream_keys(some_upstream, moment)) == sdk_down
    event(f"{sdk_up[0]} / {sdk_down[0]}")


DAYS = dg.DailyPartitionsDefinition("2024-01-01", end_date="2024-02-01")
HOURS = dg.HourlyPartitionsDefinition("2024-01-01-00:00", end_date="2024-02-01-00:00")


def edge_between(upstream_def: Any, downstream_def: Any, mapping: Any = None) -> Any:
    nodes = {
        "up": sdk_asset("up", upstream_def),
        "down": sdk_asset("down", downstream_def, {"up": mapping}),
    }
    return dependency_mapping(nodes, "down", "up")


def test_hourly_upstream_of_a_daily_asset_by_default():
    edge = edge_between(HOURS, DAYS)
    assert edge.upstream_keys("2024-01-02") == [f"2024-01-02-{h:02d}:00" for h in range(24)]
    assert edge.downstream_keys(["2024-01-02-23:00", "2024-01-03-00:00"]) == [
        "2024-01-02",
        "2024-01-03",
    ]


def test_a_mapping_that_cannot_apply_names_both_assets_and_both_definitions():
    with pytest.raises(FailedPreconditionError) as caught:
        edge_between(REGIONS, DAYS, dg.TimeWindowPartitionMapping(start_offset=-1))
    message = caught.value.message
    assert "partition mapping of asset 'down' on 'up' cannot apply" in message
    assert "TimeWindowPartitionMapping relates two time-window partitions definitions" in message
    assert "StaticPartitionsDefinition(['eu', 'us', 'apac'])" in message
    assert "TimeWindowPartitionsDefinition(start='2024-01-01T00:00:00+00:00'" in message


def test_keys_an_asset_does_not_have_are_invalid_naming_the_asset():
    edge = edge_between(DAYS, DAYS, dg.TimeWindowPartitionMapping(start_offset=-1))
    with pytest.raises(InvalidArgumentError) as caught:
        edge.upstream_keys("2024-02-30")
    assert caught.value.message.startswith("asset 'down': Unknown downstream partition key")
    assert "'2024-01-01' to '2024-01-31'" in caught.value.message
    with pytest.raises(InvalidArgumentError, match="asset 'up': Unknown upstream partition key"):
        edge.downstream_keys("1999-01-01")


def test_partitions_that_do_not_exist_upstream_are_invalid_naming_both_assets():
    late = dg.DailyPartitionsDefinition("2024-01-05", end_date="2024-02-01")
    edge = edge_between(late, DAYS)
    with pytest.raises(InvalidArgumentError) as caught:
        edge.upstream_keys("2024-01-02")
    assert "asset 'down' reads partitions of 'up' that do not exist" in caught.value.message
    assert "'2024-01-02'" in caught.value.message


def test_dynamic_keys_come_from_the_store_or_are_a_failed_precondition():
    nodes = {
        "up": sdk_asset("up", REGIONS),
        "down": sdk_asset("down", FILES, {"up": dg.AllPartitionMapping()}),
    }
    edge = dependency_mapping(nodes, "down", "up")
    with pytest.raises(FailedPreconditionError, match="dynamic partitions 'files'"):
        edge.downstream_keys("eu")
    stored = {"files": DynamicKeySpace("files", ["b.csv", "a.csv"])}
    edge = dependency_mapping(nodes, "down", "up", dynamic=stored.__getitem__)
    assert edge.downstream_keys("eu") == ["b.csv", "a.csv"]


def test_the_deployments_stored_dynamic_keys_map_both_ways(storage, scope):
    storage.dynamic_partitions.add(scope, "files", ["b.csv", "a.csv", "c.csv"])
    storage.dynamic_partitions.delete(scope, "files", ["c.csv"])
    nodes = {
        "up": sdk_asset("up", FILES),
        "down": sdk_asset("down", FILES, {"up": None}),
        "report": sdk_asset("report", None, {"down": None}),
    }
    stored = lambda name: StoredDynamicKeySpace(storage.dynamic_partitions, scope, name)  # noqa: E731
    edge = dependency_mapping(nodes, "down", "up", dynamic=stored)
    assert edge.upstream_keys(["a.csv", "b.csv"]) == ["b.csv", "a.csv"]  # in the order added
    with pytest.raises(InvalidArgumentError, match="asset 'down': Unknown downstream"):
        edge.upstream_keys("c.csv")  # deleted
    everything = dependency_mapping(nodes, "report", "down", dynamic=stored)
    assert everything.upstream_keys(None) == ["b.csv", "a.csv"]
