import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from weir_protos.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RunEventType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RUN_EVENT_TYPE_UNSPECIFIED: _ClassVar[RunEventType]
    RUN_EVENT_TYPE_RUN_ENQUEUED: _ClassVar[RunEventType]
    RUN_EVENT_TYPE_RUN_STARTING: _ClassVar[RunEventType]
    RUN_EVENT_TYPE_RUN_STARTED: _ClassVar[RunEventType]
    RUN_EVENT_TYPE_RUN_SUCCESS: _ClassVar[RunEventType]
    RUN_EVENT_TYPE_RUN_FAILURE: _ClassVar[RunEventType]
    RUN_EVENT_TYPE_RUN_CANCELING: _ClassVar[RunEventType]
    RUN_EVENT_TYPE_RUN_CANCELED: _ClassVar[RunEventType]
    RUN_EVENT_TYPE_STEP_START: _ClassVar[RunEventType]
    RUN_EVENT_TYPE_STEP_SUCCESS: _ClassVar[RunEventType]
    RUN_EVENT_TYPE_STEP_FAILURE: _ClassVar[RunEventType]
    RUN_EVENT_TYPE_STEP_SKIPPED: _ClassVar[RunEventType]
    RUN_EVENT_TYPE_STEP_UP_FOR_RETRY: _ClassVar[RunEventType]
    RUN_EVENT_TYPE_STEP_RESTARTED: _ClassVar[RunEventType]
    RUN_EVENT_TYPE_ASSET_MATERIALIZATION_PLANNED: _ClassVar[RunEventType]
    RUN_EVENT_TYPE_ASSET_MATERIALIZATION: _ClassVar[RunEventType]
    RUN_EVENT_TYPE_ASSET_CHECK_EVALUATION_PLANNED: _ClassVar[RunEventType]
    RUN_EVENT_TYPE_ASSET_CHECK_EVALUATION: _ClassVar[RunEventType]
    RUN_EVENT_TYPE_LOG: _ClassVar[RunEventType]
    RUN_EVENT_TYPE_HANDLED_OUTPUT: _ClassVar[RunEventType]
    RUN_EVENT_TYPE_LOADED_INPUT: _ClassVar[RunEventType]
    RUN_EVENT_TYPE_ENGINE: _ClassVar[RunEventType]

