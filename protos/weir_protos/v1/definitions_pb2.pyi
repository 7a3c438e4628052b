import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from weir_protos.v1 import automation_pb2 as _automation_pb2
from weir_protos.v1 import common_pb2 as _common_pb2
from weir_protos.v1 import partitions_pb2 as _partitions_pb2
from weir_protos.v1 import runs_pb2 as _runs_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RetryBackoff(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RETRY_BACKOFF_UNSPECIFIED: _ClassVar[RetryBackoff]
    RETRY_BACKOFF_LINEAR: _ClassVar[RetryBackoff]
    RETRY_BACKOFF_EXPONENTIAL: _ClassVar[RetryBackoff]

class RetryJitter(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RETRY_JITTER_UNSPECIFIED: _ClassVar[RetryJitter]
    RETRY_JITTER_FULL: _ClassVar[RetryJitter]
    RETRY_JITTER_PLUS_MINUS: _ClassVar[RetryJitter]

class DefaultStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DEFAULT_STATUS_UNSPECIFIED: _ClassVar[DefaultStatus]
    DEFAULT_STATUS_STOPPED: _ClassVar[DefaultStatus]
    DEFAULT_STATUS_RUNNING: _ClassVar[DefaultStatus]

class SensorType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SENSOR_TYPE_UNSPECIFIED: _ClassVar[SensorType]
    SENSOR_TYPE_STANDARD: _ClassVar[SensorType]
    SENSOR_TYPE_ASSET: _ClassVar[SensorType]
    SENSOR_TYPE_RUN_STATUS: _ClassVar[SensorType]
    SENSOR_TYPE_AUTOMATION: _ClassVar[SensorType]
RETRY_BACKOFF_UNSPECIFIED: RetryBackoff
RETRY_BACKOFF_LINEAR: RetryBackoff
RETRY_BACKOFF_EXPONENTIAL: RetryBackoff
RETRY_JITTER_UNSPECIFIED: RetryJitter
RETRY_JITTER_FULL: RetryJitter
RETRY_JITTER_PLUS_MINUS: RetryJitter
DEFAULT_STATUS_UNSPECIFIED: DefaultStatus
DEFAULT_STATUS_STOPPED: DefaultStatus
DEFAULT_STATUS_RUNNING: DefaultStatus
SENSOR_TYPE_UNSPECIFIED: SensorType
SENSOR_TYPE_STANDARD: SensorType
SENSOR_TYPE_ASSET: SensorType
SENSOR_TYPE_RUN_STATUS: SensorType
SENSOR_TYPE_AUTOMATION: SensorType

class DefinitionsSnapshot(_message.Message):
    __slots__ = ("content_hash", "assets", "jobs", "schedules", "sensors", "resources")
    CONTENT_HASH_FIELD_NUMBER: _ClassVar[int]
    ASSETS_FIELD_NUMBER: _ClassVar[int]
    JOBS_FIELD_NUMBER: _ClassVar[int]
    SCHEDULES_FIELD_NUMBER: _ClassVar[int]
    SENSORS_FIELD_NUMBER: _ClassVar[int]
    RESOURCES_FIELD_NUMBER: _ClassVar[int]
    content_hash: str
    assets: _containers.RepeatedCompositeFieldContainer[AssetNode]
    jobs: _containers.RepeatedCompositeFieldContainer[JobSnapshot]
    schedules: _containers.RepeatedCompositeFieldContainer[ScheduleSnapshot]
    sensors: _containers.RepeatedCompositeFieldContainer[SensorSnapshot]
    resources: _containers.RepeatedCompositeFieldContainer[ResourceSnapshot]
    def __init__(self, content_hash: _Optional[str] = ..., assets: _Optional[_Iterable[_Union[AssetNode, _Mapping]]] = ..., jobs: _Optional[_Iterable[_Union[JobSnapshot, _Mapping]]] = ..., schedules: _Optional[_Iterable[_Union[ScheduleSnapshot, _Mapping]]] = ..., sensors: _Optional[_Iterable[_Union[SensorSnapshot, _Mapping]]] = ..., resources: _Optional[_Iterable[_Union[ResourceSnapshot, _Mapping]]] = ...) -> None: ...

class AssetNode(_message.Message):
    __slots__ = ("key", "deps", "group_name", "description", "metadata", "tags", "owners", "kinds", "code_version", "is_executable", "skippable", "node_name", "can_subset", "partitions_def", "check_specs", "automation_condition", "freshness_policy", "backfill_policy", "retry_policy", "pool", "io_manager_key", "required_resource_keys", "job_names")
    class TagsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    KEY_FIELD_NUMBER: _ClassVar[int]
    DEPS_FIELD_NUMBER: _ClassVar[int]
    GROUP_NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    OWNERS_FIELD_NUMBER: _ClassVar[int]
    KINDS_FIELD_NUMBER: _ClassVar[int]
    CODE_VERSION_FIELD_NUMBER: _ClassVar[int]
    IS_EXECUTABLE_FIELD_NUMBER: _ClassVar[int]
    SKIPPABLE_FIELD_NUMBER: _ClassVar[int]
    NODE_NAME_FIELD_NUMBER: _ClassVar[int]
    CAN_SUBSET_FIELD_NUMBER: _ClassVar[int]
    PARTITIONS_DEF_FIELD_NUMBER: _ClassVar[int]
    CHECK_SPECS_FIELD_NUMBER: _ClassVar[int]
    AUTOMATION_CONDITION_FIELD_NUMBER: _ClassVar[int]
    FRESHNESS_POLICY_FIELD_NUMBER: _ClassVar[int]
    BACKFILL_POLICY_FIELD_NUMBER: _ClassVar[int]
    RETRY_POLICY_FIELD_NUMBER: _ClassVar[int]
    POOL_FIELD_NUMBER: _ClassVar[int]
    IO_MANAGER_KEY_FIELD_NUMBER: _ClassVar[int]
    REQUIRED_RESOURCE_KEYS_FIELD_NUMBER: _ClassVar[int]
    JOB_NAMES_FIELD_NUMBER: _ClassVar[int]
    key: _common_pb2.AssetKey
    deps: _containers.RepeatedCompositeFieldContainer[AssetDep]
    group_name: str
    description: str
    metadata: _containers.RepeatedCompositeFieldContainer[_common_pb2.MetadataEntry]
    tags: _containers.ScalarMap[str, str]
    owners: _containers.RepeatedScalarFieldContainer[str]
    kinds: _containers.RepeatedScalarFieldContainer[str]
    code_version: str
    is_executable: bool
    skippable: bool
    node_name: str
    can_subset: bool
    partitions_def: _partitions_pb2.PartitionsDefinition
    check_specs: _containers.RepeatedCompositeFieldContainer[AssetCheckSpec]
    automation_condition: _automation_pb2.AutomationConditionNode
    freshness_policy: _automation_pb2.FreshnessPolicy
    backfill_policy: BackfillPolicy
    retry_policy: RetryPolicy
    pool: str
    io_manager_key: str
    required_resource_keys: _containers.RepeatedScalarFieldContainer[str]
    job_names: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, key: _Optional[_Union[_common_pb2.AssetKey, _Mapping]] = ..., deps: _Optional[_Iterable[_Union[AssetDep, _Mapping]]] = ..., group_name: _Optional[str] = ..., description: _Optional[str] = ..., metadata: _Optional[_Iterable[_Union[_common_pb2.MetadataEntry, _Mapping]]] = ..., tags: _Optional[_Mapping[str, str]] = ..., owners: _Optional[_Iterable[str]] = ..., kinds: _Optional[_Iterable[str]] = ..., code_version: _Optional[str] = ..., is_executable: _Optional[bool] = ..., skippable: _Optional[bool] = ..., node_name: _Optional[str] = ..., can_subset: _Optional[bool] = ..., partitions_def: _Optional[_Union[_partitions_pb2.PartitionsDefinition, _Mapping]] = ..., check_specs: _Optional[_Iterable[_Union[AssetCheckSpec, _Mapping]]] = ..., automation_condition: _Optional[_Union[_automation_pb2.AutomationConditionNode, _Mapping]] = ..., freshness_policy: _Optional[_Union[_automation_pb2.FreshnessPolicy, _Mapping]] = ..., backfill_policy: _Optional[_Union[BackfillPolicy, _Mapping]] = ..., retry_policy: _Optional[_Union[RetryPolicy, _Mapping]] = ..., pool: _Optional[str] = ..., io_manager_key: _Optional[str] = ..., required_resource_keys: _Optional[_Iterable[str]] = ..., job_names: _Optional[_Iterable[str]] = ...) -> None: ...

class AssetDep(_message.Message):
    __slots__ = ("asset_key", "partition_mapping")
    ASSET_KEY_FIELD_NUMBER: _ClassVar[int]
    PARTITION_MAPPING_FIELD_NUMBER: _ClassVar[int]
    asset_key: _common_pb2.AssetKey
    partition_mapping: _partitions_pb2.PartitionMapping
    def __init__(self, asset_key: _Optional[_Union[_common_pb2.AssetKey, _Mapping]] = ..., partition_mapping: _Optional[_Union[_partitions_pb2.PartitionMapping, _Mapping]] = ...) -> None: ...

class AssetCheckSpec(_message.Message):
    __slots__ = ("name", "asset_key", "description", "blocking", "additional_deps", "node_name", "automation_condition")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ASSET_KEY_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    BLOCKING_FIELD_NUMBER: _ClassVar[int]
    ADDITIONAL_DEPS_FIELD_NUMBER: _ClassVar[int]
    NODE_NAME_FIELD_NUMBER: _ClassVar[int]
    AUTOMATION_CONDITION_FIELD_NUMBER: _ClassVar[int]
    name: str
    asset_key: _common_pb2.AssetKey
    description: str
    blocking: bool
    additional_deps: _containers.RepeatedCompositeFieldContainer[_common_pb2.AssetKey]
    node_name: str
    automation_condition: _automation_pb2.AutomationConditionNode
    def __init__(self, name: _Optional[str] = ..., asset_key: _Optional[_Union[_common_pb2.AssetKey, _Mapping]] = ..., description: _Optional[str] = ..., blocking: _Optional[bool] = ..., additional_deps: _Optional[_Iterable[_Union[_common_pb2.AssetKey, _Mapping]]] = ..., node_name: _Optional[str] = ..., automation_condition: _Optional[_Union[_automation_pb2.AutomationConditionNode, _Mapping]] = ...) -> None: ...

class BackfillPolicy(_message.Message):
    __slots__ = ("single_run", "multi_run")
    SINGLE_RUN_FIELD_NUMBER: _ClassVar[int]
    MULTI_RUN_FIELD_NUMBER: _ClassVar[int]
    single_run: SingleRunBackfillPolicy
    multi_run: MultiRunBackfillPolicy
    def __init__(self, single_run: _Optional[_Union[SingleRunBackfillPolicy, _Mapping]] = ..., multi_run: _Optional[_Union[MultiRunBackfillPolicy, _Mapping]] = ...) -> None: ...

class SingleRunBackfillPolicy(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class MultiRunBackfillPolicy(_message.Message):
    __slots__ = ("max_partitions_per_run",)
    MAX_PARTITIONS_PER_RUN_FIELD_NUMBER: _ClassVar[int]
    max_partitions_per_run: int
    def __init__(self, max_partitions_per_run: _Optional[int] = ...) -> None: ...

class RetryPolicy(_message.Message):
    __slots__ = ("max_retries", "delay", "backoff", "jitter")
    MAX_RETRIES_FIELD_NUMBER: _ClassVar[int]
    DELAY_FIELD_NUMBER: _ClassVar[int]
    BACKOFF_FIELD_NUMBER: _ClassVar[int]
    JITTER_FIELD_NUMBER: _ClassVar[int]
    max_retries: int
    delay: _duration_pb2.Duration
    backoff: RetryBackoff
    jitter: RetryJitter
    def __init__(self, max_retries: _Optional[int] = ..., delay: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., backoff: _Optional[_Union[RetryBackoff, str]] = ..., jitter: _Optional[_Union[RetryJitter, str]] = ...) -> None: ...

class JobSnapshot(_message.Message):
    __slots__ = ("name", "description", "asset_keys", "asset_check_keys", "selection", "partitions_def", "tags", "run_config", "metadata", "run_tags")
    class TagsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    class RunTagsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    ASSET_KEYS_FIELD_NUMBER: _ClassVar[int]
    ASSET_CHECK_KEYS_FIELD_NUMBER: _ClassVar[int]
    SELECTION_FIELD_NUMBER: _ClassVar[int]
    PARTITIONS_DEF_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    RUN_CONFIG_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    RUN_TAGS_FIELD_NUMBER: _ClassVar[int]
    name: str
    description: str
    asset_keys: _containers.RepeatedCompositeFieldContainer[_common_pb2.AssetKey]
    asset_check_keys: _containers.RepeatedCompositeFieldContainer[_common_pb2.AssetCheckKey]
    selection: str
    partitions_def: _partitions_pb2.PartitionsDefinition
    tags: _containers.ScalarMap[str, str]
    run_config: _struct_pb2.Struct
    metadata: _containers.RepeatedCompositeFieldContainer[_common_pb2.MetadataEntry]
    run_tags: _containers.ScalarMap[str, str]
    def __init__(self, name: _Optional[str] = ..., description: _Optional[str] = ..., asset_keys: _Optional[_Iterable[_Union[_common_pb2.AssetKey, _Mapping]]] = ..., asset_check_keys: _Optional[_Iterable[_Union[_common_pb2.AssetCheckKey, _Mapping]]] = ..., selection: _Optional[str] = ..., partitions_def: _Optional[_Union[_partitions_pb2.PartitionsDefinition, _Mapping]] = ..., tags: _Optional[_Mapping[str, str]] = ..., run_config: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., metadata: _Optional[_Iterable[_Union[_common_pb2.MetadataEntry, _Mapping]]] = ..., run_tags: _Optional[_Mapping[str, str]] = ...) -> None: ...

class ScheduleSnapshot(_message.Message):
    __slots__ = ("name", "cron_schedule", "timezone", "job_name", "default_status", "description", "tags", "metadata", "cron_schedules")
    class TagsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    CRON_SCHEDULE_FIELD_NUMBER: _ClassVar[int]
    TIMEZONE_FIELD_NUMBER: _ClassVar[int]
    JOB_NAME_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_STATUS_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    CRON_SCHEDULES_FIELD_NUMBER: _ClassVar[int]
    name: str
    cron_schedule: str
    timezone: str
    job_name: str
    default_status: DefaultStatus
    description: str
    tags: _containers.ScalarMap[str, str]
    metadata: _containers.RepeatedCompositeFieldContainer[_common_pb2.MetadataEntry]
    cron_schedules: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, name: _Optional[str] = ..., cron_schedule: _Optional[str] = ..., timezone: _Optional[str] = ..., job_name: _Optional[str] = ..., default_status: _Optional[_Union[DefaultStatus, str]] = ..., description: _Optional[str] = ..., tags: _Optional[_Mapping[str, str]] = ..., metadata: _Optional[_Iterable[_Union[_common_pb2.MetadataEntry, _Mapping]]] = ..., cron_schedules: _Optional[_Iterable[str]] = ...) -> None: ...

class SensorSnapshot(_message.Message):
    __slots__ = ("name", "sensor_type", "job_names", "target_asset_keys", "minimum_interval", "default_status", "description", "monitored_asset_keys", "run_status", "monitored_job_names", "tags", "metadata")
    class TagsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    SENSOR_TYPE_FIELD_NUMBER: _ClassVar[int]
    JOB_NAMES_FIELD_NUMBER: _ClassVar[int]
    TARGET_ASSET_KEYS_FIELD_NUMBER: _ClassVar[int]
    MINIMUM_INTERVAL_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_STATUS_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    MONITORED_ASSET_KEYS_FIELD_NUMBER: _ClassVar[int]
    RUN_STATUS_FIELD_NUMBER: _ClassVar[int]
    MONITORED_JOB_NAMES_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    name: str
    sensor_type: SensorType
    job_names: _containers.RepeatedScalarFieldContainer[str]
    target_asset_keys: _containers.RepeatedCompositeFieldContainer[_common_pb2.AssetKey]
    minimum_interval: _duration_pb2.Duration
    default_status: DefaultStatus
    description: str
    monitored_asset_keys: _containers.RepeatedCompositeFieldContainer[_common_pb2.AssetKey]
    run_status: _runs_pb2.RunStatus
    monitored_job_names: _containers.RepeatedScalarFieldContainer[str]
    tags: _containers.ScalarMap[str, str]
    metadata: _containers.RepeatedCompositeFieldContainer[_common_pb2.MetadataEntry]
    def __init__(self, name: _Optional[str] = ..., sensor_type: _Optional[_Union[SensorType, str]] = ..., job_names: _Optional[_Iterable[str]] = ..., target_asset_keys: _Optional[_Iterable[_Union[_common_pb2.AssetKey, _Mapping]]] = ..., minimum_interval: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., default_status: _Optional[_Union[DefaultStatus, str]] = ..., description: _Optional[str] = ..., monitored_asset_keys: _Optional[_Iterable[_Union[_common_pb2.AssetKey, _Mapping]]] = ..., run_status: _Optional[_Union[_runs_pb2.RunStatus, str]] = ..., monitored_job_names: _Optional[_Iterable[str]] = ..., tags: _Optional[_Mapping[str, str]] = ..., metadata: _Optional[_Iterable[_Union[_common_pb2.MetadataEntry, _Mapping]]] = ...) -> None: ...

class ResourceSnapshot(_message.Message):
    __slots__ = ("key", "type_name", "description", "is_io_manager")
    KEY_FIELD_NUMBER: _ClassVar[int]
    TYPE_NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    IS_IO_MANAGER_FIELD_NUMBER: _ClassVar[int]
    key: str
    type_name: str
    description: str
    is_io_manager: bool
    def __init__(self, key: _Optional[str] = ..., type_name: _Optional[str] = ..., description: _Optional[str] = ..., is_io_manager: _Optional[bool] = ...) -> None: ...
