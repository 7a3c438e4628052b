"""The backfill planner: runs in dependency order across assets with different partitions
definitions, through their partition mappings, cut by their backfill policies, from the
snapshot alone (assets written with the SDK and converted by the code server)."""

from __future__ import annotations

import time
from collections import Counter

import pytest
import weir as dg
from api_harness import sdk_asset, snapshot
from weir_controlplane.backfills import BackfillPlan, plan_backfill
from weir_controlplane.errors import FailedPreconditionError, InvalidArgumentError
from weir_controlplane.locations.graph import SnapshotGraph

NOW = 1735689600.0  # 2025-01-01T00:00:00Z
DAYS = dg.DailyPartitionsDefinition("2024-01-01")
HOURS = dg.HourlyPartitionsDefinition("2024-01-01-00:00")
JANUARY = DAYS.get_partition_keys_in_range("2024-01-01", "2024-01-30")


def graph_of(*nodes) -> SnapshotGraph:
    return SnapshotGraph(snapshot(*nodes))


def assert_dependency_order(plan: BackfillPlan) -> None:
    for index, run in enumerate(plan.runs):
        assert all(before < index for before in run.after), (index, run)


def covered(plan: BackfillPlan) -> Counter[tuple[str, str | None]]:
    """How many runs materialize each (asset, partition)."""
    return Counter(
        (asset, key) for run in plan.runs for asset in run.asset_keys for key in run.partition_keys
    )


def run_of(plan: BackfillPlan, asset: str, key: str) -> int:
    return next(
        i for i, r in enumerate(plan.runs) if asset in r.asset_keys and key in r.partition_keys
    )


def three_daily_assets() -> SnapshotGraph:
    """a <- b (reads the day before too) <- c (the same day)."""
    return graph_of(
        sdk_asset("a", DAYS),
        sdk_asset("b", DAYS, {"a": dg.TimeWindowPartitionMapping(start_offset=-1)}),
        sdk_asset("c", DAYS, {"b": None}),
    )


def test_three_daily_assets_with_a_rolling_window_each_partition_once_in_order():
    plan = plan_backfill(three_daily_assets(), {"a", "b", "c"}, dict.fromkeys("abc", JANUARY), NOW)
    assert_dependency_order(plan)
    assert set(covered(plan).values()) == {1}
    assert len(covered(plan)) == 3 * 30
    # c reads b's partition of the same day: they run together, after a's day and day before.
    assert {run.asset_keys for run in plan.runs} == {("a",), ("b", "c")}
    assert len(plan.runs) == 60
    tenth = plan.runs[run_of(plan, "b", "2024-01-10")]
    assert tenth.partition_key == "2024-01-10"
    assert sorted(plan.runs[i].partition_key for i in tenth.after) == ["2024-01-09", "2024-01-10"]
    assert plan.runs[run_of(plan, "b", "2024-01-01")].after == (run_of(plan, "a", "2024-01-01"),)


def test_a_failed_partition_fails_only_the_partitions_downstream_of_it():
    plan = plan_backfill(three_daily_assets(), {"a", "b", "c"}, dict.fromkeys("abc", JANUARY), NOW)
    failed = plan.downstream_of(run_of(plan, "a", "2024-01-10"))
    assert {plan.runs[i].partition_key for i in failed} == {"2024-01-10", "2024-01-11"}
    assert all(plan.runs[i].asset_keys == ("b", "c") for i in failed)


def test_a_daily_asset_runs_after_the_hourly_runs_of_its_day_cut_by_their_policy():
    graph = graph_of(
        sdk_asset("events", HOURS, backfill_policy=dg.BackfillPolicy.multi_run(6)),
        sdk_asset("daily", DAYS, {"events": None}),
    )
    hours = HOURS.get_partition_keys_in_range("2024-01-01-00:00", "2024-01-02-23:00")
    targets = {"events": hours, "daily": ["2024-01-01", "2024-01-02"]}
    plan = plan_backfill(graph, {"events", "daily"}, targets, NOW)
    assert_dependency_order(plan)
    hourly = [run for run in plan.runs if run.asset_keys == ("events",)]
    assert [run.partition_range for run in hourly][:2] == [
        ("2024-01-01-00:00", "2024-01-01-05:00"),
        ("2024-01-01-06:00", "2024-01-01-11:00"),
    ]
    assert len(hourly) == 8 and all(len(run.partition_keys) == 6 for run in hourly)
    second = plan.runs[run_of(plan, "daily", "2024-01-02")]
    assert [plan.runs[i].partition_range[0] for i in second.after] == [
        f"2024-01-02-{h:02d}:00" for h in (0, 6, 12, 18)
    ]


def test_a_single_run_policy_covers_a_range_and_a_gap_splits_it():
    graph = graph_of(sdk_asset("a", DAYS, backfill_policy=dg.BackfillPolicy.single_run()))
    keys = [*JANUARY[:10], *JANUARY[15:]]
    plan = plan_backfill(graph, {"a"}, {"a": keys}, NOW)
    assert [run.partition_range for run in plan.runs] == [
        ("2024-01-01", "2024-01-10"),
        ("2024-01-16", "2024-01-30"),
    ]


