"""The SDK's run events (WeirEvent) as weir.v1 RunEvents, plus the run-level events a worker
writes itself (RUN_STARTED, planned materializations, ENGINE notes, the final event).

Sequences are not assigned here: the reporter numbers events as it accepts them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

from weir import AssetKey, EventType, WeirEvent
from weir._execution.events import (
    AssetCheckEvaluation,
    AssetMaterialization,
    ErrorInfo,
    StepFailureData,
    StepRetryData,
)
from weir._results import AssetCheckSeverity
from weir_protos.v1 import common_pb2, events_pb2

from weir_codeserver.wire_values import (
    asset_key_message,
    duration_message,
    error_info_message,
    metadata_entries,
    set_timestamp,
)

E = events_pb2.RunEventType
_LOG_LEVELS: tuple[tuple[int, events_pb2.LogLevel], ...] = (
    (logging.DEBUG, events_pb2.LOG_LEVEL_DEBUG),
    (logging.INFO, events_pb2.LOG_LEVEL_INFO),
    (logging.WARNING, events_pb2.LOG_LEVEL_WARNING),
    (logging.ERROR, events_pb2.LOG_LEVEL_ERROR),
)
SEVERITIES: dict[AssetCheckSeverity, events_pb2.AssetCheckSeverity] = {
    AssetCheckSeverity.WARN: events_pb2.ASSET_CHECK_SEVERITY_WARN,
    AssetCheckSeverity.ERROR: events_pb2.ASSET_CHECK_SEVERITY_ERROR,
}
# Every SDK event type and the wire type it is sent as.
EVENT_TYPES: dict[EventType, events_pb2.RunEventType] = {
    EventType.RUN_START: E.RUN_EVENT_TYPE_RUN_STARTED,  # the SDK says RUN_START
    EventType.RUN_SUCCESS: E.RUN_EVENT_TYPE_RUN_SUCCESS,
    EventType.RUN_FAILURE: E.RUN_EVENT_TYPE_RUN_FAILURE,
    EventType.RUN_CANCELED: E.RUN_EVENT_TYPE_RUN_CANCELED,
    EventType.STEP_START: E.RUN_EVENT_TYPE_STEP_START,
    EventType.STEP_SUCCESS: E.RUN_EVENT_TYPE_STEP_SUCCESS,
    EventType.STEP_FAILURE: E.RUN_EVENT_TYPE_STEP_FAILURE,
    EventType.STEP_SKIPPED: E.RUN_EVENT_TYPE_STEP_SKIPPED,
    EventType.STEP_UP_FOR_RETRY: E.RUN_EVENT_TYPE_STEP_UP_FOR_RETRY,
    EventType.ASSET_MATERIALIZATION: E.RUN_EVENT_TYPE_ASSET_MATERIALIZATION,
    EventType.ASSET_CHECK_EVALUATION: E.RUN_EVENT_TYPE_ASSET_CHECK_EVALUATION,
    EventType.LOG: E.RUN_EVENT_TYPE_LOG,
}
_MESSAGE_LIMIT = 4000


def run_event(
    run_id: str,
    event_type: events_pb2.RunEventType,
    message: str,
    step_key: str | None = None,
    when: float | None = None,
) -> events_pb2.RunEvent:
    event = events_pb2.RunEvent(
        run_id=run_id, event_type=event_type, step_key=step_key or "",
        message=message[:_MESSAGE_LIMIT],
    )  # fmt: skip
    set_timestamp(event.timestamp, time.time() if when is None else when)
    return event


def materialization_planned(run_id: str, key: AssetKey, partition: str | None) -> Any:
    event = run_event(
        run_id, E.RUN_EVENT_TYPE_ASSET_MATERIALIZATION_PLANNED, f"Planned {key.to_user_string()}"
    )
    event.materialization_planned.asset_key.CopyFrom(asset_key_message(key))
    event.materialization_planned.partition = partition or ""
    return event


def check_planned(run_id: str, key: AssetKey, check_name: str) -> events_pb2.RunEvent:
    event = run_event(
        run_id,
        E.RUN_EVENT_TYPE_ASSET_CHECK_EVALUATION_PLANNED,
        f"Planned check {key.to_user_string()}:{check_name}",
    )
    event.check_evaluation_planned.asset_key.CopyFrom(asset_key_message(key))
    event.check_evaluation_planned.check_name = check_name
    return event


def engine_event(
    run_id: str, message: str, metadata: Mapping[str, Any] | None = None
) -> events_pb2.RunEvent:
    event = run_event(run_id, E.RUN_EVENT_TYPE_ENGINE, message)
    event.engine.metadata.extend(metadata_entries(metadata))
    return event


def run_failure(
    run_id: str,
    message: str,
    reason: events_pb2.RunFailureReason,
    error: common_pb2.Error | None = None,
    failed_step_keys: tuple[str, ...] = (),
) -> events_pb2.RunEvent:
    event = run_event(run_id, E.RUN_EVENT_TYPE_RUN_FAILURE, message)
    event.run_failure.reason = reason
    event.run_failure.failed_step_keys.extend(failed_step_keys)
    if error is not None:
        event.run_failure.error.CopyFrom(error)
    return event


class EventTranslator:
    """Turns one run's WeirEvents into RunEvents, keeping what the wire needs across events:
    attempt numbers, STEP_RESTARTED after a retry, and each failed step's error."""

    def __init__(self, run_id: str):
        self.run_id = run_id
        self.attempts: dict[str, int] = {}
        self.restarting: set[str] = set()
        self.step_errors: dict[str, ErrorInfo] = {}
        self.started_steps: set[str] = set()

    def translate(self, event: WeirEvent) -> list[events_pb2.RunEvent]:
        out: list[events_pb2.RunEvent] = []
        step = event.step_key
        if step and step in self.restarting and event.event_type is not EventType.STEP_START:
            self.restarting.discard(step)
            out.append(
                run_event(
                    self.run_id,
                    E.RUN_EVENT_TYPE_STEP_RESTARTED,
                    f"Restarting {step} (attempt {self.attempts[step]})",
                    step,
                    event.timestamp,
                )
            )
        out.append(self._convert(event))
        return out

    def _convert(self, event: WeirEvent) -> events_pb2.RunEvent:
        wire_type = EVENT_TYPES[event.event_type]
        message = run_event(self.run_id, wire_type, event.message, event.step_key, event.timestamp)
        step = event.step_key or ""
        data = event.event_specific_data
        if wire_type == E.RUN_EVENT_TYPE_STEP_START:
            self.attempts[step] = 1
            self.started_steps.add(step)
        elif wire_type == E.RUN_EVENT_TYPE_STEP_UP_FOR_RETRY:
            attempt = self.attempts.get(step, 1)
            message.step_retry.error.message = event.message or "step failed"
            message.step_retry.attempt = attempt
            if isinstance(data, StepRetryData):
                message.step_retry.error.CopyFrom(error_info_message(data.error))
                message.step_retry.delay.CopyFrom(duration_message(data.wait_seconds))
            self.attempts[step] = attempt + 1
            self.restarting.add(step)
        elif wire_type == E.RUN_EVENT_TYPE_STEP_FAILURE and isinstance(data, StepFailureData):
            self.step_errors[step] = data.error
            message.step_failure.error.CopyFrom(error_info_message(data.error))
            message.step_failure.attempt = self.attempts.get(step, 1)
        elif isinstance(data, AssetMaterialization):
            message.materialization.CopyFrom(materialization_message(data))
        elif isinstance(data, AssetCheckEvaluation):
            evaluation = message.check_evaluation
            evaluation.asset_key.CopyFrom(asset_key_message(data.asset_key))
            evaluation.check_name = data.check_name
            evaluation.passed = data.passed
            evaluation.severity = SEVERITIES[data.severity]
            evaluation.metadata.extend(metadata_entries(data.metadata))
            evaluation.description = data.description or ""
            evaluation.blocking = data.blocking
            evaluation.partition = data.partition or ""
        elif wire_type == E.RUN_EVENT_TYPE_LOG:
            message.log.level = _log_level(event.level)
            message.log.text = event.message
            message.log.logger_name = "weir"
        return message


def materialization_message(data: AssetMaterialization) -> events_pb2.AssetMaterialization:
    # The SDK's materializations carry no data version yet: data_version stays empty.
    return events_pb2.AssetMaterialization(
        asset_key=asset_key_message(data.asset_key),
        partition=data.partition or "",
        metadata=metadata_entries(data.metadata),
        description=data.description or "",
    )


def _log_level(level: int) -> events_pb2.LogLevel:
    for threshold, wire_level in _LOG_LEVELS:
        if level <= threshold:
            return wire_level
    return events_pb2.LOG_LEVEL_CRITICAL
