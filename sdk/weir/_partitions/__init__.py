"""Partitions definitions: how an asset is split into independently materialized pieces."""

from weir._partitions.base import DynamicPartitionsStore, PartitionKeyRange, PartitionsDefinition
from weir._partitions.dynamic import DynamicPartitionsDefinition, InMemoryDynamicPartitionsStore
from weir._partitions.mappings import (
    AllPartitionMapping,
    DimensionPartitionMapping,
    IdentityPartitionMapping,
    LastPartitionMapping,
    MultiPartitionMapping,
    MultiToSingleDimensionPartitionMapping,
    PartitionMapping,
    SpecificPartitionsPartitionMapping,
    StaticPartitionMapping,
    TimeWindowPartitionMapping,
    infer_partition_mapping,
)
from weir._partitions.multi import (
    MultiPartitionKey,
    MultiPartitionsDefinition,
    PartitionDimensionDefinition,
)
from weir._partitions.static import StaticPartitionsDefinition
from weir._partitions.time_window import (
    ScheduleType,
    TimeWindow,
    TimeWindowPartitionsDefinition,
)
from weir._partitions.time_window_kinds import (
    DailyPartitionsDefinition,
    HourlyPartitionsDefinition,
    MonthlyPartitionsDefinition,
    WeeklyPartitionsDefinition,
)

__all__ = [
    "AllPartitionMapping",
    "DailyPartitionsDefinition",
    "DimensionPartitionMapping",
    "DynamicPartitionsDefinition",
    "DynamicPartitionsStore",
    "HourlyPartitionsDefinition",
    "IdentityPartitionMapping",
    "InMemoryDynamicPartitionsStore",
    "LastPartitionMapping",
    "MonthlyPartitionsDefinition",
    "MultiPartitionKey",
    "MultiPartitionMapping",
    "MultiPartitionsDefinition",
    "MultiToSingleDimensionPartitionMapping",
    "PartitionDimensionDefinition",
    "PartitionKeyRange",
    "PartitionMapping",
    "PartitionsDefinition",
    "ScheduleType",
    "SpecificPartitionsPartitionMapping",
    "StaticPartitionMapping",
    "StaticPartitionsDefinition",
    "TimeWindow",
    "TimeWindowPartitionMapping",
    "TimeWindowPartitionsDefinition",
    "WeeklyPartitionsDefinition",
    "infer_partition_mapping",
]
