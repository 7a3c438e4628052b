"""Building Definitions: merging, @definitions, with_resources, spec helpers and the accessors
tests read assets and jobs back through."""

import pytest
from compat_target import dg


class Greeting(dg.ConfigurableResource):
    word: str = "hello"


@dg.asset(group_name="raw", code_version="v1", description="Names to greet")
def names() -> list[str]:
    return ["ada", "grace"]


@dg.asset(group_name="greetings")
def greetings(greeting: Greeting, names: list[str]) -> list[str]:
    return [f"{greeting.word} {n}" for n in names]


@dg.asset_check(asset=names)
def names_are_lowercase(names: list[str]) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=all(n == n.lower() for n in names))


@dg.asset
def welcome(greeting: Greeting) -> str:
    return f"{greeting.word} and welcome"


def test_merged_definitions_hold_everything_of_each():
    raw = dg.Definitions(assets=[names], asset_checks=[names_are_lowercase])
    greeting = dg.Definitions(assets=[welcome], resources={"greeting": Greeting(word="hi")})

    merged = dg.Definitions.merge(raw, greeting)

    keys = {spec.key for spec in merged.resolve_all_asset_specs()}
    assert keys == {dg.AssetKey("names"), dg.AssetKey("welcome")}
    result = merged.resolve_implicit_global_asset_job_def().execute_in_process()
    assert result.success
    assert result.output_for_node("welcome") == "hi and welcome"
    assert result.output_for_node("names") == ["ada", "grace"]


def test_merging_two_different_resources_under_one_key_is_refused():
    first = dg.Definitions(assets=[names, greetings], resources={"greeting": Greeting(word="a")})
    second = dg.Definitions(assets=[welcome], resources={"greeting": Greeting(word="b")})

    with pytest.raises(dg.DagsterInvariantViolationError, match="greeting"):
        dg.Definitions.merge(first, second)


def test_a_definitions_function_builds_the_definitions_when_called():
    calls = []

    @dg.definitions
    def defs():
        calls.append(1)
        return dg.Definitions(assets=[names])

    assert calls == []
    built = defs()
    assert isinstance(built, dg.Definitions)
    assert built.get_assets_def("names").key == dg.AssetKey("names")


def test_with_resources_binds_resources_to_the_assets_themselves():
    assets = dg.with_resources([names, greetings], {"greeting": Greeting(word="hey")})

    result = dg.materialize(assets)
    assert result.output_for_node("greetings") == ["hey ada", "hey grace"]
    # Definitions get them from the assets too.
    defs = dg.Definitions(assets=assets)
    assert defs.resolve_implicit_global_asset_job_def().execute_in_process().success


def test_with_resources_takes_config_for_the_resources_by_key():
    assets = dg.with_resources(
        [names, greetings],
        {"greeting": Greeting()},
        resource_config_by_key={"greeting": {"config": {"word": "yo"}}},
    )

    assert dg.materialize(assets).output_for_node("greetings") == ["yo ada", "yo grace"]


def test_a_stored_value_is_loaded_through_the_assets_io_manager(tmp_path):
    io = dg.FilesystemIOManager(base_dir=str(tmp_path))
    defs = dg.Definitions(
        assets=[names, greetings], resources={"greeting": Greeting(), "io_manager": io}
    )
    defs.resolve_implicit_global_asset_job_def().execute_in_process()

    assert defs.load_asset_value("greetings") == ["hello ada", "hello grace"]
    with defs.get_asset_value_loader() as loader:
        assert loader.load_asset_value(dg.AssetKey("names")) == ["ada", "grace"]


def test_a_partition_of_a_stored_value_is_loaded(tmp_path):
    colors = dg.StaticPartitionsDefinition(["red", "blue"])

    @dg.asset(partitions_def=colors)
    def paint(context: dg.AssetExecutionContext) -> str:
        return f"{context.partition_key} paint"

    defs = dg.Definitions(
        assets=[paint], resources={"io_manager": dg.FilesystemIOManager(base_dir=str(tmp_path))}
    )
    defs.resolve_implicit_global_asset_job_def().execute_in_process(partition_key="blue")

    assert defs.load_asset_value("paint", partition_key="blue") == "blue paint"


