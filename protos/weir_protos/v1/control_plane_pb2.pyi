import datetime

from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from weir_protos.v1 import alerts_pb2 as _alerts_pb2
from weir_protos.v1 import automation_pb2 as _automation_pb2
from weir_protos.v1 import code_location_pb2 as _code_location_pb2
from weir_protos.v1 import common_pb2 as _common_pb2
from weir_protos.v1 import definitions_pb2 as _definitions_pb2
from weir_protos.v1 import events_pb2 as _events_pb2
from weir_protos.v1 import health_pb2 as _health_pb2
from weir_protos.v1 import partitions_pb2 as _partitions_pb2
from weir_protos.v1 import runs_pb2 as _runs_pb2
from weir_protos.v1 import tenancy_pb2 as _tenancy_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CodeLocationStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CODE_LOCATION_STATUS_UNSPECIFIED: _ClassVar[CodeLocationStatus]
    CODE_LOCATION_STATUS_LOADING: _ClassVar[CodeLocationStatus]
    CODE_LOCATION_STATUS_LOADED: _ClassVar[CodeLocationStatus]
    CODE_LOCATION_STATUS_ERROR: _ClassVar[CodeLocationStatus]
    CODE_LOCATION_STATUS_UNREACHABLE: _ClassVar[CodeLocationStatus]

