"""weir.materialize: in-process execution, events and results in Dagster's shapes."""

import logging

import pytest
import weir as dg


@dg.asset
def numbers(context) -> list[int]:
    context.log.info("making numbers")
    return [1, 2, 3]


@dg.asset
def total(numbers: list[int]) -> dg.Output[int]:
    return dg.Output(sum(numbers), metadata={"rows": len(numbers)})


def test_values_flow_and_events_come_in_order():
    result = dg.materialize([numbers, total])
    assert result.success
    assert result.output_for_node("total") == 6
    assert result.asset_value("numbers") == [1, 2, 3]
    kinds = [e.event_type_value for e in result.all_events]
    assert kinds == [
        "RUN_START",
        "STEP_START",
        "LOG",
        "ASSET_MATERIALIZATION",
        "STEP_SUCCESS",
        "STEP_START",
        "ASSET_MATERIALIZATION",
        "STEP_SUCCESS",
        "RUN_SUCCESS",
    ]
    mats = result.get_asset_materialization_events()
    assert [m.asset_key for m in mats] == [dg.AssetKey("numbers"), dg.AssetKey("total")]
    assert mats[1].materialization.metadata["rows"].value == 3
    log = next(e for e in result.all_events if e.event_type_value == "LOG")
    assert log.message == "making numbers" and log.step_key == "numbers"
    assert log.level == logging.INFO


def test_failed_step_skips_downstream_but_not_unrelated_branches():
    @dg.asset
    def broken():
        raise ValueError("source file is empty")

    @dg.asset
    def after_broken(broken):
        return broken

    @dg.asset
    def independent():
        return 1

    result = dg.materialize([broken, after_broken, independent], raise_on_error=False)
    assert not result.success
    failure = result.get_step_failure_events()[0]
    assert failure.step_key == "broken"
    assert "source file is empty" in failure.step_failure_data.error.message
    assert failure.step_failure_data.error.cls_name == "ValueError"
    assert "raise ValueError" in failure.step_failure_data.error.stack
    assert [e.step_key for e in result.get_step_skipped_events()] == ["after_broken"]
    assert result.output_for_node("independent") == 1


def test_raise_on_error_raises_the_users_exception():
    @dg.asset
    def broken():
        raise KeyError("missing column")

    with pytest.raises(KeyError, match="missing column"):
        dg.materialize([broken])


def test_selection_runs_a_subset_and_loads_the_rest_from_io():
    io = dg.InMemoryIOManager()
    dg.materialize([numbers, total], resources={"io_manager": io})
    result = dg.materialize([numbers, total], selection=[total], resources={"io_manager": io})
    assert [m.asset_key for m in result.get_asset_materialization_events()] == [
        dg.AssetKey("total")
    ]
    assert result.output_for_node("total") == 6


def test_missing_upstream_value_is_a_clear_failure():
    with pytest.raises(dg.WeirError, match="No stored value for asset 'numbers'"):
        dg.materialize([numbers, total], selection=[total])


def test_multi_asset_outputs_by_tuple_and_by_output_name():
    @dg.multi_asset(outs={"evens": dg.AssetOut(), "odds": dg.AssetOut()})
    def split(numbers):
        return [n for n in numbers if n % 2 == 0], [n for n in numbers if n % 2]

    @dg.multi_asset(outs={"low": dg.AssetOut(), "high": dg.AssetOut(is_required=False)})
    def bucket(numbers):
        yield dg.Output(min(numbers), output_name="low")

    @dg.asset
    def needs_high(high):
        return high

    result = dg.materialize([numbers, split, bucket, needs_high])
    assert result.asset_value("evens") == [2] and result.asset_value("odds") == [1, 3]
    assert result.output_for_node("split", "odds") == [1, 3]
    assert result.asset_value("low") == 1
    assert [e.step_key for e in result.get_step_skipped_events()] == ["needs_high"]


def test_multi_asset_wrong_arity_fails_the_step():
    @dg.multi_asset(outs={"x": dg.AssetOut(), "y": dg.AssetOut()})
    def xy():
        return (1,)

    with pytest.raises(dg.StepError, match="returned 1 values for 2 assets"):
        dg.materialize([xy])


def test_materialize_result_reports_without_io_manager():
    stored = dg.InMemoryIOManager()

    @dg.asset
    def external_table() -> dg.MaterializeResult:
        return dg.MaterializeResult(metadata={"rows": 10})

    result = dg.materialize([external_table], resources={"io_manager": stored})
    assert result.get_asset_materialization_events()[0].materialization.metadata["rows"].value == 10
    assert stored.values == {}


def test_add_output_metadata_from_context():
    @dg.asset
    def counted(context):
        context.add_output_metadata({"count": 2})
        return [1, 2]

    result = dg.materialize([counted])
    event = result.get_asset_materialization_events()[0]
    assert event.materialization.metadata["count"].value == 2


def test_retry_policy_retries_transient_failures():
    calls = []

    @dg.asset(retry_policy=dg.RetryPolicy(max_retries=2))
    def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise ConnectionError("try again")
        return "ok"

    result = dg.materialize([flaky])
    assert result.output_for_node("flaky") == "ok"
    retries = [e for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]
    assert len(retries) == 2


