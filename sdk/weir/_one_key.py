"""Read-only containers of one key, for the per-asset mappings of single-asset definitions.

Most definitions produce one asset, and each keeps a few mappings keyed by it (its output
name, its spec, its required outputs). A dict or frozenset of one entry takes 220 bytes; a
location of 10,000 assets held some 6 MB of them, in the code server and again in the pages
its zygote shares. These hold the one entry in two slots (about 50 bytes) and read like
the dict and frozenset they replace.

>>> names = OneKeyMapping("a", "result")
>>> names["a"], names.get("b", "none"), dict(names) == {"a": "result"}
('result', 'none', True)
>>> "a" in OneKeySet("a"), OneKeySet("a") == frozenset({"a"})
(True, True)
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator, Mapping
from collections.abc import Set as AbstractSet
from typing import Any, Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class _OneKey(Generic[K]):
    """What both containers are: one key, iterated, counted and looked up by equality."""

    __slots__ = ("_key",)

    def __init__(self, key: K):
        self._key = key

    def __contains__(self, key: object) -> bool:
        return key == self._key

    def __iter__(self) -> Iterator[K]:
        yield self._key

    def __len__(self) -> int:
        return 1


class OneKeyMapping(_OneKey[K], Mapping[K, V]):
    """An immutable mapping of exactly one key to its value."""

    __slots__ = ("_value",)

    def __init__(self, key: K, value: V):
        super().__init__(key)
        self._value = value

    def __getitem__(self, key: K) -> V:
        if key == self._key:
            return self._value
        raise KeyError(key)

    def __repr__(self) -> str:
        return f"{{{self._key!r}: {self._value!r}}}"


class OneKeySet(_OneKey[K], AbstractSet[K]):
    """An immutable, hashable set of exactly one key (equal to the frozenset of it)."""

    __slots__ = ()

    def __hash__(self) -> int:
        return hash(frozenset((self._key,)))

    @classmethod
    def _from_iterable(cls, keys: Any) -> frozenset[Any]:
        """What set operations (`&`, `|`, `-`) return: a frozenset, of any size."""
        return frozenset(keys)

    def __repr__(self) -> str:
        return f"frozenset({{{self._key!r}}})"


def compact_mapping(entries: Mapping[K, V]) -> Mapping[K, V]:
    """`entries` as a OneKeyMapping when it has one entry, else as a dict of its own."""
    if len(entries) == 1:
        ((key, value),) = entries.items()
        return OneKeyMapping(key, value)
    return dict(entries)


def compact_set(keys: Any) -> AbstractSet[Any]:
    """The distinct `keys` as a OneKeySet when there is one, else as a frozenset."""
    distinct = frozenset(keys)
    if len(distinct) == 1:
        (key,) = distinct
        return OneKeySet(key)
    return distinct
