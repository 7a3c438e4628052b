"""Weir: declare data assets in Python; Weir knows the graph, runs it and tracks it.

The public API is exactly what this module exports (pinned by tests/sdk/test_public_api.py).
Names mirror Dagster's where the concept is the same, so ``import weir as dg`` ports code.
"""

from weir._assets import AssetsDefinition, RetryPolicy, asset, multi_asset
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
from weir._execution.events import (
    AssetCheckEvaluation,
    AssetMaterialization,
    EventType,
    WeirEvent,
)
from weir._execution.materialize import materialize
from weir._execution.result import ExecuteInProcessResult
from weir._graph import AssetGraph
from weir._io import InMemoryIOManager, InputContext, IOManager, OutputContext
from weir._jobs import JobDefinition, define_asset_job
from weir._key import AssetKey
from weir._metadata import MetadataValue, TableColumn, TableSchema
from weir._partitions import (
    AllPartitionMapping,
    DailyPartitionsDefinition,
    DimensionPartitionMapping,
    DynamicPartitionsDefinition,
    HourlyPartitionsDefinition,
    IdentityPartitionMapping,
    InMemoryDynamicPartitionsStore,
    LastPartitionMapping,
    MonthlyPartitionsDefinition,
    MultiPartitionKey,
    MultiPartitionMapping,
    MultiPartitionsDefinition,
    MultiToSingleDimensionPartitionMapping,
    PartitionKeyRange,
    PartitionMapping,
    PartitionsDefinition,
    ScheduleType,
    SpecificPartitionsPartitionMapping,
    StaticPartitionMapping,
    StaticPartitionsDefinition,
    TimeWindow,
    TimeWindowPartitionMapping,
    TimeWindowPartitionsDefinition,
    WeeklyPartitionsDefinition,
)
from weir._results import (
    AssetCheckKey,
    AssetCheckResult,
    AssetCheckSeverity,
    MaterializeResult,
    Output,
)
from weir._selection import AssetSelection
from weir._specs import AssetDep, AssetIn, AssetOut, AssetSpec

__version__ = "0.1.0"

# Names whose modules import pydantic load on first use, so `import weir` stays light.
_LAZY = {
    "Config": "weir._config",
    "ConfigurableResource": "weir._config",
    "ConfigurableIOManager": "weir._config",
    "FilesystemIOManager": "weir._fs_io",
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'weir' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


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
    "materialize",
    "multi_asset",
    "run_failure_sensor",
    "run_status_sensor",
    "schedule",
    "sensor",
]
