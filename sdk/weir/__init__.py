"""Weir: declare data assets in Python; Weir knows the graph, runs it and tracks it.

The public API is exactly what this module exports (pinned by tests/sdk/test_public_api.py).
Names mirror Dagster's where the concept is the same, so ``import weir as dg`` ports code.
"""

from typing import TYPE_CHECKING

from weir._assets import AssetsDefinition, RetryPolicy, asset, multi_asset
from weir._checks import AssetChecksDefinition, AssetCheckSpec, asset_check
from weir._context import AssetExecutionContext, build_asset_context
from weir._definitions import Definitions
from weir._errors import (
    CheckFailedError,
    ConfigError,
    CycleError,
    DefinitionError,
    DuplicateKeyError,
    DynamicPartitionsStoreError,
    MissingUpstreamError,
    PartitionKeyError,
    SelectionError,
    StepError,
    TickEvaluationError,
    TypeCheckError,
    WeirError,
)
from weir._execution.events import AssetCheckEvaluation, AssetMaterialization, EventType, WeirEvent
from weir._execution.materialize import materialize
from weir._execution.result import ExecuteInProcessResult
from weir._executors import ExecutorDefinition, in_process_executor, multiprocess_executor
from weir._graph import AssetGraph
from weir._io import InMemoryIOManager, InputContext, IOManager, OutputContext
from weir._key import AssetKey
from weir._lazy import lazy_attributes
from weir._metadata import MetadataValue, TableColumn, TableSchema
from weir._results import (
    AssetCheckKey,
    AssetCheckResult,
    AssetCheckSeverity,
    MaterializeResult,
    Output,
)
from weir._specs import AssetDep, AssetIn, AssetOut, AssetSpec

__version__ = "0.1.0"

# The core (assets, Definitions, materialize) loads with `import weir`; everything else loads
# on first use: pydantic-backed config, automation, jobs, partitions and selections. A
# project that never touches them never pays for them.
if TYPE_CHECKING:  # what type checkers and IDEs see; at run time names load lazily
    from weir._automation.asset_sensors import AssetSensorDefinition, asset_sensor
    from weir._automation.conditions import AutomationCondition
    from weir._automation.freshness import FreshnessPolicy
    from weir._automation.policies import BackfillPolicy
    from weir._automation.run_request import (
        AddDynamicPartitionsRequest,
        DeleteDynamicPartitionsRequest,
        RunRequest,
        SensorResult,
        SkipReason,
    )
    from weir._automation.run_status_sensors import (
        RunStatus,
        RunStatusSensorContext,
        RunStatusSensorDefinition,
        run_failure_sensor,
        run_status_sensor,
    )
    from weir._automation.schedules import (
        DefaultScheduleStatus,
        ScheduleDefinition,
        ScheduleEvaluationContext,
        build_schedule_context,
        schedule,
    )
    from weir._automation.sensors import (
        DefaultSensorStatus,
        SensorDefinition,
        SensorEvaluationContext,
        build_sensor_context,
        sensor,
    )
    from weir._config import Config, ConfigurableIOManager, ConfigurableResource
    from weir._fs_io import FilesystemIOManager
    from weir._jobs import JobDefinition, define_asset_job
    from weir._partitions.base import PartitionKeyRange, PartitionsDefinition
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
    )
    from weir._partitions.multi import MultiPartitionKey, MultiPartitionsDefinition
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
    from weir._selection import AssetSelection

