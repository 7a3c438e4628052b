"""Testing assets in memory, as the testing guide does: materialize_to_memory keeps every
value in memory, whatever I/O manager the assets name, and reads them back by asset."""

import pytest
from compat_target import dg


class Warehouse(dg.ConfigurableResource):
    schema_name: str = "analytics"


@dg.asset(io_manager_key="warehouse_io_manager")
def raw_orders() -> list[dict]:
    return [{"id": 1, "amount": 30}, {"id": 2, "amount": 12}]


@dg.asset(key_prefix=["finance"])
def order_total(raw_orders: list[dict]) -> int:
    return sum(order["amount"] for order in raw_orders)


@dg.asset(ins={"order_total": dg.AssetIn(key=["finance", "order_total"])})
def total_label(warehouse: Warehouse, order_total: int) -> str:
    return f"{warehouse.schema_name}: {order_total}"


@dg.multi_asset(outs={"small": dg.AssetOut(), "large": dg.AssetOut()})
def split_orders(raw_orders: list[dict]):
    small = [o["id"] for o in raw_orders if o["amount"] < 20]
    large = [o["id"] for o in raw_orders if o["amount"] >= 20]
    return small, large


ALL = [raw_orders, order_total, total_label, split_orders]


def test_values_stay_in_memory_even_for_an_asset_with_its_own_io_manager_key():
    result = dg.materialize_to_memory(ALL, resources={"warehouse": Warehouse()})

    assert result.success
    assert result.asset_value("raw_orders")[0] == {"id": 1, "amount": 30}
    assert result.asset_value(dg.AssetKey(["finance", "order_total"])) == 42
    assert result.output_for_node("total_label") == "analytics: 42"


def test_a_multi_asset_output_reads_back_by_node_and_output_name_or_by_asset():
    result = dg.materialize_to_memory([raw_orders, split_orders])

    assert result.output_for_node("split_orders", "small") == [2]
    assert result.output_for_node("split_orders", "large") == [1]
    assert result.asset_value("large") == [1]


def test_a_selection_materializes_only_the_selected_assets():
    result = dg.materialize_to_memory(
        ALL, selection=["raw_orders", "finance/order_total"], resources={"warehouse": Warehouse()}
    )

    materialized = {e.asset_key for e in result.get_asset_materialization_events()}
    assert materialized == {dg.AssetKey("raw_orders"), dg.AssetKey(["finance", "order_total"])}


def test_run_config_reaches_the_asset_config():
    class LimitConfig(dg.Config):
        limit: int

    @dg.asset
    def limited(config: LimitConfig) -> list[int]:
        return list(range(config.limit))

    result = dg.materialize_to_memory(
        [limited], run_config={"ops": {"limited": {"config": {"limit": 3}}}}
    )

    assert result.asset_value("limited") == [0, 1, 2]


def test_an_io_manager_passed_as_a_resource_is_refused():
    with pytest.raises(dg.DagsterInvariantViolationError, match="materialize_to_memory"):
        dg.materialize_to_memory(
            [raw_orders], resources={"warehouse_io_manager": dg.InMemoryIOManager()}
        )


def test_a_failure_is_raised_unless_raise_on_error_is_false():
    @dg.asset
    def broken() -> int:
        raise ValueError("upstream API is down")

    with pytest.raises(ValueError, match="upstream API is down"):
        dg.materialize_to_memory([broken])
    result = dg.materialize_to_memory([broken], raise_on_error=False)
    assert not result.success
    assert result.get_failed_step_keys() == {"broken"}