class AssetView(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ASSET_VIEW_UNSPECIFIED: _ClassVar[AssetView]
    ASSET_VIEW_FULL: _ClassVar[AssetView]
    ASSET_VIEW_HEALTH: _ClassVar[AssetView]

class ScheduleStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SCHEDULE_STATUS_UNSPECIFIED: _ClassVar[ScheduleStatus]
    SCHEDULE_STATUS_RUNNING: _ClassVar[ScheduleStatus]
    SCHEDULE_STATUS_STOPPED: _ClassVar[ScheduleStatus]

class SensorStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SENSOR_STATUS_UNSPECIFIED: _ClassVar[SensorStatus]
    SENSOR_STATUS_RUNNING: _ClassVar[SensorStatus]
    SENSOR_STATUS_STOPPED: _ClassVar[SensorStatus]

class TickStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TICK_STATUS_UNSPECIFIED: _ClassVar[TickStatus]
    TICK_STATUS_SUCCESS: _ClassVar[TickStatus]
    TICK_STATUS_SKIPPED: _ClassVar[TickStatus]
    TICK_STATUS_FAILURE: _ClassVar[TickStatus]

class PartitionState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PARTITION_STATE_UNSPECIFIED: _ClassVar[PartitionState]
    PARTITION_STATE_MISSING: _ClassVar[PartitionState]
    PARTITION_STATE_MATERIALIZED: _ClassVar[PartitionState]
    PARTITION_STATE_FAILED: _ClassVar[PartitionState]
    PARTITION_STATE_IN_PROGRESS: _ClassVar[PartitionState]

class BackfillStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    BACKFILL_STATUS_UNSPECIFIED: _ClassVar[BackfillStatus]
    BACKFILL_STATUS_REQUESTED: _ClassVar[BackfillStatus]
    BACKFILL_STATUS_RUNNING: _ClassVar[BackfillStatus]
    BACKFILL_STATUS_COMPLETED: _ClassVar[BackfillStatus]
    BACKFILL_STATUS_FAILED: _ClassVar[BackfillStatus]
    BACKFILL_STATUS_CANCELING: _ClassVar[BackfillStatus]
    BACKFILL_STATUS_CANCELED: _ClassVar[BackfillStatus]

class BackfillPartitionState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    BACKFILL_PARTITION_STATE_UNSPECIFIED: _ClassVar[BackfillPartitionState]
    BACKFILL_PARTITION_STATE_REQUESTED: _ClassVar[BackfillPartitionState]
    BACKFILL_PARTITION_STATE_IN_PROGRESS: _ClassVar[BackfillPartitionState]
    BACKFILL_PARTITION_STATE_MATERIALIZED: _ClassVar[BackfillPartitionState]
    BACKFILL_PARTITION_STATE_FAILED: _ClassVar[BackfillPartitionState]
    BACKFILL_PARTITION_STATE_SKIPPED: _ClassVar[BackfillPartitionState]

class ControlPlaneReplicaState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CONTROL_PLANE_REPLICA_STATE_UNSPECIFIED: _ClassVar[ControlPlaneReplicaState]
    CONTROL_PLANE_REPLICA_STATE_LIVE: _ClassVar[ControlPlaneReplicaState]
    CONTROL_PLANE_REPLICA_STATE_DEAD: _ClassVar[ControlPlaneReplicaState]
    CONTROL_PLANE_REPLICA_STATE_STOPPED: _ClassVar[ControlPlaneReplicaState]
CODE_LOCATION_STATUS_UNSPECIFIED: CodeLocationStatus
CODE_LOCATION_STATUS_LOADING: CodeLocationStatus
CODE_LOCATION_STATUS_LOADED: CodeLocationStatus
CODE_LOCATION_STATUS_ERROR: CodeLocationStatus
CODE_LOCATION_STATUS_UNREACHABLE: CodeLocationStatus
ASSET_VIEW_UNSPECIFIED: AssetView
ASSET_VIEW_FULL: AssetView
ASSET_VIEW_HEALTH: AssetView
SCHEDULE_STATUS_UNSPECIFIED: ScheduleStatus
SCHEDULE_STATUS_RUNNING: ScheduleStatus
SCHEDULE_STATUS_STOPPED: ScheduleStatus
SENSOR_STATUS_UNSPECIFIED: SensorStatus
SENSOR_STATUS_RUNNING: SensorStatus
SENSOR_STATUS_STOPPED: SensorStatus
TICK_STATUS_UNSPECIFIED: TickStatus
TICK_STATUS_SUCCESS: TickStatus
TICK_STATUS_SKIPPED: TickStatus
TICK_STATUS_FAILURE: TickStatus
PARTITION_STATE_UNSPECIFIED: PartitionState
PARTITION_STATE_MISSING: PartitionState
PARTITION_STATE_MATERIALIZED: PartitionState
PARTITION_STATE_FAILED: PartitionState
PARTITION_STATE_IN_PROGRESS: PartitionState
BACKFILL_STATUS_UNSPECIFIED: BackfillStatus
BACKFILL_STATUS_REQUESTED: BackfillStatus
BACKFILL_STATUS_RUNNING: BackfillStatus
BACKFILL_STATUS_COMPLETED: BackfillStatus
BACKFILL_STATUS_FAILED: BackfillStatus
BACKFILL_STATUS_CANCELING: BackfillStatus
BACKFILL_STATUS_CANCELED: BackfillStatus
BACKFILL_PARTITION_STATE_UNSPECIFIED: BackfillPartitionState
BACKFILL_PARTITION_STATE_REQUESTED: BackfillPartitionState
BACKFILL_PARTITION_STATE_IN_PROGRESS: BackfillPartitionState
BACKFILL_PARTITION_STATE_MATERIALIZED: BackfillPartitionState
BACKFILL_PARTITION_STATE_FAILED: BackfillPartitionState
BACKFILL_PARTITION_STATE_SKIPPED: BackfillPartitionState
CONTROL_PLANE_REPLICA_STATE_UNSPECIFIED: ControlPlaneReplicaState
CONTROL_PLANE_REPLICA_STATE_LIVE: ControlPlaneReplicaState
CONTROL_PLANE_REPLICA_STATE_DEAD: ControlPlaneReplicaState
CONTROL_PLANE_REPLICA_STATE_STOPPED: ControlPlaneReplicaState

class CodeLocation(_message.Message):
    __slots__ = ("name", "status", "address", "error", "content_hash", "runtime", "update_time", "asset_count")
    NAME_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    CONTENT_HASH_FIELD_NUMBER: _ClassVar[int]
    RUNTIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    ASSET_COUNT_FIELD_NUMBER: _ClassVar[int]
    name: str
    status: CodeLocationStatus
    address: str
    error: _common_pb2.Error
    content_hash: str
    runtime: _code_location_pb2.RuntimeInfo
    update_time: _timestamp_pb2.Timestamp
    asset_count: int
    def __init__(self, name: _Optional[str] = ..., status: _Optional[_Union[CodeLocationStatus, str]] = ..., address: _Optional[str] = ..., error: _Optional[_Union[_common_pb2.Error, _Mapping]] = ..., content_hash: _Optional[str] = ..., runtime: _Optional[_Union[_code_location_pb2.RuntimeInfo, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., asset_count: _Optional[int] = ...) -> None: ...

class ListCodeLocationsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListCodeLocationsResponse(_message.Message):
    __slots__ = ("code_locations",)
    CODE_LOCATIONS_FIELD_NUMBER: _ClassVar[int]
    code_locations: _containers.RepeatedCompositeFieldContainer[CodeLocation]
    def __init__(self, code_locations: _Optional[_Iterable[_Union[CodeLocation, _Mapping]]] = ...) -> None: ...

class ReloadCodeLocationRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class ReloadCodeLocationResponse(_message.Message):
    __slots__ = ("code_location",)
    CODE_LOCATION_FIELD_NUMBER: _ClassVar[int]
    code_location: CodeLocation
    def __init__(self, code_location: _Optional[_Union[CodeLocation, _Mapping]] = ...) -> None: ...

class CreateCodeLocationRequest(_message.Message):
    __slots__ = ("name", "address")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    name: str
    address: str
    def __init__(self, name: _Optional[str] = ..., address: _Optional[str] = ...) -> None: ...

class CreateCodeLocationResponse(_message.Message):
    __slots__ = ("code_location",)
    CODE_LOCATION_FIELD_NUMBER: _ClassVar[int]
    code_location: CodeLocation
    def __init__(self, code_location: _Optional[_Union[CodeLocation, _Mapping]] = ...) -> None: ...

class DeleteCodeLocationRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class DeleteCodeLocationResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class Asset(_message.Message):
    __slots__ = ("key", "code_location", "definition", "latest_materialization", "checks", "health")
    KEY_FIELD_NUMBER: _ClassVar[int]
    CODE_LOCATION_FIELD_NUMBER: _ClassVar[int]
    DEFINITION_FIELD_NUMBER: _ClassVar[int]
    LATEST_MATERIALIZATION_FIELD_NUMBER: _ClassVar[int]
    CHECKS_FIELD_NUMBER: _ClassVar[int]
    HEALTH_FIELD_NUMBER: _ClassVar[int]
    key: _common_pb2.AssetKey
    code_location: str
    definition: _definitions_pb2.AssetNode
    latest_materialization: _events_pb2.MaterializationRecord
    checks: _containers.RepeatedCompositeFieldContainer[AssetCheck]
    health: _health_pb2.AssetHealth
    def __init__(self, key: _Optional[_Union[_common_pb2.AssetKey, _Mapping]] = ..., code_location: _Optional[str] = ..., definition: _Optional[_Union[_definitions_pb2.AssetNode, _Mapping]] = ..., latest_materialization: _Optional[_Union[_events_pb2.MaterializationRecord, _Mapping]] = ..., checks: _Optional[_Iterable[_Union[AssetCheck, _Mapping]]] = ..., health: _Optional[_Union[_health_pb2.AssetHealth, _Mapping]] = ...) -> None: ...

class AssetCheck(_message.Message):
    __slots__ = ("spec", "latest_evaluation")
    SPEC_FIELD_NUMBER: _ClassVar[int]
    LATEST_EVALUATION_FIELD_NUMBER: _ClassVar[int]
    spec: _definitions_pb2.AssetCheckSpec
    latest_evaluation: _events_pb2.CheckEvaluationRecord
    def __init__(self, spec: _Optional[_Union[_definitions_pb2.AssetCheckSpec, _Mapping]] = ..., latest_evaluation: _Optional[_Union[_events_pb2.CheckEvaluationRecord, _Mapping]] = ...) -> None: ...

class ListAssetsRequest(_message.Message):
    __slots__ = ("selection", "group", "tag", "owner", "kind", "code_location", "cursor", "limit", "health", "metadata_key", "view")
    SELECTION_FIELD_NUMBER: _ClassVar[int]
    GROUP_FIELD_NUMBER: _ClassVar[int]
    TAG_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    CODE_LOCATION_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    HEALTH_FIELD_NUMBER: _ClassVar[int]
    METADATA_KEY_FIELD_NUMBER: _ClassVar[int]
    VIEW_FIELD_NUMBER: _ClassVar[int]
    selection: str
    group: str
    tag: str
    owner: str
    kind: str
    code_location: str
    cursor: str
    limit: int
    health: _containers.RepeatedScalarFieldContainer[_health_pb2.Health]
    metadata_key: str
    view: AssetView
    def __init__(self, selection: _Optional[str] = ..., group: _Optional[str] = ..., tag: _Optional[str] = ..., owner: _Optional[str] = ..., kind: _Optional[str] = ..., code_location: _Optional[str] = ..., cursor: _Optional[str] = ..., limit: _Optional[int] = ..., health: _Optional[_Iterable[_Union[_health_pb2.Health, str]]] = ..., metadata_key: _Optional[str] = ..., view: _Optional[_Union[AssetView, str]] = ...) -> None: ...

class ListAssetsResponse(_message.Message):
    __slots__ = ("assets", "next_cursor")
    ASSETS_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    assets: _containers.RepeatedCompositeFieldContainer[Asset]
    next_cursor: str
    def __init__(self, assets: _Optional[_Iterable[_Union[Asset, _Mapping]]] = ..., next_cursor: _Optional[str] = ...) -> None: ...

class GetAssetRequest(_message.Message):
    __slots__ = ("key",)
    KEY_FIELD_NUMBER: _ClassVar[int]
    key: _common_pb2.AssetKey
    def __init__(self, key: _Optional[_Union[_common_pb2.AssetKey, _Mapping]] = ...) -> None: ...

class GetAssetResponse(_message.Message):
    __slots__ = ("asset",)
    ASSET_FIELD_NUMBER: _ClassVar[int]
    asset: Asset
    def __init__(self, asset: _Optional[_Union[Asset, _Mapping]] = ...) -> None: ...

class GetAssetLineageRequest(_message.Message):
    __slots__ = ("key", "upstream_depth", "downstream_depth", "selection", "cursor", "limit", "view")
    KEY_FIELD_NUMBER: _ClassVar[int]
    UPSTREAM_DEPTH_FIELD_NUMBER: _ClassVar[int]
    DOWNSTREAM_DEPTH_FIELD_NUMBER: _ClassVar[int]
    SELECTION_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    VIEW_FIELD_NUMBER: _ClassVar[int]
    key: _common_pb2.AssetKey
    upstream_depth: int
    downstream_depth: int
    selection: str
    cursor: str
    limit: int
    view: AssetView
    def __init__(self, key: _Optional[_Union[_common_pb2.AssetKey, _Mapping]] = ..., upstream_depth: _Optional[int] = ..., downstream_depth: _Optional[int] = ..., selection: _Optional[str] = ..., cursor: _Optional[str] = ..., limit: _Optional[int] = ..., view: _Optional[_Union[AssetView, str]] = ...) -> None: ...

class GetAssetLineageResponse(_message.Message):
    __slots__ = ("assets", "edges", "next_cursor")
    ASSETS_FIELD_NUMBER: _ClassVar[int]
    EDGES_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    assets: _containers.RepeatedCompositeFieldContainer[Asset]
    edges: _containers.RepeatedCompositeFieldContainer[AssetEdge]
    next_cursor: str
    def __init__(self, assets: _Optional[_Iterable[_Union[Asset, _Mapping]]] = ..., edges: _Optional[_Iterable[_Union[AssetEdge, _Mapping]]] = ..., next_cursor: _Optional[str] = ...) -> None: ...

class AssetEdge(_message.Message):
    __slots__ = ("upstream", "downstream")
    UPSTREAM_FIELD_NUMBER: _ClassVar[int]
    DOWNSTREAM_FIELD_NUMBER: _ClassVar[int]
    upstream: _common_pb2.AssetKey
    downstream: _common_pb2.AssetKey
    def __init__(self, upstream: _Optional[_Union[_common_pb2.AssetKey, _Mapping]] = ..., downstream: _Optional[_Union[_common_pb2.AssetKey, _Mapping]] = ...) -> None: ...

class GetAssetGraphLayoutRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetAssetGraphLayoutResponse(_message.Message):
    __slots__ = ("layout_hash", "keys", "x", "y", "layer", "group_index", "groups", "group_boxes", "edge_upstream", "edge_downstream", "node_width", "node_height", "width", "height")
    LAYOUT_HASH_FIELD_NUMBER: _ClassVar[int]
    KEYS_FIELD_NUMBER: _ClassVar[int]
    X_FIELD_NUMBER: _ClassVar[int]
    Y_FIELD_NUMBER: _ClassVar[int]
    LAYER_FIELD_NUMBER: _ClassVar[int]
    GROUP_INDEX_FIELD_NUMBER: _ClassVar[int]
    GROUPS_FIELD_NUMBER: _ClassVar[int]
    GROUP_BOXES_FIELD_NUMBER: _ClassVar[int]
    EDGE_UPSTREAM_FIELD_NUMBER: _ClassVar[int]
    EDGE_DOWNSTREAM_FIELD_NUMBER: _ClassVar[int]
    NODE_WIDTH_FIELD_NUMBER: _ClassVar[int]
    NODE_HEIGHT_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    layout_hash: str
    keys: _containers.RepeatedScalarFieldContainer[str]
    x: _containers.RepeatedScalarFieldContainer[float]
    y: _containers.RepeatedScalarFieldContainer[float]
    layer: _containers.RepeatedScalarFieldContainer[int]
    group_index: _containers.RepeatedScalarFieldContainer[int]
    groups: _containers.RepeatedScalarFieldContainer[str]
    group_boxes: _containers.RepeatedCompositeFieldContainer[LayoutBox]
    edge_upstream: _containers.RepeatedScalarFieldContainer[int]
    edge_downstream: _containers.RepeatedScalarFieldContainer[int]
    node_width: float
    node_height: float
    width: float
    height: float
    def __init__(self, layout_hash: _Optional[str] = ..., keys: _Optional[_Iterable[str]] = ..., x: _Optional[_Iterable[float]] = ..., y: _Optional[_Iterable[float]] = ..., layer: _Optional[_Iterable[int]] = ..., group_index: _Optional[_Iterable[int]] = ..., groups: _Optional[_Iterable[str]] = ..., group_boxes: _Optional[_Iterable[_Union[LayoutBox, _Mapping]]] = ..., edge_upstream: _Optional[_Iterable[int]] = ..., edge_downstream: _Optional[_Iterable[int]] = ..., node_width: _Optional[float] = ..., node_height: _Optional[float] = ..., width: _Optional[float] = ..., height: _Optional[float] = ...) -> None: ...

class LayoutBox(_message.Message):
    __slots__ = ("x", "y", "width", "height")
    X_FIELD_NUMBER: _ClassVar[int]
    Y_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    x: float
    y: float
    width: float
    height: float
    def __init__(self, x: _Optional[float] = ..., y: _Optional[float] = ..., width: _Optional[float] = ..., height: _Optional[float] = ...) -> None: ...

class ListMaterializationsRequest(_message.Message):
    __slots__ = ("key", "partition_key", "run_id", "cursor", "limit", "metadata_key")
    KEY_FIELD_NUMBER: _ClassVar[int]
    PARTITION_KEY_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    METADATA_KEY_FIELD_NUMBER: _ClassVar[int]
    key: _common_pb2.AssetKey
    partition_key: str
    run_id: str
    cursor: str
    limit: int
    metadata_key: str
    def __init__(self, key: _Optional[_Union[_common_pb2.AssetKey, _Mapping]] = ..., partition_key: _Optional[str] = ..., run_id: _Optional[str] = ..., cursor: _Optional[str] = ..., limit: _Optional[int] = ..., metadata_key: _Optional[str] = ...) -> None: ...

class ListMaterializationsResponse(_message.Message):
    __slots__ = ("materializations", "next_cursor")
    MATERIALIZATIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    materializations: _containers.RepeatedCompositeFieldContainer[_events_pb2.MaterializationRecord]
    next_cursor: str
    def __init__(self, materializations: _Optional[_Iterable[_Union[_events_pb2.MaterializationRecord, _Mapping]]] = ..., next_cursor: _Optional[str] = ...) -> None: ...

class LaunchRunRequest(_message.Message):
    __slots__ = ("selection", "asset_keys", "job_name", "partition_key", "partition_range", "tags", "run_config", "code_location")
    class TagsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    SELECTION_FIELD_NUMBER: _ClassVar[int]
    ASSET_KEYS_FIELD_NUMBER: _ClassVar[int]
    JOB_NAME_FIELD_NUMBER: _ClassVar[int]
    PARTITION_KEY_FIELD_NUMBER: _ClassVar[int]
    PARTITION_RANGE_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    RUN_CONFIG_FIELD_NUMBER: _ClassVar[int]
    CODE_LOCATION_FIELD_NUMBER: _ClassVar[int]
    selection: str
    asset_keys: _containers.RepeatedCompositeFieldContainer[_common_pb2.AssetKey]
    job_name: str
    partition_key: str
    partition_range: _partitions_pb2.PartitionKeyRange
    tags: _containers.ScalarMap[str, str]
    run_config: _struct_pb2.Struct
    code_location: str
    def __init__(self, selection: _Optional[str] = ..., asset_keys: _Optional[_Iterable[_Union[_common_pb2.AssetKey, _Mapping]]] = ..., job_name: _Optional[str] = ..., partition_key: _Optional[str] = ..., partition_range: _Optional[_Union[_partitions_pb2.PartitionKeyRange, _Mapping]] = ..., tags: _Optional[_Mapping[str, str]] = ..., run_config: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., code_location: _Optional[str] = ...) -> None: ...

class LaunchRunResponse(_message.Message):
    __slots__ = ("run",)
    RUN_FIELD_NUMBER: _ClassVar[int]
    run: _runs_pb2.Run
    def __init__(self, run: _Optional[_Union[_runs_pb2.Run, _Mapping]] = ...) -> None: ...

class GetRunRequest(_message.Message):
    __slots__ = ("run_id",)
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    def __init__(self, run_id: _Optional[str] = ...) -> None: ...

class GetRunResponse(_message.Message):
    __slots__ = ("run",)
    RUN_FIELD_NUMBER: _ClassVar[int]
    run: _runs_pb2.Run
    def __init__(self, run: _Optional[_Union[_runs_pb2.Run, _Mapping]] = ...) -> None: ...

class ListRunsRequest(_message.Message):
    __slots__ = ("statuses", "code_location", "job_name", "tags", "asset_key", "created_after", "created_before", "cursor", "limit")
    class TagsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    STATUSES_FIELD_NUMBER: _ClassVar[int]
    CODE_LOCATION_FIELD_NUMBER: _ClassVar[int]
    JOB_NAME_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    ASSET_KEY_FIELD_NUMBER: _ClassVar[int]
    CREATED_AFTER_FIELD_NUMBER: _ClassVar[int]
    CREATED_BEFORE_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    statuses: _containers.RepeatedScalarFieldContainer[_runs_pb2.RunStatus]
    code_location: str
    job_name: str
    tags: _containers.ScalarMap[str, str]
    asset_key: _common_pb2.AssetKey
    created_after: _timestamp_pb2.Timestamp
    created_before: _timestamp_pb2.Timestamp
    cursor: str
    limit: int
    def __init__(self, statuses: _Optional[_Iterable[_Union[_runs_pb2.RunStatus, str]]] = ..., code_location: _Optional[str] = ..., job_name: _Optional[str] = ..., tags: _Optional[_Mapping[str, str]] = ..., asset_key: _Optional[_Union[_common_pb2.AssetKey, _Mapping]] = ..., created_after: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., created_before: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., cursor: _Optional[str] = ..., limit: _Optional[int] = ...) -> None: ...

class ListRunsResponse(_message.Message):
    __slots__ = ("runs", "next_cursor")
    RUNS_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    runs: _containers.RepeatedCompositeFieldContainer[_runs_pb2.Run]
    next_cursor: str
    def __init__(self, runs: _Optional[_Iterable[_Union[_runs_pb2.Run, _Mapping]]] = ..., next_cursor: _Optional[str] = ...) -> None: ...

class CancelRunRequest(_message.Message):
    __slots__ = ("run_id", "reason")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    reason: str
    def __init__(self, run_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class CancelRunResponse(_message.Message):
    __slots__ = ("run",)
    RUN_FIELD_NUMBER: _ClassVar[int]
    run: _runs_pb2.Run
    def __init__(self, run: _Optional[_Union[_runs_pb2.Run, _Mapping]] = ...) -> None: ...

class GetRunEventsRequest(_message.Message):
    __slots__ = ("run_id", "cursor", "limit", "event_types", "step_key")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    EVENT_TYPES_FIELD_NUMBER: _ClassVar[int]
    STEP_KEY_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    cursor: str
    limit: int
    event_types: _containers.RepeatedScalarFieldContainer[_events_pb2.RunEventType]
    step_key: str
    def __init__(self, run_id: _Optional[str] = ..., cursor: _Optional[str] = ..., limit: _Optional[int] = ..., event_types: _Optional[_Iterable[_Union[_events_pb2.RunEventType, str]]] = ..., step_key: _Optional[str] = ...) -> None: ...

class GetRunEventsResponse(_message.Message):
    __slots__ = ("events", "next_cursor", "has_more")
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    HAS_MORE_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[_events_pb2.RunEvent]
    next_cursor: str
    has_more: bool
    def __init__(self, events: _Optional[_Iterable[_Union[_events_pb2.RunEvent, _Mapping]]] = ..., next_cursor: _Optional[str] = ..., has_more: _Optional[bool] = ...) -> None: ...

class WatchRunRequest(_message.Message):
    __slots__ = ("run_id", "cursor", "from_latest")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    FROM_LATEST_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    cursor: str
    from_latest: bool
    def __init__(self, run_id: _Optional[str] = ..., cursor: _Optional[str] = ..., from_latest: _Optional[bool] = ...) -> None: ...

class WatchRunResponse(_message.Message):
    __slots__ = ("events", "run", "cursor")
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    RUN_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[_events_pb2.RunEvent]
    run: _runs_pb2.Run
    cursor: str
    def __init__(self, events: _Optional[_Iterable[_Union[_events_pb2.RunEvent, _Mapping]]] = ..., run: _Optional[_Union[_runs_pb2.Run, _Mapping]] = ..., cursor: _Optional[str] = ...) -> None: ...

class CreateDeploymentRequest(_message.Message):
    __slots__ = ("name", "base_deployment", "expires_in_seconds")
    NAME_FIELD_NUMBER: _ClassVar[int]
    BASE_DEPLOYMENT_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_IN_SECONDS_FIELD_NUMBER: _ClassVar[int]
    name: str
    base_deployment: str
    expires_in_seconds: int
    def __init__(self, name: _Optional[str] = ..., base_deployment: _Optional[str] = ..., expires_in_seconds: _Optional[int] = ...) -> None: ...

class CreateDeploymentResponse(_message.Message):
    __slots__ = ("deployment",)
    DEPLOYMENT_FIELD_NUMBER: _ClassVar[int]
    deployment: _tenancy_pb2.Deployment
    def __init__(self, deployment: _Optional[_Union[_tenancy_pb2.Deployment, _Mapping]] = ...) -> None: ...

class ListDeploymentsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListDeploymentsResponse(_message.Message):
    __slots__ = ("deployments",)
    DEPLOYMENTS_FIELD_NUMBER: _ClassVar[int]
    deployments: _containers.RepeatedCompositeFieldContainer[_tenancy_pb2.Deployment]
    def __init__(self, deployments: _Optional[_Iterable[_Union[_tenancy_pb2.Deployment, _Mapping]]] = ...) -> None: ...

class DeleteDeploymentRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class DeleteDeploymentResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class CreateTokenRequest(_message.Message):
    __slots__ = ("deployment", "role", "name", "expires_in_seconds", "code_locations")
    DEPLOYMENT_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_IN_SECONDS_FIELD_NUMBER: _ClassVar[int]
    CODE_LOCATIONS_FIELD_NUMBER: _ClassVar[int]
    deployment: str
    role: _tenancy_pb2.Role
    name: str
    expires_in_seconds: int
    code_locations: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, deployment: _Optional[str] = ..., role: _Optional[_Union[_tenancy_pb2.Role, str]] = ..., name: _Optional[str] = ..., expires_in_seconds: _Optional[int] = ..., code_locations: _Optional[_Iterable[str]] = ...) -> None: ...

class CreateTokenResponse(_message.Message):
    __slots__ = ("token", "secret")
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    SECRET_FIELD_NUMBER: _ClassVar[int]
    token: _tenancy_pb2.Token
    secret: str
    def __init__(self, token: _Optional[_Union[_tenancy_pb2.Token, _Mapping]] = ..., secret: _Optional[str] = ...) -> None: ...

class ListTokensRequest(_message.Message):
    __slots__ = ("deployment", "include_revoked")
    DEPLOYMENT_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_REVOKED_FIELD_NUMBER: _ClassVar[int]
    deployment: str
    include_revoked: bool
    def __init__(self, deployment: _Optional[str] = ..., include_revoked: _Optional[bool] = ...) -> None: ...

class ListTokensResponse(_message.Message):
    __slots__ = ("tokens",)
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    tokens: _containers.RepeatedCompositeFieldContainer[_tenancy_pb2.Token]
    def __init__(self, tokens: _Optional[_Iterable[_Union[_tenancy_pb2.Token, _Mapping]]] = ...) -> None: ...

class RevokeTokenRequest(_message.Message):
    __slots__ = ("token_id",)
    TOKEN_ID_FIELD_NUMBER: _ClassVar[int]
    token_id: str
    def __init__(self, token_id: _Optional[str] = ...) -> None: ...

class RevokeTokenResponse(_message.Message):
    __slots__ = ("token",)
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    token: _tenancy_pb2.Token
    def __init__(self, token: _Optional[_Union[_tenancy_pb2.Token, _Mapping]] = ...) -> None: ...

class CreateRoleBindingRequest(_message.Message):
    __slots__ = ("token_id", "deployment", "role", "code_locations")
    TOKEN_ID_FIELD_NUMBER: _ClassVar[int]
    DEPLOYMENT_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    CODE_LOCATIONS_FIELD_NUMBER: _ClassVar[int]
    token_id: str
    deployment: str
    role: _tenancy_pb2.Role
    code_locations: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, token_id: _Optional[str] = ..., deployment: _Optional[str] = ..., role: _Optional[_Union[_tenancy_pb2.Role, str]] = ..., code_locations: _Optional[_Iterable[str]] = ...) -> None: ...

class CreateRoleBindingResponse(_message.Message):
    __slots__ = ("role_binding",)
    ROLE_BINDING_FIELD_NUMBER: _ClassVar[int]
    role_binding: _tenancy_pb2.RoleBinding
    def __init__(self, role_binding: _Optional[_Union[_tenancy_pb2.RoleBinding, _Mapping]] = ...) -> None: ...

class ListRoleBindingsRequest(_message.Message):
    __slots__ = ("deployment",)
    DEPLOYMENT_FIELD_NUMBER: _ClassVar[int]
    deployment: str
    def __init__(self, deployment: _Optional[str] = ...) -> None: ...

class ListRoleBindingsResponse(_message.Message):
    __slots__ = ("role_bindings",)
    ROLE_BINDINGS_FIELD_NUMBER: _ClassVar[int]
    role_bindings: _containers.RepeatedCompositeFieldContainer[_tenancy_pb2.RoleBinding]
    def __init__(self, role_bindings: _Optional[_Iterable[_Union[_tenancy_pb2.RoleBinding, _Mapping]]] = ...) -> None: ...

class DeleteRoleBindingRequest(_message.Message):
    __slots__ = ("binding_id",)
    BINDING_ID_FIELD_NUMBER: _ClassVar[int]
    binding_id: str
    def __init__(self, binding_id: _Optional[str] = ...) -> None: ...

class DeleteRoleBindingResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetCallerPermissionsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetCallerPermissionsResponse(_message.Message):
    __slots__ = ("actor", "name", "organization_admin", "permissions")
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    ORGANIZATION_ADMIN_FIELD_NUMBER: _ClassVar[int]
    PERMISSIONS_FIELD_NUMBER: _ClassVar[int]
    actor: str
    name: str
    organization_admin: bool
    permissions: _containers.RepeatedCompositeFieldContainer[CallerPermission]
    def __init__(self, actor: _Optional[str] = ..., name: _Optional[str] = ..., organization_admin: _Optional[bool] = ..., permissions: _Optional[_Iterable[_Union[CallerPermission, _Mapping]]] = ...) -> None: ...

class CallerPermission(_message.Message):
    __slots__ = ("permission", "all_code_locations", "code_locations")
    PERMISSION_FIELD_NUMBER: _ClassVar[int]
    ALL_CODE_LOCATIONS_FIELD_NUMBER: _ClassVar[int]
    CODE_LOCATIONS_FIELD_NUMBER: _ClassVar[int]
    permission: str
    all_code_locations: bool
    code_locations: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, permission: _Optional[str] = ..., all_code_locations: _Optional[bool] = ..., code_locations: _Optional[_Iterable[str]] = ...) -> None: ...

class ListAuditLogRequest(_message.Message):
    __slots__ = ("deployment", "actor", "method", "limit", "cursor")
    DEPLOYMENT_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    deployment: str
    actor: str
    method: str
    limit: int
    cursor: str
    def __init__(self, deployment: _Optional[str] = ..., actor: _Optional[str] = ..., method: _Optional[str] = ..., limit: _Optional[int] = ..., cursor: _Optional[str] = ...) -> None: ...

class ListAuditLogResponse(_message.Message):
    __slots__ = ("entries", "next_cursor")
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[_tenancy_pb2.AuditEntry]
    next_cursor: str
    def __init__(self, entries: _Optional[_Iterable[_Union[_tenancy_pb2.AuditEntry, _Mapping]]] = ..., next_cursor: _Optional[str] = ...) -> None: ...

class Tick(_message.Message):
    __slots__ = ("tick_id", "name", "code_location", "status", "tick_time", "end_time", "run_ids", "run_keys", "skip_reason", "error", "cursor_before", "cursor_after", "repeat_count", "last_tick_time")
    TICK_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    CODE_LOCATION_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    TICK_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    RUN_IDS_FIELD_NUMBER: _ClassVar[int]
    RUN_KEYS_FIELD_NUMBER: _ClassVar[int]
    SKIP_REASON_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    CURSOR_BEFORE_FIELD_NUMBER: _ClassVar[int]
    CURSOR_AFTER_FIELD_NUMBER: _ClassVar[int]
    REPEAT_COUNT_FIELD_NUMBER: _ClassVar[int]
    LAST_TICK_TIME_FIELD_NUMBER: _ClassVar[int]
    tick_id: int
    name: str
    code_location: str
    status: TickStatus
    tick_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    run_ids: _containers.RepeatedScalarFieldContainer[str]
    run_keys: _containers.RepeatedScalarFieldContainer[str]
    skip_reason: str
    error: _common_pb2.Error
    cursor_before: str
    cursor_after: str
    repeat_count: int
    last_tick_time: _timestamp_pb2.Timestamp
    def __init__(self, tick_id: _Optional[int] = ..., name: _Optional[str] = ..., code_location: _Optional[str] = ..., status: _Optional[_Union[TickStatus, str]] = ..., tick_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., run_ids: _Optional[_Iterable[str]] = ..., run_keys: _Optional[_Iterable[str]] = ..., skip_reason: _Optional[str] = ..., error: _Optional[_Union[_common_pb2.Error, _Mapping]] = ..., cursor_before: _Optional[str] = ..., cursor_after: _Optional[str] = ..., repeat_count: _Optional[int] = ..., last_tick_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Schedule(_message.Message):
    __slots__ = ("name", "code_location", "status", "cron_schedule", "timezone", "job_name", "default_status", "last_tick", "next_tick_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    CODE_LOCATION_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CRON_SCHEDULE_FIELD_NUMBER: _ClassVar[int]
    TIMEZONE_FIELD_NUMBER: _ClassVar[int]
    JOB_NAME_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_STATUS_FIELD_NUMBER: _ClassVar[int]
    LAST_TICK_FIELD_NUMBER: _ClassVar[int]
    NEXT_TICK_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    code_location: str
    status: ScheduleStatus
    cron_schedule: str
    timezone: str
    job_name: str
    default_status: _definitions_pb2.DefaultStatus
    last_tick: Tick
    next_tick_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., code_location: _Optional[str] = ..., status: _Optional[_Union[ScheduleStatus, str]] = ..., cron_schedule: _Optional[str] = ..., timezone: _Optional[str] = ..., job_name: _Optional[str] = ..., default_status: _Optional[_Union[_definitions_pb2.DefaultStatus, str]] = ..., last_tick: _Optional[_Union[Tick, _Mapping]] = ..., next_tick_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Sensor(_message.Message):
    __slots__ = ("name", "code_location", "status", "sensor_type", "default_status", "cursor", "last_tick", "minimum_interval_seconds")
    NAME_FIELD_NUMBER: _ClassVar[int]
    CODE_LOCATION_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    SENSOR_TYPE_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_STATUS_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    LAST_TICK_FIELD_NUMBER: _ClassVar[int]
    MINIMUM_INTERVAL_SECONDS_FIELD_NUMBER: _ClassVar[int]
    name: str
    code_location: str
    status: SensorStatus
    sensor_type: _definitions_pb2.SensorType
    default_status: _definitions_pb2.DefaultStatus
    cursor: str
    last_tick: Tick
    minimum_interval_seconds: int
    def __init__(self, name: _Optional[str] = ..., code_location: _Optional[str] = ..., status: _Optional[_Union[SensorStatus, str]] = ..., sensor_type: _Optional[_Union[_definitions_pb2.SensorType, str]] = ..., default_status: _Optional[_Union[_definitions_pb2.DefaultStatus, str]] = ..., cursor: _Optional[str] = ..., last_tick: _Optional[_Union[Tick, _Mapping]] = ..., minimum_interval_seconds: _Optional[int] = ...) -> None: ...

class ListSchedulesRequest(_message.Message):
    __slots__ = ("code_location",)
    CODE_LOCATION_FIELD_NUMBER: _ClassVar[int]
    code_location: str
    def __init__(self, code_location: _Optional[str] = ...) -> None: ...

class ListSchedulesResponse(_message.Message):
    __slots__ = ("schedules",)
    SCHEDULES_FIELD_NUMBER: _ClassVar[int]
    schedules: _containers.RepeatedCompositeFieldContainer[Schedule]
    def __init__(self, schedules: _Optional[_Iterable[_Union[Schedule, _Mapping]]] = ...) -> None: ...

class StartScheduleRequest(_message.Message):
    __slots__ = ("name", "code_location")
    NAME_FIELD_NUMBER: _ClassVar[int]
    CODE_LOCATION_FIELD_NUMBER: _ClassVar[int]
    name: str
    code_location: str
    def __init__(self, name: _Optional[str] = ..., code_location: _Optional[str] = ...) -> None: ...

class StartScheduleResponse(_message.Message):
    __slots__ = ("schedule",)
    SCHEDULE_FIELD_NUMBER: _ClassVar[int]
    schedule: Schedule
    def __init__(self, schedule: _Optional[_Union[Schedule, _Mapping]] = ...) -> None: ...

class StopScheduleRequest(_message.Message):
    __slots__ = ("name", "code_location")
    NAME_FIELD_NUMBER: _ClassVar[int]
    CODE_LOCATION_FIELD_NUMBER: _ClassVar[int]
    name: str
    code_location: str
    def __init__(self, name: _Optional[str] = ..., code_location: _Optional[str] = ...) -> None: ...

class StopScheduleResponse(_message.Message):
    __slots__ = ("schedule",)
    SCHEDULE_FIELD_NUMBER: _ClassVar[int]
    schedule: Schedule
    def __init__(self, schedule: _Optional[_Union[Schedule, _Mapping]] = ...) -> None: ...

class ListSensorsRequest(_message.Message):
    __slots__ = ("code_location",)
    CODE_LOCATION_FIELD_NUMBER: _ClassVar[int]
    code_location: str
    def __init__(self, code_location: _Optional[str] = ...) -> None: ...

class ListSensorsResponse(_message.Message):
    __slots__ = ("sensors",)
    SENSORS_FIELD_NUMBER: _ClassVar[int]
    sensors: _containers.RepeatedCompositeFieldContainer[Sensor]
    def __init__(self, sensors: _Optional[_Iterable[_Union[Sensor, _Mapping]]] = ...) -> None: ...

class StartSensorRequest(_message.Message):
    __slots__ = ("name", "code_location")
    NAME_FIELD_NUMBER: _ClassVar[int]
    CODE_LOCATION_FIELD_NUMBER: _ClassVar[int]
    name: str
    code_location: str
    def __init__(self, name: _Optional[str] = ..., code_location: _Optional[str] = ...) -> None: ...

class StartSensorResponse(_message.Message):
    __slots__ = ("sensor",)
    SENSOR_FIELD_NUMBER: _ClassVar[int]
    sensor: Sensor
    def __init__(self, sensor: _Optional[_Union[Sensor, _Mapping]] = ...) -> None: ...

class StopSensorRequest(_message.Message):
    __slots__ = ("name", "code_location")
    NAME_FIELD_NUMBER: _ClassVar[int]
    CODE_LOCATION_FIELD_NUMBER: _ClassVar[int]
    name: str
    code_location: str
    def __init__(self, name: _Optional[str] = ..., code_location: _Optional[str] = ...) -> None: ...

class StopSensorResponse(_message.Message):
    __slots__ = ("sensor",)
    SENSOR_FIELD_NUMBER: _ClassVar[int]
    sensor: Sensor
    def __init__(self, sensor: _Optional[_Union[Sensor, _Mapping]] = ...) -> None: ...

class SetSensorCursorRequest(_message.Message):
    __slots__ = ("name", "code_location", "cursor")
    NAME_FIELD_NUMBER: _ClassVar[int]
    CODE_LOCATION_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    name: str
    code_location: str
    cursor: str
    def __init__(self, name: _Optional[str] = ..., code_location: _Optional[str] = ..., cursor: _Optional[str] = ...) -> None: ...

class SetSensorCursorResponse(_message.Message):
    __slots__ = ("sensor",)
    SENSOR_FIELD_NUMBER: _ClassVar[int]
    sensor: Sensor
    def __init__(self, sensor: _Optional[_Union[Sensor, _Mapping]] = ...) -> None: ...

class ListTicksRequest(_message.Message):
    __slots__ = ("name", "code_location", "limit", "cursor")
    NAME_FIELD_NUMBER: _ClassVar[int]
    CODE_LOCATION_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    name: str
    code_location: str
    limit: int
    cursor: str
    def __init__(self, name: _Optional[str] = ..., code_location: _Optional[str] = ..., limit: _Optional[int] = ..., cursor: _Optional[str] = ...) -> None: ...

class ListTicksResponse(_message.Message):
    __slots__ = ("ticks", "next_cursor")
    TICKS_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    ticks: _containers.RepeatedCompositeFieldContainer[Tick]
    next_cursor: str
    def __init__(self, ticks: _Optional[_Iterable[_Union[Tick, _Mapping]]] = ..., next_cursor: _Optional[str] = ...) -> None: ...

class GetPartitionStatusRequest(_message.Message):
    __slots__ = ("key", "max_buckets")
    KEY_FIELD_NUMBER: _ClassVar[int]
    MAX_BUCKETS_FIELD_NUMBER: _ClassVar[int]
    key: _common_pb2.AssetKey
    max_buckets: int
    def __init__(self, key: _Optional[_Union[_common_pb2.AssetKey, _Mapping]] = ..., max_buckets: _Optional[int] = ...) -> None: ...

class PartitionStateCounts(_message.Message):
    __slots__ = ("total", "materialized", "failed", "in_progress", "missing")
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    MATERIALIZED_FIELD_NUMBER: _ClassVar[int]
    FAILED_FIELD_NUMBER: _ClassVar[int]
    IN_PROGRESS_FIELD_NUMBER: _ClassVar[int]
    MISSING_FIELD_NUMBER: _ClassVar[int]
    total: int
    materialized: int
    failed: int
    in_progress: int
    missing: int
    def __init__(self, total: _Optional[int] = ..., materialized: _Optional[int] = ..., failed: _Optional[int] = ..., in_progress: _Optional[int] = ..., missing: _Optional[int] = ...) -> None: ...

class PartitionRange(_message.Message):
    __slots__ = ("start", "end", "state", "start_key", "end_key")
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    START_KEY_FIELD_NUMBER: _ClassVar[int]
    END_KEY_FIELD_NUMBER: _ClassVar[int]
    start: int
    end: int
    state: PartitionState
    start_key: str
    end_key: str
    def __init__(self, start: _Optional[int] = ..., end: _Optional[int] = ..., state: _Optional[_Union[PartitionState, str]] = ..., start_key: _Optional[str] = ..., end_key: _Optional[str] = ...) -> None: ...

class GetPartitionStatusResponse(_message.Message):
    __slots__ = ("counts", "ranges", "merged")
    COUNTS_FIELD_NUMBER: _ClassVar[int]
    RANGES_FIELD_NUMBER: _ClassVar[int]
    MERGED_FIELD_NUMBER: _ClassVar[int]
    counts: PartitionStateCounts
    ranges: _containers.RepeatedCompositeFieldContainer[PartitionRange]
    merged: bool
    def __init__(self, counts: _Optional[_Union[PartitionStateCounts, _Mapping]] = ..., ranges: _Optional[_Iterable[_Union[PartitionRange, _Mapping]]] = ..., merged: _Optional[bool] = ...) -> None: ...

class GetPartitionKeysRequest(_message.Message):
    __slots__ = ("key", "offset", "limit")
    KEY_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    key: _common_pb2.AssetKey
    offset: int
    limit: int
    def __init__(self, key: _Optional[_Union[_common_pb2.AssetKey, _Mapping]] = ..., offset: _Optional[int] = ..., limit: _Optional[int] = ...) -> None: ...

class GetPartitionKeysResponse(_message.Message):
    __slots__ = ("partition_keys", "total_count")
    PARTITION_KEYS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_COUNT_FIELD_NUMBER: _ClassVar[int]
    partition_keys: _containers.RepeatedScalarFieldContainer[str]
    total_count: int
    def __init__(self, partition_keys: _Optional[_Iterable[str]] = ..., total_count: _Optional[int] = ...) -> None: ...

class AddDynamicPartitionsRequest(_message.Message):
    __slots__ = ("partitions_def_name", "partition_keys")
    PARTITIONS_DEF_NAME_FIELD_NUMBER: _ClassVar[int]
    PARTITION_KEYS_FIELD_NUMBER: _ClassVar[int]
    partitions_def_name: str
    partition_keys: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, partitions_def_name: _Optional[str] = ..., partition_keys: _Optional[_Iterable[str]] = ...) -> None: ...

class AddDynamicPartitionsResponse(_message.Message):
    __slots__ = ("added_partition_keys",)
    ADDED_PARTITION_KEYS_FIELD_NUMBER: _ClassVar[int]
    added_partition_keys: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, added_partition_keys: _Optional[_Iterable[str]] = ...) -> None: ...

class DeleteDynamicPartitionsRequest(_message.Message):
    __slots__ = ("partitions_def_name", "partition_keys")
    PARTITIONS_DEF_NAME_FIELD_NUMBER: _ClassVar[int]
    PARTITION_KEYS_FIELD_NUMBER: _ClassVar[int]
    partitions_def_name: str
    partition_keys: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, partitions_def_name: _Optional[str] = ..., partition_keys: _Optional[_Iterable[str]] = ...) -> None: ...

