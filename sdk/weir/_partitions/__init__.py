"""Partitions definitions: how an asset is split into independently materialized pieces."""

from weir._partitions.base import DynamicPartitionsStore, PartitionKeyRange, PartitionsDefinition
from weir._partitions.dynamic import DynamicPartitionsDefinition, InMemoryDynamicPartitionsStore
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
    "DailyPartitionsDefinition",
    "DynamicPartitionsDefinition",
    "DynamicPartitionsStore",
    "HourlyPartitionsDefinition",
    "InMemoryDynamicPartitionsStore",
    "MonthlyPartitionsDefinition",
    "MultiPartitionKey",
    "MultiPartitionsDefinition",
    "PartitionDimensionDefinition",
    "PartitionKeyRange",
    "PartitionsDefinition",
    "ScheduleType",
    "StaticPartitionsDefinition",
    "TimeWindow",
    "TimeWindowPartitionsDefinition",
    "WeeklyPartitionsDefinition",
]
