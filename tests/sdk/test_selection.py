"""AssetSelection: the Python API, the selection-string syntax, its errors, and its laws."""

import pickle
from dataclasses import FrozenInstanceError

import pytest
import weir as dg
from hypothesis import given, settings
from hypothesis import strategies as st
from weir import AssetSelection as S


def _noop():
    return None


# raw/orders ──┐
# raw/users ───┼─> staging/joined ─> marts/revenue ─┬─> dashboard
# vendor/prices┘  (external)       └> marts/churn ──┘
#                                      marts/revenue ─> report/pdf + report/csv (one step)
orders = dg.asset(
    key="raw/orders",
    group_name="raw",
    owners=["team:data"],
    kinds=["python"],
    tags={"tier": "bronze"},
)(_noop)
users = dg.asset(
    key="raw/users",
    group_name="raw",
    owners=["ana@example.com"],
    tags={"tier": "bronze", "pii": ""},
)(_noop)
prices = dg.AssetSpec("vendor/prices", group_name="raw", owners=["team:data"], kinds=["csv"])
joined = dg.asset(
    key="staging/joined",
    deps=["raw/orders", "raw/users", "vendor/prices"],
    group_name="staging",
    kinds=["dbt"],
    tags={"tier": "silver"},
)(_noop)
revenue = dg.asset(
    key="marts/revenue",
    deps=["staging/joined"],
    group_name="marts",
    owners=["team:data"],
    kinds=["dbt"],
    tags={"tier": "gold"},
)(_noop)
churn = dg.asset(key="marts/churn", deps=["staging/joined"], group_name="marts")(_noop)
dashboard = dg.asset(key="dashboard", deps=["marts/revenue", "marts/churn"])(_noop)


@dg.multi_asset(
    specs=[dg.AssetSpec("report/pdf"), dg.AssetSpec("report/csv")],
    deps=["marts/revenue"],
    group_name="reports",
)
def report():
    return None


@dg.multi_asset(
    specs=[dg.AssetSpec("exports/a"), dg.AssetSpec("exports/b")],
    deps=["marts/churn"],
    can_subset=True,
)
def exports():
    return None


@dg.asset_check(asset="marts/revenue")
def revenue_positive():
    return dg.AssetCheckResult(passed=True)


ALL_ASSETS = [orders, users, prices, joined, revenue, churn, dashboard, report, exports]
DEFS = dg.Definitions(assets=ALL_ASSETS, asset_checks=[revenue_positive])
EVERY_EXECUTABLE = {
    "raw/orders", "raw/users", "staging/joined", "marts/revenue", "marts/churn", "dashboard",
    "report/pdf", "report/csv", "exports/a", "exports/b",
}  # fmt: skip


def names(selection, target=DEFS):
    return {key.to_user_string() for key in selection.resolve(target)}


# -- the Python API -------------------------------------------------------------------------


def test_all_selects_every_asset_weir_can_materialize():
    assert names(S.all()) == EVERY_EXECUTABLE
    assert names(S.all(include_sources=True)) == EVERY_EXECUTABLE | {"vendor/prices"}


@pytest.mark.parametrize(
    ("selection", "expected"),
    [
        (S.groups("raw"), {"raw/orders", "raw/users"}),
        (S.groups("raw", include_sources=True), {"raw/orders", "raw/users", "vendor/prices"}),
        (S.groups("marts", "reports"), {"marts/revenue", "marts/churn", "report/pdf",
                                        "report/csv"}),
        (S.groups("default"), {"dashboard", "exports/a", "exports/b"}),
        (S.groups("nope"), set()),
        (S.tag("tier", "bronze"), {"raw/orders", "raw/users"}),
        (S.tag("pii"), {"raw/users"}),
        (S.tag("pii", ""), {"raw/users"}),
        (S.tag_string("pii="), {"raw/users"}),
        (S.tag("tier", "platinum"), set()),
        (S.tag_string("tier=gold"), {"marts/revenue"}),
        (S.tag_string("tier"), {"raw/orders", "raw/users", "staging/joined", "marts/revenue"}),
        (S.owner("team:data"), {"raw/orders", "marts/revenue"}),
        (S.owner("team:data", include_sources=True), {"raw/orders", "marts/revenue",
                                                      "vendor/prices"}),
        (S.owner("ana@example.com"), {"raw/users"}),
        (S.kind("dbt"), {"staging/joined", "marts/revenue"}),
        (S.kind("csv", include_sources=True), {"vendor/prices"}),
        (S.key_prefixes("raw"), {"raw/orders", "raw/users"}),
        (S.key_prefixes(["marts", "churn"], "report"), {"marts/churn", "report/pdf", "report/csv"}),
        (S.key_prefixes("mar"), set()),  # whole path parts, not characters
        (S.key_substring("ar"), {"marts/revenue", "marts/churn", "dashboard"}),
        (S.key_substring("s/r"), {"marts/revenue"}),
    ],
)  # fmt: skip
def test_attribute_selections(selection, expected):
    assert names(selection) == expected


