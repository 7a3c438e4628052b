"""Definitions builds and validates the graph once, with errors that name the assets."""

import pytest
import weir as dg


@dg.asset
def a():
    return 1


@dg.asset
def b(a):
    return a


def test_graph_is_ordered_and_walkable():
    @dg.asset
    def c(a, b):
        return a + b

    defs = dg.Definitions(assets=[c, b, a])
    graph = defs.get_asset_graph()
    order = graph.toposorted_keys
    assert (
        order.index(dg.AssetKey("a"))
        < order.index(dg.AssetKey("b"))
        < order.index(dg.AssetKey("c"))
    )
    assert graph.downstream([dg.AssetKey("a")], depth=1) == {
        dg.AssetKey("a"),
        dg.AssetKey("b"),
        dg.AssetKey("c"),
    }
    assert graph.upstream([dg.AssetKey("c")]) == {dg.AssetKey(k) for k in "abc"}
    assert defs.get_assets_def("b") is b


def test_a_few_assets_of_a_large_graph_are_planned_in_dependency_order():
    from weir._execution.plan import ExecutionPlan

    chain = [dg.AssetSpec("n0")] + [dg.AssetSpec(f"n{i}", deps=[f"n{i - 1}"]) for i in range(1, 50)]
    graph = dg.Definitions(assets=list(reversed(chain))).get_asset_graph()
    for picked in ({"n30", "n3", "n17"}, {f"n{i}" for i in range(0, 50, 2)}):  # few, many
        keys = {dg.AssetKey(name) for name in picked}
        ordered = graph.in_topo_order(keys)
        assert ordered == [key for key in graph.toposorted_keys if key in keys]
    plan_graph = dg.Definitions(
        assets=[dg.AssetSpec(f"x{i}") for i in range(100)] + [a, b]
    ).get_asset_graph()
    plan = ExecutionPlan.build(plan_graph, [dg.AssetKey("b"), dg.AssetKey("a")])
    assert [step.key for step in plan.steps] == ["a", "b"]


def test_cycle_names_its_assets():
    @dg.asset(deps=["z"])
    def x():
        return 1

    @dg.asset(deps=["x"])
    def y():
        return 1

    @dg.asset(deps=["y"])
    def z():
        return 1

    with pytest.raises(dg.CycleError, match=r"cycle: (x|y|z) -> (x|y|z) -> (x|y|z) -> "):
        dg.Definitions(assets=[x, y, z])


def test_missing_upstream_names_both_ends_and_suggests():
    @dg.asset(deps=["raw/order"])
    def summary():
        return 1

    @dg.asset(key_prefix="raw")
    def orders():
        return 1

    with pytest.raises(dg.MissingUpstreamError) as err:
        dg.Definitions(assets=[summary, orders])
    assert "'summary' depends on 'raw/order'" in str(err.value)
    assert "Did you mean 'raw/orders'" in str(err.value)


def test_external_specs_satisfy_dependencies():
    @dg.asset(deps=["raw/events"])
    def sessions():
        return 1

    defs = dg.Definitions(assets=[sessions, dg.AssetSpec("raw/events")])
    assert not defs.get_assets_def("raw/events").is_executable


def test_duplicate_key_is_an_error():
    @dg.asset(name="a")
    def another_a():
        return 2

    with pytest.raises(dg.DuplicateKeyError, match="'a' is defined twice"):
        dg.Definitions(assets=[a, another_a])


def test_unknown_resource_key_is_an_error():
    class Warehouse(dg.ConfigurableResource):
        url: str

    @dg.asset
    def loaded(warehouse: Warehouse):
        return warehouse.url

    with pytest.raises(dg.DefinitionError, match="needs resource 'warehouse'"):
        dg.Definitions(assets=[loaded])
    dg.Definitions(assets=[loaded], resources={"warehouse": Warehouse(url="x")})

    @dg.asset(io_manager_key="lake")
    def stored():
        return 1

    with pytest.raises(dg.DefinitionError, match="'lake'"):
        dg.Definitions(assets=[stored])


def test_checks_on_unknown_assets_are_errors():
    @dg.asset_check(asset="nope")
    def check_nope():
        return dg.AssetCheckResult(passed=True)

    with pytest.raises(dg.MissingUpstreamError, match="'nope'"):
        dg.Definitions(assets=[a], asset_checks=[check_nope])


def test_unknown_lookups_list_what_exists():
    defs = dg.Definitions(assets=[a])
    with pytest.raises(dg.DefinitionError, match="No job named 'nightly'"):
        defs.get_job_def("nightly")
    with pytest.raises(dg.DefinitionError, match="No schedule named"):
        defs.get_schedule_def("s")
    with pytest.raises(dg.DefinitionError, match="No sensor named"):
        defs.get_sensor_def("s")
    with pytest.raises(dg.DefinitionError, match="Expected an @asset"):
        dg.Definitions(assets=[object()])
