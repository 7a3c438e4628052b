"""Mappings between multi-dimensional partitions, dimension by dimension."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from weir._errors import DefinitionError
from weir._partitions.base import DynamicPartitionsStore, PartitionsDefinition
from weir._partitions.mappings.base import PartitionMapping, require_partitioned
from weir._partitions.mappings.simple import IdentityPartitionMapping
from weir._partitions.mappings.time_window import TimeWindowPartitionMapping
from weir._partitions.multi import MultiPartitionKey, MultiPartitionsDefinition
from weir._partitions.time_window import TimeWindowPartitionsDefinition


@dataclass(frozen=True)
class DimensionPartitionMapping:
    """In a `MultiPartitionMapping`: the downstream dimension an upstream one maps to, and how.

    >>> DimensionPartitionMapping("date", TimeWindowPartitionMapping(start_offset=-1))
    DimensionPartitionMapping(dimension_name='date', partition_mapping=TimeWindowPartitionMapping(start_offset=-1, end_offset=0, allow_nonexistent_upstream_partitions=False))
    """  # noqa: E501

    dimension_name: str
    partition_mapping: PartitionMapping

    def __post_init__(self) -> None:
        if not isinstance(self.dimension_name, str) or not self.dimension_name:
            raise DefinitionError(f"dimension_name must be a string, got {self.dimension_name!r}")
        if not isinstance(self.partition_mapping, PartitionMapping):
            raise DefinitionError(
                f"partition_mapping must be a PartitionMapping, got {self.partition_mapping!r}"
            )


class DimensionDependency(NamedTuple):
    """One mapped pair of dimensions; None names the whole of a single-dimension definition."""

    partition_mapping: PartitionMapping
    upstream_dimension_name: str | None
    downstream_dimension_name: str | None


class _DimensionwiseMapping(PartitionMapping):
    """Maps each key dimension by dimension; unmapped target dimensions take every key."""

    def dimension_dependencies(
        self,
        upstream_def: PartitionsDefinition | None,
        downstream_def: PartitionsDefinition | None,
    ) -> list[DimensionDependency]:
        raise NotImplementedError

    def validate_partition_mapping(
        self, upstream_partitions_def: Any, downstream_partitions_def: Any
    ) -> None:
        require_partitioned(self, upstream_partitions_def, downstream_partitions_def)
        self.dimension_dependencies(upstream_partitions_def, downstream_partitions_def)

    def _upstream(
        self,
        downstream_keys: list[str],
        downstream_def: PartitionsDefinition | None,
        upstream_def: PartitionsDefinition | None,
        now: datetime,
        store: DynamicPartitionsStore | None,
    ) -> list[str]:
        deps = [
            (d.downstream_dimension_name, d.upstream_dimension_name, d.partition_mapping)
            for d in self.dimension_dependencies(upstream_def, downstream_def)
        ]
        return _map(deps, downstream_keys, downstream_def, upstream_def, True, now, store)

    def _downstream(
        self,
        upstream_keys: list[str],
        upstream_def: PartitionsDefinition | None,
        downstream_def: PartitionsDefinition | None,
        now: datetime,
        store: DynamicPartitionsStore | None,
    ) -> list[str]:
        deps = [
            (d.upstream_dimension_name, d.downstream_dimension_name, d.partition_mapping)
            for d in self.dimension_dependencies(upstream_def, downstream_def)
        ]
        return _map(deps, upstream_keys, upstream_def, downstream_def, False, now, store)


@dataclass(frozen=True)
class MultiToSingleDimensionPartitionMapping(_DimensionwiseMapping):
    """Between a multi-partitioned asset and a single-dimension one, match one dimension.

    A key X of the single-dimension asset relates to every multi-partition key whose
    chosen dimension relates to X: the same key when that dimension's definition equals
    the single one, the overlapping windows when both are time windows. The dimension is
    found by those rules unless `partition_dimension_name` names it.

    >>> from weir import DailyPartitionsDefinition, MultiPartitionsDefinition
    >>> from weir import StaticPartitionsDefinition
    >>> days = DailyPartitionsDefinition("2024-01-01", end_date="2024-01-03")
    >>> multi = MultiPartitionsDefinition(
    ...     {"date": days, "region": StaticPartitionsDefinition(["eu", "us"])}
    ... )
    >>> MultiToSingleDimensionPartitionMapping().get_upstream_partitions("2024-01-02", days, multi)
    ['2024-01-02|eu', '2024-01-02|us']
    """

    partition_dimension_name: str | None = None

    def dimension_dependencies(
        self,
        upstream_def: PartitionsDefinition | None,
        downstream_def: PartitionsDefinition | None,
    ) -> list[DimensionDependency]:
        dependency = infer_single_dimension_dependency(
            upstream_def, downstream_def, self.partition_dimension_name
        )
        if isinstance(dependency, str):
            raise DefinitionError(dependency)
        return [dependency]


@dataclass(frozen=True, eq=False)
class MultiPartitionMapping(_DimensionwiseMapping):
    """Between two multi-partitioned assets: for each upstream dimension, the downstream
    dimension it maps to and the mapping to use. Dimensions left out relate all-to-all.

    >>> from weir import (
    ...     DailyPartitionsDefinition, MultiPartitionsDefinition, StaticPartitionsDefinition
    ... )
    >>> days = DailyPartitionsDefinition("2024-01-01", end_date="2024-01-04")
    >>> up = MultiPartitionsDefinition({"day": days, "abc": StaticPartitionsDefinition(["a", "b"])})
    >>> down = MultiPartitionsDefinition({"day": days, "xy": StaticPartitionsDefinition(["x", "y"])})
    >>> mapping = MultiPartitionMapping(
    ...     {"day": DimensionPartitionMapping("day", TimeWindowPartitionMapping(start_offset=-1))}
    ... )
    >>> mapping.get_upstream_partitions("2024-01-03|x", down, up)
    ['a|2024-01-02', 'a|2024-01-03', 'b|2024-01-02', 'b|2024-01-03']
    """  # noqa: E501

    downstream_mappings_by_upstream_dimension: Mapping[str, DimensionPartitionMapping]

    def __init__(
        self, downstream_mappings_by_upstream_dimension: Mapping[str, DimensionPartitionMapping]
    ):
        table = dict(downstream_mappings_by_upstream_dimension)
        for upstream_dimension, mapping in table.items():
            if not isinstance(upstream_dimension, str) or not isinstance(
                mapping, DimensionPartitionMapping
            ):
                raise DefinitionError(
                    "MultiPartitionMapping maps upstream dimension names to "
                    f"DimensionPartitionMapping, got {upstream_dimension!r}: {mapping!r}"
                )
        targets = [m.dimension_name for m in table.values()]
        if len(set(targets)) != len(targets):
            raise DefinitionError(
                f"MultiPartitionMapping maps two upstream dimensions to one downstream: {targets}"
            )
        object.__setattr__(self, "downstream_mappings_by_upstream_dimension", table)

    def dimension_dependencies(
        self,
        upstream_def: PartitionsDefinition | None,
        downstream_def: PartitionsDefinition | None,
    ) -> list[DimensionDependency]:
        for side, defn in (("upstream", upstream_def), ("downstream", downstream_def)):
            if not isinstance(defn, MultiPartitionsDefinition):
                raise DefinitionError(
                    f"MultiPartitionMapping relates two MultiPartitionsDefinitions; the {side} "
                    f"one is {defn!r}"
                )
        assert isinstance(upstream_def, MultiPartitionsDefinition)
        assert isinstance(downstream_def, MultiPartitionsDefinition)
        deps = []
        for up_dim, mapping in self.downstream_mappings_by_upstream_dimension.items():
            for side, name, defn in (
                ("upstream", up_dim, upstream_def),
                ("downstream", mapping.dimension_name, downstream_def),
            ):
                if name not in defn.partition_dimension_names:
                    raise DefinitionError(
                        f"MultiPartitionMapping names {side} dimension {name!r}, but the {side} "
                        f"dimensions are {defn.partition_dimension_names}"
                    )
            mapping.partition_mapping.validate_partition_mapping(
                upstream_def.get_partitions_def_for_dimension(up_dim),
                downstream_def.get_partitions_def_for_dimension(mapping.dimension_name),
            )
            deps.append(
                DimensionDependency(mapping.partition_mapping, up_dim, mapping.dimension_name)
            )
        return deps

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, MultiPartitionMapping)
            and other.downstream_mappings_by_upstream_dimension
            == self.downstream_mappings_by_upstream_dimension
        )

    def __hash__(self) -> int:
        return hash(tuple(sorted(self.downstream_mappings_by_upstream_dimension.items())))


def infer_single_dimension_dependency(
    upstream_def: PartitionsDefinition | None,
    downstream_def: PartitionsDefinition | None,
    dimension_name: str | None = None,
) -> DimensionDependency | str:
    """How a multi-partitioned and a single-dimension definition relate, or why they cannot."""
    multis = [d for d in (upstream_def, downstream_def) if isinstance(d, MultiPartitionsDefinition)]
    if len(multis) != 1 or upstream_def is None or downstream_def is None:
        return (
            "MultiToSingleDimensionPartitionMapping relates a MultiPartitionsDefinition to a "
            f"single-dimension partitions definition; got upstream {upstream_def!r} and "
            f"downstream {downstream_def!r}"
        )
    multi = multis[0]
    single = downstream_def if upstream_def is multi else upstream_def
    dimensions = multi.partitions_defs
    if dimension_name is not None:
        dimensions = [d for d in dimensions if d.name == dimension_name]
        if not dimensions:
            return f"Dimension {dimension_name!r} is not one of {multi.partition_dimension_names}"

    def dependency(name: str, mapping: PartitionMapping) -> DimensionDependency:
        if upstream_def is multi:
            return DimensionDependency(mapping, name, None)
        return DimensionDependency(mapping, None, name)

    equal = [d for d in dimensions if d.partitions_def == single]
    if len(equal) == 1:
        return dependency(equal[0].name, IdentityPartitionMapping())
    if len(equal) > 1:
        return (
            f"Dimensions {[d.name for d in equal]} both match {single!r}; name one with "
            "MultiToSingleDimensionPartitionMapping(partition_dimension_name=...)"
        )
    times = [d for d in dimensions if isinstance(d.partitions_def, TimeWindowPartitionsDefinition)]
    if len(times) == 1 and isinstance(single, TimeWindowPartitionsDefinition):
        return dependency(times[0].name, TimeWindowPartitionMapping())
    if dimension_name is not None:
        return dependency(dimension_name, IdentityPartitionMapping())  # named: match keys
    return (
        f"No dimension of {multi!r} matches {single!r}: a dimension must have the same "
        "partitions definition, or both must be time windows (with one time dimension)"
    )


def _map(
    deps: list[tuple[str | None, str | None, PartitionMapping]],
    keys: list[str],
    from_def: PartitionsDefinition | None,
    to_def: PartitionsDefinition | None,
    to_upstream: bool,
    now: datetime,
    store: DynamicPartitionsStore | None,
) -> list[str]:
    """Map `keys` of `from_def` to keys of `to_def`: each mapped dimension through its
    mapping, every key of each unmapped target dimension, then their product."""
    assert from_def is not None and to_def is not None

    def dimension_def(defn: PartitionsDefinition, name: str | None) -> PartitionsDefinition:
        if name is None:
            return defn
        assert isinstance(defn, MultiPartitionsDefinition)
        return defn.get_partitions_def_for_dimension(name)

    def parts(key: str) -> dict[str | None, str]:
        if isinstance(from_def, MultiPartitionsDefinition):
            by_name = from_def.get_partition_key_from_str(key).keys_by_dimension
            return {name: value for name, value in by_name.items()}
        return {None: key}

    to_names: list[str | None] = (
        list(to_def.partition_dimension_names)
        if isinstance(to_def, MultiPartitionsDefinition)
        else [None]
    )
    mapped_to = {to_dim for _, to_dim, _ in deps}
    everything = {
        name: list(dimension_def(to_def, name).get_partition_keys(now, store))
        for name in to_names
        if name not in mapped_to
    }
    cache: dict[tuple[int, str], list[str]] = {}
    results: set[str] = set()
    for key in keys:
        by_dimension = parts(key)
        choices: dict[str | None, list[str]] = dict(everything)
        for i, (from_dim, to_dim, mapping) in enumerate(deps):
            value = by_dimension[from_dim]
            if (i, value) not in cache:
                source, target = dimension_def(from_def, from_dim), dimension_def(to_def, to_dim)
                method = (
                    mapping.get_upstream_partitions
                    if to_upstream
                    else mapping.get_downstream_partitions
                )
                cache[(i, value)] = method(value, source, target, now, store)
            choices[to_dim] = cache[(i, value)]
        for combination in itertools.product(*(choices[name] for name in to_names)):
            if to_names == [None]:
                results.add(combination[0])
            else:
                results.add(MultiPartitionKey(dict(zip(to_names, combination, strict=True))))  # type: ignore[arg-type]
    return to_def._sort_keys(results, now, store)
