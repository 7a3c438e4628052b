"""Partitions definitions: how an asset is split into independently materialized pieces.

Names load from their modules on first use, so importing one kind of partitions (or just
the base class) does not import every kind and every mapping.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from weir._lazy import lazy_attributes

if TYPE_CHECKING:  # what type checkers and IDEs see; at run time names load lazily
    from weir._partitions.base import (
        DynamicPartitionsStore,
        PartitionKeyRange,
        PartitionsDefinition,
    )
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

_LAZY = {
    "AllPartitionMapping": "weir._partitions.mappings",
    "DailyPartitionsDefinition": "weir._partitions.time_window_kinds",
    "DimensionPartitionMapping": "weir._partitions.mappings",
    "DynamicPartitionsDefinition": "weir._partitions.dynamic",
    "DynamicPartitionsStore": "weir._partitions.base",
    "HourlyPartitionsDefinition": "weir._partitions.time_window_kinds",
    "IdentityPartitionMapping": "weir._partitions.mappings",
    "InMemoryDynamicPartitionsStore": "weir._partitions.dynamic",
    "LastPartitionMapping": "weir._partitions.mappings",
    "MonthlyPartitionsDefinition": "weir._partitions.time_window_kinds",
    "MultiPartitionKey": "weir._partitions.multi",
    "MultiPartitionMapping": "weir._partitions.mappings",
    "MultiPartitionsDefinition": "weir._partitions.multi",
    "MultiToSingleDimensionPartitionMapping": "weir._partitions.mappings",
    "PartitionDimensionDefinition": "weir._partitions.multi",
    "PartitionKeyRange": "weir._partitions.base",
    "PartitionMapping": "weir._partitions.mappings",
    "PartitionsDefinition": "weir._partitions.base",
    "ScheduleType": "weir._partitions.time_window",
    "SpecificPartitionsPartitionMapping": "weir._partitions.mappings",
    "StaticPartitionMapping": "weir._partitions.mappings",
    "StaticPartitionsDefinition": "weir._partitions.static",
    "TimeWindow": "weir._partitions.time_window",
    "TimeWindowPartitionMapping": "weir._partitions.mappings",
    "TimeWindowPartitionsDefinition": "weir._partitions.time_window",
    "WeeklyPartitionsDefinition": "weir._partitions.time_window_kinds",
    "infer_partition_mapping": "weir._partitions.mappings",
}


__getattr__ = lazy_attributes(__name__, _LAZY, globals())


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
