import datetime

from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from weir_protos.v1 import common_pb2 as _common_pb2
from weir_protos.v1 import partitions_pb2 as _partitions_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RunStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RUN_STATUS_UNSPECIFIED: _ClassVar[RunStatus]
    RUN_STATUS_QUEUED: _ClassVar[RunStatus]
    RUN_STATUS_STARTING: _ClassVar[RunStatus]
    RUN_STATUS_STARTED: _ClassVar[RunStatus]
    RUN_STATUS_SUCCESS: _ClassVar[RunStatus]
    RUN_STATUS_FAILURE: _ClassVar[RunStatus]
    RUN_STATUS_CANCELING: _ClassVar[RunStatus]
    RUN_STATUS_CANCELED: _ClassVar[RunStatus]
RUN_STATUS_UNSPECIFIED: RunStatus
RUN_STATUS_QUEUED: RunStatus
RUN_STATUS_STARTING: RunStatus
RUN_STATUS_STARTED: RunStatus
RUN_STATUS_SUCCESS: RunStatus
RUN_STATUS_FAILURE: RunStatus
RUN_STATUS_CANCELING: RunStatus
RUN_STATUS_CANCELED: RunStatus

class Run(_message.Message):
    __slots__ = ("run_id", "status", "code_location", "job_name", "selection", "asset_keys", "asset_check_keys", "partition_key", "partition_range", "tags", "run_config", "create_time", "start_time", "end_time", "update_time", "failure_reason", "parent_run_id", "root_run_id", "definitions_hash")
    class TagsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CODE_LOCATION_FIELD_NUMBER: _ClassVar[int]
    JOB_NAME_FIELD_NUMBER: _ClassVar[int]
    SELECTION_FIELD_NUMBER: _ClassVar[int]
    ASSET_KEYS_FIELD_NUMBER: _ClassVar[int]
    ASSET_CHECK_KEYS_FIELD_NUMBER: _ClassVar[int]
    PARTITION_KEY_FIELD_NUMBER: _ClassVar[int]
    PARTITION_RANGE_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    RUN_CONFIG_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    FAILURE_REASON_FIELD_NUMBER: _ClassVar[int]
    PARENT_RUN_ID_FIELD_NUMBER: _ClassVar[int]
    ROOT_RUN_ID_FIELD_NUMBER: _ClassVar[int]
    DEFINITIONS_HASH_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    status: RunStatus
    code_location: str
    job_name: str
    selection: str
    asset_keys: _containers.RepeatedCompositeFieldContainer[_common_pb2.AssetKey]
    asset_check_keys: _containers.RepeatedCompositeFieldContainer[_common_pb2.AssetCheckKey]
    partition_key: str
    partition_range: _partitions_pb2.PartitionKeyRange
    tags: _containers.ScalarMap[str, str]
    run_config: _struct_pb2.Struct
    create_time: _timestamp_pb2.Timestamp
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    failure_reason: str
    parent_run_id: str
    root_run_id: str
    definitions_hash: str
    def __init__(self, run_id: _Optional[str] = ..., status: _Optional[_Union[RunStatus, str]] = ..., code_location: _Optional[str] = ..., job_name: _Optional[str] = ..., selection: _Optional[str] = ..., asset_keys: _Optional[_Iterable[_Union[_common_pb2.AssetKey, _Mapping]]] = ..., asset_check_keys: _Optional[_Iterable[_Union[_common_pb2.AssetCheckKey, _Mapping]]] = ..., partition_key: _Optional[str] = ..., partition_range: _Optional[_Union[_partitions_pb2.PartitionKeyRange, _Mapping]] = ..., tags: _Optional[_Mapping[str, str]] = ..., run_config: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., failure_reason: _Optional[str] = ..., parent_run_id: _Optional[str] = ..., root_run_id: _Optional[str] = ..., definitions_hash: _Optional[str] = ...) -> None: ...

class RunRequest(_message.Message):
    __slots__ = ("run_key", "job_name", "asset_keys", "asset_check_keys", "partition_key", "partition_range", "tags", "run_config")
    class TagsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    RUN_KEY_FIELD_NUMBER: _ClassVar[int]
    JOB_NAME_FIELD_NUMBER: _ClassVar[int]
    ASSET_KEYS_FIELD_NUMBER: _ClassVar[int]
    ASSET_CHECK_KEYS_FIELD_NUMBER: _ClassVar[int]
    PARTITION_KEY_FIELD_NUMBER: _ClassVar[int]
    PARTITION_RANGE_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    RUN_CONFIG_FIELD_NUMBER: _ClassVar[int]
    run_key: str
    job_name: str
    asset_keys: _containers.RepeatedCompositeFieldContainer[_common_pb2.AssetKey]
    asset_check_keys: _containers.RepeatedCompositeFieldContainer[_common_pb2.AssetCheckKey]
    partition_key: str
    partition_range: _partitions_pb2.PartitionKeyRange
    tags: _containers.ScalarMap[str, str]
    run_config: _struct_pb2.Struct
    def __init__(self, run_key: _Optional[str] = ..., job_name: _Optional[str] = ..., asset_keys: _Optional[_Iterable[_Union[_common_pb2.AssetKey, _Mapping]]] = ..., asset_check_keys: _Optional[_Iterable[_Union[_common_pb2.AssetCheckKey, _Mapping]]] = ..., partition_key: _Optional[str] = ..., partition_range: _Optional[_Union[_partitions_pb2.PartitionKeyRange, _Mapping]] = ..., tags: _Optional[_Mapping[str, str]] = ..., run_config: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...