class DeleteDynamicPartitionsResponse(_message.Message):
    __slots__ = ("deleted_partition_keys",)
    DELETED_PARTITION_KEYS_FIELD_NUMBER: _ClassVar[int]
    deleted_partition_keys: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, deleted_partition_keys: _Optional[_Iterable[str]] = ...) -> None: ...

class ListDynamicPartitionsRequest(_message.Message):
    __slots__ = ("partitions_def_name", "cursor", "limit")
    PARTITIONS_DEF_NAME_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    partitions_def_name: str
    cursor: str
    limit: int
    def __init__(self, partitions_def_name: _Optional[str] = ..., cursor: _Optional[str] = ..., limit: _Optional[int] = ...) -> None: ...

class ListDynamicPartitionsResponse(_message.Message):
    __slots__ = ("partition_keys", "next_cursor")
    PARTITION_KEYS_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    partition_keys: _containers.RepeatedScalarFieldContainer[str]
    next_cursor: str
    def __init__(self, partition_keys: _Optional[_Iterable[str]] = ..., next_cursor: _Optional[str] = ...) -> None: ...

class GetAssetHealthRequest(_message.Message):
    __slots__ = ("key",)
    KEY_FIELD_NUMBER: _ClassVar[int]
    key: _common_pb2.AssetKey
    def __init__(self, key: _Optional[_Union[_common_pb2.AssetKey, _Mapping]] = ...) -> None: ...

