"""Asset jobs run in process through Definitions, and run config for assets and resources."""

import pytest
from compat_target import dg


class ScaleConfig(dg.Config):
    factor: int = 2


class Source(dg.ConfigurableResource):
    base: int = 10


@dg.asset(group_name="numbers")
def base_value(source: Source) -> int:
    return source.base


@dg.asset(group_name="numbers")
def scaled(config: ScaleConfig, base_value: int) -> int:
    return base_value * config.factor


@dg.asset(group_name="report")
def report(scaled: int) -> str:
    return f"scaled={scaled}"


numbers_job = dg.define_asset_job("numbers_job", selection=dg.AssetSelection.groups("numbers"))
everything_job = dg.define_asset_job("everything_job")

defs = dg.Definitions(
    assets=[base_value, scaled, report],
    jobs=[numbers_job, everything_job],
    resources={"source": Source()},
)


def test_an_asset_job_materializes_its_selection_with_the_definitions_resources():
    result = defs.get_job_def("numbers_job").execute_in_process()

    assert result.success
    assert result.output_for_node("scaled") == 20
    (materialization,) = result.asset_materializations_for_node("scaled")
    assert materialization.asset_key == dg.AssetKey("scaled")
    materialized = {e.asset_key for e in result.get_asset_materialization_events()}
    assert materialized == {dg.AssetKey("base_value"), dg.AssetKey("scaled")}


def test_an_asset_job_takes_run_config_for_its_assets():
    result = defs.get_job_def("everything_job").execute_in_process(
        run_config=dg.RunConfig(ops={"scaled": ScaleConfig(factor=5)})
    )
    assert result.output_for_node("report") == "scaled=50"


def test_an_asset_job_takes_resources_at_execution():
    result = defs.get_job_def("numbers_job").execute_in_process(
        resources={"source": Source(base=3)}
    )
    assert result.output_for_node("scaled") == 6


def test_an_asset_job_takes_resource_config_in_run_config():
    result = defs.get_job_def("numbers_job").execute_in_process(
        run_config={"resources": {"source": {"config": {"base": 7}}}}
    )
    assert result.output_for_node("base_value") == 7


def test_a_job_declared_with_config_uses_it():
    configured = dg.define_asset_job(
        "configured_job",
        selection=["base_value", "scaled"],
        config={"ops": {"scaled": {"config": {"factor": 10}}}},
    )
    local = dg.Definitions(assets=[base_value, scaled], jobs=[configured],
                           resources={"source": Source()})  # fmt: skip
    assert local.get_job_def("configured_job").execute_in_process().output_for_node("scaled") == 100


def test_a_job_declared_with_a_run_config_object_uses_it():
    configured = dg.define_asset_job(
        "configured_by_object",
        selection=["base_value", "scaled"],
        config=dg.RunConfig(ops={"scaled": ScaleConfig(factor=3)}),
    )
    local = dg.Definitions(assets=[base_value, scaled], jobs=[configured],
                           resources={"source": Source()})  # fmt: skip
    result = local.get_job_def("configured_by_object").execute_in_process()
    assert result.output_for_node("scaled") == 30


def test_materialize_takes_run_config_objects_for_assets_and_resources():
    result = dg.materialize(
        [base_value, scaled],
        resources={"source": Source()},
        run_config=dg.RunConfig(
            ops={"scaled": ScaleConfig(factor=4)}, resources={"source": Source(base=1)}
        ),
    )
    assert result.output_for_node("scaled") == 4


def test_bad_asset_config_in_an_asset_job_is_refused():
    with pytest.raises(dg.DagsterInvalidConfigError):
        defs.get_job_def("everything_job").execute_in_process(
            run_config={"ops": {"scaled": {"config": {"factor": "many"}}}}
        )


daily = dg.DailyPartitionsDefinition(start_date="2024-01-01")


@dg.asset(partitions_def=daily)
def daily_events(context: dg.AssetExecutionContext) -> str:
    return f"events for {context.partition_key}"


daily_job = dg.define_asset_job("daily_job", selection=[daily_events], partitions_def=daily)


def test_a_partitioned_asset_job_runs_one_partition():
    local = dg.Definitions(assets=[daily_events], jobs=[daily_job])
    result = local.get_job_def("daily_job").execute_in_process(partition_key="2024-01-05")

    assert result.output_for_node("daily_events") == "events for 2024-01-05"
    (materialization,) = result.asset_materializations_for_node("daily_events")
    assert materialization.partition == "2024-01-05"
