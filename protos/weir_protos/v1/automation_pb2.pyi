import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from weir_protos.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AutomationConditionNode(_message.Message):
    __slots__ = ("node_type", "label", "description", "children", "cron_schedule", "timezone", "lookback", "allow", "ignore", "params")
    class ParamsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NODE_TYPE_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    CHILDREN_FIELD_NUMBER: _ClassVar[int]
    CRON_SCHEDULE_FIELD_NUMBER: _ClassVar[int]
    TIMEZONE_FIELD_NUMBER: _ClassVar[int]
    LOOKBACK_FIELD_NUMBER: _ClassVar[int]
    ALLOW_FIELD_NUMBER: _ClassVar[int]
    IGNORE_FIELD_NUMBER: _ClassVar[int]
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    node_type: str
    label: str
    description: str
    children: _containers.RepeatedCompositeFieldContainer[AutomationConditionNode]
    cron_schedule: str
    timezone: str
    lookback: _duration_pb2.Duration
    allow: AssetKeySet
    ignore: AssetKeySet
    params: _containers.ScalarMap[str, str]
    def __init__(self, node_type: _Optional[str] = ..., label: _Optional[str] = ..., description: _Optional[str] = ..., children: _Optional[_Iterable[_Union[AutomationConditionNode, _Mapping]]] = ..., cron_schedule: _Optional[str] = ..., timezone: _Optional[str] = ..., lookback: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., allow: _Optional[_Union[AssetKeySet, _Mapping]] = ..., ignore: _Optional[_Union[AssetKeySet, _Mapping]] = ..., params: _Optional[_Mapping[str, str]] = ...) -> None: ...

class AssetKeySet(_message.Message):
    __slots__ = ("keys",)
    KEYS_FIELD_NUMBER: _ClassVar[int]
    keys: _containers.RepeatedCompositeFieldContainer[_common_pb2.AssetKey]
    def __init__(self, keys: _Optional[_Iterable[_Union[_common_pb2.AssetKey, _Mapping]]] = ...) -> None: ...

class FreshnessPolicy(_message.Message):
    __slots__ = ("time_window", "cron")
    TIME_WINDOW_FIELD_NUMBER: _ClassVar[int]
    CRON_FIELD_NUMBER: _ClassVar[int]
    time_window: TimeWindowFreshnessPolicy
    cron: CronFreshnessPolicy
    def __init__(self, time_window: _Optional[_Union[TimeWindowFreshnessPolicy, _Mapping]] = ..., cron: _Optional[_Union[CronFreshnessPolicy, _Mapping]] = ...) -> None: ...

class TimeWindowFreshnessPolicy(_message.Message):
    __slots__ = ("fail_window", "warn_window")
    FAIL_WINDOW_FIELD_NUMBER: _ClassVar[int]
    WARN_WINDOW_FIELD_NUMBER: _ClassVar[int]
    fail_window: _duration_pb2.Duration
    warn_window: _duration_pb2.Duration
    def __init__(self, fail_window: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., warn_window: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class CronFreshnessPolicy(_message.Message):
    __slots__ = ("deadline_cron", "lower_bound_delta", "timezone")
    DEADLINE_CRON_FIELD_NUMBER: _ClassVar[int]
    LOWER_BOUND_DELTA_FIELD_NUMBER: _ClassVar[int]
    TIMEZONE_FIELD_NUMBER: _ClassVar[int]
    deadline_cron: str
    lower_bound_delta: _duration_pb2.Duration
    timezone: str
    def __init__(self, deadline_cron: _Optional[str] = ..., lower_bound_delta: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., timezone: _Optional[str] = ...) -> None: ...

class AutomationEvaluation(_message.Message):
    __slots__ = ("key", "evaluation_id", "tick_number", "evaluate_time", "condition", "requested_count", "requested_partition_keys", "run_ids", "error")
    KEY_FIELD_NUMBER: _ClassVar[int]
    EVALUATION_ID_FIELD_NUMBER: _ClassVar[int]
    TICK_NUMBER_FIELD_NUMBER: _ClassVar[int]
    EVALUATE_TIME_FIELD_NUMBER: _ClassVar[int]
    CONDITION_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_COUNT_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_PARTITION_KEYS_FIELD_NUMBER: _ClassVar[int]
    RUN_IDS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    key: _common_pb2.AssetKey
    evaluation_id: int
    tick_number: int
    evaluate_time: _timestamp_pb2.Timestamp
    condition: AutomationConditionEvaluation
    requested_count: int
    requested_partition_keys: _containers.RepeatedScalarFieldContainer[str]
    run_ids: _containers.RepeatedScalarFieldContainer[str]
    error: str
    def __init__(self, key: _Optional[_Union[_common_pb2.AssetKey, _Mapping]] = ..., evaluation_id: _Optional[int] = ..., tick_number: _Optional[int] = ..., evaluate_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., condition: _Optional[_Union[AutomationConditionEvaluation, _Mapping]] = ..., requested_count: _Optional[int] = ..., requested_partition_keys: _Optional[_Iterable[str]] = ..., run_ids: _Optional[_Iterable[str]] = ..., error: _Optional[str] = ...) -> None: ...

class AutomationConditionEvaluation(_message.Message):
    __slots__ = ("node_type", "label", "description", "candidate_count", "true_count", "true_partition_keys", "children", "dependency", "check_name")
    NODE_TYPE_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_COUNT_FIELD_NUMBER: _ClassVar[int]
    TRUE_COUNT_FIELD_NUMBER: _ClassVar[int]
    TRUE_PARTITION_KEYS_FIELD_NUMBER: _ClassVar[int]
    CHILDREN_FIELD_NUMBER: _ClassVar[int]
    DEPENDENCY_FIELD_NUMBER: _ClassVar[int]
    CHECK_NAME_FIELD_NUMBER: _ClassVar[int]
    node_type: str
    label: str
    description: str
    candidate_count: int
    true_count: int
    true_partition_keys: _containers.RepeatedScalarFieldContainer[str]
    children: _containers.RepeatedCompositeFieldContainer[AutomationConditionEvaluation]
    dependency: _common_pb2.AssetKey
    check_name: str
    def __init__(self, node_type: _Optional[str] = ..., label: _Optional[str] = ..., description: _Optional[str] = ..., candidate_count: _Optional[int] = ..., true_count: _Optional[int] = ..., true_partition_keys: _Optional[_Iterable[str]] = ..., children: _Optional[_Iterable[_Union[AutomationConditionEvaluation, _Mapping]]] = ..., dependency: _Optional[_Union[_common_pb2.AssetKey, _Mapping]] = ..., check_name: _Optional[str] = ...) -> None: ...
