"""Converts wire-contract RunEvents to storage records; builds the events the
control plane writes itself (a run failed to start, its worker was lost, it was canceled)."""

from __future__ import annotations

from datetime import UTC, datetime

from google.protobuf import json_format
from google.protobuf.timestamp_pb2 import Timestamp
from weir_protos.v1 import common_pb2, events_pb2

from weir_controlplane.storage import MetadataItem, NewEvent

_PREFIX = "RUN_EVENT_TYPE_"


def type_name(event_type: int) -> str:
    """RUN_EVENT_TYPE_STEP_START -> "STEP_START" (the storage spelling)."""
    return events_pb2.RunEventType.Name(event_type).removeprefix(_PREFIX)


def _key(key: common_pb2.AssetKey) -> str | None:
    return "/".join(key.path) or None


def to_new_event(event: events_pb2.RunEvent) -> NewEvent:
    """The storage record of a worker's event: typed columns to query plus the bytes."""
    asset_key = partition = check_name = None
    passed = severity = None
    metadata: tuple[MetadataItem, ...] = ()
    which = event.WhichOneof("payload")
    if which == "materialization":
        asset_key = _key(event.materialization.asset_key)
        partition = event.materialization.partition or None
        metadata = tuple(metadata_item(entry) for entry in event.materialization.metadata)
    elif which == "check_evaluation":
        evaluation = event.check_evaluation
        asset_key, check_name = _key(evaluation.asset_key), evaluation.check_name
        partition = evaluation.partition or None
        passed = evaluation.passed
        severity = (
            "WARN" if evaluation.severity == events_pb2.ASSET_CHECK_SEVERITY_WARN else "ERROR"
        )
    elif which == "materialization_planned":
        asset_key = _key(event.materialization_planned.asset_key)
        partition = event.materialization_planned.partition or None
    timestamp = (
        event.timestamp.ToDatetime(tzinfo=UTC) if event.HasField("timestamp") else datetime.now(UTC)
    )
    return NewEvent(
        sequence=event.sequence or None,
        event_type=type_name(event.event_type),
        timestamp=timestamp,
        step_key=event.step_key or None,
        asset_key=asset_key,
        partition=partition,
        check_name=check_name,
        message=event.message or None,
        payload=event.SerializeToString(),
        check_passed=passed,
        check_severity=severity,
        metadata=metadata,
    )


def metadata_item(entry: common_pb2.MetadataEntry) -> MetadataItem:
    """A metadata entry as storage searches it: its type, and its value as text or number."""
    value = entry.value
    kind = value.WhichOneof("value") or "null"
    text: str | None = None
    number: float | None = None
    if kind in ("int", "float", "bool"):
        number = float(getattr(value, kind))
    elif kind in ("text", "url", "path", "md"):
        text = getattr(value, kind)
    elif kind == "asset":
        text = "/".join(value.asset.path)
    elif kind == "timestamp":
        text = value.timestamp.ToJsonString()
    elif kind in ("json", "table_schema"):
        text = json_format.MessageToJson(getattr(value, kind), indent=None)
    return MetadataItem(key=entry.label, value_type=kind, text=text, number=number)


def run_failure_event(
    run_id: str, reason: int, message: str, error_class: str = ""
) -> events_pb2.RunEvent:
    """RUN_FAILURE written by the control plane, e.g. for a lost worker."""
    event = _event(run_id, events_pb2.RUN_EVENT_TYPE_RUN_FAILURE, message)
    event.run_failure.reason = reason  # type: ignore[assignment]
    event.run_failure.error.message = message
    event.run_failure.error.class_name = error_class
    return event


def run_canceled_event(run_id: str, message: str) -> events_pb2.RunEvent:
    return _event(run_id, events_pb2.RUN_EVENT_TYPE_RUN_CANCELED, message)


def lifecycle_event(run_id: str, event_type: int, message: str) -> events_pb2.RunEvent:
    return _event(run_id, event_type, message)


def _event(run_id: str, event_type: int, message: str) -> events_pb2.RunEvent:
    now = Timestamp()
    now.GetCurrentTime()
    return events_pb2.RunEvent(
        run_id=run_id,
        sequence=0,
        timestamp=now,
        event_type=event_type,  # type: ignore[arg-type]
        message=message,
    )
