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
    "build_schedule_context", "build_sensor_context", "define_asset_job", "in_process_executor",
    "materialize", "multi_asset", "multiprocess_executor", "run_failure_sensor",
    "run_status_sensor", "schedule", "sensor",
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