class GetAssetHealthResponse(_message.Message):
    __slots__ = ("health",)
    HEALTH_FIELD_NUMBER: _ClassVar[int]
    health: _health_pb2.AssetHealth
    def __init__(self, health: _Optional[_Union[_health_pb2.AssetHealth, _Mapping]] = ...) -> None: ...

class GetDeploymentHealthRequest(_message.Message):
    __slots__ = ("code_location",)
    CODE_LOCATION_FIELD_NUMBER: _ClassVar[int]
    code_location: str
    def __init__(self, code_location: _Optional[str] = ...) -> None: ...

class GetDeploymentHealthResponse(_message.Message):
    __slots__ = ("asset_count", "health", "freshness")
    ASSET_COUNT_FIELD_NUMBER: _ClassVar[int]
    HEALTH_FIELD_NUMBER: _ClassVar[int]
    FRESHNESS_FIELD_NUMBER: _ClassVar[int]
    asset_count: int
    health: _containers.RepeatedCompositeFieldContainer[_health_pb2.HealthCount]
    freshness: _containers.RepeatedCompositeFieldContainer[_health_pb2.FreshnessCount]
    def __init__(self, asset_count: _Optional[int] = ..., health: _Optional[_Iterable[_Union[_health_pb2.HealthCount, _Mapping]]] = ..., freshness: _Optional[_Iterable[_Union[_health_pb2.FreshnessCount, _Mapping]]] = ...) -> None: ...

