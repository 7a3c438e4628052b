"""Weir: declare data assets in Python; Weir knows the graph, runs it and tracks it.

The public API is exactly what this module exports (pinned by tests/sdk/test_public_api.py).
Names mirror Dagster's where the concept is the same, so ``import weir as dg`` ports code.
"""

from typing import TYPE_CHECKING

from weir._assets import AssetsDefinition, asset, multi_asset
from weir._checks import AssetChecksDefinition, AssetCheckSpec, asset_check
from weir._context import AssetExecutionContext, build_asset_context
from weir._definitions import Definitions
from weir._definitions_building import (
    AssetValueLoader,
    definitions,
    map_asset_specs,
    with_resources,
)
from weir._errors import (
    CheckFailedError,
    ConfigError,
    CycleError,
    DagsterError,
    DagsterExecutionStepExecutionError,
    DagsterInvalidConfigError,
    DagsterInvalidDefinitionError,
    DagsterInvalidInvocationError,
    DagsterInvariantViolationError,
    DagsterTypeCheckDidNotPass,
    DagsterUnknownPartitionError,
    DefinitionError,
    DuplicateKeyError,
    DynamicPartitionsStoreError,
    InvocationError,
    MissingUpstreamError,
    PartitionKeyError,
    SelectionError,
    StepError,
    TickEvaluationError,
    TypeCheckError,
    UsageError,
    WeirError,
)
from weir._execution.events import AssetCheckEvaluation, AssetMaterialization, EventType, WeirEvent
from weir._execution.materialize import materialize, materialize_to_memory
from weir._execution.result import ExecuteInProcessResult
from weir._executors import (
    ExecutorDefinition,
    celery_executor,
    in_process_executor,
    multiprocess_executor,
)
from weir._graph import AssetGraph
from weir._io import (
    InMemoryIOManager,
    InputContext,
    IOManager,
    OutputContext,
    build_input_context,
    build_output_context,
)
from weir._key import AssetKey
from weir._lazy import lazy_attributes
from weir._metadata import MetadataValue, TableColumn, TableSchema
from weir._resources import (
    EnvVar,
    InitResourceContext,
    IOManagerDefinition,
    ResourceDependency,
    ResourceParam,
    build_init_resource_context,
    fs_io_manager,
    io_manager,
    mem_io_manager,
)
from weir._results import (
    AssetCheckKey,
    AssetCheckResult,
    AssetCheckSeverity,
    MaterializeResult,
    Output,
)
from weir._retries import Backoff, Jitter, RetryPolicy, RetryRequested
from weir._specs import AssetDep, AssetIn, AssetOut, AssetSpec

__version__ = "0.1.0"

# The core (assets, Definitions, materialize) loads with `import weir`; everything else loads
# on first use: pydantic-backed config, automation, jobs, partitions and selections. A
# project that never touches them never pays for them.
if TYPE_CHECKING:  # what type checkers and IDEs see; at run time names load lazily
    from weir._automation.asset_sensors import AssetSensorDefinition, asset_sensor
    from weir._automation.conditions import AutomationCondition
    from weir._automation.freshness import FreshnessPolicy
    from weir._automation.in_process import evaluate_automation_conditions
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
    from weir._config import (
        Config,
        ConfigurableIOManager,
        ConfigurableIOManagerFactory,
        ConfigurableResource,
    )
    from weir._fs_io import FilesystemIOManager
    from weir._instance import DagsterInstance, EventLogEntry, Instance
    from weir._jobs import JobDefinition, define_asset_job
    from weir._loading import (
        load_asset_checks_from_current_module,
        load_asset_checks_from_modules,
        load_asset_checks_from_package_module,
        load_asset_checks_from_package_name,
        load_assets_from_current_module,
        load_assets_from_modules,
        load_assets_from_package_module,
        load_assets_from_package_name,
    )
    from weir._ops.compose import GraphDefinition, graph
    from weir._ops.context import OpExecutionContext, build_op_context
    from weir._ops.graph_asset import graph_asset, graph_multi_asset
    from weir._ops.job import job
    from weir._ops.op import In, Nothing, OpDefinition, Out, op
    from weir._partitions.base import PartitionKeyRange, PartitionsDefinition
    from weir._partitions.dynamic import DynamicPartitionsDefinition, InMemoryDynamicPartitionsStore
    from weir._partitions.loading_context import partition_loading_context
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
    from weir._run_config import RunConfig
    from weir._selection import AssetSelection

