"""weir.Instance: the in-memory record of runs that tests read (the Dagster-shaped reads are
covered by tests/compat/test_compat_instance.py; these are the errors and what the
automation evaluator reads)."""

import doctest

import pytest
import weir as dg
from weir import _instance

regions = dg.StaticPartitionsDefinition(["emea", "apac"])


@dg.asset(partitions_def=regions)
def sales(context: dg.AssetExecutionContext) -> int:
    if context.partition_key == "apac":
        raise RuntimeError("no data")
    return 1


def test_a_failed_partition_is_failed_until_materialized_again() -> None:
    instance = dg.Instance.ephemeral()
    dg.materialize([sales], partition_key="apac", instance=instance, raise_on_error=False)
    dg.materialize([sales], partition_key="emea", instance=instance)

    assert instance.failed_partitions("sales") == {"apac"}
    assert set(instance.materialized_partitions("sales")) == {"emea"}
    run = instance.get_run(instance.get_latest_materialization_event("sales").run_id)
    assert run is not None and run.success and run.asset_keys == {dg.AssetKey("sales")}


def test_entries_after_a_storage_id_are_the_newer_ones() -> None:
    instance = dg.Instance.ephemeral()
    instance.report_runless_asset_event(dg.AssetMaterialization("a"))
    cursor = instance.last_storage_id
    instance.report_runless_asset_event(dg.AssetMaterialization("b"))

    assert [e.asset_key for e in instance.entries_after(cursor)] == [dg.AssetKey("b")]


def test_reporting_something_that_is_not_an_asset_event_says_what_it_takes() -> None:
    with pytest.raises(dg.DefinitionError, match="AssetMaterialization"):
        dg.Instance.ephemeral().report_runless_asset_event("orders")  # type: ignore[arg-type]


def test_a_cursor_given_by_position_is_refused_with_the_fix() -> None:
    # Dagster's first positional argument is the instance; a cursor there is a mistake.
    with pytest.raises(dg.DefinitionError, match="pass the cursor by name"):
        dg.build_sensor_context("3")  # type: ignore[arg-type]


def test_a_sensor_context_without_an_instance_says_how_to_give_one() -> None:
    context = dg.build_sensor_context(cursor="3")
    with pytest.raises(dg.UsageError, match="instance="):
        context.instance  # noqa: B018


def test_the_dagster_name_is_the_same_class() -> None:
    assert dg.DagsterInstance is dg.Instance


def test_docstring_examples() -> None:
    assert doctest.testmod(_instance).failed == 0
