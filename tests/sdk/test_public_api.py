"""The SDK's public surface and the weight of `import weir`."""

import subprocess
import sys

import weir

EXPECTED = {
    "AddDynamicPartitionsRequest", "AllPartitionMapping", "AssetCheckEvaluation",
    "AssetCheckKey", "AssetCheckResult", "AssetCheckSeverity", "AssetCheckSpec",
    "AssetChecksDefinition", "AssetDep", "AssetExecutionContext", "AssetGraph", "AssetIn",
    "AssetKey", "AssetMaterialization", "AssetOut", "AssetSelection", "AssetSensorDefinition",
    "AssetSpec", "AssetsDefinition", "AutomationCondition", "BackfillPolicy",
    "CheckFailedError", "Config", "ConfigError", "ConfigurableIOManager",
    "ConfigurableResource", "CycleError", "DailyPartitionsDefinition", "DefaultScheduleStatus",
    "DefaultSensorStatus", "DefinitionError", "Definitions", "DeleteDynamicPartitionsRequest",
    "DimensionPartitionMapping", "DuplicateKeyError", "DynamicPartitionsDefinition",
    "DynamicPartitionsStoreError", "EventType", "ExecuteInProcessResult", "ExecutorDefinition",
    "FilesystemIOManager", "FreshnessPolicy", "HourlyPartitionsDefinition", "IOManager",
    "IdentityPartitionMapping", "InMemoryDynamicPartitionsStore", "InMemoryIOManager",
    "InputContext", "JobDefinition", "LastPartitionMapping", "MaterializeResult",
    "MetadataValue", "MissingUpstreamError", "MonthlyPartitionsDefinition",
    "MultiPartitionKey", "MultiPartitionMapping", "MultiPartitionsDefinition",
    "MultiToSingleDimensionPartitionMapping", "Output", "OutputContext", "PartitionKeyError",
    "PartitionKeyRange", "PartitionMapping", "PartitionsDefinition", "RetryPolicy",
    "RunRequest", "RunStatus", "RunStatusSensorContext", "RunStatusSensorDefinition",
    "ScheduleDefinition", "ScheduleEvaluationContext", "ScheduleType", "SelectionError",
    "SensorDefinition", "SensorEvaluationContext", "SensorResult", "SkipReason",
    "SpecificPartitionsPartitionMapping", "StaticPartitionMapping",
    "StaticPartitionsDefinition", "StepError", "TableColumn", "TableSchema",
    "TickEvaluationError", "TimeWindow", "TimeWindowPartitionMapping",
    "TimeWindowPartitionsDefinition", "TypeCheckError", "WeeklyPartitionsDefinition",
    "WeirError", "WeirEvent", "asset", "asset_check", "asset_sensor", "build_asset_context",
    "build_schedule_context", "build_sensor_context", "celery_executor", "define_asset_job",
    "in_process_executor",
    "materialize", "multi_asset", "multiprocess_executor", "run_failure_sensor",
    "run_status_sensor", "schedule", "sensor",
    # ops, graphs and op jobs; run config
    "GraphDefinition", "In", "OpDefinition", "OpExecutionContext", "Out", "RunConfig", "graph",
    "build_op_context", "graph_asset", "graph_multi_asset", "job", "op",
    # testing without a server; Dagster's names for Weir's errors (issue 15)
    "DagsterError", "DagsterExecutionStepExecutionError", "DagsterInvalidConfigError",
    "DagsterInvalidDefinitionError", "DagsterInvalidInvocationError",
    "DagsterInvariantViolationError", "DagsterTypeCheckDidNotPass",
    "DagsterUnknownPartitionError", "InvocationError", "UsageError",
    "DagsterInstance", "EventLogEntry", "Instance", "evaluate_automation_conditions",
    # execution (issue 15): in-memory runs, retries, op inputs
    "Backoff", "Jitter", "Nothing", "RetryRequested", "materialize_to_memory",
    "partition_loading_context",
    # loading and building definitions; resources and I/O managers (Dagster parity)
    "AssetValueLoader", "ConfigurableIOManagerFactory", "EnvVar", "IOManagerDefinition",
    "InitResourceContext", "ResourceDependency", "ResourceParam", "build_init_resource_context",
    "build_input_context", "build_output_context", "definitions", "fs_io_manager", "io_manager",
    "load_asset_checks_from_current_module", "load_asset_checks_from_modules",
    "load_asset_checks_from_package_module", "load_asset_checks_from_package_name",
    "load_assets_from_current_module", "load_assets_from_modules",
    "load_assets_from_package_module", "load_assets_from_package_name", "map_asset_specs",
    "mem_io_manager", "with_resources",
}  # fmt: skip


def test_all_is_pinned():
    # New public names are added here deliberately; anything else is private.
    assert set(weir.__all__) == EXPECTED, (
        f"removed: {sorted(EXPECTED - set(weir.__all__))}, "
        f"added: {sorted(set(weir.__all__) - EXPECTED)}"
    )
    assert sorted(weir.__all__) == weir.__all__
    for name in weir.__all__:
        assert getattr(weir, name) is not None


def test_import_weir_loads_no_grpc_protobuf_sqlalchemy_or_pydantic():
    code = (
        "import sys, weir\n"
        "heavy = {'grpc', 'google', 'sqlalchemy', 'pydantic', 'cloudpickle', 'weir_controlplane'}\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# The boundaries between packages are tested in tests/test_import_boundaries.py.
