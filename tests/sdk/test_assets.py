"""@asset / @multi_asset / AssetSpec: what a definition declares."""

import dataclasses

import pytest
import weir as dg
from kept_memory import bytes_per_item


def test_dependencies_come_from_parameters_ins_and_deps():
    @dg.asset
    def orders():
        return [1]

    @dg.asset(ins={"raw": dg.AssetIn(key="orders")}, deps=["customers"])
    def report(raw):
        return raw

    spec = report.specs[0]
    assert spec.key == dg.AssetKey("report")
    assert set(spec.dep_keys) == {dg.AssetKey("orders"), dg.AssetKey("customers")}
    assert report.input_keys == {"raw": dg.AssetKey("orders")}


def test_attributes_are_recorded_on_the_spec():
    @dg.asset(
        key_prefix=["warehouse"],
        group_name="sales",
        metadata={"rows": 3, "owner_url": dg.MetadataValue.url("https://x")},
        tags={"tier": "gold"},
        owners=["team:data", "ana@example.com"],
        kinds={"python"},
        code_version="2",
    )
    def daily_sales():
        """Sales per day."""
        return 1

    spec = daily_sales.specs[0]
    assert spec.key == dg.AssetKey(["warehouse", "daily_sales"])
    assert daily_sales.node_name == "warehouse__daily_sales"
    assert spec.description == "Sales per day."
    assert spec.metadata["rows"] == 3  # as given, as in Dagster; wrapped only on the wire
    assert spec.metadata["owner_url"].kind == "url"
    assert spec.tags == {"tier": "gold"}
    assert spec.owners == ("team:data", "ana@example.com")
    assert spec.kinds == {"python"}
    assert spec.code_version == "2"
    assert spec.group_name == "sales"


def test_an_asset_spec_is_small_and_frozen():
    # A code server keeps a spec per asset, and its zygote maps the same pages: with a
    # __dict__ each was 520 bytes, 5 MB of a 10,000-asset location.
    per_spec = bytes_per_item(
        """
        import weir as dg
        keys = [dg.AssetKey(f"a_{i}") for i in range(1000)]
        """,
        "dg.AssetSpec(keys[i])",
    )
    assert per_spec < 200, per_spec

    spec = dg.AssetSpec("orders", deps=["raw"], group_name="sales", tags={"tier": "gold"})
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.group_name = "other"  # type: ignore[misc]
    moved = spec.replace_attributes(group_name="finance")
    assert (moved.key, moved.dep_keys, moved.group_name) == (spec.key, spec.dep_keys, "finance")
    assert moved.tags == {"tier": "gold"}
    assert spec.merge_attributes(tags={"pii": "no"}).tags == {"tier": "gold", "pii": "no"}


def test_an_asset_definition_holds_its_fields_in_slots():
    # One per asset too: 629 bytes for one of a single spec with a __dict__, 572 in slots
    # (the definition, its per-key mappings and the parameters of its missing function).
    per_definition = bytes_per_item(
        """
        import weir as dg
        specs = [dg.AssetSpec(f"a_{i}") for i in range(1000)]
        """,
        "dg.AssetsDefinition(node_name=specs[i].key.path[0], specs=[specs[i]])",
    )
    assert per_definition < 600, per_definition
    one = dg.AssetsDefinition(node_name="a_0", specs=[dg.AssetSpec("a_0")])
    moved = dg.with_resources([one], {"store": dg.mem_io_manager})[0]
    assert moved.resource_defs.keys() == {"store"} and one.resource_defs == {}


def test_a_functions_parameters_are_read_into_little_memory():
    # One per asset, for good: 454 bytes for a one-input function at first, 281 since
    # FunctionParams has slots and shares its empty resource parameters, and the empty
    # __annotations__ dict that reading them gives the function is let go again.
    from weir._signature import read_params

    per_function = bytes_per_item(
        """
        from weir._signature import read_params
        functions = [eval("lambda upstream: upstream") for _ in range(1000)]
        """,
        'read_params(functions[i], "an asset")',
    )
    assert per_function < 300, per_function
    function = eval("lambda upstream: upstream")
    params = read_params(function, "an asset")
    assert params.input_params == {"upstream": None}
    assert params.resource_params == {}
    assert function.__annotations__ == {}  # still reads as it did


def test_functions_with_the_same_parameters_share_what_was_read_of_them():
    # Generated graphs define thousands of assets from one function body: each kept its
    # own parameters (about 270 bytes with two inputs), 2.7 MB of a 10,000-asset code
    # server and as much again in the pages of its zygote.
    from weir._signature import read_params

    per_function = bytes_per_item(
        """
        from weir._signature import read_params
        functions = [eval("lambda left, right: left + right") for _ in range(1000)]
        read_params(functions[0], "an asset")
        """,
        'read_params(functions[i], "an asset")',
    )
    assert per_function < 20, per_function
    pair = [read_params(eval("lambda left, right: left + right"), "an asset") for _ in range(2)]
    assert pair[0] is pair[1] and pair[1].input_params == {"left": None, "right": None}

    # Parameters that read differently are not mixed up, nor is a hint that cannot be hashed.
    class Unhashable:
        __hash__ = None  # type: ignore[assignment]

    def typed(left: int, right) -> int:
        return left

    def odd(left: Unhashable(), right):  # type: ignore[valid-type]
        return left

    assert read_params(typed, "an asset").input_params == {"left": int, "right": None}
    assert read_params(typed, "an asset").return_hint is int
    assert read_params(odd, "an asset").input_params["right"] is None
    assert read_params(eval("lambda right: right"), "an asset").input_params == {"right": None}


