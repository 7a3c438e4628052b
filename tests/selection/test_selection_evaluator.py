"""weir_selection's evaluator: selections resolved over a SelectionGraph of plain values."""

from collections.abc import Mapping
from dataclasses import dataclass, field

import pytest
import weir_selection as ws
from hypothesis import given, settings
from hypothesis import strategies as st
from weir_selection import SelectionGraph, evaluate, parse, resolve


@dataclass(frozen=True)
class Asset:
    """Anything with these four attributes will do (the SDK's AssetSpec, a weir.v1 AssetNode)."""

    group_name: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    owners: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()


# src (external) ─> raw/a ─> mid ─┬─> out/x ─> final
#                   raw/b ──────┘ └─> out/y
#   out/x and out/y only run together
KEYS = ["src", "raw/a", "raw/b", "mid", "out/x", "out/y", "final"]
PARENTS = [[], [0], [], [1, 2], [3], [3], [4]]
ATTRIBUTES = [
    Asset("raw", owners=("team:ingest",), kinds=("csv",)),
    Asset("raw", tags={"tier": "bronze"}, owners=("team:ingest",)),
    Asset("raw", tags={"tier": "bronze", "pii": ""}),
    Asset("", tags={"tier": "silver"}, kinds=("dbt", "python")),  # "" is the default group
    Asset("out", tags={"tier": "gold"}, owners=("ana@example.com",), kinds=("dbt",)),
    Asset("out", kinds=("dbt",)),
    Asset(None),
]
GRAPH = SelectionGraph(KEYS, PARENTS, ATTRIBUTES, external=[0], run_together=[[4, 5]])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("*", {"raw/a", "raw/b", "mid", "out/x", "out/y", "final"}),
        ("src", {"src"}),  # an external asset named by key is selected
        ("src+", {"src", "raw/a"}),
        ("group:raw", {"raw/a", "raw/b"}),  # attributes skip external assets
        ("group:default", {"mid", "final"}),
        ("tag:tier", {"raw/a", "raw/b", "mid", "out/x"}),
        ("tag:tier=bronze", {"raw/a", "raw/b"}),
        ('tag:pii=""', {"raw/b"}),
        ("owner:team:ingest", {"raw/a"}),
        ("owner:ana@example.com", {"out/x"}),
        ("kind:dbt", {"mid", "out/x", "out/y"}),
        ("kind:python", {"mid"}),
        ("key:raw/*", {"raw/a", "raw/b"}),
        ("key:*/*", {"raw/a", "raw/b", "out/x", "out/y"}),
        ("key:o*t/*", {"out/x", "out/y"}),
        ("key:*a*", {"raw/a", "raw/b", "final"}),
        ("key_substring:i", {"mid", "final"}),
        ("*mid", {"mid", "raw/a", "raw/b"}),  # the walk passes src by, adding nothing
        ("+mid", {"mid", "raw/a", "raw/b"}),
        ("mid+", {"mid", "out/x", "out/y"}),
        ("mid++", {"mid", "out/x", "out/y", "final"}),
        ("mid+1", {"mid", "out/x", "out/y"}),
        ("0+mid", {"mid"}),
        ("+mid+", {"raw/a", "raw/b", "mid", "out/x", "out/y"}),
        ("roots(*)", {"raw/a", "raw/b"}),
        ("roots(mid*)", {"mid"}),
        ("sinks(*)", {"out/y", "final"}),
        ("*final and not group:raw", {"final", "out/x", "mid"}),
        ("src+ and not group:raw", {"src"}),  # a difference keeps the external asset
        ("src+ and (not group:raw)", set()),  # `not y` alone: every runnable asset but y
        ("kind:dbt and tag:tier", {"mid", "out/x"}),
        ("group:nothing", set()),
        ("key:nothing/*", set()),
    ],
)
def test_strings_resolve_to_keys(text, expected):
    assert resolve(text, GRAPH) == expected


def test_include_sources_adds_external_assets_to_attribute_matches_and_walks():
    def keys(text):
        return GRAPH.keys_of(evaluate(parse(text, include_sources=True), GRAPH))

    assert keys("group:raw") == {"src", "raw/a", "raw/b"}
    assert keys("*mid") == {"src", "raw/a", "raw/b", "mid"}
    assert "src" in keys("*")


def test_selections_without_a_string_form_evaluate_too():
    def keys(node):
        return GRAPH.keys_of(evaluate(node, GRAPH))

    x = ws.Keys(("out/x",))
    assert keys(ws.RunTogether(x)) == {"out/x", "out/y"}
    assert keys(ws.RunTogether(ws.Keys(("mid",)))) == {"mid"}
    assert keys(ws.ExternalParents(x)) == {"src"}
    assert keys(ws.Materializable(ws.AllAssets(include_sources=True))) == keys(ws.AllAssets())
    assert keys(ws.KeyPrefixes((("raw",), ("out", "y")))) == {"raw/a", "raw/b", "out/y"}
    assert keys(ws.KeyPrefixes((("ra",),))) == set()  # whole path parts, not characters
    assert keys(ws.Upstream(ws.Keys(("mid",)), include_self=False)) == {"raw/a", "raw/b"}