def test_config_from_run_config():
    class Scale(dg.Config):
        factor: int = 2

    @dg.asset
    def scaled(config: Scale, numbers) -> list[int]:
        return [n * config.factor for n in numbers]

    result = dg.materialize(
        [numbers, scaled], run_config={"ops": {"scaled": {"config": {"factor": 10}}}}
    )
    assert result.asset_value("scaled") == [10, 20, 30]
    assert dg.materialize([numbers, scaled]).asset_value("scaled") == [2, 4, 6]
    with pytest.raises(dg.ConfigError, match="Config for 'scaled' is invalid"):
        dg.materialize(
            [numbers, scaled], run_config={"ops": {"scaled": {"config": {"factor": "x"}}}}
        )
    with pytest.raises(dg.ConfigError, match="'nope'"):
        dg.materialize([numbers], run_config={"ops": {"nope": {"config": {}}}})


def test_static_partition_key_flows_to_context_and_io():
    regions = dg.StaticPartitionsDefinition(["eu", "us"])
    seen = []

    @dg.asset(partitions_def=regions)
    def sales(context) -> str:
        seen.append(context.partition_key)
        return f"sales-{context.partition_key}"

    @dg.asset(partitions_def=regions)
    def report(sales: str) -> str:
        return sales.upper()

    io = dg.InMemoryIOManager()
    result = dg.materialize([sales, report], partition_key="eu", resources={"io_manager": io})
    assert seen == ["eu"]
    assert result.asset_value("report") == "SALES-EU"
    assert result.get_asset_materialization_events()[0].partition == "eu"
    assert io.values[("sales", "eu")] == "sales-eu"
    with pytest.raises(dg.PartitionKeyError, match="Unknown partition key 'asia'"):
        dg.materialize([sales], partition_key="asia")
    with pytest.raises(dg.PartitionKeyError, match="pass partition_key"):
        dg.materialize([sales])


def test_partitioned_upstream_loads_as_dict_for_unpartitioned_downstream():
    regions = dg.StaticPartitionsDefinition(["eu", "us"])

    @dg.asset(partitions_def=regions)
    def visits(context) -> int:
        return len(context.partition_key)

    @dg.asset
    def all_visits(visits: dict) -> int:
        return sum(visits.values())

    io = dg.InMemoryIOManager()
    for region in ("eu", "us"):
        dg.materialize([visits], partition_key=region, resources={"io_manager": io})
    result = dg.materialize(
        [visits, all_visits], selection=[all_visits], resources={"io_manager": io}
    )
    assert result.asset_value("all_visits") == 4


def test_resources_are_injected_and_have_a_run_lifecycle():
    events = []

    class Warehouse(dg.ConfigurableResource):
        name: str

        def setup_for_execution(self, context):
            events.append("setup")

        def teardown_after_execution(self, context):
            events.append("teardown")

    @dg.asset
    def table(context, warehouse: Warehouse) -> str:
        assert context.resources.warehouse is warehouse
        return warehouse.name

    result = dg.materialize([table], resources={"warehouse": Warehouse(name="wh")})
    assert result.asset_value("table") == "wh"
    assert events == ["setup", "teardown"]
    with pytest.raises(dg.DefinitionError, match="'warehouse'"):
        dg.materialize([table])


def test_external_assets_cannot_be_materialized():
    with pytest.raises(dg.SelectionError, match="external"):
        dg.materialize([dg.AssetSpec("raw")], selection=[dg.AssetKey("raw")])


def test_time_window_mappings_pick_the_upstream_partitions():
    daily = dg.DailyPartitionsDefinition(start_date="2024-01-01")
    hourly = dg.HourlyPartitionsDefinition(start_date="2024-01-01-00:00")

    @dg.asset(partitions_def=hourly)
    def readings(context) -> int:
        return int(context.partition_key[11:13])

    @dg.asset(partitions_def=daily)
    def daily_total(readings: dict) -> int:
        return sum(readings.values())

    @dg.asset(
        partitions_def=daily,
        ins={"daily_total": dg.AssetIn(partition_mapping=dg.TimeWindowPartitionMapping(-1, -1))},
    )
    def day_over_day(context, daily_total: int) -> int:
        return daily_total

    io = dg.InMemoryIOManager()
    for hour in range(24):
        key = f"2024-01-01-{hour:02d}:00"
        dg.materialize([readings], partition_key=key, resources={"io_manager": io})
    dg.materialize(
        [readings, daily_total], selection=[daily_total], partition_key="2024-01-01",
        resources={"io_manager": io},
    )  # fmt: skip
    assert io.values[("daily_total", "2024-01-01")] == sum(range(24))
    result = dg.materialize(
        [readings, daily_total, day_over_day], selection=[day_over_day], partition_key="2024-01-02",
        resources={"io_manager": io},
    )  # fmt: skip
    assert result.asset_value("day_over_day") == sum(range(24))


def test_a_multi_asset_whose_specs_depend_on_each_other_yields_what_it_built_before_failing():
    """Siblings may depend on each other (the function orders them, as dbt does); what it
    yielded before it raised is materialized, and the step still fails."""

    @dg.multi_asset(
        specs=[
            dg.AssetSpec("first", skippable=True),
            dg.AssetSpec("second", deps=["first"], skippable=True),
        ]
    )
    def both():
        yield dg.MaterializeResult(asset_key="first")
        raise RuntimeError("second broke")

    result = dg.materialize([both], raise_on_error=False)
    assert not result.success
    built = [
        e.materialization.asset_key.to_user_string()
        for e in result.get_asset_materialization_events()
    ]
    assert built == ["first"]
    (failure,) = result.get_step_failure_events()
    assert "second broke" in failure.message


def test_a_multi_asset_sibling_still_cannot_depend_on_itself():
    with pytest.raises(dg.DefinitionError, match="depends on an asset the same function produces"):

        @dg.multi_asset(specs=[dg.AssetSpec("a", deps=["a"])])
        def loop():
            pass