_LAZY = {
    "AddDynamicPartitionsRequest": "weir._automation.run_request",
    "AllPartitionMapping": "weir._partitions.mappings",
    "AssetSelection": "weir._selection",
    "AssetSensorDefinition": "weir._automation.asset_sensors",
    "AutomationCondition": "weir._automation.conditions",
    "BackfillPolicy": "weir._automation.policies",
    "DagsterInstance": "weir._instance",
    "DailyPartitionsDefinition": "weir._partitions.time_window_kinds",
    "DefaultScheduleStatus": "weir._automation.schedules",
    "DefaultSensorStatus": "weir._automation.sensors",
    "DeleteDynamicPartitionsRequest": "weir._automation.run_request",
    "DimensionPartitionMapping": "weir._partitions.mappings",
    "DynamicPartitionsDefinition": "weir._partitions.dynamic",
    "EventLogEntry": "weir._instance",
    "FreshnessPolicy": "weir._automation.freshness",
    "Instance": "weir._instance",
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
    "evaluate_automation_conditions": "weir._automation.in_process",
    "run_failure_sensor": "weir._automation.run_status_sensors",
    "run_status_sensor": "weir._automation.run_status_sensors",
    "schedule": "weir._automation.schedules",
    "sensor": "weir._automation.sensors",
    "Config": "weir._config",
    "ConfigurableResource": "weir._config",
    "ConfigurableIOManager": "weir._config",
    "ConfigurableIOManagerFactory": "weir._config",
    "load_asset_checks_from_current_module": "weir._loading",
    "load_asset_checks_from_modules": "weir._loading",
    "load_asset_checks_from_package_name": "weir._loading",
    "load_asset_checks_from_package_module": "weir._loading",
    "load_assets_from_current_module": "weir._loading",
    "load_assets_from_modules": "weir._loading",
    "load_assets_from_package_module": "weir._loading",
    "load_assets_from_package_name": "weir._loading",
    "FilesystemIOManager": "weir._fs_io",
    "GraphDefinition": "weir._ops.compose",
    "In": "weir._ops.op",
    "OpDefinition": "weir._ops.op",
    "OpExecutionContext": "weir._ops.context",
    "Out": "weir._ops.op",
    "RunConfig": "weir._run_config",
    "build_op_context": "weir._ops.context",
    "graph": "weir._ops.compose",
    "graph_asset": "weir._ops.graph_asset",
    "graph_multi_asset": "weir._ops.graph_asset",
    "job": "weir._ops.job",
    "op": "weir._ops.op",
    "partition_loading_context": "weir._partitions.loading_context",
    "Nothing": "weir._ops.op",
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
    "AssetValueLoader",
    "AssetsDefinition",
    "AutomationCondition",
    "BackfillPolicy",
    "Backoff",
    "CheckFailedError",
    "Config",
    "ConfigError",
    "ConfigurableIOManager",
    "ConfigurableIOManagerFactory",
    "ConfigurableResource",
    "CycleError",
    "DagsterError",
    "DagsterExecutionStepExecutionError",
    "DagsterInstance",
    "DagsterInvalidConfigError",
    "DagsterInvalidDefinitionError",
    "DagsterInvalidInvocationError",
    "DagsterInvariantViolationError",
    "DagsterTypeCheckDidNotPass",
    "DagsterUnknownPartitionError",
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
    "EnvVar",
    "EventLogEntry",
    "EventType",
    "ExecuteInProcessResult",
    "ExecutorDefinition",
    "FilesystemIOManager",
    "FreshnessPolicy",
    "GraphDefinition",
    "HourlyPartitionsDefinition",
    "IOManager",
    "IOManagerDefinition",
    "IdentityPartitionMapping",
    "In",
    "InMemoryDynamicPartitionsStore",
    "InMemoryIOManager",
    "InitResourceContext",
    "InputContext",
    "Instance",
    "InvocationError",
    "Jitter",
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
    "Nothing",
    "OpDefinition",
    "OpExecutionContext",
    "Out",
    "Output",
    "OutputContext",
    "PartitionKeyError",
    "PartitionKeyRange",
    "PartitionMapping",
    "PartitionsDefinition",
    "ResourceDependency",
    "ResourceParam",
    "RetryPolicy",
    "RetryRequested",
    "RunConfig",
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
    "UsageError",
    "WeeklyPartitionsDefinition",
    "WeirError",
    "WeirEvent",
    "asset",
    "asset_check",
    "asset_sensor",
    "build_asset_context",
    "build_init_resource_context",
    "build_input_context",
    "build_op_context",
    "build_output_context",
    "build_schedule_context",
    "build_sensor_context",
    "celery_executor",
    "define_asset_job",
    "definitions",
    "evaluate_automation_conditions",
    "fs_io_manager",
    "graph",
    "graph_asset",
    "graph_multi_asset",
    "in_process_executor",
    "io_manager",
    "job",
    "load_asset_checks_from_current_module",
    "load_asset_checks_from_modules",
    "load_asset_checks_from_package_module",
    "load_asset_checks_from_package_name",
    "load_assets_from_current_module",
    "load_assets_from_modules",
    "load_assets_from_package_module",
    "load_assets_from_package_name",
    "map_asset_specs",
    "materialize",
    "materialize_to_memory",
    "mem_io_manager",
    "multi_asset",
    "multiprocess_executor",
    "op",
    "partition_loading_context",
    "run_failure_sensor",
    "run_status_sensor",
    "schedule",
    "sensor",
    "with_resources",
]
