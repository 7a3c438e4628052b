import datetime

from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AssetKey(_message.Message):
    __slots__ = ("path",)
    PATH_FIELD_NUMBER: _ClassVar[int]
    path: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, path: _Optional[_Iterable[str]] = ...) -> None: ...

class AssetCheckKey(_message.Message):
    __slots__ = ("asset_key", "name")
    ASSET_KEY_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    asset_key: AssetKey
    name: str
    def __init__(self, asset_key: _Optional[_Union[AssetKey, _Mapping]] = ..., name: _Optional[str] = ...) -> None: ...

class MetadataValue(_message.Message):
    __slots__ = ("text", "int", "float", "bool", "json", "url", "path", "md", "table_schema", "asset", "null", "timestamp")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    INT_FIELD_NUMBER: _ClassVar[int]
    FLOAT_FIELD_NUMBER: _ClassVar[int]
    BOOL_FIELD_NUMBER: _ClassVar[int]
    JSON_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    MD_FIELD_NUMBER: _ClassVar[int]
    TABLE_SCHEMA_FIELD_NUMBER: _ClassVar[int]
    ASSET_FIELD_NUMBER: _ClassVar[int]
    NULL_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    text: str
    int: int
    float: float
    bool: bool
    json: _struct_pb2.Value
    url: str
    path: str
    md: str
    table_schema: TableSchema
    asset: AssetKey
    null: _struct_pb2.NullValue
    timestamp: _timestamp_pb2.Timestamp
    def __init__(self, text: _Optional[str] = ..., int: _Optional[int] = ..., float: _Optional[float] = ..., bool: _Optional[bool] = ..., json: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., url: _Optional[str] = ..., path: _Optional[str] = ..., md: _Optional[str] = ..., table_schema: _Optional[_Union[TableSchema, _Mapping]] = ..., asset: _Optional[_Union[AssetKey, _Mapping]] = ..., null: _Optional[_Union[_struct_pb2.NullValue, str]] = ..., timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class MetadataEntry(_message.Message):
    __slots__ = ("label", "value")
    LABEL_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    label: str
    value: MetadataValue
    def __init__(self, label: _Optional[str] = ..., value: _Optional[_Union[MetadataValue, _Mapping]] = ...) -> None: ...

class TableSchema(_message.Message):
    __slots__ = ("columns",)
    COLUMNS_FIELD_NUMBER: _ClassVar[int]
    columns: _containers.RepeatedCompositeFieldContainer[TableColumn]
    def __init__(self, columns: _Optional[_Iterable[_Union[TableColumn, _Mapping]]] = ...) -> None: ...

class TableColumn(_message.Message):
    __slots__ = ("name", "type", "description")
    NAME_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    name: str
    type: str
    description: str
    def __init__(self, name: _Optional[str] = ..., type: _Optional[str] = ..., description: _Optional[str] = ...) -> None: ...

class Error(_message.Message):
    __slots__ = ("message", "class_name", "stack", "cause")
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    CLASS_NAME_FIELD_NUMBER: _ClassVar[int]
    STACK_FIELD_NUMBER: _ClassVar[int]
    CAUSE_FIELD_NUMBER: _ClassVar[int]
    message: str
    class_name: str
    stack: str
    cause: Error
    def __init__(self, message: _Optional[str] = ..., class_name: _Optional[str] = ..., stack: _Optional[str] = ..., cause: _Optional[_Union[Error, _Mapping]] = ...) -> None: ...
