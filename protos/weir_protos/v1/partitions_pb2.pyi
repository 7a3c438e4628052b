import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class PartitionsDefinition(_message.Message):
    __slots__ = ("static", "time_window", "dynamic", "multi")
    STATIC_FIELD_NUMBER: _ClassVar[int]
    TIME_WINDOW_FIELD_NUMBER: _ClassVar[int]
    DYNAMIC_FIELD_NUMBER: _ClassVar[int]
    MULTI_FIELD_NUMBER: _ClassVar[int]
    static: StaticPartitionsDefinition
    time_window: TimeWindowPartitionsDefinition
    dynamic: DynamicPartitionsDefinition
    multi: MultiPartitionsDefinition
    def __init__(self, static: _Optional[_Union[StaticPartitionsDefinition, _Mapping]] = ..., time_window: _Optional[_Union[TimeWindowPartitionsDefinition, _Mapping]] = ..., dynamic: _Optional[_Union[DynamicPartitionsDefinition, _Mapping]] = ..., multi: _Optional[_Union[MultiPartitionsDefinition, _Mapping]] = ...) -> None: ...

class StaticPartitionsDefinition(_message.Message):
    __slots__ = ("keys",)
    KEYS_FIELD_NUMBER: _ClassVar[int]
    keys: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, keys: _Optional[_Iterable[str]] = ...) -> None: ...

class TimeWindowPartitionsDefinition(_message.Message):
    __slots__ = ("start", "end", "fmt", "cron_schedule", "timezone", "end_offset")
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    FMT_FIELD_NUMBER: _ClassVar[int]
    CRON_SCHEDULE_FIELD_NUMBER: _ClassVar[int]
    TIMEZONE_FIELD_NUMBER: _ClassVar[int]
    END_OFFSET_FIELD_NUMBER: _ClassVar[int]
    start: _timestamp_pb2.Timestamp
    end: _timestamp_pb2.Timestamp
    fmt: str
    cron_schedule: str
    timezone: str
    end_offset: int
    def __init__(self, start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., fmt: _Optional[str] = ..., cron_schedule: _Optional[str] = ..., timezone: _Optional[str] = ..., end_offset: _Optional[int] = ...) -> None: ...

