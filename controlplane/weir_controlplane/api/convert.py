"""Storage records and registry states as `weir.v1` messages, and request fields back.

Storage speaks plain dataclasses with slash-joined asset keys; the wire speaks
`weir.v1` messages. Every conversion between the two lives here.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from google.protobuf import struct_pb2, timestamp_pb2
from weir_protos.v1 import (
    code_location_pb2,
    common_pb2,
    control_plane_pb2,
    events_pb2,
    runs_pb2,
)

from weir_controlplane.errors import InvalidArgumentError
from weir_controlplane.locations import LocationState
from weir_controlplane.runs.partition_range import partition_range
from weir_controlplane.storage import CheckResult, EventRecord, Run, RunStatus

# Runs record the job they execute as this system tag (storage has no column for it).
JOB_NAME_TAG = "weir/job_name"
_EVENT_TYPE_PREFIX = "RUN_EVENT_TYPE_"
_EVENT_TYPE_NAMES = frozenset(events_pb2.RunEventType.keys())


# --- keys and times -------------------------------------------------------------------


def key_proto(key: str) -> common_pb2.AssetKey:
    return common_pb2.AssetKey(path=key.split("/"))


def key_text(key: common_pb2.AssetKey, *, field: str = "key") -> str:
    """The slash-joined form of a request's asset key; INVALID_ARGUMENT if it is empty."""
    if not key.path or any(not segment for segment in key.path):
        raise InvalidArgumentError(
            f"{field} must be an asset key with one or more non-empty path segments, "
            f'e.g. {{"path": ["raw", "orders"]}}; got {list(key.path)!r}'
        )
    return "/".join(key.path)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def timestamp(moment: datetime) -> timestamp_pb2.Timestamp:
    # Exact integer arithmetic, several times cheaper than Timestamp.FromDatetime (which
    # builds a time tuple): listings convert tens of thousands of these.
    delta = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)) - _EPOCH
    return timestamp_pb2.Timestamp(
        seconds=delta.days * 86_400 + delta.seconds, nanos=delta.microseconds * 1000
    )


def moment(stamp: timestamp_pb2.Timestamp) -> datetime:
    return stamp.ToDatetime(tzinfo=UTC)


def struct(values: dict[str, Any]) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    message.update(values)
    return message


# --- runs -----------------------------------------------------------------------------


def run_status_proto(status: RunStatus) -> runs_pb2.RunStatus:
    # grpc_tools' stubs type EnumTypeWrapper.Value() as int but enum fields as the enum.
    return runs_pb2.RunStatus.Value(f"RUN_STATUS_{status.value}")  # type: ignore[return-value]


def run_status(value: int) -> RunStatus:
    """A request's RunStatus enum value as storage's; INVALID_ARGUMENT for UNSPECIFIED."""
    name = runs_pb2.RunStatus.Name(value) if value in runs_pb2.RunStatus.values() else ""
    if not name or value == runs_pb2.RUN_STATUS_UNSPECIFIED:
        raise InvalidArgumentError(f"statuses holds {value!r}, which is not a run status")
    return RunStatus(name.removeprefix("RUN_STATUS_"))


def run_proto(run: Run) -> runs_pb2.Run:
    message = runs_pb2.Run(
        run_id=run.run_id,
        status=run_status_proto(run.status),
        code_location=run.code_location,
        job_name=run.tags.get(JOB_NAME_TAG, ""),
        selection=run.selection,
        asset_keys=[key_proto(key) for key in run.asset_keys],
        partition_key=run.partition_key or "",
        tags=dict(run.tags),
        partition_range=partition_range(run.tags),
        create_time=timestamp(run.created_at),
        update_time=timestamp(run.updated_at),
        failure_reason=run.failure_reason or "",
    )
    if run.run_config:
        message.run_config.CopyFrom(struct(dict(run.run_config)))
    if run.started_at is not None:
        message.start_time.CopyFrom(timestamp(run.started_at))
    if run.ended_at is not None:
        message.end_time.CopyFrom(timestamp(run.ended_at))
    return message


# --- events ---------------------------------------------------------------------------


