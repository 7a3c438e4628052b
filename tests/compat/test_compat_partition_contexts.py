"""What a partitioned asset asks its context, as the partitions guide does: its own key,
range and time window, the upstream partitions each input reads through its mapping, the
dimensions of a multi-partition key, and partition questions pinned to a moment."""

import datetime

import pytest
from compat_target import dg

UTC = datetime.UTC
daily = dg.DailyPartitionsDefinition(start_date="2024-01-01")
seen = {}


@dg.asset(partitions_def=daily)
def daily_sales(context: dg.AssetExecutionContext) -> int:
    return int(context.partition_key[-2:]) * 10


@dg.asset(
    partitions_def=daily,
    ins={
        "daily_sales": dg.AssetIn(partition_mapping=dg.TimeWindowPartitionMapping(start_offset=-1))
    },
)
def two_day_sales(context: dg.AssetExecutionContext, daily_sales: dict) -> int:
    seen["key"] = context.partition_key
    seen["keys"] = context.partition_keys
    seen["range"] = context.partition_key_range
    seen["window"] = context.partition_time_window
    seen["has_range"] = context.has_partition_key_range
    seen["input_range"] = context.asset_partition_key_range_for_input("daily_sales")
    seen["input_keys"] = context.asset_partition_keys_for_input("daily_sales")
    seen["input_window"] = context.asset_partitions_time_window_for_input("daily_sales")
    seen["input_def"] = context.asset_partitions_def_for_input("daily_sales")
    seen["output_key"] = context.asset_partition_key_for_output()
    seen["output_window"] = context.asset_partitions_time_window_for_output()
    return sum(daily_sales.values())


@dg.asset(
    partitions_def=daily,
    deps=[
        dg.AssetDep("daily_sales", partition_mapping=dg.TimeWindowPartitionMapping(start_offset=-2))
    ],
)
def sales_report(context: dg.AssetExecutionContext) -> None:
    seen["deps_range"] = context.asset_partition_key_range_for_input("daily_sales")


@pytest.fixture
def io_manager(tmp_path):
    return dg.FilesystemIOManager(base_dir=str(tmp_path))


def _materialize_days(io_manager, *days):
    for day in days:
        dg.materialize([daily_sales], partition_key=day, resources={"io_manager": io_manager})


def test_a_partitioned_run_reports_its_key_range_and_time_window(io_manager):
    _materialize_days(io_manager, "2024-01-04", "2024-01-05")

    result = dg.materialize(
        [daily_sales, two_day_sales],
        selection=["two_day_sales"],
        partition_key="2024-01-05",
        resources={"io_manager": io_manager},
    )

    assert result.output_for_node("two_day_sales") == 90
    assert seen["key"] == "2024-01-05"
    assert seen["keys"] == ["2024-01-05"]
    assert seen["range"] == dg.PartitionKeyRange("2024-01-05", "2024-01-05")
    assert seen["has_range"] is False
    assert seen["window"].start == datetime.datetime(2024, 1, 5, tzinfo=UTC)
    assert seen["window"].end == datetime.datetime(2024, 1, 6, tzinfo=UTC)
    assert seen["output_key"] == "2024-01-05"
    assert seen["output_window"] == seen["window"]


def test_an_input_reports_the_partitions_its_mapping_reads(io_manager):
    _materialize_days(io_manager, "2024-01-04", "2024-01-05")

    dg.materialize(
        [daily_sales, two_day_sales],
        selection=["two_day_sales"],
        partition_key="2024-01-05",
        resources={"io_manager": io_manager},
    )

    assert seen["input_range"] == dg.PartitionKeyRange("2024-01-04", "2024-01-05")
    assert seen["input_keys"] == ["2024-01-04", "2024-01-05"]
    assert seen["input_window"].start == datetime.datetime(2024, 1, 4, tzinfo=UTC)
    assert seen["input_window"].end == datetime.datetime(2024, 1, 6, tzinfo=UTC)
    assert seen["input_def"] == daily


def test_a_dependency_without_a_value_is_asked_about_by_its_name():
    dg.materialize(
        [daily_sales, sales_report], selection=["sales_report"], partition_key="2024-01-05"
    )

    assert seen["deps_range"] == dg.PartitionKeyRange("2024-01-03", "2024-01-05")


def test_a_multi_partition_key_knows_its_dimensions_and_time_window():
    regional = dg.MultiPartitionsDefinition(
        {"date": daily, "region": dg.StaticPartitionsDefinition(["eu", "us"])}
    )

    @dg.asset(partitions_def=regional)
    def regional_sales(context: dg.AssetExecutionContext) -> str:
        seen["dimensions"] = context.partition_key.keys_by_dimension
        seen["multi_window"] = context.partition_time_window
        return context.partition_key

    result = dg.materialize([regional_sales], partition_key="2024-01-02|eu")

    assert result.output_for_node("regional_sales") == "2024-01-02|eu"
    assert seen["dimensions"] == {"date": "2024-01-02", "region": "eu"}
    assert seen["multi_window"].start == datetime.datetime(2024, 1, 2, tzinfo=UTC)


def test_an_unpartitioned_run_has_no_partition_key_range():
    @dg.asset
    def plain(context: dg.AssetExecutionContext) -> None:
        seen["plain_has_key"] = context.has_partition_key
        with pytest.raises(dg.DagsterInvariantViolationError, match="partition"):
            _ = context.partition_key_range

    assert dg.materialize([plain]).success
    assert seen["plain_has_key"] is False


def test_a_static_partition_has_no_time_window():
    colors = dg.StaticPartitionsDefinition(["red", "blue"])

    @dg.asset(partitions_def=colors)
    def paint(context: dg.AssetExecutionContext) -> None:
        with pytest.raises(
            dg.DagsterInvariantViolationError, match=r"TimeWindowPartitionsDefinition|time-window"
        ):
            _ = context.partition_time_window

    assert dg.materialize([paint], partition_key="red").success


def test_partition_loading_context_pins_the_moment_partitions_are_listed_for():
    with dg.partition_loading_context(effective_dt=datetime.datetime(2024, 1, 3, tzinfo=UTC)):
        assert daily.get_last_partition_key() == "2024-01-02"
        assert daily.get_partition_keys() == ["2024-01-01", "2024-01-02"]
        with dg.partition_loading_context(effective_dt=datetime.datetime(2024, 1, 4, tzinfo=UTC)):
            assert daily.get_last_partition_key() == "2024-01-03"
        assert daily.get_last_partition_key() == "2024-01-02"