class DynamicPartitionsDefinition(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class MultiPartitionsDefinition(_message.Message):
    __slots__ = ("dimensions",)
    DIMENSIONS_FIELD_NUMBER: _ClassVar[int]
    dimensions: _containers.RepeatedCompositeFieldContainer[PartitionDimension]
    def __init__(self, dimensions: _Optional[_Iterable[_Union[PartitionDimension, _Mapping]]] = ...) -> None: ...

class PartitionDimension(_message.Message):
    __slots__ = ("name", "partitions_def")
    NAME_FIELD_NUMBER: _ClassVar[int]
    PARTITIONS_DEF_FIELD_NUMBER: _ClassVar[int]
    name: str
    partitions_def: PartitionsDefinition
    def __init__(self, name: _Optional[str] = ..., partitions_def: _Optional[_Union[PartitionsDefinition, _Mapping]] = ...) -> None: ...

class PartitionMapping(_message.Message):
    __slots__ = ("identity", "time_window", "all", "last", "static", "specific", "multi_to_single", "multi")
    IDENTITY_FIELD_NUMBER: _ClassVar[int]
    TIME_WINDOW_FIELD_NUMBER: _ClassVar[int]
    ALL_FIELD_NUMBER: _ClassVar[int]
    LAST_FIELD_NUMBER: _ClassVar[int]
    STATIC_FIELD_NUMBER: _ClassVar[int]
    SPECIFIC_FIELD_NUMBER: _ClassVar[int]
    MULTI_TO_SINGLE_FIELD_NUMBER: _ClassVar[int]
    MULTI_FIELD_NUMBER: _ClassVar[int]
    identity: IdentityPartitionMapping
    time_window: TimeWindowPartitionMapping
    all: AllPartitionMapping
    last: LastPartitionMapping
    static: StaticPartitionMapping
    specific: SpecificPartitionsPartitionMapping
    multi_to_single: MultiToSingleDimensionPartitionMapping
    multi: MultiPartitionMapping
    def __init__(self, identity: _Optional[_Union[IdentityPartitionMapping, _Mapping]] = ..., time_window: _Optional[_Union[TimeWindowPartitionMapping, _Mapping]] = ..., all: _Optional[_Union[AllPartitionMapping, _Mapping]] = ..., last: _Optional[_Union[LastPartitionMapping, _Mapping]] = ..., static: _Optional[_Union[StaticPartitionMapping, _Mapping]] = ..., specific: _Optional[_Union[SpecificPartitionsPartitionMapping, _Mapping]] = ..., multi_to_single: _Optional[_Union[MultiToSingleDimensionPartitionMapping, _Mapping]] = ..., multi: _Optional[_Union[MultiPartitionMapping, _Mapping]] = ...) -> None: ...

class IdentityPartitionMapping(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class TimeWindowPartitionMapping(_message.Message):
    __slots__ = ("start_offset", "end_offset", "allow_nonexistent_upstream_partitions")
    START_OFFSET_FIELD_NUMBER: _ClassVar[int]
    END_OFFSET_FIELD_NUMBER: _ClassVar[int]
    ALLOW_NONEXISTENT_UPSTREAM_PARTITIONS_FIELD_NUMBER: _ClassVar[int]
    start_offset: int
    end_offset: int
    allow_nonexistent_upstream_partitions: bool
    def __init__(self, start_offset: _Optional[int] = ..., end_offset: _Optional[int] = ..., allow_nonexistent_upstream_partitions: _Optional[bool] = ...) -> None: ...

class AllPartitionMapping(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class LastPartitionMapping(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class StaticPartitionMapping(_message.Message):
    __slots__ = ("downstream_keys_by_upstream_key",)
    class DownstreamKeysByUpstreamKeyEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: PartitionKeys
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[PartitionKeys, _Mapping]] = ...) -> None: ...
    DOWNSTREAM_KEYS_BY_UPSTREAM_KEY_FIELD_NUMBER: _ClassVar[int]
    downstream_keys_by_upstream_key: _containers.MessageMap[str, PartitionKeys]
    def __init__(self, downstream_keys_by_upstream_key: _Optional[_Mapping[str, PartitionKeys]] = ...) -> None: ...

class PartitionKeys(_message.Message):
    __slots__ = ("keys",)
    KEYS_FIELD_NUMBER: _ClassVar[int]
    keys: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, keys: _Optional[_Iterable[str]] = ...) -> None: ...

class SpecificPartitionsPartitionMapping(_message.Message):
    __slots__ = ("partition_keys",)
    PARTITION_KEYS_FIELD_NUMBER: _ClassVar[int]
    partition_keys: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, partition_keys: _Optional[_Iterable[str]] = ...) -> None: ...

class MultiToSingleDimensionPartitionMapping(_message.Message):
    __slots__ = ("dimension_name",)
    DIMENSION_NAME_FIELD_NUMBER: _ClassVar[int]
    dimension_name: str
    def __init__(self, dimension_name: _Optional[str] = ...) -> None: ...

class MultiPartitionMapping(_message.Message):
    __slots__ = ("dimension_mappings",)
    DIMENSION_MAPPINGS_FIELD_NUMBER: _ClassVar[int]
    dimension_mappings: _containers.RepeatedCompositeFieldContainer[DimensionPartitionMapping]
    def __init__(self, dimension_mappings: _Optional[_Iterable[_Union[DimensionPartitionMapping, _Mapping]]] = ...) -> None: ...

class DimensionPartitionMapping(_message.Message):
    __slots__ = ("upstream_dimension_name", "downstream_dimension_name", "partition_mapping")
    UPSTREAM_DIMENSION_NAME_FIELD_NUMBER: _ClassVar[int]
    DOWNSTREAM_DIMENSION_NAME_FIELD_NUMBER: _ClassVar[int]
    PARTITION_MAPPING_FIELD_NUMBER: _ClassVar[int]
    upstream_dimension_name: str
    downstream_dimension_name: str
    partition_mapping: PartitionMapping
    def __init__(self, upstream_dimension_name: _Optional[str] = ..., downstream_dimension_name: _Optional[str] = ..., partition_mapping: _Optional[_Union[PartitionMapping, _Mapping]] = ...) -> None: ...

class PartitionKeyRange(_message.Message):
    __slots__ = ("start", "end")
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    start: str
    end: str
    def __init__(self, start: _Optional[str] = ..., end: _Optional[str] = ...) -> None: ...