def test_an_asset_reading_its_own_previous_partition_runs_day_after_day():
    previous = dg.TimeWindowPartitionMapping(start_offset=-1, end_offset=-1)
    graph = graph_of(sdk_asset("running_total", DAYS, {"running_total": previous}))
    plan = plan_backfill(graph, {"running_total"}, {"running_total": JANUARY[:5]}, NOW)
    assert [run.partition_key for run in plan.runs] == JANUARY[:5]
    assert [run.after for run in plan.runs] == [(), (0,), (1,), (2,), (3,)]
    # In one run, the asset reads its earlier partitions within the run: nothing to wait for.
    single = graph_of(
        sdk_asset(
            "running_total",
            DAYS,
            {"running_total": previous},
            backfill_policy=dg.BackfillPolicy.single_run(),
        )
    )
    [run] = plan_backfill(single, {"running_total"}, {"running_total": JANUARY[:5]}, NOW).runs
    assert run.after == () and run.partition_range == ("2024-01-01", "2024-01-05")


def test_an_unpartitioned_asset_runs_once_after_every_partition_it_reads():
    regions = dg.StaticPartitionsDefinition(["eu", "us", "apac"])
    graph = graph_of(sdk_asset("sales", regions), sdk_asset("report", None, {"sales": None}))
    plan = plan_backfill(graph, {"sales", "report"}, {"sales": ["us", "eu"]}, NOW)
    assert [(run.asset_keys, run.partition_keys) for run in plan.runs] == [
        (("sales",), ("eu",)),
        (("sales",), ("us",)),
        (("report",), ()),
    ]
    assert plan.runs[2].after == (0, 1)


def test_multi_partitioned_assets_run_key_by_key_and_feed_their_single_dimension():
    regions = dg.StaticPartitionsDefinition(["eu", "us"])
    by_region = dg.MultiPartitionsDefinition({"date": DAYS, "region": regions})
    graph = graph_of(
        sdk_asset("orders", by_region, backfill_policy=dg.BackfillPolicy.single_run()),
        sdk_asset("daily", DAYS, {"orders": None}),
    )
    targets = {
        "orders": ["2024-01-01|eu", "2024-01-01|us", "2024-01-02|eu"],
        "daily": ["2024-01-01", "2024-01-02"],
    }
    plan = plan_backfill(graph, {"orders", "daily"}, targets, NOW)
    assert [run.partition_keys for run in plan.runs[:3]] == [
        ("2024-01-01|eu",),
        ("2024-01-01|us",),
        ("2024-01-02|eu",),
    ]
    assert plan.runs[run_of(plan, "daily", "2024-01-01")].after == (0, 1)
    assert plan.runs[run_of(plan, "daily", "2024-01-02")].after == (2,)


def test_an_asset_between_two_of_a_group_keeps_them_apart():
    # a -> x (hourly) -> b and a -> b: b reads x, which reads a, so b cannot run with a.
    graph = graph_of(
        sdk_asset("a", DAYS),
        sdk_asset("x", HOURS, {"a": None}),
        sdk_asset("b", DAYS, {"a": None, "x": None}),
    )
    hours = HOURS.get_partition_keys_in_range("2024-01-01-00:00", "2024-01-01-23:00")
    targets = {"a": ["2024-01-01"], "x": hours, "b": ["2024-01-01"]}
    plan = plan_backfill(graph, {"a", "x", "b"}, targets, NOW)
    assert_dependency_order(plan)
    assert plan.runs[0].asset_keys == ("a",) and plan.runs[-1].asset_keys == ("b",)
    assert len(plan.runs[-1].after) == 25


@pytest.mark.parametrize(
    ("selection", "targets", "error", "needles"),
    [
        ({"a", "nope"}, {"a": ["2024-01-01"]}, InvalidArgumentError, ["not defined: ['nope']"]),
        (
            {"a"},
            {"a": ["1999-01-01"]},
            InvalidArgumentError,
            ["'1999-01-01' is not a partition of asset 'a'", "comes before the first partition"],
        ),
        ({"a"}, {}, InvalidArgumentError, ["asset 'a' is partitioned: name the partitions"]),
        ({"a"}, {"a": ["2024-01-01"], "b": []}, InvalidArgumentError, ["does not select: ['b']"]),
        (
            {"a", "bad"},
            {"a": ["2024-01-01"], "bad": ["eu"]},
            FailedPreconditionError,
            ["mapping of asset 'bad' on 'a' cannot apply", "TimeWindowPartitionMapping"],
        ),
    ],
)
def test_bad_input_is_refused_naming_what_to_fix(selection, targets, error, needles):
    graph = graph_of(
        sdk_asset("a", DAYS),
        sdk_asset(
            "bad",
            dg.StaticPartitionsDefinition(["eu"]),
            {"a": dg.TimeWindowPartitionMapping(start_offset=-1)},
        ),
    )
    with pytest.raises(error) as caught:
        plan_backfill(graph, selection, targets, NOW)
    for needle in needles:
        assert needle in caught.value.message, caught.value.message


def test_a_year_of_three_daily_assets_plans_in_well_under_a_second():
    year = DAYS.get_partition_keys_in_range("2024-01-01", "2024-12-30")
    started = time.perf_counter()
    plan = plan_backfill(three_daily_assets(), {"a", "b", "c"}, dict.fromkeys("abc", year), NOW)
    elapsed = time.perf_counter() - started
    assert len(plan.runs) == 2 * 365 and len(covered(plan)) == 3 * 365
    assert elapsed < 1.0, f"planning {len(plan.runs)} runs took {elapsed:.2f} s"
