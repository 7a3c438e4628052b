"""Selection strings on the control plane: SnapshotGraph.resolve reads every string as the
SDK's AssetSelection does, over a graph rebuilt from a definitions snapshot."""

from __future__ import annotations

from pathlib import Path

import pytest
import weir as dg
from hypothesis import given, settings
from hypothesis import strategies as st
from kept_memory import bytes_per_item
from weir_controlplane.api.asset_graph import DeploymentGraph
from weir_controlplane.errors import InvalidArgumentError
from weir_controlplane.locations import SnapshotGraph
from weir_protos.v1 import common_pb2, definitions_pb2


def _noop():
    return None


# The same graph twice: as SDK definitions, and as the snapshot a code location sends.
#
# raw/orders ──┐
# raw/users ───┼─> staging/joined ─> marts/revenue ─┬─> dashboard
# vendor/prices┘  (external)       └> marts/churn ──┘
#                                      marts/revenue ─> report/pdf + report/csv (one step)
ASSETS = [
    # key, deps, group, owners, kinds, tags, executable
    ("raw/orders", [], "raw", ["team:data"], ["python"], {"tier": "bronze"}, True),
    ("raw/users", [], "raw", ["ana@example.com"], [], {"tier": "bronze", "pii": ""}, True),
    ("vendor/prices", [], "raw", ["team:data"], ["csv"], {}, False),
    (
        "staging/joined",
        ["raw/orders", "raw/users", "vendor/prices"],
        "staging",
        [],
        ["dbt"],
        {"tier": "silver"},
        True,
    ),
    ("marts/revenue", ["staging/joined"], "marts", ["team:data"], ["dbt"], {"tier": "gold"}, True),
    ("marts/churn", ["staging/joined"], "marts", [], [], {}, True),
    ("dashboard", ["marts/revenue", "marts/churn"], None, [], [], {}, True),
    ("report/pdf", ["marts/revenue"], "reports", [], [], {}, True),
    ("report/csv", ["marts/revenue"], "reports", [], [], {}, True),
    ("2", ["dashboard"], None, [], [], {}, True),
    ("my key", ["2"], None, [], [], {"owner note": "x y"}, True),
]


def sdk_definitions(assets=ASSETS) -> dg.Definitions:
    defs = []
    for key, deps, group, owners, kinds, tags, executable in assets:
        spec = dict(deps=deps, group_name=group, owners=owners, kinds=kinds, tags=tags)
        if executable:
            defs.append(dg.asset(key=key, **spec)(_noop))
        else:
            defs.append(dg.AssetSpec(key, **spec))
    return dg.Definitions(assets=defs)


def _key(text: str) -> common_pb2.AssetKey:
    return common_pb2.AssetKey(path=text.split("/"))


def snapshot(assets=ASSETS, content_hash="sha256:test") -> definitions_pb2.DefinitionsSnapshot:
    return definitions_pb2.DefinitionsSnapshot(
        content_hash=content_hash,
        assets=[
            definitions_pb2.AssetNode(
                key=_key(key),
                deps=[definitions_pb2.AssetDep(asset_key=_key(d)) for d in deps],
                group_name=group or "default",
                owners=owners,
                kinds=kinds,
                tags=tags,
                is_executable=executable,
            )
            for key, deps, group, owners, kinds, tags, executable in assets
        ],
    )


DEFS = sdk_definitions()
GRAPH = SnapshotGraph(snapshot())


def sdk_resolve(text: str, defs: dg.Definitions = DEFS) -> set[str]:
    return {k.to_user_string() for k in dg.AssetSelection.from_string(text).resolve(defs)}


