import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from weir_protos.v1 import common_pb2 as _common_pb2
from weir_protos.v1 import definitions_pb2 as _definitions_pb2
from weir_protos.v1 import events_pb2 as _events_pb2
from weir_protos.v1 import partitions_pb2 as _partitions_pb2
from weir_protos.v1 import runs_pb2 as _runs_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetLocationInfoRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetLocationInfoResponse(_message.Message):
    __slots__ = ("server_id", "runtime", "content_hash", "load_error", "load_time")
    SERVER_ID_FIELD_NUMBER: _ClassVar[int]
    RUNTIME_FIELD_NUMBER: _ClassVar[int]
    CONTENT_HASH_FIELD_NUMBER: _ClassVar[int]
    LOAD_ERROR_FIELD_NUMBER: _ClassVar[int]
    LOAD_TIME_FIELD_NUMBER: _ClassVar[int]
    server_id: str
    runtime: RuntimeInfo
    content_hash: str
    load_error: _common_pb2.Error
    load_time: _timestamp_pb2.Timestamp
    def __init__(self, server_id: _Optional[str] = ..., runtime: _Optional[_Union[RuntimeInfo, _Mapping]] = ..., content_hash: _Optional[str] = ..., load_error: _Optional[_Union[_common_pb2.Error, _Mapping]] = ..., load_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class RuntimeInfo(_message.Message):
    __slots__ = ("language", "language_version", "sdk", "sdk_version")
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_VERSION_FIELD_NUMBER: _ClassVar[int]
    SDK_FIELD_NUMBER: _ClassVar[int]
    SDK_VERSION_FIELD_NUMBER: _ClassVar[int]
    language: str
    language_version: str
    sdk: str
    sdk_version: str
    def __init__(self, language: _Optional[str] = ..., language_version: _Optional[str] = ..., sdk: _Optional[str] = ..., sdk_version: _Optional[str] = ...) -> None: ...

class GetDefinitionsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetDefinitionsResponse(_message.Message):
    __slots__ = ("definitions", "load_error")
    DEFINITIONS_FIELD_NUMBER: _ClassVar[int]
    LOAD_ERROR_FIELD_NUMBER: _ClassVar[int]
    definitions: _definitions_pb2.DefinitionsSnapshot
    load_error: _common_pb2.Error
    def __init__(self, definitions: _Optional[_Union[_definitions_pb2.DefinitionsSnapshot, _Mapping]] = ..., load_error: _Optional[_Union[_common_pb2.Error, _Mapping]] = ...) -> None: ...

class StreamDefinitionsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class StreamDefinitionsResponse(_message.Message):
    __slots__ = ("part", "load_error")
    PART_FIELD_NUMBER: _ClassVar[int]
    LOAD_ERROR_FIELD_NUMBER: _ClassVar[int]
    part: _definitions_pb2.DefinitionsSnapshot
    load_error: _common_pb2.Error
    def __init__(self, part: _Optional[_Union[_definitions_pb2.DefinitionsSnapshot, _Mapping]] = ..., load_error: _Optional[_Union[_common_pb2.Error, _Mapping]] = ...) -> None: ...

class EvaluateSensorRequest(_message.Message):
    __slots__ = ("sensor_name", "cursor", "last_tick_time", "last_run_key", "evaluation_time", "materializations", "runs", "run_status_changes")
    SENSOR_NAME_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    LAST_TICK_TIME_FIELD_NUMBER: _ClassVar[int]
    LAST_RUN_KEY_FIELD_NUMBER: _ClassVar[int]
    EVALUATION_TIME_FIELD_NUMBER: _ClassVar[int]
    MATERIALIZATIONS_FIELD_NUMBER: _ClassVar[int]
    RUNS_FIELD_NUMBER: _ClassVar[int]
    RUN_STATUS_CHANGES_FIELD_NUMBER: _ClassVar[int]
    sensor_name: str
    cursor: str
    last_tick_time: _timestamp_pb2.Timestamp
    last_run_key: str
    evaluation_time: _timestamp_pb2.Timestamp
    materializations: _containers.RepeatedCompositeFieldContainer[_events_pb2.MaterializationRecord]
    runs: _containers.RepeatedCompositeFieldContainer[_runs_pb2.Run]
    run_status_changes: _containers.RepeatedCompositeFieldContainer[RunStatusChange]
    def __init__(self, sensor_name: _Optional[str] = ..., cursor: _Optional[str] = ..., last_tick_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_run_key: _Optional[str] = ..., evaluation_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., materializations: _Optional[_Iterable[_Union[_events_pb2.MaterializationRecord, _Mapping]]] = ..., runs: _Optional[_Iterable[_Union[_runs_pb2.Run, _Mapping]]] = ..., run_status_changes: _Optional[_Iterable[_Union[RunStatusChange, _Mapping]]] = ...) -> None: ...

class RunStatusChange(_message.Message):
    __slots__ = ("run", "event")
    RUN_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    run: _runs_pb2.Run
    event: _events_pb2.RunEvent
    def __init__(self, run: _Optional[_Union[_runs_pb2.Run, _Mapping]] = ..., event: _Optional[_Union[_events_pb2.RunEvent, _Mapping]] = ...) -> None: ...

class EvaluateSensorResponse(_message.Message):
    __slots__ = ("run_requests", "skip_reason", "cursor", "dynamic_partitions_requests", "error", "asset_materializations")
    RUN_REQUESTS_FIELD_NUMBER: _ClassVar[int]
    SKIP_REASON_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    DYNAMIC_PARTITIONS_REQUESTS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    ASSET_MATERIALIZATIONS_FIELD_NUMBER: _ClassVar[int]
    run_requests: _containers.RepeatedCompositeFieldContainer[_runs_pb2.RunRequest]
    skip_reason: str
    cursor: str
    dynamic_partitions_requests: _containers.RepeatedCompositeFieldContainer[DynamicPartitionsRequest]
    error: _common_pb2.Error
    asset_materializations: _containers.RepeatedCompositeFieldContainer[_events_pb2.AssetMaterialization]
    def __init__(self, run_requests: _Optional[_Iterable[_Union[_runs_pb2.RunRequest, _Mapping]]] = ..., skip_reason: _Optional[str] = ..., cursor: _Optional[str] = ..., dynamic_partitions_requests: _Optional[_Iterable[_Union[DynamicPartitionsRequest, _Mapping]]] = ..., error: _Optional[_Union[_common_pb2.Error, _Mapping]] = ..., asset_materializations: _Optional[_Iterable[_Union[_events_pb2.AssetMaterialization, _Mapping]]] = ...) -> None: ...

class DynamicPartitionsRequest(_message.Message):
    __slots__ = ("partitions_def_name", "add_partition_keys", "delete_partition_keys")
    PARTITIONS_DEF_NAME_FIELD_NUMBER: _ClassVar[int]
    ADD_PARTITION_KEYS_FIELD_NUMBER: _ClassVar[int]
    DELETE_PARTITION_KEYS_FIELD_NUMBER: _ClassVar[int]
    partitions_def_name: str
    add_partition_keys: _containers.RepeatedScalarFieldContainer[str]
    delete_partition_keys: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, partitions_def_name: _Optional[str] = ..., add_partition_keys: _Optional[_Iterable[str]] = ..., delete_partition_keys: _Optional[_Iterable[str]] = ...) -> None: ...