class ListCheckEvaluationsRequest(_message.Message):
    __slots__ = ("asset_key", "check_name", "partition_key", "cursor", "limit")
    ASSET_KEY_FIELD_NUMBER: _ClassVar[int]
    CHECK_NAME_FIELD_NUMBER: _ClassVar[int]
    PARTITION_KEY_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    asset_key: _common_pb2.AssetKey
    check_name: str
    partition_key: str
    cursor: str
    limit: int
    def __init__(self, asset_key: _Optional[_Union[_common_pb2.AssetKey, _Mapping]] = ..., check_name: _Optional[str] = ..., partition_key: _Optional[str] = ..., cursor: _Optional[str] = ..., limit: _Optional[int] = ...) -> None: ...

class ListCheckEvaluationsResponse(_message.Message):
    __slots__ = ("evaluations", "next_cursor")
    EVALUATIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    evaluations: _containers.RepeatedCompositeFieldContainer[_events_pb2.CheckEvaluationRecord]
    next_cursor: str
    def __init__(self, evaluations: _Optional[_Iterable[_Union[_events_pb2.CheckEvaluationRecord, _Mapping]]] = ..., next_cursor: _Optional[str] = ...) -> None: ...

class GetAutomationEvaluationsRequest(_message.Message):
    __slots__ = ("key", "limit", "cursor")
    KEY_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    key: _common_pb2.AssetKey
    limit: int
    cursor: str
    def __init__(self, key: _Optional[_Union[_common_pb2.AssetKey, _Mapping]] = ..., limit: _Optional[int] = ..., cursor: _Optional[str] = ...) -> None: ...

