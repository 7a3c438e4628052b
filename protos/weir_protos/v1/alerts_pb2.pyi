import datetime

from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AlertEventKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ALERT_EVENT_KIND_UNSPECIFIED: _ClassVar[AlertEventKind]
    ALERT_EVENT_KIND_RUN_FAILED: _ClassVar[AlertEventKind]
    ALERT_EVENT_KIND_CHECK_FAILED: _ClassVar[AlertEventKind]
    ALERT_EVENT_KIND_CODE_LOCATION_LOAD_ERROR: _ClassVar[AlertEventKind]
    ALERT_EVENT_KIND_TICK_FAILED: _ClassVar[AlertEventKind]
    ALERT_EVENT_KIND_HEALTH_CHANGED: _ClassVar[AlertEventKind]
    ALERT_EVENT_KIND_FRESHNESS_FAILED: _ClassVar[AlertEventKind]

class AlertBodyFormat(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ALERT_BODY_FORMAT_UNSPECIFIED: _ClassVar[AlertBodyFormat]
    ALERT_BODY_FORMAT_JSON: _ClassVar[AlertBodyFormat]
    ALERT_BODY_FORMAT_SLACK: _ClassVar[AlertBodyFormat]

class AlertDeliveryStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ALERT_DELIVERY_STATUS_UNSPECIFIED: _ClassVar[AlertDeliveryStatus]
    ALERT_DELIVERY_STATUS_PENDING: _ClassVar[AlertDeliveryStatus]
    ALERT_DELIVERY_STATUS_DELIVERED: _ClassVar[AlertDeliveryStatus]
    ALERT_DELIVERY_STATUS_FAILED: _ClassVar[AlertDeliveryStatus]
ALERT_EVENT_KIND_UNSPECIFIED: AlertEventKind
ALERT_EVENT_KIND_RUN_FAILED: AlertEventKind
ALERT_EVENT_KIND_CHECK_FAILED: AlertEventKind
ALERT_EVENT_KIND_CODE_LOCATION_LOAD_ERROR: AlertEventKind
ALERT_EVENT_KIND_TICK_FAILED: AlertEventKind
ALERT_EVENT_KIND_HEALTH_CHANGED: AlertEventKind
ALERT_EVENT_KIND_FRESHNESS_FAILED: AlertEventKind
ALERT_BODY_FORMAT_UNSPECIFIED: AlertBodyFormat
ALERT_BODY_FORMAT_JSON: AlertBodyFormat
ALERT_BODY_FORMAT_SLACK: AlertBodyFormat
ALERT_DELIVERY_STATUS_UNSPECIFIED: AlertDeliveryStatus
ALERT_DELIVERY_STATUS_PENDING: AlertDeliveryStatus
ALERT_DELIVERY_STATUS_DELIVERED: AlertDeliveryStatus
ALERT_DELIVERY_STATUS_FAILED: AlertDeliveryStatus

class AlertPolicy(_message.Message):
    __slots__ = ("policy_id", "name", "kinds", "webhook_url", "body_format", "code_locations", "run_tags", "created_at")
    class RunTagsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    POLICY_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    KINDS_FIELD_NUMBER: _ClassVar[int]
    WEBHOOK_URL_FIELD_NUMBER: _ClassVar[int]
    BODY_FORMAT_FIELD_NUMBER: _ClassVar[int]
    CODE_LOCATIONS_FIELD_NUMBER: _ClassVar[int]
    RUN_TAGS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    policy_id: str
    name: str
    kinds: _containers.RepeatedScalarFieldContainer[AlertEventKind]
    webhook_url: str
    body_format: AlertBodyFormat
    code_locations: _containers.RepeatedScalarFieldContainer[str]
    run_tags: _containers.ScalarMap[str, str]
    created_at: _timestamp_pb2.Timestamp
    def __init__(self, policy_id: _Optional[str] = ..., name: _Optional[str] = ..., kinds: _Optional[_Iterable[_Union[AlertEventKind, str]]] = ..., webhook_url: _Optional[str] = ..., body_format: _Optional[_Union[AlertBodyFormat, str]] = ..., code_locations: _Optional[_Iterable[str]] = ..., run_tags: _Optional[_Mapping[str, str]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class AlertDeliveryAttempt(_message.Message):
    __slots__ = ("attempt", "started_at", "duration_ms", "status_code", "error")
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    DURATION_MS_FIELD_NUMBER: _ClassVar[int]
    STATUS_CODE_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    attempt: int
    started_at: _timestamp_pb2.Timestamp
    duration_ms: int
    status_code: int
    error: str
    def __init__(self, attempt: _Optional[int] = ..., started_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., duration_ms: _Optional[int] = ..., status_code: _Optional[int] = ..., error: _Optional[str] = ...) -> None: ...

class AlertDelivery(_message.Message):
    __slots__ = ("delivery_id", "policy_id", "kind", "status", "event", "attempt_count", "next_attempt_at", "last_error", "created_at", "ended_at", "attempts")
    DELIVERY_ID_FIELD_NUMBER: _ClassVar[int]
    POLICY_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_COUNT_FIELD_NUMBER: _ClassVar[int]
    NEXT_ATTEMPT_AT_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    ENDED_AT_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    delivery_id: int
    policy_id: str
    kind: AlertEventKind
    status: AlertDeliveryStatus
    event: _struct_pb2.Struct
    attempt_count: int
    next_attempt_at: _timestamp_pb2.Timestamp
    last_error: str
    created_at: _timestamp_pb2.Timestamp
    ended_at: _timestamp_pb2.Timestamp
    attempts: _containers.RepeatedCompositeFieldContainer[AlertDeliveryAttempt]
    def __init__(self, delivery_id: _Optional[int] = ..., policy_id: _Optional[str] = ..., kind: _Optional[_Union[AlertEventKind, str]] = ..., status: _Optional[_Union[AlertDeliveryStatus, str]] = ..., event: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., attempt_count: _Optional[int] = ..., next_attempt_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_error: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., ended_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., attempts: _Optional[_Iterable[_Union[AlertDeliveryAttempt, _Mapping]]] = ...) -> None: ...