class EvaluateScheduleRequest(_message.Message):
    __slots__ = ("schedule_name", "scheduled_execution_time")
    SCHEDULE_NAME_FIELD_NUMBER: _ClassVar[int]
    SCHEDULED_EXECUTION_TIME_FIELD_NUMBER: _ClassVar[int]
    schedule_name: str
    scheduled_execution_time: _timestamp_pb2.Timestamp
    def __init__(self, schedule_name: _Optional[str] = ..., scheduled_execution_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class EvaluateScheduleResponse(_message.Message):
    __slots__ = ("run_requests", "skip_reason", "error")
    RUN_REQUESTS_FIELD_NUMBER: _ClassVar[int]
    SKIP_REASON_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    run_requests: _containers.RepeatedCompositeFieldContainer[_runs_pb2.RunRequest]
    skip_reason: str
    error: _common_pb2.Error
    def __init__(self, run_requests: _Optional[_Iterable[_Union[_runs_pb2.RunRequest, _Mapping]]] = ..., skip_reason: _Optional[str] = ..., error: _Optional[_Union[_common_pb2.Error, _Mapping]] = ...) -> None: ...

class ExecuteRunRequest(_message.Message):
    __slots__ = ("run_id", "job_name", "asset_keys", "asset_check_keys", "partition_key", "partition_range", "run_config", "tags", "reporting_address", "reporting_token", "deployment", "heartbeat_interval", "definitions_hash", "reporting_addresses")
    class TagsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    JOB_NAME_FIELD_NUMBER: _ClassVar[int]
    ASSET_KEYS_FIELD_NUMBER: _ClassVar[int]
    ASSET_CHECK_KEYS_FIELD_NUMBER: _ClassVar[int]
    PARTITION_KEY_FIELD_NUMBER: _ClassVar[int]
    PARTITION_RANGE_FIELD_NUMBER: _ClassVar[int]
    RUN_CONFIG_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    REPORTING_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    REPORTING_TOKEN_FIELD_NUMBER: _ClassVar[int]
    DEPLOYMENT_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_INTERVAL_FIELD_NUMBER: _ClassVar[int]
    DEFINITIONS_HASH_FIELD_NUMBER: _ClassVar[int]
    REPORTING_ADDRESSES_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    job_name: str
    asset_keys: _containers.RepeatedCompositeFieldContainer[_common_pb2.AssetKey]
    asset_check_keys: _containers.RepeatedCompositeFieldContainer[_common_pb2.AssetCheckKey]
    partition_key: str
    partition_range: _partitions_pb2.PartitionKeyRange
    run_config: _struct_pb2.Struct
    tags: _containers.ScalarMap[str, str]
    reporting_address: str
    reporting_token: str
    deployment: str
    heartbeat_interval: _duration_pb2.Duration
    definitions_hash: str
    reporting_addresses: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, run_id: _Optional[str] = ..., job_name: _Optional[str] = ..., asset_keys: _Optional[_Iterable[_Union[_common_pb2.AssetKey, _Mapping]]] = ..., asset_check_keys: _Optional[_Iterable[_Union[_common_pb2.AssetCheckKey, _Mapping]]] = ..., partition_key: _Optional[str] = ..., partition_range: _Optional[_Union[_partitions_pb2.PartitionKeyRange, _Mapping]] = ..., run_config: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., tags: _Optional[_Mapping[str, str]] = ..., reporting_address: _Optional[str] = ..., reporting_token: _Optional[str] = ..., deployment: _Optional[str] = ..., heartbeat_interval: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., definitions_hash: _Optional[str] = ..., reporting_addresses: _Optional[_Iterable[str]] = ...) -> None: ...

