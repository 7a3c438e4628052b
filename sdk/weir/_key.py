"""AssetKey: the identity of an asset, a path of strings."""

from __future__ import annotations

from collections.abc import Sequence

from weir._errors import DefinitionError


class AssetKey:
    """A path that names an asset, e.g. ``AssetKey(["raw", "orders"])``.

    The string form joins the path with ``/`` (``"raw/orders"``); ``AssetKey.from_user_string``
    parses it back.

    >>> AssetKey("raw/orders") == AssetKey(["raw", "orders"])
    True
    """

    __slots__ = ("_hash", "path")

    def __init__(self, path: str | Sequence[str]):
        parts = tuple(path.split("/")) if isinstance(path, str) else tuple(path)
        if not parts or "" in parts or not all(type(p) is str for p in parts):
            raise DefinitionError(f"Asset key path must be non-empty strings, got {path!r}")
        self.path: tuple[str, ...] = parts
        self._hash = hash(parts)

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
        return "/".join(self.path)

    def to_python_identifier(self) -> str:
        return "__".join(self.path).replace("-", "_")

    def with_prefix(self, prefix: str | Sequence[str]) -> AssetKey:
        head = (prefix,) if isinstance(prefix, str) else tuple(prefix)
        return AssetKey(head + self.path)

    def has_prefix(self, prefix: Sequence[str]) -> bool:
        return self.path[: len(prefix)] == tuple(prefix)

    @property
    def parent(self) -> AssetKey:
        return AssetKey(self.path[:-1])

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AssetKey) and other.path == self.path

    def __lt__(self, other: AssetKey) -> bool:
        return self.path < other.path

    def __hash__(self) -> int:
        return self._hash

    def __repr__(self) -> str:
        return f"AssetKey({list(self.path)!r})"

    def __str__(self) -> str:
        return self.to_user_string()


CoercibleToAssetKey = AssetKey | str | Sequence[str]
