"""Partitions that are the cross product of several dimensions (e.g. date x region)."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from weir._errors import DefinitionError, PartitionKeyError
from weir._partitions.base import (
    DynamicPartitionsStore,
    PartitionKeyRange,
    PartitionsDefinition,
    engine_time,
    range_ends,
)
from weir._partitions.dynamic import DynamicPartitionsDefinition
from weir._partitions.static import StaticPartitionsDefinition
from weir._partitions.time_window import TimeWindowPartitionsDefinition

if TYPE_CHECKING:
    from weir_partitions import MultiKeySpace

MULTIPARTITION_KEY_DELIMITER = "|"
# Characters a dimension's keys cannot hold, as in Dagster: they delimit keys and ranges.
_RESERVED_CHARACTERS = frozenset("|,[]")


class PartitionDimensionKey(NamedTuple):
    """One dimension's part of a multi-partition key."""

    dimension_name: str
    partition_key: str


class MultiPartitionKey(str):
    """A partition key of a `MultiPartitionsDefinition`: one key per dimension.

    It is a string (the dimension keys joined by ``|`` in dimension-name order, exactly as
    Dagster writes them) that also knows its parts.

    >>> key = MultiPartitionKey({"region": "eu", "date": "2024-01-01"})
    >>> key
    '2024-01-01|eu'
    >>> key.keys_by_dimension["region"]
    'eu'
    """

    dimension_keys: list[PartitionDimensionKey]

    def __new__(cls, keys_by_dimension: Mapping[str, str]) -> MultiPartitionKey:
        if not isinstance(keys_by_dimension, Mapping) or not keys_by_dimension:
            raise PartitionKeyError(
                "MultiPartitionKey takes a dict of dimension name to key, "
                f"got {keys_by_dimension!r}"
            )
        parts = [
            PartitionDimensionKey(name, keys_by_dimension[name])
            for name in sorted(keys_by_dimension)
        ]
        for name, key in parts:
            if not isinstance(name, str) or not isinstance(key, str):
                raise PartitionKeyError(
                    f"MultiPartitionKey dimensions and keys must be strings, got {name!r}: {key!r}"
                )
        joined = MULTIPARTITION_KEY_DELIMITER.join(p.partition_key for p in parts)
        key_str = super().__new__(cls, joined)
        key_str.dimension_keys = parts
        return key_str

    def __getnewargs__(self) -> tuple[dict[str, str]]:  # type: ignore[override]
        return (self.keys_by_dimension,)  # pickles as its parts, not as the joined string

    @property
    def keys_by_dimension(self) -> dict[str, str]:
        return {p.dimension_name: p.partition_key for p in self.dimension_keys}


class PartitionDimensionDefinition(NamedTuple):
    """A named dimension of a `MultiPartitionsDefinition`."""

    name: str
    partitions_def: PartitionsDefinition


