import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from weir_protos.v1 import automation_pb2 as _automation_pb2
from weir_protos.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Health(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    HEALTH_UNSPECIFIED: _ClassVar[Health]
    HEALTH_HEALTHY: _ClassVar[Health]
    HEALTH_WARNING: _ClassVar[Health]
    HEALTH_DEGRADED: _ClassVar[Health]
    HEALTH_UNKNOWN: _ClassVar[Health]
    HEALTH_NOT_APPLICABLE: _ClassVar[Health]

class Freshness(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FRESHNESS_UNSPECIFIED: _ClassVar[Freshness]
    FRESHNESS_PASS: _ClassVar[Freshness]
    FRESHNESS_WARN: _ClassVar[Freshness]
    FRESHNESS_FAIL: _ClassVar[Freshness]
    FRESHNESS_UNKNOWN: _ClassVar[Freshness]
    FRESHNESS_NOT_APPLICABLE: _ClassVar[Freshness]
HEALTH_UNSPECIFIED: Health
HEALTH_HEALTHY: Health
HEALTH_WARNING: Health
HEALTH_DEGRADED: Health
HEALTH_UNKNOWN: Health
HEALTH_NOT_APPLICABLE: Health
FRESHNESS_UNSPECIFIED: Freshness
FRESHNESS_PASS: Freshness
FRESHNESS_WARN: Freshness
FRESHNESS_FAIL: Freshness
FRESHNESS_UNKNOWN: Freshness
FRESHNESS_NOT_APPLICABLE: Freshness

class HealthComponent(_message.Message):
    __slots__ = ("status", "reason")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    status: Health
    reason: str
    def __init__(self, status: _Optional[_Union[Health, str]] = ..., reason: _Optional[str] = ...) -> None: ...

class AssetFreshness(_message.Message):
    __slots__ = ("state", "reason", "evaluate_time", "next_evaluate_time", "policy")
    STATE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    EVALUATE_TIME_FIELD_NUMBER: _ClassVar[int]
    NEXT_EVALUATE_TIME_FIELD_NUMBER: _ClassVar[int]
    POLICY_FIELD_NUMBER: _ClassVar[int]
    state: Freshness
    reason: str
    evaluate_time: _timestamp_pb2.Timestamp
    next_evaluate_time: _timestamp_pb2.Timestamp
    policy: _automation_pb2.FreshnessPolicy
    def __init__(self, state: _Optional[_Union[Freshness, str]] = ..., reason: _Optional[str] = ..., evaluate_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., next_evaluate_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., policy: _Optional[_Union[_automation_pb2.FreshnessPolicy, _Mapping]] = ...) -> None: ...

class AssetHealth(_message.Message):
    __slots__ = ("key", "status", "materialization", "partitions", "checks", "freshness", "change_time", "freshness_state")
    KEY_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    MATERIALIZATION_FIELD_NUMBER: _ClassVar[int]
    PARTITIONS_FIELD_NUMBER: _ClassVar[int]
    CHECKS_FIELD_NUMBER: _ClassVar[int]
    FRESHNESS_FIELD_NUMBER: _ClassVar[int]
    CHANGE_TIME_FIELD_NUMBER: _ClassVar[int]
    FRESHNESS_STATE_FIELD_NUMBER: _ClassVar[int]
    key: _common_pb2.AssetKey
    status: Health
    materialization: HealthComponent
    partitions: HealthComponent
    checks: HealthComponent
    freshness: HealthComponent
    change_time: _timestamp_pb2.Timestamp
    freshness_state: AssetFreshness
    def __init__(self, key: _Optional[_Union[_common_pb2.AssetKey, _Mapping]] = ..., status: _Optional[_Union[Health, str]] = ..., materialization: _Optional[_Union[HealthComponent, _Mapping]] = ..., partitions: _Optional[_Union[HealthComponent, _Mapping]] = ..., checks: _Optional[_Union[HealthComponent, _Mapping]] = ..., freshness: _Optional[_Union[HealthComponent, _Mapping]] = ..., change_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., freshness_state: _Optional[_Union[AssetFreshness, _Mapping]] = ...) -> None: ...

class HealthCount(_message.Message):
    __slots__ = ("status", "count")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    status: Health
    count: int
    def __init__(self, status: _Optional[_Union[Health, str]] = ..., count: _Optional[int] = ...) -> None: ...

class FreshnessCount(_message.Message):
    __slots__ = ("state", "count")
    STATE_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    state: Freshness
    count: int
    def __init__(self, state: _Optional[_Union[Freshness, str]] = ..., count: _Optional[int] = ...) -> None: ...