class AssetCheckSeverity(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ASSET_CHECK_SEVERITY_UNSPECIFIED: _ClassVar[AssetCheckSeverity]
    ASSET_CHECK_SEVERITY_WARN: _ClassVar[AssetCheckSeverity]
    ASSET_CHECK_SEVERITY_ERROR: _ClassVar[AssetCheckSeverity]

class RunFailureReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RUN_FAILURE_REASON_UNSPECIFIED: _ClassVar[RunFailureReason]
    RUN_FAILURE_REASON_STEP_FAILURE: _ClassVar[RunFailureReason]
    RUN_FAILURE_REASON_RUN_WORKER_LOST: _ClassVar[RunFailureReason]
    RUN_FAILURE_REASON_CODE_LOCATION_UNAVAILABLE: _ClassVar[RunFailureReason]
    RUN_FAILURE_REASON_START_FAILED: _ClassVar[RunFailureReason]
    RUN_FAILURE_REASON_RUN_WORKER_ERROR: _ClassVar[RunFailureReason]

class LogLevel(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LOG_LEVEL_UNSPECIFIED: _ClassVar[LogLevel]
    LOG_LEVEL_DEBUG: _ClassVar[LogLevel]
    LOG_LEVEL_INFO: _ClassVar[LogLevel]
    LOG_LEVEL_WARNING: _ClassVar[LogLevel]
    LOG_LEVEL_ERROR: _ClassVar[LogLevel]
    LOG_LEVEL_CRITICAL: _ClassVar[LogLevel]
RUN_EVENT_TYPE_UNSPECIFIED: RunEventType
RUN_EVENT_TYPE_RUN_ENQUEUED: RunEventType
RUN_EVENT_TYPE_RUN_STARTING: RunEventType
RUN_EVENT_TYPE_RUN_STARTED: RunEventType
RUN_EVENT_TYPE_RUN_SUCCESS: RunEventType
RUN_EVENT_TYPE_RUN_FAILURE: RunEventType
RUN_EVENT_TYPE_RUN_CANCELING: RunEventType
RUN_EVENT_TYPE_RUN_CANCELED: RunEventType
RUN_EVENT_TYPE_STEP_START: RunEventType
RUN_EVENT_TYPE_STEP_SUCCESS: RunEventType
RUN_EVENT_TYPE_STEP_FAILURE: RunEventType
RUN_EVENT_TYPE_STEP_SKIPPED: RunEventType
RUN_EVENT_TYPE_STEP_UP_FOR_RETRY: RunEventType
RUN_EVENT_TYPE_STEP_RESTARTED: RunEventType
RUN_EVENT_TYPE_ASSET_MATERIALIZATION_PLANNED: RunEventType
RUN_EVENT_TYPE_ASSET_MATERIALIZATION: RunEventType
RUN_EVENT_TYPE_ASSET_CHECK_EVALUATION_PLANNED: RunEventType
RUN_EVENT_TYPE_ASSET_CHECK_EVALUATION: RunEventType
RUN_EVENT_TYPE_LOG: RunEventType
RUN_EVENT_TYPE_HANDLED_OUTPUT: RunEventType
RUN_EVENT_TYPE_LOADED_INPUT: RunEventType
RUN_EVENT_TYPE_ENGINE: RunEventType
ASSET_CHECK_SEVERITY_UNSPECIFIED: AssetCheckSeverity
ASSET_CHECK_SEVERITY_WARN: AssetCheckSeverity
ASSET_CHECK_SEVERITY_ERROR: AssetCheckSeverity
RUN_FAILURE_REASON_UNSPECIFIED: RunFailureReason
RUN_FAILURE_REASON_STEP_FAILURE: RunFailureReason
RUN_FAILURE_REASON_RUN_WORKER_LOST: RunFailureReason
RUN_FAILURE_REASON_CODE_LOCATION_UNAVAILABLE: RunFailureReason
RUN_FAILURE_REASON_START_FAILED: RunFailureReason
RUN_FAILURE_REASON_RUN_WORKER_ERROR: RunFailureReason
LOG_LEVEL_UNSPECIFIED: LogLevel
LOG_LEVEL_DEBUG: LogLevel
LOG_LEVEL_INFO: LogLevel
LOG_LEVEL_WARNING: LogLevel
LOG_LEVEL_ERROR: LogLevel
LOG_LEVEL_CRITICAL: LogLevel

class RunEvent(_message.Message):
    __slots__ = ("run_id", "sequence", "timestamp", "event_type", "step_key", "message", "event_id", "materialization", "materialization_planned", "check_evaluation", "check_evaluation_planned", "step_failure", "step_retry", "run_failure", "log", "handled_output", "loaded_input", "engine")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    EVENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    STEP_KEY_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    MATERIALIZATION_FIELD_NUMBER: _ClassVar[int]
    MATERIALIZATION_PLANNED_FIELD_NUMBER: _ClassVar[int]
    CHECK_EVALUATION_FIELD_NUMBER: _ClassVar[int]
    CHECK_EVALUATION_PLANNED_FIELD_NUMBER: _ClassVar[int]
    STEP_FAILURE_FIELD_NUMBER: _ClassVar[int]
    STEP_RETRY_FIELD_NUMBER: _ClassVar[int]
    RUN_FAILURE_FIELD_NUMBER: _ClassVar[int]
    LOG_FIELD_NUMBER: _ClassVar[int]
    HANDLED_OUTPUT_FIELD_NUMBER: _ClassVar[int]
    LOADED_INPUT_FIELD_NUMBER: _ClassVar[int]
    ENGINE_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    sequence: int
    timestamp: _timestamp_pb2.Timestamp
    event_type: RunEventType
    step_key: str
    message: str
    event_id: int
    materialization: AssetMaterialization
    materialization_planned: AssetMaterializationPlanned
    check_evaluation: AssetCheckEvaluation
    check_evaluation_planned: AssetCheckEvaluationPlanned
    step_failure: StepFailure
    step_retry: StepRetry
    run_failure: RunFailure
    log: LogRecord
    handled_output: HandledOutput
    loaded_input: LoadedInput
    engine: EngineEvent
    def __init__(self, run_id: _Optional[str] = ..., sequence: _Optional[int] = ..., timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., event_type: _Optional[_Union[RunEventType, str]] = ..., step_key: _Optional[str] = ..., message: _Optional[str] = ..., event_id: _Optional[int] = ..., materialization: _Optional[_Union[AssetMaterialization, _Mapping]] = ..., materialization_planned: _Optional[_Union[AssetMaterializationPlanned, _Mapping]] = ..., check_evaluation: _Optional[_Union[AssetCheckEvaluation, _Mapping]] = ..., check_evaluation_planned: _Optional[_Union[AssetCheckEvaluationPlanned, _Mapping]] = ..., step_failure: _Optional[_Union[StepFailure, _Mapping]] = ..., step_retry: _Optional[_Union[StepRetry, _Mapping]] = ..., run_failure: _Optional[_Union[RunFailure, _Mapping]] = ..., log: _Optional[_Union[LogRecord, _Mapping]] = ..., handled_output: _Optional[_Union[HandledOutput, _Mapping]] = ..., loaded_input: _Optional[_Union[LoadedInput, _Mapping]] = ..., engine: _Optional[_Union[EngineEvent, _Mapping]] = ...) -> None: ...

class AssetMaterialization(_message.Message):
    __slots__ = ("asset_key", "partition", "metadata", "description", "data_version")
    ASSET_KEY_FIELD_NUMBER: _ClassVar[int]
    PARTITION_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    DATA_VERSION_FIELD_NUMBER: _ClassVar[int]
    asset_key: _common_pb2.AssetKey
    partition: str
    metadata: _containers.RepeatedCompositeFieldContainer[_common_pb2.MetadataEntry]
    description: str
    data_version: str
    def __init__(self, asset_key: _Optional[_Union[_common_pb2.AssetKey, _Mapping]] = ..., partition: _Optional[str] = ..., metadata: _Optional[_Iterable[_Union[_common_pb2.MetadataEntry, _Mapping]]] = ..., description: _Optional[str] = ..., data_version: _Optional[str] = ...) -> None: ...

class AssetMaterializationPlanned(_message.Message):
    __slots__ = ("asset_key", "partition")
    ASSET_KEY_FIELD_NUMBER: _ClassVar[int]
    PARTITION_FIELD_NUMBER: _ClassVar[int]
    asset_key: _common_pb2.AssetKey
    partition: str
    def __init__(self, asset_key: _Optional[_Union[_common_pb2.AssetKey, _Mapping]] = ..., partition: _Optional[str] = ...) -> None: ...

class AssetCheckEvaluation(_message.Message):
    __slots__ = ("asset_key", "check_name", "passed", "severity", "metadata", "description", "blocking", "partition")
    ASSET_KEY_FIELD_NUMBER: _ClassVar[int]
    CHECK_NAME_FIELD_NUMBER: _ClassVar[int]
    PASSED_FIELD_NUMBER: _ClassVar[int]
    SEVERITY_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    BLOCKING_FIELD_NUMBER: _ClassVar[int]
    PARTITION_FIELD_NUMBER: _ClassVar[int]
    asset_key: _common_pb2.AssetKey
    check_name: str
    passed: bool
    severity: AssetCheckSeverity
    metadata: _containers.RepeatedCompositeFieldContainer[_common_pb2.MetadataEntry]
    description: str
    blocking: bool
    partition: str
    def __init__(self, asset_key: _Optional[_Union[_common_pb2.AssetKey, _Mapping]] = ..., check_name: _Optional[str] = ..., passed: _Optional[bool] = ..., severity: _Optional[_Union[AssetCheckSeverity, str]] = ..., metadata: _Optional[_Iterable[_Union[_common_pb2.MetadataEntry, _Mapping]]] = ..., description: _Optional[str] = ..., blocking: _Optional[bool] = ..., partition: _Optional[str] = ...) -> None: ...

class AssetCheckEvaluationPlanned(_message.Message):
    __slots__ = ("asset_key", "check_name")
    ASSET_KEY_FIELD_NUMBER: _ClassVar[int]
    CHECK_NAME_FIELD_NUMBER: _ClassVar[int]
    asset_key: _common_pb2.AssetKey
    check_name: str
    def __init__(self, asset_key: _Optional[_Union[_common_pb2.AssetKey, _Mapping]] = ..., check_name: _Optional[str] = ...) -> None: ...

class StepFailure(_message.Message):
    __slots__ = ("error", "attempt")
    ERROR_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    error: _common_pb2.Error
    attempt: int
    def __init__(self, error: _Optional[_Union[_common_pb2.Error, _Mapping]] = ..., attempt: _Optional[int] = ...) -> None: ...

class StepRetry(_message.Message):
    __slots__ = ("error", "attempt", "delay")
    ERROR_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    DELAY_FIELD_NUMBER: _ClassVar[int]
    error: _common_pb2.Error
    attempt: int
    delay: _duration_pb2.Duration
    def __init__(self, error: _Optional[_Union[_common_pb2.Error, _Mapping]] = ..., attempt: _Optional[int] = ..., delay: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class RunFailure(_message.Message):
    __slots__ = ("reason", "error", "failed_step_keys")
    REASON_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    FAILED_STEP_KEYS_FIELD_NUMBER: _ClassVar[int]
    reason: RunFailureReason
    error: _common_pb2.Error
    failed_step_keys: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, reason: _Optional[_Union[RunFailureReason, str]] = ..., error: _Optional[_Union[_common_pb2.Error, _Mapping]] = ..., failed_step_keys: _Optional[_Iterable[str]] = ...) -> None: ...

class LogRecord(_message.Message):
    __slots__ = ("level", "text", "logger_name")
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    LOGGER_NAME_FIELD_NUMBER: _ClassVar[int]
    level: LogLevel
    text: str
    logger_name: str
    def __init__(self, level: _Optional[_Union[LogLevel, str]] = ..., text: _Optional[str] = ..., logger_name: _Optional[str] = ...) -> None: ...

class HandledOutput(_message.Message):
    __slots__ = ("output_name", "io_manager_key", "asset_key", "metadata")
    OUTPUT_NAME_FIELD_NUMBER: _ClassVar[int]
    IO_MANAGER_KEY_FIELD_NUMBER: _ClassVar[int]
    ASSET_KEY_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    output_name: str
    io_manager_key: str
    asset_key: _common_pb2.AssetKey
    metadata: _containers.RepeatedCompositeFieldContainer[_common_pb2.MetadataEntry]
    def __init__(self, output_name: _Optional[str] = ..., io_manager_key: _Optional[str] = ..., asset_key: _Optional[_Union[_common_pb2.AssetKey, _Mapping]] = ..., metadata: _Optional[_Iterable[_Union[_common_pb2.MetadataEntry, _Mapping]]] = ...) -> None: ...

class LoadedInput(_message.Message):
    __slots__ = ("input_name", "io_manager_key", "upstream_asset_key", "metadata")
    INPUT_NAME_FIELD_NUMBER: _ClassVar[int]
    IO_MANAGER_KEY_FIELD_NUMBER: _ClassVar[int]
    UPSTREAM_ASSET_KEY_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    input_name: str
    io_manager_key: str
    upstream_asset_key: _common_pb2.AssetKey
    metadata: _containers.RepeatedCompositeFieldContainer[_common_pb2.MetadataEntry]
    def __init__(self, input_name: _Optional[str] = ..., io_manager_key: _Optional[str] = ..., upstream_asset_key: _Optional[_Union[_common_pb2.AssetKey, _Mapping]] = ..., metadata: _Optional[_Iterable[_Union[_common_pb2.MetadataEntry, _Mapping]]] = ...) -> None: ...

class EngineEvent(_message.Message):
    __slots__ = ("metadata", "error")
    METADATA_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    metadata: _containers.RepeatedCompositeFieldContainer[_common_pb2.MetadataEntry]
    error: _common_pb2.Error
    def __init__(self, metadata: _Optional[_Iterable[_Union[_common_pb2.MetadataEntry, _Mapping]]] = ..., error: _Optional[_Union[_common_pb2.Error, _Mapping]] = ...) -> None: ...

class MaterializationRecord(_message.Message):
    __slots__ = ("event_id", "run_id", "step_key", "timestamp", "materialization", "partition_key")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    STEP_KEY_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    MATERIALIZATION_FIELD_NUMBER: _ClassVar[int]
    PARTITION_KEY_FIELD_NUMBER: _ClassVar[int]
    event_id: int
    run_id: str
    step_key: str
    timestamp: _timestamp_pb2.Timestamp
    materialization: AssetMaterialization
    partition_key: str
    def __init__(self, event_id: _Optional[int] = ..., run_id: _Optional[str] = ..., step_key: _Optional[str] = ..., timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., materialization: _Optional[_Union[AssetMaterialization, _Mapping]] = ..., partition_key: _Optional[str] = ...) -> None: ...

class CheckEvaluationRecord(_message.Message):
    __slots__ = ("event_id", "run_id", "step_key", "timestamp", "evaluation")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    STEP_KEY_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    EVALUATION_FIELD_NUMBER: _ClassVar[int]
    event_id: int
    run_id: str
    step_key: str
    timestamp: _timestamp_pb2.Timestamp
    evaluation: AssetCheckEvaluation
    def __init__(self, event_id: _Optional[int] = ..., run_id: _Optional[str] = ..., step_key: _Optional[str] = ..., timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., evaluation: _Optional[_Union[AssetCheckEvaluation, _Mapping]] = ...) -> None: ...
