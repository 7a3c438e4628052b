"""Sensor and schedule ticks: the control plane's request in, the SDK's TickResult out.

User code runs through the SDK's `evaluate_tick`; whatever it raises comes back in the
reply's `error` (a failed tick), never as a status error.
"""

from __future__ import annotations

from typing import Any

from weir import AssetMaterialization, Definitions, TickEvaluationError
from weir._automation.run_request import AddDynamicPartitionsRequest, RunRequest
from weir_protos.v1 import code_location_pb2, runs_pb2

from weir_codeserver.run_events import materialization_message
from weir_codeserver.wire_values import (
    asset_key_from_message,
    asset_key_message,
    exception_message,
    metadata_from_entries,
    struct_message,
    struct_to_dict,
    timestamp_to_datetime,
)


class UnknownInstigatorError(LookupError):
    """No sensor or schedule of that name (NOT_FOUND)."""


def evaluate_schedule(
    defs: Definitions, request: code_location_pb2.EvaluateScheduleRequest
) -> code_location_pb2.EvaluateScheduleResponse:
    from weir._automation.schedules import ScheduleEvaluationContext

    schedule = defs.schedules.get(request.schedule_name)
    if schedule is None:
        raise UnknownInstigatorError(_unknown("schedule", request.schedule_name, defs.schedules))
    response = code_location_pb2.EvaluateScheduleResponse()
    try:
        when = timestamp_to_datetime(request.scheduled_execution_time)
        result = schedule.evaluate_tick(ScheduleEvaluationContext(when, defs.resources))
    except Exception as exc:
        response.error.CopyFrom(exception_message(exc))
        return response
    response.run_requests.extend(run_request_message(r) for r in result.run_requests)
    response.skip_reason = result.skip_message or ""
    return response


def evaluate_sensor(
    defs: Definitions, request: code_location_pb2.EvaluateSensorRequest
) -> code_location_pb2.EvaluateSensorResponse:
    from weir._automation.sensors import SensorEvaluationContext

    sensor = defs.sensors.get(request.sensor_name)
    if sensor is None:
        raise UnknownInstigatorError(_unknown("sensor", request.sensor_name, defs.sensors))
    response = code_location_pb2.EvaluateSensorResponse()
    try:
        context = SensorEvaluationContext(
            cursor=request.cursor if request.HasField("cursor") else None,
            resources=defs.resources,
            sensor_name=sensor.name,
            last_run_key=request.last_run_key or None,
            last_tick_completion_time=(
                timestamp_to_datetime(request.last_tick_time).timestamp()
                if request.HasField("last_tick_time")
                else None
            ),
            asset_events=[_asset_event(m) for m in request.materializations],
            run_status_changes=[_run_status_change(c) for c in request.run_status_changes],
            definitions=defs,
        )
        result = sensor.evaluate_tick(context)
        checks = [e for e in result.asset_events if not isinstance(e, AssetMaterialization)]
        if checks:
            # The reply carries materializations only: fail the tick rather than drop them.
            raise TickEvaluationError(
                f"Sensor '{sensor.name}' returned an AssetCheckEvaluation in "
                "SensorResult(asset_events=...), which a sensor served by a code location "
                "cannot report yet; report check results from an asset check instead"
            )
    except Exception as exc:
        response.error.CopyFrom(exception_message(exc))
        return response
    response.run_requests.extend(run_request_message(r) for r in result.run_requests)
    response.skip_reason = result.skip_message or ""
    response.asset_materializations.extend(
        materialization_message(e)
        for e in result.asset_events
        if isinstance(e, AssetMaterialization)
    )
    if result.cursor is not None:
        response.cursor = result.cursor
    for change in result.dynamic_partitions_requests:
        message = response.dynamic_partitions_requests.add(
            partitions_def_name=change.partitions_def_name
        )
        adding = isinstance(change, AddDynamicPartitionsRequest)
        keys = message.add_partition_keys if adding else message.delete_partition_keys
        keys.extend(change.partition_keys)
    return response


def run_request_message(request: RunRequest) -> runs_pb2.RunRequest:
    message = runs_pb2.RunRequest(
        run_key=request.run_key or "",
        job_name=request.job_name or "",
        asset_keys=[asset_key_message(k) for k in request.asset_selection or ()],
        partition_key=request.partition_key or "",
        tags=dict(request.tags),
    )
    if request.run_config:
        message.run_config.CopyFrom(struct_message(request.run_config))
    return message


def _asset_event(record: Any) -> Any:
    from weir._automation.asset_sensors import AssetEventRecord

    materialization = record.materialization
    return AssetEventRecord(
        asset_key=asset_key_from_message(materialization.asset_key),
        storage_id=record.event_id,
        run_id=record.run_id or None,
        partition_key=materialization.partition or None,
        metadata=metadata_from_entries(materialization.metadata),
        timestamp=timestamp_to_datetime(record.timestamp).timestamp(),
    )


def _run_status_change(change: Any) -> Any:
    from weir._automation.run_status_sensors import RunInfo, RunStatus, RunStatusChange

    run, event = change.run, change.event
    status_name = runs_pb2.RunStatus.Name(run.status).removeprefix("RUN_STATUS_")
    return RunStatusChange(
        run=RunInfo(
            run_id=run.run_id,
            job_name=run.job_name,
            status=RunStatus(status_name),
            tags=dict(run.tags),
            run_config=struct_to_dict(run.run_config),
        ),
        storage_id=event.event_id,
        timestamp=timestamp_to_datetime(event.timestamp).timestamp(),
        message=event.message or run.failure_reason or None,
    )


def _unknown(kind: str, name: str, known: dict[str, Any]) -> str:
    return f"No {kind} named '{name}'; known {kind}s: {', '.join(sorted(known)) or 'none'}"
