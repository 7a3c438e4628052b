"""The keys of static, dynamic and multi-dimensional partitions, and what they share.

Every key space answers `has_key(key, now)` and `describe_valid_keys(key, now, as_of)`;
`validate_key` raises `UnknownPartitionKeyError` with that description. Static keys, and
multi keys of static dimensions and at most one time window, are also numbered 0..n-1
(`IndexedKeySpace`) for partition status and paging. For the partition mappings
(`weir_partitions.mappings`) each also lists its keys, finds the unknown ones among many,
puts keys in its order, and compares by value with another key space. `now` (POSIX
seconds) matters only to time windows (`weir_partitions.time_window`), which can be a
dimension of a `MultiKeySpace`. A key space's repr is the partitions definition it reads,
as the SDK spells it, so errors name definitions the way users wrote them.

>>> grid = MultiKeySpace([("color", StaticKeySpace(["red"])), ("size", StaticKeySpace(["s"]))])
>>> grid.has_key("red|s", 0), grid.has_key("red|xl", 0)
(True, False)
>>> grid.describe_valid_keys("red|xl", 0)
"dimension 'size' has no key 'xl': valid keys are 's'"
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from typing import Protocol

from weir_partitions.errors import DynamicKeysUnknownError, KeySpaceError, UnknownPartitionKeyError
from weir_partitions.ranges import IndexRanges
from weir_partitions.time_window import TimeWindowKeySpace

MULTIPARTITION_KEY_DELIMITER = "|"
_SAMPLE = 5


class KeySpace(Protocol):
    def has_key(self, key: object, now: float) -> bool: ...

    def describe_valid_keys(self, key: object, now: float, as_of: str = "now") -> str: ...

    def validate_key(self, key: object, now: float, as_of: str = "now") -> None: ...

    def keys(self, now: float) -> list[str]:
        """Every key as of `now`, in order."""
        ...

    def last_key(self, now: float) -> str | None: ...

    def unknown_keys(self, keys: Iterable[str], now: float) -> list[str]:
        """The keys among `keys` that are not keys as of `now`, in the order given."""
        ...

    def sort_keys(self, keys: Iterable[str], now: float) -> list[str]:
        """`keys` (keys of this space) once each, in this space's order."""
        ...


class IndexedKeySpace(KeySpace, Protocol):
    """A key space whose keys as of a moment are numbered 0..count-1 in order, so
    partition status and paging can address them by index."""

    def count(self, now: float) -> int: ...

    def index_of(self, key: object, now: float) -> int | None: ...

    def indexes_of(self, keys: Sequence[str], now: float) -> list[int | None]:
        """`index_of` each of `keys`, in bulk."""
        ...

    def index_ranges(self, keys: Sequence[str], now: float) -> IndexRanges:
        """The indexes of those of `keys` that are keys as of `now`."""
        ...

    def key_at(self, index: int) -> str: ...

    def keys_slice(self, offset: int, limit: int, now: float) -> list[str]: ...


def _ranges_of(indexes: Iterable[int | None]) -> IndexRanges:
    return IndexRanges.of(i for i in indexes if i is not None)


class _Validating:
    def validate_key(self: KeySpace, key: object, now: float, as_of: str = "now") -> None:
        """Raise `UnknownPartitionKeyError` saying what valid keys look like."""
        if not self.has_key(key, now):
            raise UnknownPartitionKeyError(key, self.describe_valid_keys(key, now, as_of))


def describe_key_list(keys: Sequence[str]) -> str:
    """'valid keys are 'a', 'b' (and 3 more)': the first few keys of a list."""
    sample = ", ".join(repr(k) for k in keys[:_SAMPLE])
    more = f" (and {len(keys) - _SAMPLE} more)" if len(keys) > _SAMPLE else ""
    return f"valid keys are {sample}{more}" if keys else "it has no partitions yet"


