"""A read-only mapping of a few entries, for the per-asset input keys of a definition.

An asset keeps the key of each of its inputs by parameter name. A dict of two entries
takes 190 bytes; a location of 10,000 generated assets held 1.9 MB of them, in the code
server and again in the pages its zygote shares. A SmallMapping holds the names and the
values in two tuples, the names' tuple shared by every mapping with the same names (the
functions of generated assets take the same parameters): about 100 bytes.

>>> inputs = small_mapping({"left": "a", "right": "b"})
>>> inputs["right"], dict(inputs) == {"left": "a", "right": "b"}, "up" in inputs
('b', True, False)
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator, Mapping
from types import MappingProxyType
from typing import Any, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

_EMPTY: Mapping[Any, Any] = MappingProxyType({})

# Above this many entries a dict, whose lookups do not walk the names.
_MAX_ENTRIES = 8

# One tuple of names for all the mappings with those names. Bounded, so that a location of
# distinct functions pays at most a few hundred KB of table for nothing.
_NAMES: dict[tuple[Any, ...], tuple[Any, ...]] = {}
_MAX_SHARED = 10_000


class SmallMapping(Mapping[K, V]):
    """An immutable mapping of a few keys, in the order given, looked up by equality."""

    __slots__ = ("_keys", "_values")

    def __init__(self, keys: tuple[K, ...], values: tuple[V, ...]):
        self._keys = keys
        self._values = values

    def __getitem__(self, key: K) -> V:
        for index, known in enumerate(self._keys):
            if known == key:
                return self._values[index]
        raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def __iter__(self) -> Iterator[K]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    def __repr__(self) -> str:
        return repr(dict(zip(self._keys, self._values, strict=True)))


def small_mapping(entries: Mapping[K, V]) -> Mapping[K, V]:
    """`entries` as a shared empty mapping, a SmallMapping, or (past a few) a dict."""
    if not entries:
        return _EMPTY
    if len(entries) > _MAX_ENTRIES:
        return dict(entries)
    keys = tuple(entries)
    shared = _NAMES.get(keys)
    if shared is None:
        shared = keys
        if len(_NAMES) < _MAX_SHARED:
            _NAMES[keys] = keys
    return SmallMapping(shared, tuple(entries.values()))