class GetAutomationEvaluationsResponse(_message.Message):
    __slots__ = ("evaluations", "next_cursor")
    EVALUATIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    evaluations: _containers.RepeatedCompositeFieldContainer[_automation_pb2.AutomationEvaluation]
    next_cursor: str
    def __init__(self, evaluations: _Optional[_Iterable[_Union[_automation_pb2.AutomationEvaluation, _Mapping]]] = ..., next_cursor: _Optional[str] = ...) -> None: ...

class LaunchBackfillRequest(_message.Message):
    __slots__ = ("selection", "partition_keys", "partition_range", "all_partitions", "from_failure", "tags")
    class TagsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    SELECTION_FIELD_NUMBER: _ClassVar[int]
    PARTITION_KEYS_FIELD_NUMBER: _ClassVar[int]
    PARTITION_RANGE_FIELD_NUMBER: _ClassVar[int]
    ALL_PARTITIONS_FIELD_NUMBER: _ClassVar[int]
    FROM_FAILURE_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    selection: str
    partition_keys: _containers.RepeatedScalarFieldContainer[str]
    partition_range: _partitions_pb2.PartitionKeyRange
    all_partitions: bool
    from_failure: bool
    tags: _containers.ScalarMap[str, str]
    def __init__(self, selection: _Optional[str] = ..., partition_keys: _Optional[_Iterable[str]] = ..., partition_range: _Optional[_Union[_partitions_pb2.PartitionKeyRange, _Mapping]] = ..., all_partitions: _Optional[bool] = ..., from_failure: _Optional[bool] = ..., tags: _Optional[_Mapping[str, str]] = ...) -> None: ...