class StaticKeySpace(_Validating):
    """A fixed list of distinct, non-empty keys, in order."""

    def __init__(self, keys: Sequence[str]):
        self.key_list = list(keys)
        bad = [k for k in self.key_list if not isinstance(k, str) or not k]
        if bad:
            raise KeySpaceError(f"Partition keys must be non-empty strings, got {bad!r}")
        self.position = {k: i for i, k in enumerate(self.key_list)}
        if len(self.position) != len(self.key_list):
            seen: set[str] = set()
            dupes = sorted({k for k in self.key_list if k in seen or seen.add(k)})  # type: ignore[func-returns-value]
            raise KeySpaceError(f"StaticPartitionsDefinition has duplicate keys: {dupes}")

    def has_key(self, key: object, now: float = 0) -> bool:
        return isinstance(key, str) and key in self.position

    def describe_valid_keys(self, key: object, now: float = 0, as_of: str = "now") -> str:
        return describe_key_list(self.key_list)

    def keys(self, now: float = 0) -> list[str]:
        return list(self.key_list)

    def last_key(self, now: float = 0) -> str | None:
        return self.key_list[-1] if self.key_list else None

    def unknown_keys(self, keys: Iterable[str], now: float = 0) -> list[str]:
        return [k for k in keys if k not in self.position]

    def sort_keys(self, keys: Iterable[str], now: float = 0) -> list[str]:
        return sorted(set(keys), key=self.position.__getitem__)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, StaticKeySpace) and other.key_list == self.key_list

    def __hash__(self) -> int:
        return hash(tuple(self.key_list))

    def __repr__(self) -> str:
        return f"StaticPartitionsDefinition({self.key_list!r})"

    def count(self, now: float = 0) -> int:
        return len(self.key_list)

    def index_of(self, key: object, now: float = 0) -> int | None:
        return self.position.get(key) if isinstance(key, str) else None

    def indexes_of(self, keys: Sequence[str], now: float = 0) -> list[int | None]:
        get = self.position.get
        return [get(key) for key in keys]

    def index_ranges(self, keys: Sequence[str], now: float = 0) -> IndexRanges:
        return _ranges_of(self.indexes_of(keys, now))

    def key_at(self, index: int) -> str:
        return self.key_list[index]

    def keys_slice(self, offset: int, limit: int, now: float = 0) -> list[str]:
        return self.key_list[offset : offset + limit]


class DynamicKeySpace(_Validating):
    """Keys added and removed at run time under `name`.

    `stored` is what the store holds, in the order added; None when no store is at hand,
    and then any non-empty string is accepted, since there is nothing to check it against,
    while listing the keys raises `DynamicKeysUnknownError`. `label` names the keys'
    source in messages (default: "dynamic partitions 'name'").
    """

    def __init__(self, name: str, stored: Sequence[str] | None = None, label: str = ""):
        self.name = name
        self.stored = None if stored is None else list(dict.fromkeys(stored))
        self.label = label or f"dynamic partitions {name!r}"
        self._position = None if self.stored is None else {k: i for i, k in enumerate(self.stored)}

    def has_key(self, key: object, now: float = 0) -> bool:
        if not isinstance(key, str) or not key:
            return False
        return self._position is None or key in self._position

    def describe_valid_keys(self, key: object, now: float = 0, as_of: str = "now") -> str:
        if not isinstance(key, str) or not key:
            return "partition keys are non-empty strings"
        listed = describe_key_list(self.stored or [])
        return f"it is not one of the keys of {self.label}; {listed}"

    def keys(self, now: float = 0) -> list[str]:
        if self.stored is None:
            raise DynamicKeysUnknownError(self.name)
        return list(self.stored)

    def last_key(self, now: float = 0) -> str | None:
        keys = self.keys(now)
        return keys[-1] if keys else None

    def unknown_keys(self, keys: Iterable[str], now: float = 0) -> list[str]:
        return [k for k in keys if not self.has_key(k, now)]

    def sort_keys(self, keys: Iterable[str], now: float = 0) -> list[str]:
        if self._position is None:
            return sorted(set(keys))  # no store to give the order: a stable one
        return sorted(set(keys), key=self._position.__getitem__)

    def __eq__(self, other: object) -> bool:
        # Keys are shared by name; a space without a name holds keys computed by a function.
        if not isinstance(other, DynamicKeySpace) or other.name != self.name:
            return False
        return bool(self.name) or other.stored == self.stored

    def __hash__(self) -> int:
        return hash(self.name)

    def __repr__(self) -> str:
        return f"DynamicPartitionsDefinition(name={self.name!r})"


