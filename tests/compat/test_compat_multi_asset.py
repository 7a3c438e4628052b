"""Subsettable multi-assets, as the multi-asset guide writes them: one function computes
several tables, a run may select some of them, and the function yields only those."""

import pytest
from compat_target import dg


class RecordingIOManager(dg.IOManager):
    """Keeps what it stores, by asset, so a test can see what was written."""

    def __init__(self):
        self.stored = {}

    def handle_output(self, context, obj):
        self.stored[context.asset_key] = obj

    def load_input(self, context):
        return self.stored[context.asset_key]


@dg.asset
def raw_events() -> list[dict]:
    return [{"user": "ann", "kind": "click"}, {"user": "bob", "kind": "view"}]


@dg.multi_asset(
    outs={
        "clicks": dg.AssetOut(is_required=False),
        "views": dg.AssetOut(is_required=False),
        "click_users": dg.AssetOut(is_required=False),
    },
    internal_asset_deps={
        "clicks": {dg.AssetKey("raw_events")},
        "views": {dg.AssetKey("raw_events")},
        "click_users": {dg.AssetKey("clicks")},
    },
    can_subset=True,
)
def event_tables(context: dg.AssetExecutionContext, raw_events: list[dict]):
    clicks = [e for e in raw_events if e["kind"] == "click"]
    if "clicks" in context.selected_output_names:
        yield dg.Output(clicks, output_name="clicks")
    if "views" in context.selected_output_names:
        yield dg.Output([e for e in raw_events if e["kind"] == "view"], output_name="views")
    if "click_users" in context.selected_output_names:
        yield dg.Output(sorted({e["user"] for e in clicks}), output_name="click_users")


def test_internal_asset_deps_give_each_output_its_own_upstream():
    deps = {spec.key: {dep.asset_key for dep in spec.deps} for spec in event_tables.specs}
    assert deps == {
        dg.AssetKey("clicks"): {dg.AssetKey("raw_events")},
        dg.AssetKey("views"): {dg.AssetKey("raw_events")},
        dg.AssetKey("click_users"): {dg.AssetKey("clicks")},
    }


def test_every_output_is_materialized_when_the_whole_multi_asset_is_selected():
    result = dg.materialize([raw_events, event_tables])

    assert result.success
    assert result.output_for_node("event_tables", "click_users") == ["ann"]
    assert {e.asset_key for e in result.get_asset_materialization_events()} == {
        dg.AssetKey(k) for k in ("raw_events", "clicks", "views", "click_users")
    }


def test_a_selection_runs_the_function_for_the_selected_outputs_only():
    io_manager = RecordingIOManager()
    dg.materialize([raw_events], resources={"io_manager": io_manager})
    seen = {}

    @dg.multi_asset(
        outs={"clicks": dg.AssetOut(is_required=False), "views": dg.AssetOut(is_required=False)},
        can_subset=True,
    )
    def split_events(context: dg.AssetExecutionContext, raw_events: list[dict]):
        seen["outputs"] = context.selected_output_names
        seen["keys"] = context.selected_asset_keys
        for name in sorted(context.selected_output_names):
            yield dg.Output([e for e in raw_events if e["kind"] == name[:-1]], output_name=name)

    result = dg.materialize(
        [raw_events, split_events], selection=["views"], resources={"io_manager": io_manager}
    )

    assert result.success
    assert seen == {"outputs": {"views"}, "keys": {dg.AssetKey("views")}}
    assert [e.asset_key for e in result.get_asset_materialization_events()] == [
        dg.AssetKey("views")
    ]
    assert dg.AssetKey("clicks") not in io_manager.stored
    assert io_manager.stored[dg.AssetKey("views")] == [{"user": "bob", "kind": "view"}]


def test_yielding_an_output_that_was_not_selected_fails_and_stores_nothing_for_it():
    io_manager = RecordingIOManager()

    @dg.multi_asset(
        outs={"first": dg.AssetOut(is_required=False), "second": dg.AssetOut(is_required=False)},
        can_subset=True,
    )
    def careless():
        yield dg.Output(1, output_name="first")
        yield dg.Output(2, output_name="second")

    with pytest.raises(dg.DagsterInvariantViolationError, match="not selected"):
        dg.materialize([careless], selection=["first"], resources={"io_manager": io_manager})
    assert dg.AssetKey("second") not in io_manager.stored


def test_specs_with_can_subset_report_selected_asset_keys():
    @dg.multi_asset(
        specs=[dg.AssetSpec("orders"), dg.AssetSpec("customers"), dg.AssetSpec("payments")],
        can_subset=True,
    )
    def load_tables(context: dg.AssetExecutionContext):
        for key in sorted(context.selected_asset_keys, key=lambda k: k.to_user_string()):
            yield dg.MaterializeResult(asset_key=key, metadata={"loaded": key.path[-1]})

    result = dg.materialize([load_tables], selection=["orders", "payments"])

    materialized = [e.asset_key for e in result.get_asset_materialization_events()]
    assert materialized == [dg.AssetKey("orders"), dg.AssetKey("payments")]


def test_a_selection_string_picks_the_subset_within_a_job():
    job = dg.define_asset_job("clicks_only", selection=["raw_events", "clicks", "click_users"])
    defs = dg.Definitions(assets=[raw_events, event_tables], jobs=[job])

    result = defs.get_job_def("clicks_only").execute_in_process()

    assert result.success
    assert result.output_for_node("event_tables", "clicks") == [{"user": "ann", "kind": "click"}]
    materialized = {e.asset_key for e in result.get_asset_materialization_events()}
    assert dg.AssetKey("views") not in materialized