class LaunchBackfillResponse(_message.Message):
    __slots__ = ("backfill_id", "run_count")
    BACKFILL_ID_FIELD_NUMBER: _ClassVar[int]
    RUN_COUNT_FIELD_NUMBER: _ClassVar[int]
    backfill_id: str
    run_count: int
    def __init__(self, backfill_id: _Optional[str] = ..., run_count: _Optional[int] = ...) -> None: ...

class BackfillPartitionCounts(_message.Message):
    __slots__ = ("total", "requested", "in_progress", "materialized", "failed", "skipped")
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_FIELD_NUMBER: _ClassVar[int]
    IN_PROGRESS_FIELD_NUMBER: _ClassVar[int]
    MATERIALIZED_FIELD_NUMBER: _ClassVar[int]
    FAILED_FIELD_NUMBER: _ClassVar[int]
    SKIPPED_FIELD_NUMBER: _ClassVar[int]
    total: int
    requested: int
    in_progress: int
    materialized: int
    failed: int
    skipped: int
    def __init__(self, total: _Optional[int] = ..., requested: _Optional[int] = ..., in_progress: _Optional[int] = ..., materialized: _Optional[int] = ..., failed: _Optional[int] = ..., skipped: _Optional[int] = ...) -> None: ...

class BackfillPartitionRange(_message.Message):
    __slots__ = ("start", "end", "state", "start_key", "end_key")
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    START_KEY_FIELD_NUMBER: _ClassVar[int]
    END_KEY_FIELD_NUMBER: _ClassVar[int]
    start: int
    end: int
    state: BackfillPartitionState
    start_key: str
    end_key: str
    def __init__(self, start: _Optional[int] = ..., end: _Optional[int] = ..., state: _Optional[_Union[BackfillPartitionState, str]] = ..., start_key: _Optional[str] = ..., end_key: _Optional[str] = ...) -> None: ...

class BackfillAssetProgress(_message.Message):
    __slots__ = ("key", "counts", "ranges", "merged")
    KEY_FIELD_NUMBER: _ClassVar[int]
    COUNTS_FIELD_NUMBER: _ClassVar[int]
    RANGES_FIELD_NUMBER: _ClassVar[int]
    MERGED_FIELD_NUMBER: _ClassVar[int]
    key: _common_pb2.AssetKey
    counts: BackfillPartitionCounts
    ranges: _containers.RepeatedCompositeFieldContainer[BackfillPartitionRange]
    merged: bool
    def __init__(self, key: _Optional[_Union[_common_pb2.AssetKey, _Mapping]] = ..., counts: _Optional[_Union[BackfillPartitionCounts, _Mapping]] = ..., ranges: _Optional[_Iterable[_Union[BackfillPartitionRange, _Mapping]]] = ..., merged: _Optional[bool] = ...) -> None: ...