def test_unknown_keys_are_reported_once_with_suggestions():
    with pytest.raises(ws.UnknownAssetsError) as raised:
        resolve("(mdi or out/z or a or nothing) and group:raw", GRAPH)
    error = raised.value
    assert error.keys == ("mdi", "out/z", "a", "nothing")
    assert error.suggestions["mdi"] == ("mid",)
    assert set(error.suggestions["out/z"]) == {"out/x", "out/y"}
    assert error.suggestions["a"] == ("raw/a",)  # same last path part
    assert error.suggestions["nothing"] == ()
    assert str(error) == (
        "The selection names assets not in these definitions: 'mdi' (did you mean 'mid'?); "
        "'out/z' (did you mean 'out/y' or 'out/x'?); 'a' (did you mean 'raw/a'?); "
        "'nothing'. Check the spelling, or add the asset to the Definitions"
    )


def test_allow_missing_selects_nothing_for_unknown_keys():
    assert evaluate(parse("mid or nope"), GRAPH, allow_missing=True) == {KEYS.index("mid")}


def test_a_graph_without_attributes_puts_every_asset_in_the_default_group():
    graph = SelectionGraph(["a", "b"], [[], [0]])
    assert resolve("group:default", graph) == {"a", "b"}
    assert resolve("group:other or tag:t or owner:o or kind:k", graph) == set()
    assert graph.children == [(1,), ()]


def test_graph_keys_must_be_unique_and_complete():
    with pytest.raises(ValueError, match=r"repeated: \['a'\]"):
        SelectionGraph(["a", "a"], [[], []])
    with pytest.raises(ValueError, match="parents and attributes for every key"):
        SelectionGraph(["a", "b"], [[]])


def test_a_long_chain_resolves_without_recursion():
    size = 20_000
    graph = SelectionGraph([f"n{i}" for i in range(size)], [[]] + [[i] for i in range(size - 1)])
    assert len(resolve(f"*n{size - 1}", graph)) == size
    assert resolve(f"3+n{size - 1}", graph) == {f"n{i}" for i in range(size - 4, size)}
    assert resolve(f"roots(*n{size - 1})", graph) == {"n0"}


# -- laws, on random graphs -----------------------------------------------------------------

_NAMES = ["a", "b/c", "2", "and", "x y", 'q"t', "b/c/d", "Or"]


@st.composite
def graphs(draw):
    names = draw(st.permutations(_NAMES))[: draw(st.integers(1, len(_NAMES)))]
    parents = [[j for j in range(i) if draw(st.booleans())] for i in range(len(names))]
    attributes = [
        Asset(
            draw(st.sampled_from(["g1", "g2", None])), tags=draw(st.sampled_from([{}, {"t": "1"}]))
        )
        for _ in names
    ]
    external = [i for i in range(len(names)) if draw(st.integers(0, 4)) == 0]
    return SelectionGraph(names, parents, attributes, external=external)


def _extend(inner):
    depths = st.none() | st.integers(0, 3)
    return (
        st.tuples(inner, inner).map(lambda p: ws.union(*p))
        | st.tuples(inner, inner).map(lambda p: ws.intersection(*p))
        | st.tuples(inner, inner).map(lambda p: ws.Difference(*p))
        | st.tuples(inner, depths, st.booleans()).map(lambda p: ws.Upstream(*p))
        | st.tuples(inner, depths, st.booleans()).map(lambda p: ws.Downstream(*p))
        | inner.map(ws.Roots)
        | inner.map(ws.Sinks)
    )


nodes = st.recursive(
    st.sampled_from(_NAMES).map(lambda name: ws.Keys((name,)))
    | st.sampled_from(["g1", "g2", "default"]).map(lambda g: ws.Groups((g,)))
    | st.sampled_from([None, "1"]).map(lambda v: ws.Tag("t", v))
    | st.sampled_from(["b/*", "*c*", "*"]).map(ws.KeyPattern)
    | st.just(ws.AllAssets()),
    _extend,
    max_leaves=6,
)
_laws = settings(max_examples=150, deadline=None)


def _positions(node, graph):
    return evaluate(node, graph, allow_missing=True)


@_laws
@given(graphs(), nodes)
def test_every_selection_reads_back_from_its_text(graph, node):
    assert _positions(parse(ws.to_text(node)), graph) == _positions(node, graph)


@_laws
@given(graphs(), nodes, nodes)
def test_set_operators_are_set_algebra(graph, a, b):
    x, y = _positions(a, graph), _positions(b, graph)
    assert _positions(ws.union(a, b), graph) == x | y
    assert _positions(ws.intersection(a, b), graph) == x & y
    assert _positions(ws.Difference(a, b), graph) == x - y


@_laws
@given(graphs(), nodes)
def test_upstream_is_every_ancestor_that_can_run(graph, a):
    start = _positions(a, graph)
    ancestors = set(start)
    while more := {p for i in ancestors for p in graph.parents[i]} - ancestors:
        ancestors |= more
    assert _positions(ws.Upstream(a, include_sources=True), graph) == ancestors
    assert _positions(ws.Upstream(a), graph) == (ancestors & graph.executable) | start
