"""Asset jobs: a named selection, resolved and validated when Definitions is built."""

import doctest

import pytest
import weir as dg
from weir import _jobs


@dg.asset(group_name="sales")
def orders():
    return [1, 2]


@dg.asset(group_name="sales")
def revenue(orders):
    return sum(orders)


@dg.asset(group_name="ops")
def report(revenue):
    return str(revenue)


ASSETS = [orders, revenue, report]


def keys(*names):
    return {dg.AssetKey(n) for n in names}


def test_job_selects_a_group_and_is_found_by_name():
    job = dg.define_asset_job("sales_job", selection="group:sales", tags={"team": "bi"})
    defs = dg.Definitions(assets=ASSETS, jobs=[job])

    assert defs.jobs["sales_job"] is job
    found = defs.get_job_def("sales_job")  # resolved against defs, ready to execute
    assert found.name == "sales_job"
    assert found.resolve_keys(defs.get_asset_graph()) == keys("orders", "revenue")
    assert found.tags == {"team": "bi"}


def test_job_without_selection_selects_every_materializable_asset():
    external = dg.AssetSpec("raw/events")
    job = dg.define_asset_job("everything")
    defs = dg.Definitions(assets=[*ASSETS, external], jobs=[job])

    assert job.resolve_keys(defs.get_asset_graph()) == keys("orders", "revenue", "report")


def test_job_accepts_assets_keys_and_selection_strings():
    graph = dg.Definitions(assets=ASSETS).get_asset_graph()

    assert dg.define_asset_job("a", [orders, "report"]).resolve_keys(graph) == keys(
        "orders", "report"
    )
    assert dg.define_asset_job("b", dg.AssetKey("revenue")).resolve_keys(graph) == keys("revenue")
    assert dg.define_asset_job("c", "orders+").resolve_keys(graph) == keys("orders", "revenue")
    assert dg.define_asset_job("d", dg.AssetSelection.groups("ops")).resolve_keys(graph) == keys(
        "report"
    )


def test_selecting_an_empty_group_is_an_empty_job_not_an_error():
    defs = dg.Definitions(assets=ASSETS, jobs=[dg.define_asset_job("j", "group:nope")])

    assert defs.get_job_def("j").resolve_keys(defs.get_asset_graph()) == set()


def test_selecting_an_unknown_asset_fails_at_definitions_naming_it():
    job = dg.define_asset_job("j", "missing_asset")

    with pytest.raises(dg.SelectionError, match="missing_asset"):
        dg.Definitions(assets=ASSETS, jobs=[job])


def test_unknown_job_name_lists_known_jobs():
    defs = dg.Definitions(assets=ASSETS, jobs=[dg.define_asset_job("sales_job", "group:sales")])

    with pytest.raises(dg.DefinitionError, match="No job named 'nope'; known jobs: sales_job"):
        defs.get_job_def("nope")


def test_two_different_jobs_with_one_name_are_rejected():
    with pytest.raises(dg.DefinitionError, match="'j'"):
        dg.Definitions(
            assets=ASSETS,
            jobs=[dg.define_asset_job("j", "orders"), dg.define_asset_job("j", "report")],
        )


def test_invalid_job_name_and_tags_are_definition_errors():
    with pytest.raises(dg.DefinitionError, match="not a valid name"):
        dg.define_asset_job("my job!")
    with pytest.raises(dg.DefinitionError, match="tags must map str to str"):
        dg.define_asset_job("j", tags={"retries": 3})
    with pytest.raises(dg.DefinitionError, match="run config dict"):
        dg.define_asset_job("j", config=["not", "a", "dict"])


def test_run_tags_default_to_the_job_tags():
    assert dg.define_asset_job("j", tags={"a": "1"}).run_tags == {"a": "1"}
    job = dg.define_asset_job("j", tags={"a": "1"}, run_tags={"b": "2"})
    assert job.run_tags == {"b": "2"}


def test_job_keeps_its_run_config_description_and_partitions():
    regions = dg.StaticPartitionsDefinition(["eu", "us"])
    job = dg.define_asset_job(
        "j",
        config={"ops": {"orders": {"config": {"limit": 3}}}},
        description="nightly",
        partitions_def=regions,
    )

    assert job.config == {"ops": {"orders": {"config": {"limit": 3}}}}
    assert job.description == "nightly"
    assert job.partitions_def is regions
    assert dg.define_asset_job("k").config is None


def test_job_over_assets_with_different_partitions_is_rejected():
    @dg.asset(partitions_def=dg.StaticPartitionsDefinition(["eu", "us"]))
    def by_region():
        return 1

    @dg.asset(partitions_def=dg.StaticPartitionsDefinition(["a", "b"]))
    def by_letter():
        return 1

    @dg.asset(partitions_def=dg.StaticPartitionsDefinition(["eu", "us"]))
    def also_by_region():
        return 1

    same = dg.define_asset_job("same", [by_region, also_by_region, orders])
    dg.Definitions(assets=[by_region, also_by_region, orders], jobs=[same])  # one definition: fine

    mixed = dg.define_asset_job("mixed", [by_region, by_letter])
    with pytest.raises(dg.DefinitionError, match="different partitions definitions") as err:
        dg.Definitions(assets=[by_region, by_letter], jobs=[mixed])
    assert "by_region" in str(err.value) and "by_letter" in str(err.value)


def test_job_partitions_def_must_match_its_assets():
    @dg.asset(partitions_def=dg.StaticPartitionsDefinition(["eu", "us"]))
    def by_region():
        return 1

    job = dg.define_asset_job("j", [by_region], partitions_def=dg.StaticPartitionsDefinition(["a"]))
    with pytest.raises(dg.DefinitionError, match="partitions_def"):
        dg.Definitions(assets=[by_region], jobs=[job])


def test_jobs_of_schedules_and_sensors_are_registered_with_definitions():
    job = dg.define_asset_job("sales_job", "group:sales")
    nightly = dg.ScheduleDefinition(job=job, cron_schedule="0 2 * * *")

    @dg.sensor(target="group:ops")
    def on_ops(context):
        return None

    defs = dg.Definitions(assets=ASSETS, schedules=[nightly], sensors=[on_ops])

    assert defs.jobs["sales_job"] is job
    implicit = defs.get_job_def("__anonymous_asset_job_on_ops")
    assert implicit.resolve_keys(defs.get_asset_graph()) == keys("report")
    assert defs.get_schedule_def("sales_job_schedule") is nightly
    assert defs.get_sensor_def("on_ops") is on_ops


def test_a_target_naming_an_unknown_asset_fails_at_definitions():
    @dg.sensor(target=["orders", "nope"])
    def watcher(context):
        return None

    with pytest.raises(dg.SelectionError, match="nope"):
        dg.Definitions(assets=ASSETS, sensors=[watcher])


def test_docstring_examples_run():
    assert doctest.testmod(_jobs).failed == 0