def run_event_proto(record: EventRecord) -> events_pb2.RunEvent:
    """The stored event as the worker sent it, plus the ids the control plane assigned.

    Events are stored with their serialized `RunEvent` as payload; the typed columns fill
    in for an event stored without one.
    """
    event = events_pb2.RunEvent()
    if record.payload:
        event.ParseFromString(record.payload)
    else:
        event_type = _EVENT_TYPE_PREFIX + record.event_type
        if event_type in _EVENT_TYPE_NAMES:
            # grpc_tools' stubs type Value() as int but the field as RunEventType.
            event.event_type = events_pb2.RunEventType.Value(event_type)  # type: ignore[assignment]
        event.step_key = record.step_key or ""
        event.message = record.message or ""
        event.timestamp.CopyFrom(timestamp(record.timestamp))
    event.run_id = record.run_id
    event.sequence = record.sequence or 0
    event.event_id = record.event_id
    return event


def event_type_name(value: int) -> str:
    """A request's RunEventType as storage spells it: RUN_EVENT_TYPE_STEP_START -> STEP_START."""
    if value not in events_pb2.RunEventType.values() or value == 0:
        raise InvalidArgumentError(f"eventTypes holds {value!r}, which is not a run event type")
    return events_pb2.RunEventType.Name(value).removeprefix(_EVENT_TYPE_PREFIX)


def materialization_record(record: EventRecord) -> events_pb2.MaterializationRecord:
    event = run_event_proto(record)
    message = events_pb2.MaterializationRecord(
        event_id=record.event_id,
        run_id=record.run_id,
        step_key=record.step_key or "",
        timestamp=timestamp(record.timestamp),
        partition_key=record.partition or "",
    )
    if event.HasField("materialization"):
        message.materialization.CopyFrom(event.materialization)
    else:
        message.materialization.asset_key.CopyFrom(key_proto(record.asset_key or ""))
        message.materialization.partition = record.partition or ""
    return message


def check_evaluation_record(result: CheckResult) -> events_pb2.CheckEvaluationRecord:
    severity = (
        events_pb2.ASSET_CHECK_SEVERITY_WARN
        if result.severity == "WARN"
        else events_pb2.ASSET_CHECK_SEVERITY_ERROR
    )
    return events_pb2.CheckEvaluationRecord(
        event_id=result.event_id,
        run_id=result.run_id,
        timestamp=timestamp(result.timestamp),
        evaluation=events_pb2.AssetCheckEvaluation(
            asset_key=key_proto(result.asset_key),
            check_name=result.check_name,
            passed=result.passed,
            severity=severity,
            partition=result.partition or "",
        ),
    )


# --- code locations -------------------------------------------------------------------


def code_location_proto(state: LocationState) -> control_plane_pb2.CodeLocation:
    """A registry `LocationState` as the wire's CodeLocation."""
    message = control_plane_pb2.CodeLocation(
        name=state.name,
        status=f"CODE_LOCATION_STATUS_{state.status.value}",  # the enum value by name
        address=state.address or "",
        content_hash=state.content_hash or "",
        update_time=timestamp(state.updated_at),
        asset_count=state.asset_count,
    )
    if isinstance(state.load_error, common_pb2.Error):
        message.error.CopyFrom(state.load_error)  # the location's class name and stack
    elif state.error:
        message.error.CopyFrom(common_pb2.Error(message=state.error))
    if isinstance(state.runtime, code_location_pb2.RuntimeInfo):
        message.runtime.CopyFrom(state.runtime)
    return message


def check_evaluation_from_event(record: EventRecord) -> events_pb2.CheckEvaluationRecord:
    """A stored ASSET_CHECK_EVALUATION event with everything its worker reported
    (description, metadata), as ListCheckEvaluations returns it."""
    event = run_event_proto(record)
    message = events_pb2.CheckEvaluationRecord(
        event_id=record.event_id,
        run_id=record.run_id,
        step_key=record.step_key or "",
        timestamp=timestamp(record.timestamp),
    )
    if event.HasField("check_evaluation"):
        message.evaluation.CopyFrom(event.check_evaluation)
    else:
        message.evaluation.asset_key.CopyFrom(key_proto(record.asset_key or ""))
        message.evaluation.check_name = record.check_name or ""
        message.evaluation.partition = record.partition or ""
    return message