def test_assets_accepts_keys_strings_paths_definitions_and_specs():
    selection = S.assets(dg.AssetKey("dashboard"), "raw/orders", ["marts", "churn"], report, prices)
    assert names(selection) == {
        "dashboard", "raw/orders", "marts/churn", "report/pdf", "report/csv", "vendor/prices",
    }  # fmt: skip
    assert S.keys("raw/orders", ["marts", "churn"]) == S.assets("raw/orders", "marts/churn")
    assert names(S.assets()) == set()


def test_upstream_and_downstream_by_depth():
    revenue_sel = S.assets("marts/revenue")
    assert names(revenue_sel.upstream(depth=1)) == {"marts/revenue", "staging/joined"}
    assert names(revenue_sel.upstream()) == {
        "marts/revenue", "staging/joined", "raw/orders", "raw/users",
    }  # fmt: skip
    assert names(revenue_sel.upstream(depth=0)) == {"marts/revenue"}
    assert names(revenue_sel.upstream(include_self=False)) == {
        "staging/joined", "raw/orders", "raw/users",
    }  # fmt: skip
    assert names(S.assets("raw/orders").downstream(depth=2)) == {
        "raw/orders", "staging/joined", "marts/revenue", "marts/churn",
    }  # fmt: skip
    assert names(S.assets("marts/churn").downstream(include_self=False)) == {
        "dashboard", "exports/a", "exports/b",
    }  # fmt: skip


def test_walks_pass_through_external_assets_but_add_them_only_on_request():
    assert "vendor/prices" not in names(S.assets("staging/joined").upstream())
    assert "vendor/prices" in names(S.assets("staging/joined").upstream(include_sources=True))
    # An external asset named by key is selected, and walking from it reaches Weir's assets.
    assert names(S.assets("vendor/prices").downstream(depth=1)) == {
        "vendor/prices", "staging/joined",
    }  # fmt: skip
    assert names(S.assets("dashboard").upstream_source_assets()) == {"vendor/prices"}
    assert names(S.all(include_sources=True).materializable()) == EVERY_EXECUTABLE
    assert names(S.from_string("vendor/prices+ and not group:marts")) == {
        "vendor/prices", "staging/joined",
    }  # fmt: skip


def test_roots_and_sinks_are_taken_within_the_selection():
    marts_down = S.groups("marts").downstream()
    assert names(marts_down.roots()) == {"marts/revenue", "marts/churn"}
    assert names(marts_down.sinks()) == {"dashboard", "report/pdf", "report/csv", "exports/a",
                                         "exports/b"}  # fmt: skip
    assert names(S.all().roots()) == {"raw/orders", "raw/users"}
    # A root of a selection may well have parents outside it.
    assert names(S.groups("staging").roots()) == {"staging/joined"}


def test_required_multi_asset_neighbors_adds_what_must_run_together():
    assert names(S.assets("report/pdf").required_multi_asset_neighbors()) == {
        "report/pdf", "report/csv",
    }  # fmt: skip
    # A multi_asset that can subset runs any part of itself alone.
    assert names(S.assets("exports/a").required_multi_asset_neighbors()) == {"exports/a"}
    assert names(S.assets("dashboard").required_multi_asset_neighbors()) == {"dashboard"}
    assert names(S.groups("reports").required_multi_asset_neighbors()) == {
        "report/pdf", "report/csv",
    }  # fmt: skip
    assert names(S.tag("tier", "gold").downstream(1).required_multi_asset_neighbors()) == {
        "marts/revenue", "dashboard", "report/pdf", "report/csv",
    }  # fmt: skip


