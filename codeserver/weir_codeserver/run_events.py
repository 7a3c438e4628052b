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
from weir._execution.events import ErrorInfo, StepFailureData
from weir_protos.v1 import common_pb2, events_pb2

from weir_codeserver.wire_values import (
    asset_key_message,
    error_info_message,
    metadata_entries,
    timestamp_message,
)

E = events_pb2.RunEventType
_LOG_LEVELS = (
    (logging.DEBUG, events_pb2.LOG_LEVEL_DEBUG),
    (logging.INFO, events_pb2.LOG_LEVEL_INFO),
    (logging.WARNING, events_pb2.LOG_LEVEL_WARNING),
    (logging.ERROR, events_pb2.LOG_LEVEL_ERROR),
)
_SEVERITY = {
    "WARN": events_pb2.ASSET_CHECK_SEVERITY_WARN,
    "ERROR": events_pb2.ASSET_CHECK_SEVERITY_ERROR,
}
# The SDK says RUN_START where the wire contract says RUN_STARTED.
_RENAMED = {"RUN_START": "RUN_STARTED"}
_MESSAGE_LIMIT = 4000
_WIRE_TYPES = dict(E.items())


def run_event(
    run_id: str,
    event_type: int,
    message: str,
    step_key: str | None = None,
    when: float | None = None,
) -> events_pb2.RunEvent:
    return events_pb2.RunEvent(
        run_id=run_id,
        timestamp=timestamp_message(time.time() if when is None else when),
        event_type=event_type,
        step_key=step_key or "",
        message=message[:_MESSAGE_LIMIT],
    )


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
    reason: int,
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
        name = _RENAMED.get(event.event_type.value, event.event_type.value)
        wire_type = _WIRE_TYPES.get(f"RUN_EVENT_TYPE_{name}", 0)
        message = run_event(
            self.run_id,
            wire_type or E.RUN_EVENT_TYPE_ENGINE,
            event.message,
            event.step_key,
            event.timestamp,
        )
        step = event.step_key or ""
        data = event.event_specific_data
        if wire_type == E.RUN_EVENT_TYPE_STEP_START:
            self.attempts[step] = 1
            self.started_steps.add(step)
        elif wire_type == E.RUN_EVENT_TYPE_STEP_UP_FOR_RETRY:
            attempt = self.attempts.get(step, 1)
            message.step_retry.error.message = event.message or "step failed"
            message.step_retry.attempt = attempt
            self.attempts[step] = attempt + 1
            self.restarting.add(step)
        elif wire_type == E.RUN_EVENT_TYPE_STEP_FAILURE and isinstance(data, StepFailureData):
            self.step_errors[step] = data.error
            message.step_failure.error.CopyFrom(error_info_message(data.error))
            message.step_failure.attempt = self.attempts.get(step, 1)
        elif wire_type == E.RUN_EVENT_TYPE_ASSET_MATERIALIZATION and data is not None:
            payload = message.materialization
            payload.asset_key.CopyFrom(asset_key_message(data.asset_key))
            payload.partition = data.partition or ""
            payload.metadata.extend(metadata_entries(data.metadata))
            payload.description = data.description or ""
            payload.data_version = str(getattr(data, "data_version", None) or "")
        elif wire_type == E.RUN_EVENT_TYPE_ASSET_CHECK_EVALUATION and data is not None:
            payload = message.check_evaluation
            payload.asset_key.CopyFrom(asset_key_message(data.asset_key))
            payload.check_name = data.check_name
            payload.passed = data.passed
            payload.severity = _SEVERITY.get(str(data.severity.value), 0)
            payload.metadata.extend(metadata_entries(data.metadata))
            payload.description = data.description or ""
            payload.blocking = data.blocking
            payload.partition = data.partition or ""
        elif wire_type == E.RUN_EVENT_TYPE_LOG:
            message.log.level = _log_level(event.level)
            message.log.text = event.message
            message.log.logger_name = "weir"
        return message


def _log_level(level: int) -> int:
    for threshold, wire_level in _LOG_LEVELS:
        if level <= threshold:
            return wire_level
    return events_pb2.LOG_LEVEL_CRITICAL