PARITY_STRINGS = [
    "dashboard",
    '"raw/orders"',
    "*marts/revenue",
    "+marts/revenue",
    "++marts/revenue",
    "2+marts/revenue",
    "0+marts/revenue",
    "marts/churn*",
    "staging/joined++",
    "raw/orders+2",
    "+marts/churn+",
    "*",
    "key:marts/*",
    "key:*s/*",
    "key:report/*+",
    "key_substring:ar",
    "group:raw",
    "group:default",
    'group:"marts"',
    "group:staging+",
    "tag:tier=gold",
    "tag:pii",
    'tag:pii=""',
    'tag:"owner note"="x y"',
    "owner:team:data",
    "owner:ana@example.com",
    "kind:dbt",
    "kind:csv",
    "roots(*)",
    "sinks(group:marts)",
    "group:raw, group:staging",
    "dashboard raw/orders+",
    "kind:dbt and owner:team:data",
    "*dashboard and not group:marts",
    "not (group:raw or group:marts)",
    "NOT group:default AND kind:dbt OR dashboard",
    "vendor/prices+ and not group:marts",
    "*(dashboard or report/pdf) and tag:tier",
    'key:"2"+',
    'key:"my key"',
    '2+"my key"',
    "*dashboard and not 1+dashboard",
]


@pytest.mark.parametrize("text", PARITY_STRINGS)
def test_a_selection_string_picks_the_same_assets_as_in_the_sdk(text):
    assert GRAPH.resolve(text) == sdk_resolve(text)


def test_external_assets_are_selected_by_key_but_not_by_attribute_or_walk():
    assert GRAPH.resolve("vendor/prices") == {"vendor/prices"}
    assert "vendor/prices" not in GRAPH.resolve("group:raw")
    assert "vendor/prices" not in GRAPH.resolve("*staging/joined")
    assert GRAPH.resolve("vendor/prices+") == {"vendor/prices", "staging/joined"}


@pytest.mark.parametrize(
    "text",
    ["", "a and", "(a or b", "a)", "raw/*", "colour:red", "upstream(a)", "a++2", "group:", '""'],
)
def test_a_malformed_string_is_invalid_argument_with_the_sdk_message(text):
    with pytest.raises(dg.SelectionError) as sdk_error:
        dg.AssetSelection.from_string(text)
    with pytest.raises(InvalidArgumentError) as raised:
        GRAPH.resolve(text)
    assert raised.value.message == str(sdk_error.value)
    assert raised.value.message.startswith("Invalid asset selection: ")
    assert raised.value.message.splitlines()[-1].endswith("^")


def test_unknown_keys_are_invalid_argument_naming_them_with_suggestions():
    text = "(marts/revenu or joined or nope) and group:raw"
    with pytest.raises(InvalidArgumentError) as raised:
        GRAPH.resolve(text)
    message = raised.value.message
    assert "'marts/revenu' (did you mean 'marts/revenue'" in message
    assert "'joined' (did you mean 'staging/joined'?)" in message
    assert "'nope'" in message
    with pytest.raises(dg.SelectionError) as sdk_error:
        dg.AssetSelection.from_string(text).resolve(DEFS)
    assert message == str(sdk_error.value)


def test_a_dep_on_an_asset_no_snapshot_defines_is_not_walked():
    graph = SnapshotGraph(snapshot([("b", ["elsewhere/a"], None, [], [], {}, True)]))
    assert graph.resolve("*b") == {"b"}
    with pytest.raises(InvalidArgumentError, match="'elsewhere/a'"):
        graph.resolve("elsewhere/a")


def test_a_graph_keeps_one_string_per_asset_key():
    # Each edge names its upstream by the upstream's own key string: a string per edge
    # was 1 MB of a 10,000-asset graph.
    keys = {key: key for key in GRAPH.nodes}
    for key, parents in GRAPH.parents.items():
        for parent in parents:
            assert parent is keys[parent], (key, parent)
    for key, children in GRAPH.children.items():
        assert all(child is keys[child] for child in children), key


def _layered(count: int) -> list[tuple]:
    return [
        (f"a_{i // 100}_{i % 100}", [] if i < 100 else [f"a_{i // 100 - 1}_{i % 100}",
                                                      f"a_{i // 100 - 1}_{(i + 1) % 100}"],
         None, [], [], {}, True)
        for i in range(count)
    ]  # fmt: skip