class MultiKeySpace(_Validating):
    """The cross product of named dimensions; a key joins one key per dimension with "|"
    in the order given (the SDK and the wire both order dimensions by name)."""

    def __init__(self, dimensions: Sequence[tuple[str, KeySpace]]):
        if len(dimensions) < 2:
            raise KeySpaceError("a multi-dimensional key space needs two or more dimensions")
        self.dimensions = list(dimensions)
        self.names = [name for name, _ in self.dimensions]

    def dimension(self, name: str) -> KeySpace:
        for dimension_name, space in self.dimensions:
            if dimension_name == name:
                return space
        raise KeySpaceError(f"No dimension {name!r}; the dimensions are {self.names}")

    def split(self, key: object) -> list[str] | None:
        """One key per dimension, or None if `key` does not have one part per dimension."""
        if not isinstance(key, str):
            return None
        parts = key.split(MULTIPARTITION_KEY_DELIMITER)
        return parts if len(parts) == len(self.dimensions) else None

    def has_key(self, key: object, now: float) -> bool:
        parts = self.split(key)
        return parts is not None and all(
            space.has_key(part, now)
            for (_, space), part in zip(self.dimensions, parts, strict=True)
        )

    # -- indexes ------------------------------------------------------------------------
    # Numbered with the time-window dimension (if any) most significant, so that indexes
    # stay put as windows are added; the other dimensions must have fixed keys.

    def indexable(self) -> bool:
        """Whether keys can be numbered: static dimensions and at most one time window."""
        growing = [space for _, space in self.dimensions if not isinstance(space, StaticKeySpace)]
        return not growing or (len(growing) == 1 and isinstance(growing[0], TimeWindowKeySpace))

    def frozen(self, now: float) -> MultiKeySpace:
        """The same keys as of `now`, numbered: every dimension that grows, but the first
        time window, replaced by its current keys (dynamic ones in the order they were
        added). Its indexes hold until one of those dimensions changes."""
        windows = [
            at for at, (_, s) in enumerate(self.dimensions) if isinstance(s, TimeWindowKeySpace)
        ]
        kept = windows[0] if windows else None
        return MultiKeySpace(
            [
                (
                    name,
                    space
                    if at == kept or isinstance(space, StaticKeySpace)
                    else StaticKeySpace(space.keys(now)),
                )
                for at, (name, space) in enumerate(self.dimensions)
            ]
        )

    def _order(self) -> tuple[int, list[int]]:
        """(the most significant dimension, the others) as positions in `dimensions`."""
        growing = [
            at
            for at, (_, space) in enumerate(self.dimensions)
            if not isinstance(space, StaticKeySpace)
        ]
        major = growing[0] if growing else 0
        return major, [at for at in range(len(self.dimensions)) if at != major]

    def _stride(self) -> int:
        _, minor = self._order()
        stride = 1
        for at in minor:
            stride *= len(self._static(at).key_list)
        return stride

    def _static(self, at: int) -> StaticKeySpace:
        space = self.dimensions[at][1]
        assert isinstance(space, StaticKeySpace)
        return space

    def _major(self) -> StaticKeySpace | TimeWindowKeySpace:
        if not self.indexable():
            raise KeySpaceError(
                "multi-dimensional keys are numbered only with static dimensions and at most "
                "one time-window dimension"
            )
        space = self.dimensions[self._order()[0]][1]
        assert isinstance(space, StaticKeySpace | TimeWindowKeySpace)
        return space

    def count(self, now: float) -> int:
        return self._major().count(now) * self._stride()

    def index_of(self, key: object, now: float) -> int | None:
        parts = self.split(key)
        if parts is None:
            return None
        major, minor = self._order()
        first = self._major().index_of(parts[major], now)
        if first is None:
            return None
        index = first
        for at in minor:
            position = self._static(at).index_of(parts[at])
            if position is None:
                return None
            index = index * len(self._static(at).key_list) + position
        return index

    def indexes_of(self, keys: Sequence[str], now: float) -> list[int | None]:
        """`index_of` each key: the major dimension's parts in one batch."""
        major, minor = self._order()
        split = [self.split(key) for key in keys]
        firsts = self._major().indexes_of(["" if p is None else p[major] for p in split], now)
        minors = [(self._static(at).position, len(self._static(at).key_list)) for at in minor]
        indexes: list[int | None] = []
        for parts, index in zip(split, firsts, strict=True):
            if parts is not None and index is not None:
                for at, (position, size) in zip(minor, minors, strict=True):
                    found = position.get(parts[at])
                    if found is None:
                        index = None
                        break
                    index = index * size + found
            indexes.append(None if parts is None else index)
        return indexes

    def index_ranges(self, keys: Sequence[str], now: float) -> IndexRanges:
        return _ranges_of(self.indexes_of(keys, now))

    def key_at(self, index: int) -> str:
        major, minor = self._order()
        parts = [""] * len(self.dimensions)
        for at in reversed(minor):
            keys = self._static(at).key_list
            index, position = divmod(index, len(keys))
            parts[at] = keys[position]
        parts[major] = self._major().key_at(index)
        return MULTIPARTITION_KEY_DELIMITER.join(parts)

    def keys_slice(self, offset: int, limit: int, now: float) -> list[str]:
        stop = min(self.count(now), offset + limit)
        return [self.key_at(index) for index in range(offset, stop)]

    def key_shape(self) -> str:
        names = ", ".join(name for name, _ in self.dimensions)
        return f"keys join one key per dimension ({names}) with {MULTIPARTITION_KEY_DELIMITER!r}"

    def describe_valid_keys(self, key: object, now: float, as_of: str = "now") -> str:
        parts = self.split(key)
        if parts is None:
            return self.key_shape()
        for (name, space), part in zip(self.dimensions, parts, strict=True):
            if not space.has_key(part, now):
                detail = space.describe_valid_keys(part, now, as_of)
                return f"dimension {name!r} has no key {part!r}: {detail}"
        return self.key_shape()

    def keys(self, now: float) -> list[str]:
        per_dimension = [space.keys(now) for _, space in self.dimensions]
        return [MULTIPARTITION_KEY_DELIMITER.join(c) for c in itertools.product(*per_dimension)]

    def last_key(self, now: float) -> str | None:
        parts = [space.last_key(now) for _, space in self.dimensions]
        return None if None in parts else MULTIPARTITION_KEY_DELIMITER.join(parts)  # type: ignore[arg-type]

    def unknown_keys(self, keys: Iterable[str], now: float) -> list[str]:
        # Each dimension checks its distinct parts once, in bulk.
        split = {key: self.split(key) for key in keys}
        unknown_parts = [
            set(space.unknown_keys({p[i] for p in split.values() if p is not None}, now))
            for i, (_, space) in enumerate(self.dimensions)
        ]
        return [
            key
            for key, parts in split.items()
            if parts is None or any(p in bad for p, bad in zip(parts, unknown_parts, strict=True))
        ]

    def sort_keys(self, keys: Iterable[str], now: float) -> list[str]:
        split = {key: self.split(key) for key in keys}
        ranks = []
        for i, (_, space) in enumerate(self.dimensions):
            ordered = space.sort_keys({p[i] for p in split.values() if p is not None}, now)
            ranks.append({value: rank for rank, value in enumerate(ordered)})
        return sorted(
            split,
            key=lambda k: tuple(rank[part] for rank, part in zip(ranks, split[k], strict=True)),  # type: ignore[arg-type]
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MultiKeySpace) and other.dimensions == self.dimensions

    def __hash__(self) -> int:
        return hash(tuple(self.dimensions))

    def __repr__(self) -> str:
        inner = ", ".join(f"{name!r}: {space!r}" for name, space in self.dimensions)
        return f"MultiPartitionsDefinition({{{inner}}})"
