"""Loading assets and checks from modules and packages, as a project's definitions module does."""

import sys

import compat_shop
import pytest
from compat_shop import raw
from compat_shop.reports import revenue
from compat_target import dg


def _keys(assets):
    return {key for a in assets for key in a.keys}


def test_assets_are_loaded_from_modules_once_each():
    assets = dg.load_assets_from_modules([raw, revenue])

    assert _keys(assets) == {
        dg.AssetKey("orders"),
        dg.AssetKey("customers"),
        dg.AssetKey("revenue"),
    }
    assert len(assets) == 3  # `orders`, imported into revenue.py too, is loaded once


def test_specs_are_loaded_only_when_asked_for():
    assets = dg.load_assets_from_modules([revenue], include_specs=True)

    specs = [a for a in assets if isinstance(a, dg.AssetSpec)]
    assert [s.key for s in specs] == [dg.AssetKey("prices")]


def test_a_group_name_is_given_to_every_loaded_asset():
    assets = dg.load_assets_from_modules([raw], group_name="raw_data")

    groups = {key: group for a in assets for key, group in a.group_names_by_key.items()}
    assert groups == {dg.AssetKey("orders"): "raw_data", dg.AssetKey("customers"): "raw_data"}


def test_a_key_prefix_also_prefixes_dependencies_on_loaded_assets():
    assets = dg.load_assets_from_modules([raw, revenue], key_prefix="shop")
    by_key = {key: a for a in assets for key in a.keys}

    assert set(by_key) == {
        dg.AssetKey(["shop", "orders"]),
        dg.AssetKey(["shop", "customers"]),
        dg.AssetKey(["shop", "revenue"]),
    }
    revenue_def = by_key[dg.AssetKey(["shop", "revenue"])]
    assert revenue_def.asset_deps[dg.AssetKey(["shop", "revenue"])] == {
        dg.AssetKey(["shop", "orders"])
    }
    result = dg.materialize(assets)
    assert result.output_for_node("revenue") == 12


def test_a_package_module_is_walked_through_its_subpackages():
    assets = dg.load_assets_from_package_module(compat_shop)

    assert _keys(assets) == {
        dg.AssetKey("orders"),
        dg.AssetKey("customers"),
        dg.AssetKey("revenue"),
    }


def test_a_package_can_be_loaded_by_its_name():
    assets = dg.load_assets_from_package_name("compat_shop", group_name="shop")

    assert {a.group_names_by_key[a.key] for a in assets} == {"shop"}


def test_asset_checks_are_loaded_from_modules():
    checks = dg.load_asset_checks_from_modules([raw, revenue])

    keys = {key for c in checks for key in c.check_keys}
    assert keys == {dg.AssetCheckKey(dg.AssetKey("orders"), "orders_not_empty")}


def test_loaded_assets_and_checks_make_definitions_that_materialize():
    defs = dg.Definitions(
        assets=dg.load_assets_from_package_module(compat_shop),
        asset_checks=dg.load_asset_checks_from_modules([raw]),
    )

    result = dg.materialize([*defs.assets, *defs.asset_checks])
    assert result.success
    assert result.output_for_node("revenue") == 12


def test_the_current_module_can_be_loaded():
    @dg.asset
    def local_total() -> int:
        return 1

    module = sys.modules[__name__]
    module.local_total = local_total  # what a module-level @asset would be
    try:
        assets = dg.load_assets_from_current_module()
    finally:
        del module.local_total
    assert _keys(assets) == {dg.AssetKey("local_total")}


def test_two_different_assets_with_one_key_are_refused():
    module = type(sys)("clashing_orders")

    @dg.asset(name="orders")
    def other_orders() -> list[int]:
        return []

    module.other_orders = other_orders
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="orders"):
        dg.load_assets_from_modules([raw, module])


def test_checks_loaded_with_a_prefix_follow_their_prefixed_assets():
    assets = dg.load_assets_from_modules([raw], key_prefix="shop")
    checks = dg.load_asset_checks_from_modules([raw], asset_key_prefix="shop")

    keys = {key for c in checks for key in c.check_keys}
    assert keys == {dg.AssetCheckKey(dg.AssetKey(["shop", "orders"]), "orders_not_empty")}
    result = dg.materialize([*assets, *checks])
    evaluations = result.get_asset_check_evaluations()
    assert [(e.asset_key, e.passed) for e in evaluations] == [
        (dg.AssetKey(["shop", "orders"]), True)
    ]


def test_an_automation_condition_and_backfill_policy_are_given_to_every_loaded_asset():
    eager = dg.AutomationCondition.eager()
    single_run = dg.BackfillPolicy.single_run()

    assets = dg.load_assets_from_modules(
        [raw], automation_condition=eager, backfill_policy=single_run
    )

    for a in assets:
        assert a.specs_by_key[a.key].automation_condition is eager
        assert a.backfill_policy == single_run