def test_a_large_graph_keeps_little_per_asset():
    # The control plane keeps every loaded graph and its automation facts for good: this
    # one took 850 bytes an asset before their parts were made compact, 570 since.
    kept = bytes_per_item(
        """
        from test_snapshot_selection import SnapshotGraph, _layered, snapshot

        message = snapshot(_layered(2000))

        def loaded(message):
            graph = SnapshotGraph(message)
            graph.automation_digests  # made at load, as the registry does
            return graph
        """,
        "loaded(message)",
        count=1,
        paths=[str(Path(__file__).parent)],
    )
    assert kept / 2000 < 650, kept / 2000
    graph = SnapshotGraph(snapshot(_layered(2000)))
    assert graph.parents["a_1_99"] == ("a_0_99", "a_0_0")
    assert set(graph.children["a_0_0"]) == {"a_1_0", "a_1_99"}


def test_a_deployment_resolves_across_its_code_locations():
    upstream = SnapshotGraph(snapshot(ASSETS[:3], content_hash="sha256:ingest"))
    downstream = SnapshotGraph(snapshot(ASSETS[3:], content_hash="sha256:marts"))
    deployment = DeploymentGraph({"ingest": upstream, "marts": downstream})
    assert deployment.resolve("*marts/revenue") == sdk_resolve("*marts/revenue")
    assert deployment.resolve("raw/users+2") == {"raw/users", "staging/joined", "marts/revenue",
                                                 "marts/churn"}  # fmt: skip


# -- parity on random graphs ----------------------------------------------------------------

_NAMES = ["a", "b/c", "2", "and", "x y", "d-e.f", "b/c/d", "Or"]
_GROUPS = ["g1", "g2", None]


@st.composite
def graphs(draw):
    """A random DAG of some of `_NAMES` (a fifth external), as ASSETS-style rows."""
    names = draw(st.permutations(_NAMES))[: draw(st.integers(1, len(_NAMES)))]
    rows = []
    for i, name in enumerate(names):
        deps = [names[j] for j in range(i) if draw(st.booleans())]
        tags = {"t": draw(st.sampled_from(["1", "2"]))} if draw(st.booleans()) else {}
        kinds = draw(st.sampled_from([[], ["dbt"], ["dbt", "python"]]))
        owners = draw(st.sampled_from([[], ["team:x"]]))
        executable = draw(st.integers(0, 4)) != 0
        group = draw(st.sampled_from(_GROUPS))
        rows.append((name, deps, group, owners, kinds, tags, executable))
    return rows


def _extend(inner):
    depths = st.none() | st.integers(0, 3)
    return (
        st.tuples(inner, inner).map(lambda p: p[0] | p[1])
        | st.tuples(inner, inner).map(lambda p: p[0] & p[1])
        | st.tuples(inner, inner).map(lambda p: p[0] - p[1])
        | st.tuples(inner, depths).map(lambda p: p[0].upstream(p[1]))
        | st.tuples(inner, depths).map(lambda p: p[0].downstream(p[1]))
        | inner.map(lambda s: s.roots())
        | inner.map(lambda s: s.sinks())
    )


S = dg.AssetSelection
selections = st.recursive(
    st.sampled_from(["g1", "g2", "default"]).map(S.groups)
    | st.sampled_from([None, "1", "2"]).map(lambda v: S.tag("t", v))
    | st.sampled_from(["dbt", "python"]).map(S.kind)
    | st.just(S.owner("team:x"))
    | st.sampled_from(["b/*", "*c*", "a", '"x y"']).map(lambda p: S.from_string(f"key:{p}"))
    | st.just(S.all()),
    _extend,
    max_leaves=5,
)


@settings(max_examples=100, deadline=None)
@given(graphs(), selections)
def test_random_selections_pick_the_same_assets_on_both_sides(rows, selection):
    text = str(selection)
    try:
        expected = sdk_resolve(text, sdk_definitions(rows))
    except dg.SelectionError as error:  # an exact key the graph lacks
        with pytest.raises(InvalidArgumentError) as raised:
            SnapshotGraph(snapshot(rows)).resolve(text)
        assert raised.value.message == str(error)
    else:
        assert SnapshotGraph(snapshot(rows)).resolve(text) == expected