def test_set_operators():
    raw, bronze = S.groups("raw"), S.tag("tier", "bronze")
    assert names(raw | S.assets("dashboard")) == {"raw/orders", "raw/users", "dashboard"}
    assert names(S.owner("team:data") & raw) == {"raw/orders"}
    assert names(S.all() - S.groups("marts", "reports", "default", "staging")) == names(bronze)
    with pytest.raises(TypeError):
        raw | "group:marts"


def test_selections_are_immutable_values():
    first = S.groups("raw").upstream(depth=2) | S.tag("tier", "gold")
    second = S.groups("raw").upstream(depth=2) | S.tag("tier", "gold")
    assert first == second
    assert hash(first) == hash(second)
    assert len({first, second, S.groups("raw")}) == 2
    assert S.groups("raw") != S.groups("marts")
    assert S.assets("a").upstream() != S.assets("a").downstream()
    with pytest.raises(FrozenInstanceError):
        S.groups("raw").include_sources = True  # type: ignore[misc]
    assert pickle.loads(pickle.dumps(first)) == first


def test_resolve_takes_a_graph_definitions_or_a_list_of_assets():
    expected = {"raw/orders", "raw/users", "staging/joined"}
    assert names(S.assets("staging/joined").upstream(), DEFS.get_asset_graph()) == expected
    target = [orders, users, prices, joined]  # the AssetSpec becomes an external asset
    assert names(S.assets("staging/joined").upstream(), target) == expected
    assert names(S.all(include_sources=True), target) == expected | {"vendor/prices"}
    with pytest.raises(dg.SelectionError, match="got int"):
        S.all().resolve(3)
    with pytest.raises(dg.SelectionError, match="got str"):
        S.all().resolve([orders, "raw/users"])


def test_resolve_checks_returns_the_checks_on_the_selected_assets():
    checks = S.groups("marts").resolve_checks(DEFS)
    assert {c.to_user_string() for c in checks} == {"marts/revenue:revenue_positive"}
    assert S.groups("raw").resolve_checks(DEFS) == set()