class ExecuteRunResponse(_message.Message):
    __slots__ = ("worker_id",)
    WORKER_ID_FIELD_NUMBER: _ClassVar[int]
    worker_id: str
    def __init__(self, worker_id: _Optional[str] = ...) -> None: ...

class CodeLocationServiceCancelRunRequest(_message.Message):
    __slots__ = ("run_id",)
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    def __init__(self, run_id: _Optional[str] = ...) -> None: ...

class CodeLocationServiceCancelRunResponse(_message.Message):
    __slots__ = ("was_running",)
    WAS_RUNNING_FIELD_NUMBER: _ClassVar[int]
    was_running: bool
    def __init__(self, was_running: _Optional[bool] = ...) -> None: ...

class GetRunStatusRequest(_message.Message):
    __slots__ = ("run_id",)
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    def __init__(self, run_id: _Optional[str] = ...) -> None: ...

class GetRunStatusResponse(_message.Message):
    __slots__ = ("status", "worker_alive", "worker_id", "last_sequence", "acknowledged_sequence")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    WORKER_ALIVE_FIELD_NUMBER: _ClassVar[int]
    WORKER_ID_FIELD_NUMBER: _ClassVar[int]
    LAST_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    ACKNOWLEDGED_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    status: _runs_pb2.RunStatus
    worker_alive: bool
    worker_id: str
    last_sequence: int
    acknowledged_sequence: int
    def __init__(self, status: _Optional[_Union[_runs_pb2.RunStatus, str]] = ..., worker_alive: _Optional[bool] = ..., worker_id: _Optional[str] = ..., last_sequence: _Optional[int] = ..., acknowledged_sequence: _Optional[int] = ...) -> None: ...
