"""weir_selection's parser and printer: strings to ASTs, precise errors, and back to text."""

import pytest
import weir_selection as ws
from weir_selection import (
    AllAssets,
    Difference,
    Downstream,
    Groups,
    Intersection,
    KeyPattern,
    KeyPrefixes,
    Keys,
    KeySubstring,
    Kind,
    Owner,
    Roots,
    RunTogether,
    SelectionSyntaxError,
    Sinks,
    Tag,
    Union,
    Upstream,
    parse,
    to_text,
)
from weir_selection.parser import MAX_DEPTH

A, B = Keys(("a",)), Keys(("b",))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a", A),
        ("raw/orders", Keys(("raw/orders",))),
        ('"my key"', Keys(("my key",))),
        ('key:"a\\"b"', Keys(('a"b',))),
        ("key:raw/orders", Keys(("raw/orders",))),
        ("key:raw/*", KeyPattern("raw/*")),
        ("key_substring:ord", KeySubstring("ord")),
        ("*", AllAssets()),
        ("group:g", Groups(("g",))),
        ("tag:k=v", Tag("k", "v")),
        ("tag:k", Tag("k", None)),
        ('tag:k=""', Tag("k", "")),
        ("owner:team:data", Owner("team:data")),
        ("owner:ana@example.com", Owner("ana@example.com")),
        ("kind:dbt", Kind("dbt")),
        ("*a", Upstream(A)),
        ("+a", Upstream(A, 1)),
        ("++a", Upstream(A, 2)),
        ("2+a", Upstream(A, 2)),
        ("a*", Downstream(A)),
        ("a+", Downstream(A, 1)),
        ("a+3", Downstream(A, 3)),
        ("*a*", Union((Upstream(A), Downstream(A)))),
        ("+a+2", Union((Upstream(A, 1), Downstream(A, 2)))),
        ("group:g+", Downstream(Groups(("g",)), 1)),
        ("roots(a b)", Roots(Union((A, B)))),
        ("sinks(*)", Sinks(AllAssets())),
        ("a or b", Union((A, B))),
        ("a b", Union((A, B))),
        ("a, b,c", Union((A, B, Keys(("c",))))),
        ("a and b", Intersection((A, B))),
        ("a and not b", Difference(A, B)),
        ("a and (not b)", Intersection((A, Difference(AllAssets(), B)))),
        ("not a", Difference(AllAssets(), A)),
        ("NOT a AND b OR c", Union((Intersection((Difference(AllAssets(), A), B)), Keys(("c",))))),
        ("order", Keys(("order",))),  # a key that starts with a keyword is a key
        ("2+", Downstream(Keys(("2",)), 1)),  # a key of digits
        ("(a)", A),
    ],
)
def test_strings_parse_to_plain_values(text, expected):
    assert parse(text) == expected


def test_include_sources_reaches_every_attribute_match_and_walk():
    assert parse("group:g+ or not kind:k", include_sources=True) == Union(
        (
            Downstream(Groups(("g",), True), 1, include_sources=True),
            Difference(AllAssets(True), Kind("k", True)),
        )
    )
    assert parse("a", include_sources=True) == A  # exact keys select what they name anyway


@pytest.mark.parametrize(
    ("text", "reason", "column"),
    [
        ("", "expected an asset key, an attribute such as group:name, or '*'", 1),
        ("   ", "expected an asset key, an attribute such as group:name, or '*'", 4),
        ("a and", "expected a selection after 'and'", 6),
        ("a or ,", "expected a selection after 'or'", 6),
        ("(a or b", "expected ')' to close the '(' opened at column 1", 8),
        ("a)", "found ')' without a matching '('", 2),
        ("()", "expected a selection inside the parentheses", 2),
        ("raw/*", "'raw/*' is not a key; for every key under raw/ write key:raw/*", 1),
        ("raw//orders", "'raw//orders' is not an asset key: key path parts cannot be empty", 1),
        ("colour:red", "unknown attribute 'colour:'; expected one of key:, key_substring:, "
                       "group:, tag:, owner:, kind:", 1),
        ("upstream(a)", "unknown function 'upstream'; expected roots(...) or sinks(...)", 1),
        ("a+2b", "expected whitespace, an operator or ')' after this term", 4),
        ("a++2", "expected either repeated '+' or '+N', not both", 4),
        ("+", "expected an asset key, an attribute such as group:name, '*' or '(' after the "
              "traversal, found the end", 2),
        ("tag:tier=", "expected a value after 'tag:tier='", 10),
        ('group:"unclosed', "this quoted string is never closed", 7),
        ("or a", "expected an asset selection before 'or'", 1),
        ("a ! b", "expected an asset key, an attribute such as group:name, '*' or '(' here, "
                  "found '!'", 3),
    ],
)  # fmt: skip
def test_syntax_errors_carry_the_reason_column_and_a_caret(text, reason, column):
    with pytest.raises(ws.SelectionSyntaxError) as raised:
        parse(text)
    error = raised.value
    assert (error.reason, error.column, error.text) == (reason, column, text)
    assert str(error) == (
        f"Invalid asset selection: {reason} (column {column}):\n"
        f"    {text}\n"
        f"    {' ' * (column - 1)}^"
    )


