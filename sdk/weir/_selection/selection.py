"""AssetSelection: a query over the asset graph, built in Python or parsed from a string."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import reduce
from typing import TYPE_CHECKING, Any, TypeAlias

import weir_selection as lang
from weir_selection import Node

from weir._assets import AssetsDefinition
from weir._errors import SelectionError
from weir._key import AssetKey, CoercibleToAssetKey
from weir._selection.graph_index import as_asset_graph, index_of
from weir._selection.python_form import python_form
from weir._specs import AssetSpec

if TYPE_CHECKING:
    from weir._graph import AssetGraph
    from weir._results import AssetCheckKey


@dataclass(frozen=True, repr=False)
class AssetSelection:
    """A query over the assets of a code location: which assets a job, a sensor or a question
    about impact is about.

    Selections are immutable values compared by structure, so jobs can store and compare them.
    Strings are parsed, and selections resolved, by `weir_selection`, the language the
    control plane reads the same strings with.
    Combine them with ``|`` (union), ``&`` (intersection) and ``-`` (difference), walk the
    graph with `upstream` / `downstream`, and get the keys with `resolve`.

    External assets (declared with `AssetSpec`, which Weir does not materialize) are selected
    when named by key; ``all``, attribute selections and traversals add them only when
    ``include_sources=True``, so a selection handed to a job is runnable as is.

    >>> import weir
    >>> @weir.asset(group_name="raw")
    ... def orders() -> list[int]:
    ...     return [1]
    >>> @weir.asset
    ... def revenue(orders: list[int]) -> int:
    ...     return sum(orders)
    >>> sorted(map(str, AssetSelection.groups("raw").downstream().resolve([orders, revenue])))
    ['orders', 'revenue']
    >>> AssetSelection.from_string("*revenue") == AssetSelection.assets("revenue").upstream()
    True
    """

    _node: Node

    # -- leaves ---------------------------------------------------------------------------

    @staticmethod
    def all(include_sources: bool = False) -> AssetSelection:
        """Every asset (every external one too, with ``include_sources=True``).

        >>> str(AssetSelection.all())
        '*'
        """
        return AssetSelection(lang.AllAssets(include_sources))

    @staticmethod
    def assets(*assets: AssetsDefinition | AssetSpec | CoercibleToAssetKey) -> AssetSelection:
        """The given assets: `AssetKey`s, ``"a/b"`` strings, sequences of path parts,
        `@asset` / `@multi_asset` definitions (all their keys) or `AssetSpec`s.

        Resolving it names any key the graph lacks in a `SelectionError`.

        >>> str(AssetSelection.assets("raw/orders", ["raw", "users"]))
        'raw/orders or raw/users'
        """
        keys: list[AssetKey] = []
        for item in assets:
            if isinstance(item, AssetsDefinition):
                keys.extend(item.keys)
            elif isinstance(item, AssetSpec):
                keys.append(item.key)
            else:
                keys.append(AssetKey.from_coercible(item))
        return _keys(keys)

    @staticmethod
    def keys(*keys: CoercibleToAssetKey) -> AssetSelection:
        """The assets with the given keys; the same as `assets`."""
        return AssetSelection.assets(*keys)

    @staticmethod
    def key_prefixes(
        *prefixes: str | Sequence[str], include_sources: bool = False
    ) -> AssetSelection:
        """Assets whose key path starts with one of `prefixes` (``"raw"`` or ``["raw", "eu"]``).

        >>> AssetSelection.key_prefixes("raw", ["lake", "eu"])
        AssetSelection.key_prefixes('raw', 'lake/eu')
        """
        paths = tuple(dict.fromkeys(AssetKey(p).path for p in prefixes))
        return AssetSelection(lang.KeyPrefixes(paths, include_sources))

    @staticmethod
    def key_substring(substring: str, include_sources: bool = False) -> AssetSelection:
        """Assets whose key, written ``a/b/c``, contains `substring`."""
        return AssetSelection(lang.KeySubstring(substring, include_sources))

    @staticmethod
    def groups(*group_names: str, include_sources: bool = False) -> AssetSelection:
        """Assets in any of the groups (assets without ``group_name`` are in ``"default"``).

        >>> str(AssetSelection.groups("raw", "marts"))
        'group:raw or group:marts'
        """
        names = tuple(dict.fromkeys(_check_str(g, "group name") for g in group_names))
        return AssetSelection(lang.Groups(names, include_sources))

    @staticmethod
    def tag(key: str, value: str | None = None, include_sources: bool = False) -> AssetSelection:
        """Assets tagged ``key=value``, or carrying tag `key` at all when `value` is None.

        >>> str(AssetSelection.tag("tier", "gold"))
        'tag:tier=gold'
        """
        if value is not None and not isinstance(value, str):
            raise SelectionError(f"Expected a string as the tag value, got {value!r}")
        return AssetSelection(lang.Tag(_check_str(key, "tag key"), value, include_sources))

    @staticmethod
    def tag_string(text: str, include_sources: bool = False) -> AssetSelection:
        """`tag` from ``"key=value"`` or ``"key"``."""
        key, sep, value = _check_str(text, "tag string").partition("=")
        return AssetSelection.tag(key, value if sep else None, include_sources=include_sources)

    @staticmethod
    def owner(owner: str, include_sources: bool = False) -> AssetSelection:
        """Assets owned by `owner`: an email address or ``"team:<name>"``.

        >>> str(AssetSelection.owner("team:data"))
        'owner:team:data'
        """
        return AssetSelection(lang.Owner(_check_str(owner, "owner"), include_sources))

    @staticmethod
    def kind(kind: str, include_sources: bool = False) -> AssetSelection:
        """Assets of the given kind (``kinds={"dbt"}`` on the asset)."""
        return AssetSelection(lang.Kind(_check_str(kind, "kind"), include_sources))

    @staticmethod
    def from_string(text: str, include_sources: bool = False) -> AssetSelection:
        """Parse a selection string.

        ``"*a"``, ``"a*"`` (every asset upstream / downstream of ``a``, and ``a``), ``"+a"``,
        ``"++a"``, ``"a+"`` (one level per ``+``), ``"2+a"``, ``"a+2"`` (N levels),
        ``key:raw/*``, ``key_substring:ord``, ``group:g``, ``tag:k=v``, ``tag:k``,
        ``owner:team:data``, ``kind:dbt``, ``roots(...)``, ``sinks(...)``, ``*`` (everything),
        ``and``, ``or``, ``not``, parentheses, and juxtaposition or commas for union
        (``"a b+"``). See the `weir_selection.parser` docstring for the full grammar.

        A malformed string raises `SelectionError` now, with the column and what was expected;
        an unknown key raises it on `resolve`.

        >>> AssetSelection.from_string("*b") == AssetSelection.assets("b").upstream()
        True
        >>> str(AssetSelection.from_string("group:raw and not tag:pii"))
        'group:raw and not tag:pii'
        """
        try:
            return AssetSelection(lang.parse(text, include_sources=include_sources))
        except lang.SelectionError as error:
            raise SelectionError(str(error)) from None

    @staticmethod
    def from_coercible(value: CoercibleToAssetSelection) -> AssetSelection:
        """An AssetSelection from one, from a selection string, an `AssetKey`, an `@asset`,
        an `AssetSpec`, or a list of any of these (their union).

        In a list, each string is a selection string: ``["raw/orders", "group:marts"]``.

        >>> str(AssetSelection.from_coercible(["a+", "b"]))
        'a+ or b'
        """
        if isinstance(value, AssetSelection):
            return value
        if isinstance(value, str):
            return AssetSelection.from_string(value)
        if isinstance(value, (AssetKey, AssetsDefinition, AssetSpec)):
            return AssetSelection.assets(value)
        if isinstance(value, Iterable):
            parts = [AssetSelection.from_coercible(v) for v in value]
            if not parts:
                return AssetSelection(lang.Keys(()))
            nodes = [p._node for p in parts]
            if all(isinstance(n, lang.Keys) for n in nodes):  # keep a plain key list flat
                keys = (k for n in nodes for k in n.keys)  # type: ignore[attr-defined]
                return AssetSelection(lang.Keys(tuple(dict.fromkeys(keys))))
            return reduce(lambda a, b: a | b, parts)
        raise SelectionError(
            "Expected an AssetSelection, a selection string, an AssetKey, an asset definition, "
            f"an AssetSpec or a list of these; got {type(value).__name__}: {value!r}"
        )

    # -- graph walks and filters ------------------------------------------------------------

    def upstream(
        self, depth: int | None = None, include_self: bool = True, include_sources: bool = False
    ) -> AssetSelection:
        """This selection plus its ancestors, up to `depth` levels (all when None).

        The walk passes through external assets but adds them only with
        ``include_sources=True``. Without `include_self`, this selection's assets are removed.

        >>> str(AssetSelection.assets("c").upstream(depth=2))
        '2+c'
        """
        return AssetSelection(
            lang.Upstream(self._node, _check_depth(depth), include_self, include_sources)
        )

    def downstream(
        self, depth: int | None = None, include_self: bool = True, include_sources: bool = False
    ) -> AssetSelection:
        """This selection plus its descendants, up to `depth` levels (all when None).

        >>> str(AssetSelection.assets("a").downstream())
        'a*'
        """
        return AssetSelection(
            lang.Downstream(self._node, _check_depth(depth), include_self, include_sources)
        )

    def roots(self) -> AssetSelection:
        """The assets of this selection with no parent inside it.

        >>> str((AssetSelection.assets("a") | AssetSelection.assets("b")).roots())
        'roots(a or b)'
        """
        return AssetSelection(lang.Roots(self._node))

    def sinks(self) -> AssetSelection:
        """The assets of this selection with no child inside it."""
        return AssetSelection(lang.Sinks(self._node))

    def required_multi_asset_neighbors(self) -> AssetSelection:
        """This selection plus the other assets of each `@multi_asset` it touches that cannot
        run a subset of its outputs (``can_subset=False``), so the result is runnable."""
        return AssetSelection(lang.RunTogether(self._node))

    def materializable(self) -> AssetSelection:
        """This selection without its external assets."""
        return AssetSelection(lang.Materializable(self._node))

    def upstream_source_assets(self) -> AssetSelection:
        """The external assets upstream of this selection."""
        return AssetSelection(lang.ExternalParents(self._node))

    # -- algebra ----------------------------------------------------------------------------

    def __or__(self, other: object) -> AssetSelection:
        if not isinstance(other, AssetSelection):
            return NotImplemented
        return AssetSelection(lang.union(self._node, other._node))

    def __and__(self, other: object) -> AssetSelection:
        if not isinstance(other, AssetSelection):
            return NotImplemented
        return AssetSelection(lang.intersection(self._node, other._node))

    def __sub__(self, other: object) -> AssetSelection:
        if not isinstance(other, AssetSelection):
            return NotImplemented
        return AssetSelection(lang.Difference(self._node, other._node))

    def __bool__(self) -> bool:
        return True  # a selection is a query, never "empty" before it is resolved

    # -- resolution ---------------------------------------------------------------------------

    def resolve(self, assets: AssetGraph | Any, allow_missing: bool = False) -> set[AssetKey]:
        """The keys this selection picks out of `assets`: an `AssetGraph`, a `Definitions`, or
        a list of asset definitions and `AssetSpec`s.

        Raises `SelectionError` naming every key the selection mentions that `assets` lacks,
        with close matches, unless `allow_missing`.
        """
        index = index_of(as_asset_graph(assets))
        try:
            positions = lang.evaluate(self._node, index, allow_missing=allow_missing)
        except lang.SelectionError as error:
            raise SelectionError(str(error)) from None
        return index.asset_keys_at(positions)

    def resolve_checks(
        self, assets: AssetGraph | Any, allow_missing: bool = False
    ) -> set[AssetCheckKey]:
        """The keys of the asset checks that target the assets this selection resolves to."""
        graph = as_asset_graph(assets)
        by_asset = graph.check_keys_by_asset
        return {c for k in self.resolve(graph, allow_missing) for c in by_asset.get(k, ())}

    # -- text -------------------------------------------------------------------------------

    def to_selection_str(self) -> str:
        """This selection as a string `from_string` parses back to the same assets.

        Raises `SelectionError` for the few selections the syntax cannot express (key
        prefixes, ``include_sources=True``, `required_multi_asset_neighbors`, ...).
        """
        try:
            return lang.to_text(self._node)
        except lang.NoTextFormError as error:
            what = python_form(error.node)
            raise SelectionError(f"{what} has no selection-string form") from None

    def __str__(self) -> str:
        try:
            return lang.to_text(self._node)
        except lang.NoTextFormError:
            return python_form(self._node)

    def __repr__(self) -> str:
        return python_form(self._node)


CoercibleToAssetSelection: TypeAlias = (
    AssetSelection
    | str
    | AssetKey
    | AssetsDefinition
    | AssetSpec
    | Iterable["AssetSelection | str | AssetKey | AssetsDefinition | AssetSpec"]
)


def _check_str(value: object, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise SelectionError(f"Expected a non-empty string as the {what}, got {value!r}")
    return value


def _check_depth(depth: int | None) -> int | None:
    if depth is not None and (isinstance(depth, bool) or not isinstance(depth, int) or depth < 0):
        raise SelectionError(f"depth must be a non-negative int or None, got {depth!r}")
    return depth


def _keys(keys: Iterable[AssetKey]) -> AssetSelection:
    return AssetSelection(lang.Keys(tuple(dict.fromkeys(k.to_user_string() for k in keys))))