_LAZY = {
    "AddDynamicPartitionsRequest": "weir._automation.run_request",
    "AllPartitionMapping": "weir._partitions.mappings",
    "AssetSelection": "weir._selection",
    "AssetSensorDefinition": "weir._automation.asset_sensors",
    "AutomationCondition": "weir._automation.conditions",
    "BackfillPolicy": "weir._automation.policies",
    "DailyPartitionsDefinition": "weir._partitions.time_window_kinds",
    "DefaultScheduleStatus": "weir._automation.schedules",
    "DefaultSensorStatus": "weir._automation.sensors",
    "DeleteDynamicPartitionsRequest": "weir._automation.run_request",
    "DimensionPartitionMapping": "weir._partitions.mappings",
    "DynamicPartitionsDefinition": "weir._partitions.dynamic",
    "FreshnessPolicy": "weir._automation.freshness",
    "HourlyPartitionsDefinition": "weir._partitions.time_window_kinds",
    "IdentityPartitionMapping": "weir._partitions.mappings",
    "InMemoryDynamicPartitionsStore": "weir._partitions.dynamic",
    "JobDefinition": "weir._jobs",
    "LastPartitionMapping": "weir._partitions.mappings",
    "MonthlyPartitionsDefinition": "weir._partitions.time_window_kinds",
    "MultiPartitionKey": "weir._partitions.multi",
    "MultiPartitionMapping": "weir._partitions.mappings",
    "MultiPartitionsDefinition": "weir._partitions.multi",
    "MultiToSingleDimensionPartitionMapping": "weir._partitions.mappings",
    "PartitionKeyRange": "weir._partitions.base",
    "PartitionMapping": "weir._partitions.mappings",
    "PartitionsDefinition": "weir._partitions.base",
    "RunRequest": "weir._automation.run_request",
    "RunStatus": "weir._automation.run_status_sensors",
    "RunStatusSensorContext": "weir._automation.run_status_sensors",
    "RunStatusSensorDefinition": "weir._automation.run_status_sensors",
    "ScheduleDefinition": "weir._automation.schedules",
    "ScheduleEvaluationContext": "weir._automation.schedules",
    "ScheduleType": "weir._partitions.time_window",
    "SensorDefinition": "weir._automation.sensors",
    "SensorEvaluationContext": "weir._automation.sensors",
    "SensorResult": "weir._automation.run_request",
    "SkipReason": "weir._automation.run_request",
    "SpecificPartitionsPartitionMapping": "weir._partitions.mappings",
    "StaticPartitionMapping": "weir._partitions.mappings",
    "StaticPartitionsDefinition": "weir._partitions.static",
    "TimeWindow": "weir._partitions.time_window",
    "TimeWindowPartitionMapping": "weir._partitions.mappings",
    "TimeWindowPartitionsDefinition": "weir._partitions.time_window",
    "WeeklyPartitionsDefinition": "weir._partitions.time_window_kinds",
    "asset_sensor": "weir._automation.asset_sensors",
    "build_schedule_context": "weir._automation.schedules",
    "build_sensor_context": "weir._automation.sensors",
    "define_asset_job": "weir._jobs",
    "run_failure_sensor": "weir._automation.run_status_sensors",
    "run_status_sensor": "weir._automation.run_status_sensors",
    "schedule": "weir._automation.schedules",
    "sensor": "weir._automation.sensors",
    "Config": "weir._config",
    "ConfigurableResource": "weir._config",
    "ConfigurableIOManager": "weir._config",
    "FilesystemIOManager": "weir._fs_io",
}


__getattr__ = lazy_attributes(__name__, _LAZY, globals())


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "AddDynamicPartitionsRequest",
    "AllPartitionMapping",
    "AssetCheckEvaluation",
    "AssetCheckKey",
    "AssetCheckResult",
    "AssetCheckSeverity",
    "AssetCheckSpec",
    "AssetChecksDefinition",
    "AssetDep",
    "AssetExecutionContext",
    "AssetGraph",
    "AssetIn",
    "AssetKey",
    "AssetMaterialization",
    "AssetOut",
    "AssetSelection",
    "AssetSensorDefinition",
    "AssetSpec",
    "AssetsDefinition",
    "AutomationCondition",
    "BackfillPolicy",
    "CheckFailedError",
    "Config",
    "ConfigError",
    "ConfigurableIOManager",
    "ConfigurableResource",
    "CycleError",
    "DailyPartitionsDefinition",
    "DefaultScheduleStatus",
    "DefaultSensorStatus",
    "DefinitionError",
    "Definitions",
    "DeleteDynamicPartitionsRequest",
    "DimensionPartitionMapping",
    "DuplicateKeyError",
    "DynamicPartitionsDefinition",
    "DynamicPartitionsStoreError",
    "EventType",
    "ExecuteInProcessResult",
    "ExecutorDefinition",
    "FilesystemIOManager",
    "FreshnessPolicy",
    "HourlyPartitionsDefinition",
    "IOManager",
    "IdentityPartitionMapping",
    "InMemoryDynamicPartitionsStore",
    "InMemoryIOManager",
    "InputContext",
    "JobDefinition",
    "LastPartitionMapping",
    "MaterializeResult",
    "MetadataValue",
    "MissingUpstreamError",
    "MonthlyPartitionsDefinition",
    "MultiPartitionKey",
    "MultiPartitionMapping",
    "MultiPartitionsDefinition",
    "MultiToSingleDimensionPartitionMapping",
    "Output",
    "OutputContext",
    "PartitionKeyError",
    "PartitionKeyRange",
    "PartitionMapping",
    "PartitionsDefinition",
    "RetryPolicy",
    "RunRequest",
    "RunStatus",
    "RunStatusSensorContext",
    "RunStatusSensorDefinition",
    "ScheduleDefinition",
    "ScheduleEvaluationContext",
    "ScheduleType",
    "SelectionError",
    "SensorDefinition",
    "SensorEvaluationContext",
    "SensorResult",
    "SkipReason",
    "SpecificPartitionsPartitionMapping",
    "StaticPartitionMapping",
    "StaticPartitionsDefinition",
    "StepError",
    "TableColumn",
    "TableSchema",
    "TickEvaluationError",
    "TimeWindow",
    "TimeWindowPartitionMapping",
    "TimeWindowPartitionsDefinition",
    "TypeCheckError",
    "WeeklyPartitionsDefinition",
    "WeirError",
    "WeirEvent",
    "asset",
    "asset_check",
    "asset_sensor",
    "build_asset_context",
    "build_schedule_context",
    "build_sensor_context",
    "define_asset_job",
    "in_process_executor",
    "materialize",
    "multi_asset",
    "multiprocess_executor",
    "run_failure_sensor",
    "run_status_sensor",
    "schedule",
    "sensor",
]