def test_only_strings_parse():
    with pytest.raises(ws.SelectionError, match="must be a str, got bytes"):
        parse(b"a")  # type: ignore[arg-type]


def test_every_error_is_a_value_error_subclass_callers_can_catch_once():
    for error_class in (ws.SelectionSyntaxError, ws.UnknownAssetsError, ws.NoTextFormError):
        assert issubclass(error_class, ws.SelectionError)
    assert issubclass(ws.SelectionError, ValueError)


@pytest.mark.parametrize(
    ("node", "text"),
    [
        (Upstream(A), "*a"),
        (Downstream(A, 2), "a+2"),
        (Union((Upstream(A, 1), Groups(("g",)))), "+a or group:g"),
        (Groups(("g", "h")), "group:g or group:h"),
        (Downstream(Groups(("g", "h"))), "(group:g or group:h)*"),
        (Intersection((Tag("k", "v"), Owner("team:x"))), "tag:k=v and owner:team:x"),
        (Difference(AllAssets(), Kind("dbt")), "not kind:dbt"),
        (Difference(Groups(("g",)), Kind("dbt")), "group:g and not kind:dbt"),
        (
            Intersection((Groups(("g",)), Difference(AllAssets(), Kind("dbt")))),
            "group:g and (not kind:dbt)",
        ),
        (Upstream(A, include_self=False), "*a and not a"),
        (Keys(("my key", "2", "and", "b/c")), 'key:"my key" or key:"2" or key:"and" or b/c'),
        (Keys(()), "not *"),
        (Upstream(Downstream(A)), "*(a*)"),
        (Downstream(KeyPattern("raw/*")), "(key:raw/*)*"),
        (Tag("owner note", "x y"), 'tag:"owner note"="x y"'),
        (KeySubstring("a b"), 'key_substring:"a b"'),
        (Sinks(Union((A, B))), "sinks(a or b)"),
    ],
)
def test_to_text_writes_what_parses_back(node, text):
    assert to_text(node) == text
    assert to_text(parse(text)) == text


@pytest.mark.parametrize(
    "node",
    [
        AllAssets(include_sources=True),
        Groups(("g",), include_sources=True),
        Upstream(A, include_sources=True),
        KeyPrefixes((("raw",),)),
        RunTogether(A),
        Union((A, Kind("k", include_sources=True))),
    ],
)
def test_selections_the_syntax_cannot_say_name_the_part_that_has_no_text(node):
    with pytest.raises(ws.NoTextFormError, match="has no selection-string form") as raised:
        to_text(node)
    assert raised.value.node in (node, Kind("k", include_sources=True))


def test_nodes_are_immutable_hashable_values():
    first, second = parse("*a or group:g+2"), parse("*a or group:g+2")
    assert first == second and hash(first) == hash(second)
    with pytest.raises(AttributeError):
        first.operands = ()  # type: ignore[misc]
    assert ws.union(A, ws.union(B, A)) == Union((A, B, A))
    assert ws.intersection(ws.intersection(A, B), A) == Intersection((A, B, A))
    assert ws.union(A) == A


@pytest.mark.parametrize(
    "text",
    [
        "(" * 200 + "a" + ")" * 200,
        "not " * 1000 + "a",
        "roots(" * 100 + "a" + ")" * 100,
        " and not ".join(["a"] * 3000),
        "(" * 5000,
    ],
    ids=["parentheses", "not", "roots", "and-not-chain", "unclosed"],
)
def test_nesting_past_the_bound_is_a_syntax_error_not_a_recursion_error(text: str) -> None:
    with pytest.raises(SelectionSyntaxError, match=f"nests deeper than {MAX_DEPTH} levels"):
        parse(text)


def test_nesting_up_to_the_bound_parses_and_prints() -> None:
    deep = "(" * MAX_DEPTH + "a" + ")" * MAX_DEPTH
    assert parse(deep) == Keys(("a",))
    chain = parse(" and not ".join(["a"] * (MAX_DEPTH - 1)))
    assert to_text(chain).count("and not") == MAX_DEPTH - 2
    assert hash(chain) == hash(parse(to_text(chain)))