def test_accessors_return_assets_jobs_and_the_asset_graph():
    job = dg.define_asset_job("names_job", selection="names")
    defs = dg.Definitions(assets=[names, greetings], jobs=[job], resources={"greeting": Greeting()})

    assert defs.resolve_assets_def("names").key == dg.AssetKey("names")
    assert set(defs.get_assets_def(dg.AssetKey("greetings")).keys) == {dg.AssetKey("greetings")}
    assert defs.resolve_job_def("names_job").name == "names_job"
    assert defs.resolve_job_def("names_job").execute_in_process().output_for_node("names") == [
        "ada",
        "grace",
    ]
    node = defs.resolve_asset_graph().get(dg.AssetKey("greetings"))
    assert node.parent_keys == {dg.AssetKey("names")}
    assert node.group_name == "greetings"


def test_assets_definition_attributes_describe_the_asset():
    assert names.key == dg.AssetKey("names")
    assert names.keys == {dg.AssetKey("names")}
    assert names.op.name == "names"
    assert names.node_def.name == "names"
    assert names.code_versions_by_key == {dg.AssetKey("names"): "v1"}
    assert greetings.group_names_by_key == {dg.AssetKey("greetings"): "greetings"}
    assert greetings.asset_deps == {dg.AssetKey("greetings"): {dg.AssetKey("names")}}
    assert names.specs_by_key[dg.AssetKey("names")].description == "Names to greet"


def test_a_multi_asset_lists_each_of_its_assets():
    @dg.multi_asset(outs={"a": dg.AssetOut(group_name="g1"), "b": dg.AssetOut(code_version="2")})
    def both():
        return 1, 2

    assert both.keys == {dg.AssetKey("a"), dg.AssetKey("b")}
    assert both.group_names_by_key == {dg.AssetKey("a"): "g1", dg.AssetKey("b"): "default"}
    assert both.code_versions_by_key[dg.AssetKey("b")] == "2"


def test_spec_attributes_are_replaced_and_merged():
    spec = dg.AssetSpec("orders", tags={"layer": "raw"}, owners=["team:data"], group_name="a")

    replaced = spec.replace_attributes(group_name="sales", description="All orders")
    assert (replaced.group_name, replaced.description) == ("sales", "All orders")
    assert replaced.key == spec.key

    merged = spec.merge_attributes(tags={"pii": "no"}, owners=["team:bi"], deps=["customers"])
    assert merged.tags["layer"] == "raw" and merged.tags["pii"] == "no"
    assert list(merged.owners) == ["team:data", "team:bi"]
    assert [d.asset_key for d in merged.deps] == [dg.AssetKey("customers")]


def test_map_asset_specs_changes_assets_and_specs_alike():
    external = dg.AssetSpec("prices")

    mapped = dg.map_asset_specs(
        lambda spec: spec.replace_attributes(owners=["team:finance"]), [names, external]
    )

    owners = {a.key: list(a.owners) if isinstance(a, dg.AssetSpec) else
              list(a.specs_by_key[a.key].owners) for a in mapped}  # fmt: skip
    assert owners == {
        dg.AssetKey("names"): ["team:finance"],
        dg.AssetKey("prices"): ["team:finance"],
    }
    assert dg.materialize([a for a in mapped if isinstance(a, dg.AssetsDefinition)]).success


class RecordingIOManager(dg.IOManager):
    def __init__(self, stored):
        self.stored = stored

    def handle_output(self, context, obj):
        raise AssertionError("an external asset is never stored")

    def load_input(self, context):
        return self.stored[tuple(context.asset_key.path)]


def test_an_external_spec_is_loaded_by_the_io_manager_its_key_names():
    prices = dg.AssetSpec("prices").with_io_manager_key("warehouse_io")

    @dg.asset
    def price_total(prices: list[int]) -> int:
        return sum(prices)

    result = dg.materialize(
        [prices, price_total],
        resources={"warehouse_io": RecordingIOManager({("prices",): [2, 3]})},
    )
    assert result.output_for_node("price_total") == 5
