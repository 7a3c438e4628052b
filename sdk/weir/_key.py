"""AssetKey: the identity of an asset, a path of strings."""

from __future__ import annotations

from collections.abc import Sequence

from weir._errors import DefinitionError


class AssetKey(tuple[str, ...]):
    """A path that names an asset, e.g. ``AssetKey(["raw", "orders"])``.

    The string form joins the path with ``/`` (``"raw/orders"``); ``AssetKey.from_user_string``
    parses it back.

    >>> AssetKey("raw/orders") == AssetKey(["raw", "orders"])
    True

    It is a tuple of its path parts underneath, so hashing and comparing keys, which graph
    building and selection do hundreds of thousands of times, run at C speed.
    """

    __slots__ = ()

    def __new__(cls, path: str | Sequence[str]) -> AssetKey:
        if isinstance(path, str):
            known = _BY_STRING.get(path)
            if known is not None:
                return known
            parts: tuple[str, ...] = tuple(path.split("/"))
        else:
            parts = tuple(path)
            if not all(type(p) is str for p in parts):
                raise DefinitionError(f"Asset key path must be non-empty strings, got {path!r}")
        if not parts or "" in parts:
            raise DefinitionError(f"Asset key path must be non-empty strings, got {path!r}")
        key = tuple.__new__(cls, parts)
        if isinstance(path, str) and len(_BY_STRING) < _MAX_SHARED:
            _BY_STRING[path] = key
        return key

    @property
    def path(self) -> tuple[str, ...]:
        return tuple(self)

    @staticmethod
    def from_user_string(text: str) -> AssetKey:
        return AssetKey(text)

    @staticmethod
    def from_coercible(value: CoercibleToAssetKey) -> AssetKey:
        if isinstance(value, (AssetKey, str)):
            return value if isinstance(value, AssetKey) else AssetKey(value)
        key = getattr(value, "key", None)  # an AssetsDefinition or AssetSpec
        if isinstance(key, AssetKey):
            return key
        return AssetKey(value)

    def to_user_string(self) -> str:
        return "/".join(self)

    def to_python_identifier(self) -> str:
        return "__".join(self.path).replace("-", "_")

    def with_prefix(self, prefix: str | Sequence[str]) -> AssetKey:
        head = (prefix,) if isinstance(prefix, str) else tuple(prefix)
        return AssetKey(head + tuple(self))

    def has_prefix(self, prefix: Sequence[str]) -> bool:
        return tuple(self[: len(prefix)]) == tuple(prefix)

    @property
    def parent(self) -> AssetKey:
        return AssetKey(self.path[:-1])

    def __repr__(self) -> str:
        return f"AssetKey({list(self.path)!r})"

    def __str__(self) -> str:
        return self.to_user_string()


# One key object per string: the same upstream name is written in many deps and ins.
_BY_STRING: dict[str, AssetKey] = {}
_MAX_SHARED = 100_000

CoercibleToAssetKey = AssetKey | str | Sequence[str]
