"""Testing with an ephemeral instance, as Dagster's testing guide does: materialize into it,
then ask it what was recorded; report work done elsewhere; keep dynamic partitions in it.
"""

import pytest
from compat_target import dg


@dg.asset
def raw_orders(context: dg.AssetExecutionContext) -> list[int]:
    context.add_output_metadata({"row_count": 3})
    return [5, 7, 9]


@dg.asset
def order_total(raw_orders: list[int]) -> int:
    return sum(raw_orders)


@dg.asset
def flaky() -> int:
    raise RuntimeError("the warehouse is down")


regions = dg.StaticPartitionsDefinition(["emea", "apac"])


@dg.asset(partitions_def=regions)
def regional_sales(context: dg.AssetExecutionContext) -> str:
    return context.partition_key


customers = dg.DynamicPartitionsDefinition(name="customers")


@dg.asset(partitions_def=customers)
def customer_report(context: dg.AssetExecutionContext) -> str:
    return f"report for {context.partition_key}"


def test_an_ephemeral_instance_starts_empty():
    instance = dg.DagsterInstance.ephemeral()
    assert instance.get_latest_materialization_event(dg.AssetKey("raw_orders")) is None


def test_materialize_records_its_materializations_into_the_instance():
    instance = dg.DagsterInstance.ephemeral()

    result = dg.materialize([raw_orders, order_total], instance=instance)

    assert result.success
    event = instance.get_latest_materialization_event(dg.AssetKey("raw_orders"))
    assert event is not None
    assert event.run_id == result.run_id
    assert event.asset_materialization.asset_key == dg.AssetKey("raw_orders")
    assert event.asset_materialization.metadata["row_count"].value == 3
    assert event.asset_materialization.partition is None


def test_the_latest_of_several_runs_is_returned():
    instance = dg.DagsterInstance.ephemeral()
    dg.materialize([raw_orders], instance=instance)
    second = dg.materialize([raw_orders], instance=instance)

    event = instance.get_latest_materialization_event(dg.AssetKey("raw_orders"))

    assert event.run_id == second.run_id


def test_latest_materialization_events_of_several_assets():
    instance = dg.DagsterInstance.ephemeral()
    dg.materialize([raw_orders, order_total], instance=instance)

    events = instance.get_latest_materialization_events(
        [dg.AssetKey("raw_orders"), dg.AssetKey("order_total")]
    )

    assert {key.to_user_string() for key in events} == {"raw_orders", "order_total"}
    assert events[dg.AssetKey("order_total")].asset_materialization.asset_key == dg.AssetKey(
        "order_total"
    )


def test_a_failed_run_records_no_materialization():
    instance = dg.DagsterInstance.ephemeral()

    result = dg.materialize([flaky], instance=instance, raise_on_error=False)

    assert not result.success
    assert instance.get_latest_materialization_event(dg.AssetKey("flaky")) is None


def test_the_partition_of_a_materialization_is_recorded():
    instance = dg.DagsterInstance.ephemeral()

    dg.materialize([regional_sales], partition_key="apac", instance=instance)

    event = instance.get_latest_materialization_event(dg.AssetKey("regional_sales"))
    assert event.asset_materialization.partition == "apac"


def test_a_runless_materialization_is_recorded_like_one_from_a_run():
    instance = dg.DagsterInstance.ephemeral()

    instance.report_runless_asset_event(
        dg.AssetMaterialization(
            asset_key="external_table", partition=None, metadata={"source": "crm", "rows": 12}
        )
    )

    event = instance.get_latest_materialization_event(dg.AssetKey("external_table"))
    assert event.asset_materialization.metadata["source"].value == "crm"
    assert event.asset_materialization.metadata["rows"].value == 12


def test_a_runless_materialization_takes_a_key_path():
    instance = dg.DagsterInstance.ephemeral()

    instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=["crm", "accounts"]))

    assert instance.get_latest_materialization_event(dg.AssetKey(["crm", "accounts"])) is not None


def test_dynamic_partitions_are_kept_in_the_instance_in_the_order_added():
    instance = dg.DagsterInstance.ephemeral()

    instance.add_dynamic_partitions("customers", ["acme", "globex"])
    instance.add_dynamic_partitions("customers", ["initech"])

    assert instance.get_dynamic_partitions("customers") == ["acme", "globex", "initech"]
    assert instance.has_dynamic_partition("customers", "globex")
    assert not instance.has_dynamic_partition("customers", "umbrella")
    assert instance.get_dynamic_partitions("suppliers") == []


def test_a_deleted_dynamic_partition_is_gone():
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("customers", ["acme", "globex"])

    instance.delete_dynamic_partition("customers", "acme")

    assert instance.get_dynamic_partitions("customers") == ["globex"]


def test_a_dynamic_partition_added_to_the_instance_can_be_materialized():
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("customers", ["acme"])

    result = dg.materialize([customer_report], partition_key="acme", instance=instance)

    assert result.output_for_node("customer_report") == "report for acme"
    event = instance.get_latest_materialization_event(dg.AssetKey("customer_report"))
    assert event.asset_materialization.partition == "acme"


def test_a_dynamic_partition_the_instance_lacks_is_refused():
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("customers", ["acme"])

    with pytest.raises(dg.DagsterUnknownPartitionError):
        dg.materialize([customer_report], partition_key="umbrella", instance=instance)
