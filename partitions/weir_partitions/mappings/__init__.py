"""Partition mappings over key spaces: which upstream partitions downstream ones read, and
which downstream partitions upstream ones feed.

The SDK's mapping classes (`weir.TimeWindowPartitionMapping`, ...) and the control plane
(which reads a dependency's `weir.v1.PartitionMapping` from a snapshot) both evaluate
mappings here, so they cannot disagree on which partitions a run or a backfill needs.

>>> from datetime import UTC, datetime
>>> from weir_partitions import TimeWindowKeySpace
>>> start = datetime(2024, 1, 1, tzinfo=UTC)
>>> hours = TimeWindowKeySpace("0 * * * *", "UTC", "%Y-%m-%d-%H:%M", start)
>>> days = TimeWindowKeySpace("0 0 * * *", "UTC", "%Y-%m-%d", start)
>>> now = datetime(2024, 2, 1, tzinfo=UTC).timestamp()
>>> mapping = default_mapping(hours, days)
>>> len(mapping.upstream_keys("2024-01-02", days, hours, now))
24
>>> mapping.downstream_keys("2024-01-02-07:00", hours, days, now)
['2024-01-02']
"""

from weir_partitions.mappings.base import KeyMapping, PartitionKeys
from weir_partitions.mappings.infer import default_mapping
from weir_partitions.mappings.multi import (
    DimensionMapping,
    MultiDimensionMapping,
    MultiToSingleDimensionMapping,
    single_dimension,
)
from weir_partitions.mappings.simple import (
    AllMapping,
    IdentityMapping,
    LastMapping,
    SpecificKeysMapping,
    StaticMapping,
)
from weir_partitions.mappings.time_window import TimeWindowMapping

__all__ = [
    "AllMapping",
    "DimensionMapping",
    "IdentityMapping",
    "KeyMapping",
    "LastMapping",
    "MultiDimensionMapping",
    "MultiToSingleDimensionMapping",
    "PartitionKeys",
    "SpecificKeysMapping",
    "StaticMapping",
    "TimeWindowMapping",
    "default_mapping",
    "single_dimension",
]