def test_key_parses_slash_strings_and_prefixes():
    key = dg.AssetKey("raw/orders")
    assert key.path == ("raw", "orders")
    assert key == dg.AssetKey(["raw", "orders"])
    assert key.to_user_string() == "raw/orders"
    assert dg.AssetKey("orders").with_prefix("raw") == key
    assert key.has_prefix(["raw"])


def _one():
    return 1


def _identity(a):
    return a


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda: dg.asset(name="x", owners=["nobody"])(_one), "email address or 'team:"),
        (lambda: dg.asset(name="bad name")(_one), "not a valid name"),
        (lambda: dg.AssetKey(["a", ""]), "non-empty"),
        (lambda: dg.asset(ins={"zzz": dg.AssetIn()})(_identity), "no parameters with those"),
        (lambda: dg.asset(metadata={"x": object()})(_one), "Metadata 'x'"),
    ],
)
def test_bad_declarations_say_what_to_fix(build, message):
    with pytest.raises(dg.DefinitionError, match=message):
        build()


def test_self_dependency_is_an_error():
    with pytest.raises(dg.DefinitionError, match="depends on itself"):

        @dg.asset(deps=["loop"])
        def loop():
            return 1


def test_multi_asset_outs_and_specs():
    @dg.multi_asset(outs={"users": dg.AssetOut(group_name="g"), "events": dg.AssetOut()})
    def load(source):
        return source, source

    assert load.keys == (dg.AssetKey("users"), dg.AssetKey("events"))
    assert load.specs[0].group_name == "g"
    assert all(dg.AssetKey("source") in s.dep_keys for s in load.specs)
    with pytest.raises(dg.DefinitionError, match=r"use \.keys"):
        _ = load.key

    @dg.multi_asset(specs=[dg.AssetSpec("x"), dg.AssetSpec("y", deps=["x0"])])
    def xy():
        yield dg.MaterializeResult(asset_key="x")
        yield dg.MaterializeResult(asset_key="y")

    assert xy.specs[1].dep_keys == (dg.AssetKey("x0"),)


def test_assets_can_be_called_directly_in_unit_tests():
    @dg.asset
    def double(number: int) -> int:
        return number * 2

    @dg.asset
    def with_context(context) -> str:
        return context.asset_key.to_user_string()

    assert double(4) == 8
    assert with_context() == "with_context"


def test_spec_replace_keeps_other_attributes():
    spec = dg.AssetSpec("a", group_name="g", tags={"k": "v"})
    other = spec.replace(group_name="h")
    assert other.group_name == "h" and other.tags == {"k": "v"} and other.key == spec.key


def test_definition_metadata_that_the_wire_cannot_carry_fails_at_definition():
    with pytest.raises(dg.DefinitionError, match="'handle'"):
        dg.AssetSpec("orders", metadata={"handle": object()})


@pytest.mark.parametrize("group", ["marketing/attribution", "a/b/c", "sales"])
def test_group_names_nest_with_slashes(group):
    assert dg.AssetSpec("orders", group_name=group).group_name == group


@pytest.mark.parametrize("group", ["/marketing", "marketing/", "a//b", "a b"])
def test_a_group_name_with_an_empty_or_bad_segment_is_refused(group):
    with pytest.raises(dg.DefinitionError, match="nested groups"):
        dg.AssetSpec("orders", group_name=group)


@pytest.mark.parametrize(
    ("internal_asset_deps", "message"),
    [
        ({"nope": set()}, r"internal_asset_deps names outputs \['nope'\]"),
        ({"a": {"elsewhere"}}, "'elsewhere', which is neither an input or dep"),
        ({"a": {"a"}}, "output 'a' depends on itself"),
    ],
)
def test_internal_asset_deps_that_name_unknown_outputs_or_assets_are_refused(
    internal_asset_deps, message
):
    with pytest.raises(dg.DefinitionError, match=message):

        @dg.multi_asset(
            outs={"a": dg.AssetOut(), "b": dg.AssetOut()},
            deps=["upstream"],
            internal_asset_deps=internal_asset_deps,
        )
        def pair():
            return 1, 2


def test_internal_asset_deps_with_specs_is_refused():
    with pytest.raises(dg.DefinitionError, match="AssetSpec"):
        dg.multi_asset(specs=[dg.AssetSpec("a")], internal_asset_deps={"a": set()})
