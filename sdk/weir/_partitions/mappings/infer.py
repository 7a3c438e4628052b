"""The partition mapping a dependency gets when it does not name one."""

from __future__ import annotations

from typing import TYPE_CHECKING

from weir._partitions.base import PartitionsDefinition
from weir._partitions.mappings.base import PartitionMapping
from weir._partitions.mappings.multi import MultiToSingleDimensionPartitionMapping
from weir._partitions.mappings.simple import AllPartitionMapping, IdentityPartitionMapping
from weir._partitions.mappings.time_window import TimeWindowPartitionMapping

if TYPE_CHECKING:
    from weir_partitions import KeySpace


def infer_partition_mapping(
    partition_mapping: PartitionMapping | None,
    upstream_partitions_def: PartitionsDefinition | None,
    downstream_partitions_def: PartitionsDefinition | None,
) -> PartitionMapping:
    """`partition_mapping` if given, else Dagster's default for the two definitions, as the
    partitions engine chooses it (`weir_partitions.mappings.default_mapping`):

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
    from weir_partitions import mappings

    def space(defn: PartitionsDefinition | None) -> KeySpace | None:
        return None if defn is None else defn._key_space(None, None)

    chosen = mappings.default_mapping(
        space(upstream_partitions_def), space(downstream_partitions_def)
    )
    by_rule: dict[type[mappings.KeyMapping], PartitionMapping] = {
        mappings.AllMapping: AllPartitionMapping(),
        mappings.MultiToSingleDimensionMapping: MultiToSingleDimensionPartitionMapping(),
        mappings.TimeWindowMapping: TimeWindowPartitionMapping(),
        mappings.IdentityMapping: IdentityPartitionMapping(),
    }
    return by_rule[type(chosen)]
