"""The partition mapping a dependency gets when it does not name one."""

from __future__ import annotations

from weir._partitions.base import PartitionsDefinition
from weir._partitions.mappings.base import PartitionMapping
from weir._partitions.mappings.multi import (
    MultiToSingleDimensionPartitionMapping,
    infer_single_dimension_dependency,
)
from weir._partitions.mappings.simple import AllPartitionMapping, IdentityPartitionMapping
from weir._partitions.mappings.time_window import TimeWindowPartitionMapping
from weir._partitions.time_window import TimeWindowPartitionsDefinition


def infer_partition_mapping(
    partition_mapping: PartitionMapping | None,
    upstream_partitions_def: PartitionsDefinition | None,
    downstream_partitions_def: PartitionsDefinition | None,
) -> PartitionMapping:
    """`partition_mapping` if given, else Dagster's default for the two definitions.

    - either asset unpartitioned: `AllPartitionMapping`
    - one multi-partitioned, one not, with a matching dimension:
      `MultiToSingleDimensionPartitionMapping`
    - both time windows: `TimeWindowPartitionMapping()`
    - otherwise: `IdentityPartitionMapping`

    >>> from weir import DailyPartitionsDefinition, HourlyPartitionsDefinition
    >>> infer_partition_mapping(
    ...     None, HourlyPartitionsDefinition("2024-01-01-00:00"), DailyPartitionsDefinition("2024-01-01")
    ... )
    TimeWindowPartitionMapping(start_offset=0, end_offset=0, allow_nonexistent_upstream_partitions=False)
    """  # noqa: E501
    if partition_mapping is not None:
        return partition_mapping
    if upstream_partitions_def is None or downstream_partitions_def is None:
        return AllPartitionMapping()
    dependency = infer_single_dimension_dependency(
        upstream_partitions_def, downstream_partitions_def
    )
    if not isinstance(dependency, str):
        return MultiToSingleDimensionPartitionMapping()
    if isinstance(upstream_partitions_def, TimeWindowPartitionsDefinition) and isinstance(
        downstream_partitions_def, TimeWindowPartitionsDefinition
    ):
        return TimeWindowPartitionMapping()
    return IdentityPartitionMapping()