# -- selection strings ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("dashboard", {"dashboard"}),
        ("raw/orders", {"raw/orders"}),
        ('"raw/orders"', {"raw/orders"}),
        ("*marts/revenue", {"marts/revenue", "staging/joined", "raw/orders", "raw/users"}),
        ("+marts/revenue", {"marts/revenue", "staging/joined"}),
        ("++marts/revenue", {"marts/revenue", "staging/joined", "raw/orders", "raw/users"}),
        ("1+marts/revenue", {"marts/revenue", "staging/joined"}),
        ("0+marts/revenue", {"marts/revenue"}),
        ("marts/churn*", {"marts/churn", "dashboard", "exports/a", "exports/b"}),
        ("marts/revenue+", {"marts/revenue", "dashboard", "report/pdf", "report/csv"}),
        ("staging/joined++", {"staging/joined", "marts/revenue", "marts/churn", "dashboard",
                              "report/pdf", "report/csv", "exports/a", "exports/b"}),
        ("raw/orders+2", {"raw/orders", "staging/joined", "marts/revenue", "marts/churn"}),
        ("+marts/churn+", {"marts/churn", "staging/joined", "dashboard", "exports/a",
                           "exports/b"}),
        ("*", EVERY_EXECUTABLE),
        ("key:marts/revenue", {"marts/revenue"}),
        ("key:marts/*", {"marts/revenue", "marts/churn"}),
        ("key:*s/*", {"marts/revenue", "marts/churn", "exports/a", "exports/b"}),
        ("key:report/*+", {"report/pdf", "report/csv"}),
        ("key:nothing/*", set()),
        ("key_substring:ar", {"marts/revenue", "marts/churn", "dashboard"}),
        ("group:raw", {"raw/orders", "raw/users"}),
        ('group:"marts"', {"marts/revenue", "marts/churn"}),
        ("group:staging+", {"staging/joined", "marts/revenue", "marts/churn"}),
        ("group:nothing", set()),
        ("tag:tier=gold", {"marts/revenue"}),
        ("tag:pii", {"raw/users"}),
        ('tag:"tier"="silver"', {"staging/joined"}),
        ('tag:pii=""', {"raw/users"}),
        ("owner:team:data", {"raw/orders", "marts/revenue"}),
        ("owner:ana@example.com", {"raw/users"}),
        ("kind:dbt", {"staging/joined", "marts/revenue"}),
        ("roots(*)", {"raw/orders", "raw/users"}),
        ("sinks(group:marts)", {"marts/revenue", "marts/churn"}),
        ("sinks(*)", {"dashboard", "report/pdf", "report/csv", "exports/a", "exports/b"}),
        ("group:raw or group:staging", {"raw/orders", "raw/users", "staging/joined"}),
        ("group:raw group:staging", {"raw/orders", "raw/users", "staging/joined"}),
        ("group:raw, group:staging", {"raw/orders", "raw/users", "staging/joined"}),
        ("dashboard raw/orders+", {"dashboard", "raw/orders", "staging/joined"}),
        ("kind:dbt and owner:team:data", {"marts/revenue"}),
        ("*dashboard and not group:marts", {"dashboard", "staging/joined", "raw/orders",
                                            "raw/users"}),
        ("not (group:raw or group:marts or group:default)", {"staging/joined", "report/pdf",
                                                             "report/csv"}),
        ("NOT group:default AND kind:dbt OR dashboard", {"staging/joined", "marts/revenue",
                                                         "dashboard"}),
        ("not not group:raw", {"raw/orders", "raw/users"}),
        ("group:raw* and *group:marts", {"raw/orders", "raw/users", "staging/joined",
                                         "marts/revenue", "marts/churn"}),
        ("(group:raw)+", {"raw/orders", "raw/users", "staging/joined"}),
        ("*(dashboard or report/pdf) and tag:tier", {"raw/orders", "raw/users",
                                                     "staging/joined", "marts/revenue"}),
        ("  dashboard  ", {"dashboard"}),
    ],
)  # fmt: skip
def test_selection_strings(text, expected):
    assert names(S.from_string(text)) == expected


def test_selection_strings_build_the_same_values_as_the_python_api():
    a = S.assets("a")
    assert S.from_string("*a") == a.upstream()
    assert S.from_string("a*") == a.downstream()
    assert S.from_string("+a") == a.upstream(depth=1)
    assert S.from_string("++a") == S.from_string("2+a") == a.upstream(depth=2)
    assert S.from_string("a+++") == S.from_string("a+3") == a.downstream(depth=3)
    assert S.from_string("*a*") == a.upstream() | a.downstream()
    assert S.from_string("*") == S.all()
    assert S.from_string("group:g or tag:k=v") == S.groups("g") | S.tag("k", "v")
    assert S.from_string("owner:team:x and kind:dbt") == S.owner("team:x") & S.kind("dbt")
    assert S.from_string("not a") == S.all() - a
    assert S.from_string("group:g and not a") == S.groups("g") - a
    assert S.from_string("group:g and (not a)") == S.groups("g") & (S.all() - a)
    assert S.from_string("roots(a)") == a.roots()
    assert S.from_string("group:g", include_sources=True) == S.groups("g", include_sources=True)


def test_a_key_part_may_look_like_a_number_or_a_keyword():
    defs = dg.Definitions(
        assets=[
            dg.asset(key="2")(_noop),
            dg.asset(key="and", deps=["2"])(_noop),
            dg.asset(key="orders", deps=["and"])(_noop),
        ]
    )
    assert names(S.from_string("2+"), defs) == {"2", "and"}
    assert names(S.from_string("2+orders"), defs) == {"orders", "and", "2"}
    assert names(S.from_string('key:"and"'), defs) == {"and"}
    assert names(S.from_string('"and"+'), defs) == {"and", "orders"}
    assert names(S.from_string("orders and not 1+orders"), defs) == set()


