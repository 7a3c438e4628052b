"""Partition mappings: which partitions of an upstream asset each downstream partition reads.

Each built-in mapping stands for one of the partitions engine's (`weir_partitions.mappings`),
which evaluates it: the control plane evaluates the same mapping from the snapshot.
"""

from weir._partitions.mappings.base import PartitionMapping
from weir._partitions.mappings.infer import infer_partition_mapping
from weir._partitions.mappings.multi import (
    DimensionPartitionMapping,
    MultiPartitionMapping,
    MultiToSingleDimensionPartitionMapping,
)
from weir._partitions.mappings.simple import (
    AllPartitionMapping,
    IdentityPartitionMapping,
    LastPartitionMapping,
    SpecificPartitionsPartitionMapping,
    StaticPartitionMapping,
)
from weir._partitions.mappings.time_window import TimeWindowPartitionMapping

__all__ = [
    "AllPartitionMapping",
    "DimensionPartitionMapping",
    "IdentityPartitionMapping",
    "LastPartitionMapping",
    "MultiPartitionMapping",
    "MultiToSingleDimensionPartitionMapping",
    "PartitionMapping",
    "SpecificPartitionsPartitionMapping",
    "StaticPartitionMapping",
    "TimeWindowPartitionMapping",
    "infer_partition_mapping",
]
