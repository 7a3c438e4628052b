"""Mappings between multi-dimensional partitions, dimension by dimension."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from weir._errors import DefinitionError
from weir._partitions.mappings.base import PartitionMapping

if TYPE_CHECKING:
    from weir_partitions.mappings import KeyMapping


@dataclass(frozen=True)
class DimensionPartitionMapping:
    """In a `MultiPartitionMapping`: the downstream dimension an upstream one maps to, and how.

    >>> from weir import TimeWindowPartitionMapping
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


@dataclass(frozen=True)
class MultiToSingleDimensionPartitionMapping(PartitionMapping):
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

    def _rule(self) -> KeyMapping:
        from weir_partitions.mappings import MultiToSingleDimensionMapping

        return MultiToSingleDimensionMapping(self.partition_dimension_name)


@dataclass(frozen=True, eq=False)
class MultiPartitionMapping(PartitionMapping):
    """Between two multi-partitioned assets: for each upstream dimension, the downstream
    dimension it maps to and the mapping to use. Dimensions left out relate all-to-all.

    >>> from weir import (
    ...     DailyPartitionsDefinition, MultiPartitionsDefinition, StaticPartitionsDefinition,
    ...     TimeWindowPartitionMapping,
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

    def _rule(self) -> KeyMapping:
        from weir_partitions.mappings import DimensionMapping, MultiDimensionMapping

        return MultiDimensionMapping(
            tuple(
                DimensionMapping(
                    dimension.partition_mapping._rule(), upstream, dimension.dimension_name
                )
                for upstream, dimension in self.downstream_mappings_by_upstream_dimension.items()
            )
        )

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, MultiPartitionMapping)
            and other.downstream_mappings_by_upstream_dimension
            == self.downstream_mappings_by_upstream_dimension
        )

    def __hash__(self) -> int:
        return hash(tuple(sorted(self.downstream_mappings_by_upstream_dimension.items())))