def test_string_form_reads_back():
    cases = {
        S.assets("a").upstream(): "*a",
        S.assets("a").downstream(depth=2): "a+2",
        S.assets("a").upstream(depth=1) | S.groups("g"): "+a or group:g",
        S.groups("g", "h"): "group:g or group:h",
        S.groups("g", "h").downstream(): "(group:g or group:h)*",
        S.tag("k", "v") & S.owner("team:x"): "tag:k=v and owner:team:x",
        S.all() - S.kind("dbt"): "not kind:dbt",
        S.groups("g") - S.kind("dbt"): "group:g and not kind:dbt",
        S.groups("g") & (S.all() - S.kind("dbt")): "group:g and (not kind:dbt)",
        S.assets("a").upstream(include_self=False): "*a and not a",
        S.assets("my key", "2"): 'key:"my key" or key:"2"',
        S.assets("a").downstream().upstream(): "*(a*)",
        S.all().sinks(): "sinks(*)",
        S.from_string("key:raw/*"): "key:raw/*",
        S.from_string("key:raw/*").downstream(): "(key:raw/*)*",
    }
    for selection, text in cases.items():
        assert str(selection) == text  # reading back is a law tested on random graphs below


def test_selections_without_a_string_form_show_their_python_form():
    assert str(S.key_prefixes("raw")) == "AssetSelection.key_prefixes('raw')"
    assert repr(S.groups("g").upstream(depth=2)) == "AssetSelection.groups('g').upstream(depth=2)"
    with pytest.raises(dg.SelectionError, match="no selection-string form"):
        S.all(include_sources=True).to_selection_str()


def test_from_coercible():
    assert S.from_coercible(S.groups("raw")) == S.groups("raw")
    assert S.from_coercible("*dashboard") == S.assets("dashboard").upstream()
    assert S.from_coercible(dg.AssetKey("dashboard")) == S.assets("dashboard")
    assert S.from_coercible(report) == S.assets("report/pdf", "report/csv")
    assert S.from_coercible(prices) == S.assets("vendor/prices")
    # A list is the union of its items; each string is a selection string.
    assert S.from_coercible(["dashboard", dg.AssetKey("raw/users"), orders]) == S.assets(
        "dashboard", "raw/users", "raw/orders"
    )
    assert names(S.from_coercible(["group:raw", S.assets("dashboard")])) == {
        "raw/orders", "raw/users", "dashboard",
    }  # fmt: skip
    with pytest.raises(dg.SelectionError, match="got int: 3"):
        S.from_coercible(3)


# -- errors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message", "column"),
    [
        ("", "expected an asset key, an attribute such as group:name, or '*'", 1),
        ("a and", "expected a selection after 'and'", 6),
        ("a or ", "expected a selection after 'or'", 6),
        ("(a or b", "expected ')' to close the '(' opened at column 1", 8),
        ("a)", "found ')' without a matching '('", 2),
        ("()", "expected a selection inside the parentheses", 2),
        ("raw/*", "for every key under raw/ write key:raw/*", 1),
        ("raw//orders", "key path parts cannot be empty", 1),
        ("colour:red", "unknown attribute 'colour:'; expected one of key:, key_substring:", 1),
        ("upstream(a)", "unknown function 'upstream'; expected roots(...) or sinks(...)", 1),
        ("a+2b", "expected whitespace, an operator or ')' after this term", 4),
        ("a++2", "expected either repeated '+' or '+N', not both", 4),
        ("+", "after the traversal, found the end", 2),
        ("+ a", "after the traversal, found ' '", 2),
        ("group:", "expected a value after 'group:'", 7),
        ("tag:tier=", "expected a value after 'tag:tier='", 10),
        ('key:"unclosed', "this quoted string is never closed", 5),
        ('""', "'' is not an asset key", 1),
        ("and a", "expected an asset selection before 'and'", 1),
        ("a ! b", "found '!'", 3),
        ("²+a", "found '²'", 1),
    ],
)
def test_malformed_strings_say_where_and_what_was_expected(text, message, column):
    with pytest.raises(dg.SelectionError) as raised:
        S.from_string(text)
    error = str(raised.value)
    assert message in error
    assert f"(column {column})" in error
    # The message shows the string with a caret under the column.
    assert error.splitlines()[-1] == "    " + " " * (column - 1) + "^"