class Backfill(_message.Message):
    __slots__ = ("backfill_id", "status", "selection", "code_location", "tags", "run_count", "runs_succeeded", "runs_failed", "runs_skipped", "runs_in_progress", "create_time", "end_time", "assets")
    class TagsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    BACKFILL_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    SELECTION_FIELD_NUMBER: _ClassVar[int]
    CODE_LOCATION_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    RUN_COUNT_FIELD_NUMBER: _ClassVar[int]
    RUNS_SUCCEEDED_FIELD_NUMBER: _ClassVar[int]
    RUNS_FAILED_FIELD_NUMBER: _ClassVar[int]
    RUNS_SKIPPED_FIELD_NUMBER: _ClassVar[int]
    RUNS_IN_PROGRESS_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    ASSETS_FIELD_NUMBER: _ClassVar[int]
    backfill_id: str
    status: BackfillStatus
    selection: str
    code_location: str
    tags: _containers.ScalarMap[str, str]
    run_count: int
    runs_succeeded: int
    runs_failed: int
    runs_skipped: int
    runs_in_progress: int
    create_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    assets: _containers.RepeatedCompositeFieldContainer[BackfillAssetProgress]
    def __init__(self, backfill_id: _Optional[str] = ..., status: _Optional[_Union[BackfillStatus, str]] = ..., selection: _Optional[str] = ..., code_location: _Optional[str] = ..., tags: _Optional[_Mapping[str, str]] = ..., run_count: _Optional[int] = ..., runs_succeeded: _Optional[int] = ..., runs_failed: _Optional[int] = ..., runs_skipped: _Optional[int] = ..., runs_in_progress: _Optional[int] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., assets: _Optional[_Iterable[_Union[BackfillAssetProgress, _Mapping]]] = ...) -> None: ...

class GetBackfillRequest(_message.Message):
    __slots__ = ("backfill_id", "max_buckets")
    BACKFILL_ID_FIELD_NUMBER: _ClassVar[int]
    MAX_BUCKETS_FIELD_NUMBER: _ClassVar[int]
    backfill_id: str
    max_buckets: int
    def __init__(self, backfill_id: _Optional[str] = ..., max_buckets: _Optional[int] = ...) -> None: ...

class GetBackfillResponse(_message.Message):
    __slots__ = ("backfill",)
    BACKFILL_FIELD_NUMBER: _ClassVar[int]
    backfill: Backfill
    def __init__(self, backfill: _Optional[_Union[Backfill, _Mapping]] = ...) -> None: ...

class ListBackfillsRequest(_message.Message):
    __slots__ = ("statuses", "cursor", "limit")
    STATUSES_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    statuses: _containers.RepeatedScalarFieldContainer[BackfillStatus]
    cursor: str
    limit: int
    def __init__(self, statuses: _Optional[_Iterable[_Union[BackfillStatus, str]]] = ..., cursor: _Optional[str] = ..., limit: _Optional[int] = ...) -> None: ...

class ListBackfillsResponse(_message.Message):
    __slots__ = ("backfills", "next_cursor")
    BACKFILLS_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    backfills: _containers.RepeatedCompositeFieldContainer[Backfill]
    next_cursor: str
    def __init__(self, backfills: _Optional[_Iterable[_Union[Backfill, _Mapping]]] = ..., next_cursor: _Optional[str] = ...) -> None: ...

class CancelBackfillRequest(_message.Message):
    __slots__ = ("backfill_id",)
    BACKFILL_ID_FIELD_NUMBER: _ClassVar[int]
    backfill_id: str
    def __init__(self, backfill_id: _Optional[str] = ...) -> None: ...

class CancelBackfillResponse(_message.Message):
    __slots__ = ("backfill",)
    BACKFILL_FIELD_NUMBER: _ClassVar[int]
    backfill: Backfill
    def __init__(self, backfill: _Optional[_Union[Backfill, _Mapping]] = ...) -> None: ...

class ResumeBackfillRequest(_message.Message):
    __slots__ = ("backfill_id",)
    BACKFILL_ID_FIELD_NUMBER: _ClassVar[int]
    backfill_id: str
    def __init__(self, backfill_id: _Optional[str] = ...) -> None: ...

class ResumeBackfillResponse(_message.Message):
    __slots__ = ("backfill",)
    BACKFILL_FIELD_NUMBER: _ClassVar[int]
    backfill: Backfill
    def __init__(self, backfill: _Optional[_Union[Backfill, _Mapping]] = ...) -> None: ...

class ListControlPlaneReplicasRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListControlPlaneReplicasResponse(_message.Message):
    __slots__ = ("replicas", "answered_by")
    REPLICAS_FIELD_NUMBER: _ClassVar[int]
    ANSWERED_BY_FIELD_NUMBER: _ClassVar[int]
    replicas: _containers.RepeatedCompositeFieldContainer[ControlPlaneReplica]
    answered_by: str
    def __init__(self, replicas: _Optional[_Iterable[_Union[ControlPlaneReplica, _Mapping]]] = ..., answered_by: _Optional[str] = ...) -> None: ...

class ControlPlaneReplica(_message.Message):
    __slots__ = ("replica_id", "state", "reporting_address", "http_address", "hostname", "pid", "started_at", "last_heartbeat_at", "lease_until", "taken_over_by", "taken_over_at")
    REPLICA_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    REPORTING_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    HTTP_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    HOSTNAME_FIELD_NUMBER: _ClassVar[int]
    PID_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    LAST_HEARTBEAT_AT_FIELD_NUMBER: _ClassVar[int]
    LEASE_UNTIL_FIELD_NUMBER: _ClassVar[int]
    TAKEN_OVER_BY_FIELD_NUMBER: _ClassVar[int]
    TAKEN_OVER_AT_FIELD_NUMBER: _ClassVar[int]
    replica_id: str
    state: ControlPlaneReplicaState
    reporting_address: str
    http_address: str
    hostname: str
    pid: int
    started_at: _timestamp_pb2.Timestamp
    last_heartbeat_at: _timestamp_pb2.Timestamp
    lease_until: _timestamp_pb2.Timestamp
    taken_over_by: str
    taken_over_at: _timestamp_pb2.Timestamp
    def __init__(self, replica_id: _Optional[str] = ..., state: _Optional[_Union[ControlPlaneReplicaState, str]] = ..., reporting_address: _Optional[str] = ..., http_address: _Optional[str] = ..., hostname: _Optional[str] = ..., pid: _Optional[int] = ..., started_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_heartbeat_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., lease_until: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., taken_over_by: _Optional[str] = ..., taken_over_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CreateAlertPolicyRequest(_message.Message):
    __slots__ = ("policy",)
    POLICY_FIELD_NUMBER: _ClassVar[int]
    policy: _alerts_pb2.AlertPolicy
    def __init__(self, policy: _Optional[_Union[_alerts_pb2.AlertPolicy, _Mapping]] = ...) -> None: ...

class CreateAlertPolicyResponse(_message.Message):
    __slots__ = ("policy",)
    POLICY_FIELD_NUMBER: _ClassVar[int]
    policy: _alerts_pb2.AlertPolicy
    def __init__(self, policy: _Optional[_Union[_alerts_pb2.AlertPolicy, _Mapping]] = ...) -> None: ...

class ListAlertPoliciesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListAlertPoliciesResponse(_message.Message):
    __slots__ = ("policies",)
    POLICIES_FIELD_NUMBER: _ClassVar[int]
    policies: _containers.RepeatedCompositeFieldContainer[_alerts_pb2.AlertPolicy]
    def __init__(self, policies: _Optional[_Iterable[_Union[_alerts_pb2.AlertPolicy, _Mapping]]] = ...) -> None: ...

class DeleteAlertPolicyRequest(_message.Message):
    __slots__ = ("policy_id",)
    POLICY_ID_FIELD_NUMBER: _ClassVar[int]
    policy_id: str
    def __init__(self, policy_id: _Optional[str] = ...) -> None: ...

class DeleteAlertPolicyResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListAlertDeliveriesRequest(_message.Message):
    __slots__ = ("policy_id", "status", "cursor", "limit")
    POLICY_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    policy_id: str
    status: _alerts_pb2.AlertDeliveryStatus
    cursor: str
    limit: int
    def __init__(self, policy_id: _Optional[str] = ..., status: _Optional[_Union[_alerts_pb2.AlertDeliveryStatus, str]] = ..., cursor: _Optional[str] = ..., limit: _Optional[int] = ...) -> None: ...

class ListAlertDeliveriesResponse(_message.Message):
    __slots__ = ("deliveries", "next_cursor")
    DELIVERIES_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    deliveries: _containers.RepeatedCompositeFieldContainer[_alerts_pb2.AlertDelivery]
    next_cursor: str
    def __init__(self, deliveries: _Optional[_Iterable[_Union[_alerts_pb2.AlertDelivery, _Mapping]]] = ..., next_cursor: _Optional[str] = ...) -> None: ...