class MultiPartitionsDefinition(PartitionsDefinition):
    """The cross product of two or more partitions definitions, one per named dimension.

    Keys are `MultiPartitionKey`s; their string form joins the dimension keys with ``|`` in
    dimension-name order, so ``{"date": ..., "region": ...}`` gives ``2024-01-01|eu``, the
    same strings Dagster stores. Dimensions may be static, time-window or dynamic
    partitions; Dagster allows exactly two, Weir any number from two.

    >>> from weir import DailyPartitionsDefinition, StaticPartitionsDefinition
    >>> multi = MultiPartitionsDefinition(
    ...     {
    ...         "date": DailyPartitionsDefinition("2024-01-01", end_date="2024-01-03"),
    ...         "region": StaticPartitionsDefinition(["eu", "us"]),
    ...     }
    ... )
    >>> multi.get_partition_keys()
    ['2024-01-01|eu', '2024-01-01|us', '2024-01-02|eu', '2024-01-02|us']
    """

    def __init__(self, partitions_defs: Mapping[str, PartitionsDefinition]):
        if not isinstance(partitions_defs, Mapping) or len(partitions_defs) < 2:
            raise DefinitionError(
                "MultiPartitionsDefinition takes a dict of two or more dimension names to "
                f"partitions definitions, got {partitions_defs!r}"
            )
        for name, defn in partitions_defs.items():
            _check_dimension(name, defn)
        self._dimensions = [
            PartitionDimensionDefinition(name, partitions_defs[name])
            for name in sorted(partitions_defs)
        ]

    @property
    def partitions_defs(self) -> list[PartitionDimensionDefinition]:
        """The dimensions, in name order."""
        return list(self._dimensions)

    @property
    def partition_dimension_names(self) -> list[str]:
        return [d.name for d in self._dimensions]

    def get_partitions_def_for_dimension(self, dimension_name: str) -> PartitionsDefinition:
        for dimension in self._dimensions:
            if dimension.name == dimension_name:
                return dimension.partitions_def
        raise DefinitionError(
            f"No dimension {dimension_name!r}; the dimensions are {self.partition_dimension_names}"
        )

    @property
    def time_window_dimension(self) -> PartitionDimensionDefinition:
        """The one time-window dimension (an error if there is not exactly one)."""
        found = [
            d
            for d in self._dimensions
            if isinstance(d.partitions_def, TimeWindowPartitionsDefinition)
        ]
        if len(found) != 1:
            raise DefinitionError(
                f"{self!r} has {len(found)} time-window dimensions; expected exactly one"
            )
        return found[0]

    # -- keys -------------------------------------------------------------------------------

    def get_partition_keys(
        self,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> list[MultiPartitionKey]:
        per_dimension = [
            d.partitions_def.get_partition_keys(current_time, dynamic_partitions_store)
            for d in self._dimensions
        ]
        return self._combine(itertools.product(*per_dimension))

    def get_num_partitions(
        self,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> int:
        return math.prod(
            d.partitions_def.get_num_partitions(current_time, dynamic_partitions_store)
            for d in self._dimensions
        )

    def has_partition_key(
        self,
        key: str,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> bool:
        parts = self._split(key)
        return parts is not None and all(
            d.partitions_def.has_partition_key(part, current_time, dynamic_partitions_store)
            for d, part in zip(self._dimensions, parts, strict=True)
        )

    def get_first_partition_key(
        self,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> MultiPartitionKey | None:
        return self._corner("get_first_partition_key", current_time, dynamic_partitions_store)

    def get_last_partition_key(
        self,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> MultiPartitionKey | None:
        return self._corner("get_last_partition_key", current_time, dynamic_partitions_store)

    def get_partition_keys_in_range(
        self,
        start: str | PartitionKeyRange,
        end: str | None = None,
        current_time: datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> list[MultiPartitionKey]:
        """Every combination of each dimension's own range from `start` to `end`, as in Dagster.

        >>> from weir import StaticPartitionsDefinition
        >>> grid = MultiPartitionsDefinition(
        ...     {"x": StaticPartitionsDefinition(["1", "2", "3"]),
        ...      "y": StaticPartitionsDefinition(["a", "b", "c"])}
        ... )
        >>> grid.get_partition_keys_in_range("1|b", "2|c")
        ['1|b', '1|c', '2|b', '2|c']
        """
        first, last = range_ends(start, end)
        for key in (first, last):
            self.validate_partition_key(key, "", current_time, dynamic_partitions_store)
        ranges = [
            d.partitions_def.get_partition_keys_in_range(
                a, b, current_time=current_time, dynamic_partitions_store=dynamic_partitions_store
            )
            for d, a, b in zip(self._dimensions, self._split(first), self._split(last), strict=True)  # type: ignore[arg-type]
        ]
        return self._combine(itertools.product(*ranges))

    def get_partition_key_from_str(self, partition_key_str: str) -> MultiPartitionKey:
        """The `MultiPartitionKey` a string like ``2024-01-01|eu`` stands for."""
        parts = self._split(partition_key_str)
        if parts is None:
            raise PartitionKeyError(
                f"{partition_key_str!r} is not a key of {self!r}: {self._key_shape()}"
            )
        return self._combine([parts])[0]

    # -- internals --------------------------------------------------------------------------

    def _split(self, key: Any) -> list[str] | None:
        if isinstance(key, MultiPartitionKey):
            by_dimension = key.keys_by_dimension
            if set(by_dimension) != set(self.partition_dimension_names):
                return None
            return [by_dimension[d.name] for d in self._dimensions]
        if not isinstance(key, str):
            return None
        parts = key.split(MULTIPARTITION_KEY_DELIMITER)
        return parts if len(parts) == len(self._dimensions) else None

    def _combine(self, combinations: Iterable[Iterable[str]]) -> list[MultiPartitionKey]:
        names = self.partition_dimension_names
        return [MultiPartitionKey(dict(zip(names, c, strict=True))) for c in combinations]

    def _corner(
        self,
        method: str,
        current_time: datetime | None,
        dynamic_partitions_store: DynamicPartitionsStore | None,
    ) -> MultiPartitionKey | None:
        parts = [
            getattr(d.partitions_def, method)(current_time, dynamic_partitions_store)
            for d in self._dimensions
        ]
        return None if None in parts else self._combine([parts])[0]

    def _key_shape(self) -> str:
        names = ", ".join(self.partition_dimension_names)
        return f"keys join one key per dimension ({names}) with {MULTIPARTITION_KEY_DELIMITER!r}"

    def _describe_valid_keys(
        self,
        key: str,
        current_time: datetime | None,
        dynamic_partitions_store: DynamicPartitionsStore | None,
    ) -> str:
        parts = self._split(key)
        if parts is None:
            return self._key_shape()
        for dimension, part in zip(self._dimensions, parts, strict=True):
            defn = dimension.partitions_def
            if not defn.has_partition_key(part, current_time, dynamic_partitions_store):
                detail = defn._describe_valid_keys(part, current_time, dynamic_partitions_store)
                return f"dimension {dimension.name!r} has no key {part!r}: {detail}"
        return self._key_shape()

    def _unknown_keys(
        self,
        keys: Iterable[str],
        current_time: datetime | None,
        dynamic_partitions_store: DynamicPartitionsStore | None,
    ) -> list[str]:
        space = self._key_space(current_time, dynamic_partitions_store)
        return space.unknown_keys(keys, engine_time(current_time, space))

    def _key_space(
        self,
        current_time: datetime | None,
        dynamic_partitions_store: DynamicPartitionsStore | None,
    ) -> MultiKeySpace:
        from weir_partitions import MultiKeySpace

        return MultiKeySpace(
            [
                (d.name, d.partitions_def._key_space(current_time, dynamic_partitions_store))
                for d in self._dimensions
            ]
        )

    def _sort_keys(
        self,
        keys: Iterable[str],
        current_time: datetime | None,
        dynamic_partitions_store: DynamicPartitionsStore | None,
    ) -> list[str]:
        space = self._key_space(current_time, dynamic_partitions_store)
        return space.sort_keys(keys, engine_time(current_time, space))

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, MultiPartitionsDefinition) and self._dimensions == other._dimensions
        )

    def __hash__(self) -> int:
        return hash(tuple(self._dimensions))

    def __repr__(self) -> str:
        inner = ", ".join(f"{d.name!r}: {d.partitions_def!r}" for d in self._dimensions)
        return f"MultiPartitionsDefinition({{{inner}}})"


def _check_dimension(name: Any, defn: Any) -> None:
    if not isinstance(name, str) or not name or MULTIPARTITION_KEY_DELIMITER in name:
        raise DefinitionError(f"Dimension name {name!r} must be a non-empty string without '|'")
    allowed = (
        StaticPartitionsDefinition,
        TimeWindowPartitionsDefinition,
        DynamicPartitionsDefinition,
    )
    if not isinstance(defn, allowed):
        raise DefinitionError(
            f"Dimension {name!r} of a MultiPartitionsDefinition must be static, time-window or "
            f"dynamic partitions, got {defn!r}"
        )
    if isinstance(defn, DynamicPartitionsDefinition) and defn.name is None:
        raise DefinitionError(
            f"Dynamic dimension {name!r} needs a name to keep its keys in a store"
        )
    if isinstance(defn, StaticPartitionsDefinition):
        bad = [k for k in defn.get_partition_keys() if _RESERVED_CHARACTERS & set(k)]
        if bad:
            raise DefinitionError(
                f"Keys of dimension {name!r} cannot contain any of | , [ ]; found {bad}"
            )