def test_unknown_key_is_named_with_suggestions():
    with pytest.raises(dg.SelectionError) as raised:
        S.from_string("*marts/revenu").resolve(DEFS)
    assert "'marts/revenu'" in str(raised.value)
    assert "did you mean 'marts/revenue'" in str(raised.value)
    # A key whose last path part matches is suggested too, however far the rest is.
    with pytest.raises(dg.SelectionError, match="did you mean 'staging/joined'"):
        S.assets("joined").resolve(DEFS)


def test_every_unknown_key_is_named_in_one_error():
    selection = S.from_string("(dashbord or nope) and group:nothing")
    with pytest.raises(dg.SelectionError) as raised:
        selection.resolve(DEFS)
    message = str(raised.value)
    assert "'dashbord' (did you mean 'dashboard'?)" in message
    assert "'nope'" in message
    assert selection.resolve(DEFS, allow_missing=True) == set()
    assert S.assets("dashboard", "nope").resolve(DEFS, allow_missing=True) == {
        dg.AssetKey("dashboard")
    }


def test_bad_python_arguments_are_selection_errors():
    with pytest.raises(dg.SelectionError, match="depth must be a non-negative int"):
        S.all().upstream(depth=-1)
    with pytest.raises(dg.SelectionError, match="non-empty string as the group name"):
        S.groups("")
    with pytest.raises(dg.SelectionError, match="must be a str"):
        S.from_string(None)  # type: ignore[arg-type]


def test_a_large_graph_resolves_without_recursion():
    size = 10_000
    chain = [dg.asset(key="n0")(_noop)]
    chain += [dg.asset(key=f"n{i}", deps=[f"n{i - 1}"])(_noop) for i in range(1, size)]
    graph = dg.Definitions(assets=chain).get_asset_graph()
    last = f"n{size - 1}"
    assert len(S.from_string(f"*{last}").resolve(graph)) == size
    assert len(S.from_string(f"3+{last}").resolve(graph)) == 4
    assert S.from_string(f"roots(*{last})").resolve(graph) == {dg.AssetKey("n0")}
    assert S.from_string("n0*").resolve(graph) == graph.all_asset_keys


# -- laws, on random graphs -----------------------------------------------------------------

# Names that exercise the string form: quoting, digits, keywords, paths.
_NAMES = ["a", "b/c", "2", "and", "x y", 'q"t', "d-e.f", "b/c/d", "Or", "n9"]
_GROUPS = ["g1", "g2", "default"]


@st.composite
def graphs(draw):
    """A random DAG of some of `_NAMES`, a fifth of them external, with groups and tags."""
    size = draw(st.integers(1, len(_NAMES)))
    names_ = draw(st.permutations(_NAMES))[:size]
    assets = []
    for i, name in enumerate(names_):
        deps = [names_[j] for j in range(i) if draw(st.booleans())]
        group = draw(st.sampled_from(_GROUPS))
        tags = {"t": draw(st.sampled_from(["1", "2"]))} if draw(st.booleans()) else {}
        if draw(st.integers(0, 4)) == 0:
            assets.append(dg.AssetSpec(name, deps=deps, group_name=group, tags=tags))
        else:
            assets.append(dg.asset(key=name, deps=deps, group_name=group, tags=tags)(_noop))
    return dg.Definitions(assets=assets).get_asset_graph()


def _extend(inner):
    depths = st.none() | st.integers(0, 3)
    return (
        st.tuples(inner, inner).map(lambda p: p[0] | p[1])
        | st.tuples(inner, inner).map(lambda p: p[0] & p[1])
        | st.tuples(inner, inner).map(lambda p: p[0] - p[1])
        | st.tuples(inner, depths, st.booleans()).map(lambda p: p[0].upstream(p[1], p[2]))
        | st.tuples(inner, depths, st.booleans()).map(lambda p: p[0].downstream(p[1], p[2]))
        | inner.map(lambda s: s.roots())
        | inner.map(lambda s: s.sinks())
    )


# Built once: hypothesis validates a recursive strategy each time one is made. Keys drawn
# from `_NAMES` may be missing from a small graph, so the laws resolve with allow_missing.
selections = st.recursive(
    st.sampled_from(_NAMES).map(S.assets)
    | st.sampled_from(_GROUPS).map(S.groups)
    | st.sampled_from([None, "1", "2"]).map(lambda v: S.tag("t", v))
    | st.just(S.all()),
    _extend,
    max_leaves=6,
)
_laws = settings(max_examples=150, deadline=None)


def keys(selection, graph):
    return selection.resolve(graph, allow_missing=True)


@_laws
@given(graphs(), selections, selections, selections)
def test_union_and_intersection_are_commutative_and_associative(graph, a, b, c):
    assert keys(a | b, graph) == keys(b | a, graph)
    assert keys(a & b, graph) == keys(b & a, graph)
    assert keys((a | b) | c, graph) == keys(a | (b | c), graph)
    assert keys((a & b) & c, graph) == keys(a & (b & c), graph)
    assert keys(a & (b | c), graph) == keys((a & b) | (a & c), graph)


@_laws
@given(graphs(), selections, selections)
def test_idempotence_difference_and_de_morgan(graph, a, b):
    everything = S.all(include_sources=True)
    assert keys(a - a, graph) == set()
    assert keys(a | a, graph) == keys(a, graph)
    assert keys(a & a, graph) == keys(a, graph)
    assert keys(a - b, graph) == keys(a, graph) - keys(b, graph)
    assert keys(everything - (a | b), graph) == keys((everything - a) & (everything - b), graph)


def _ancestors_fixed_point(graph, start):
    found = set(start)
    while True:
        more = {p for k in found for p in graph.parents[k]} - found
        if not more:
            return found
        found |= more


@_laws
@given(graphs(), selections, st.integers(0, 3))
def test_upstream_is_the_fixed_point_of_adding_parents(graph, a, depth):
    start = keys(a, graph)
    ancestors = _ancestors_fixed_point(graph, start)
    assert keys(a.upstream(include_sources=True), graph) == ancestors
    assert keys(a.upstream(), graph) == (ancestors & graph.executable_keys) | start
    assert keys(a.upstream(), graph) == keys(a.upstream(depth=len(graph.specs)), graph)
    assert keys(a.upstream(include_self=False), graph) == keys(a.upstream(), graph) - start
    assert keys(a.upstream(depth), graph) <= keys(a.upstream(depth + 1), graph)
    parents = {p for k in start for p in graph.parents[k]}
    assert keys(a.upstream(1, include_sources=True), graph) == start | parents


@_laws
@given(graphs(), st.sampled_from(_NAMES), st.sampled_from(_NAMES))
def test_downstream_mirrors_upstream(graph, x, y):
    below_x = keys(S.assets(x).downstream(include_sources=True), graph)
    above_y = keys(S.assets(y).upstream(include_sources=True), graph)
    assert (dg.AssetKey(y) in below_x) == (dg.AssetKey(x) in above_y)


@_laws
@given(graphs(), st.sampled_from(_NAMES))
def test_string_forms_match_the_python_api(graph, name):
    x = S.assets(name)
    text = str(x)  # quoted where the name needs it
    assert S.from_string(f"*{text}") == x.upstream()
    assert keys(S.from_string(f"*{text}"), graph) == keys(x.upstream(), graph)
    assert keys(S.from_string(f"{text}*"), graph) == keys(x.downstream(), graph)
    assert keys(S.from_string(f"+{text}+"), graph) == keys(x.upstream(1) | x.downstream(1), graph)


@_laws
@given(graphs(), selections)
def test_every_selection_reads_back_from_its_string(graph, a):
    assert keys(S.from_string(str(a)), graph) == keys(a, graph)


@_laws
@given(graphs(), selections)
def test_roots_and_sinks_lie_in_the_selection_and_reach_all_of_it(graph, a):
    selected = keys(a, graph)
    roots, sinks = keys(a.roots(), graph), keys(a.sinks(), graph)
    assert roots <= selected
    assert sinks <= selected
    # In a DAG, following parents inside the selection always ends at one of its roots.
    assert selected <= keys(S.assets(*roots).downstream(include_sources=True), graph)
    assert selected <= keys(S.assets(*sinks).upstream(include_sources=True), graph)
    assert bool(roots) == bool(selected) == bool(sinks)
