"""RunReportingService: run workers deliver their events and heartbeats here.

A batch is stored in one transaction (storage makes re-delivery idempotent by
`(run_id, sequence)`); when it stored anything new, the RunCoordinator is told, which
wakes the run queue and every WatchRun on the run. Events reported after the run ended
(by its own terminal event, the run monitor or a cancel) are refused with
FAILED_PRECONDITION: the worker should stop, nothing it says any more counts. The one
exception is a run the run monitor failed because its worker fell silent: its worker is
told to go on, and its complete record may still turn the run into SUCCESS
(storage/events.py).

Under auth, a call must carry its run's token (minted by the launcher, see
auth/run_tokens.py); once the run has ended, the token is dead: UNAUTHENTICATED.
"""

from __future__ import annotations

from typing import Any

from weir_protos.v1 import events_pb2, reporting_pb2, reporting_pb2_grpc

from weir_controlplane.api import limits
from weir_controlplane.api.context import current_principal, current_scope
from weir_controlplane.errors import (
    FailedPreconditionError,
    InvalidArgumentError,
    PermissionDeniedError,
    UnauthenticatedError,
)
from weir_controlplane.runs import RunCoordinator
from weir_controlplane.runs.events import to_new_event
from weir_controlplane.storage import EventIngest, RunStatus, RunStorage

# A worker seeing one of these in a reply stops the run: it was canceled, or it has
# already ended (say, failed by the run monitor) and nothing the worker does counts.
_CANCEL_STATUSES = frozenset({RunStatus.CANCELING, RunStatus.CANCELED, RunStatus.FAILURE})


class RunReportingServicer(reporting_pb2_grpc.RunReportingServiceServicer):
    def __init__(self, events: EventIngest, runs: RunStorage, coordinator: RunCoordinator) -> None:
        self._events = events
        self._runs = runs
        self._coordinator = coordinator

    def ReportEvents(
        self, request: reporting_pb2.ReportEventsRequest, context: Any
    ) -> reporting_pb2.ReportEventsResponse:
        scope = current_scope()
        run_id = _run_id(request.run_id)
        token_of_run = _check_reporter(run_id)
        batch = [
            to_new_event(_checked(run_id, index, event))
            for index, event in enumerate(request.events)
        ]
        result = self._events.store_batch(scope, run_id, batch)
        if result.inserted:
            ended = result.status is not None and result.status.is_terminal
            self._coordinator.notify(run_id, ended=ended)
        elif result.recoverable:
            pass  # failed as lost: its worker's record still counts
        elif token_of_run and result.status is not None and result.status.is_terminal:
            raise _ended(run_id, result.status)  # it had ended before this call
        if result.refused:
            raise FailedPreconditionError(
                f"run {run_id!r} has ended ({result.status}) at sequence "
                f"{result.acknowledged_sequence}; {result.refused} later event(s) were not "
                "stored"
            )
        return reporting_pb2.ReportEventsResponse(
            acknowledged_sequence=result.acknowledged_sequence,
            cancel_requested=result.status in _CANCEL_STATUSES and not result.recoverable,
        )

    def Heartbeat(
        self, request: reporting_pb2.HeartbeatRequest, context: Any
    ) -> reporting_pb2.HeartbeatResponse:
        scope = current_scope()
        run_id = _run_id(request.run_id)
        token_of_run = _check_reporter(run_id)
        status = self._runs.heartbeat(scope, run_id)
        run = self._runs.get_run(scope, run_id)
        recoverable = status is RunStatus.FAILURE and run.worker_lost
        if token_of_run and status.is_terminal and not recoverable:
            raise _ended(run_id, status)
        return reporting_pb2.HeartbeatResponse(
            cancel_requested=status in _CANCEL_STATUSES and not recoverable,
            acknowledged_sequence=run.last_event_sequence,
        )


def _check_reporter(run_id: str) -> bool:
    """Whether the caller holds a run token (of this run: any other is refused); False
    when auth is off."""
    principal = current_principal()
    if principal.unrestricted:
        return False
    if principal.run_id != run_id:
        raise PermissionDeniedError(
            f"this run token reports for run {principal.run_id!r}, not for run {run_id!r}"
        )
    return True


def _ended(run_id: str, status: RunStatus) -> UnauthenticatedError:
    return UnauthenticatedError(
        f"the run token of run {run_id!r} is no longer valid: the run has ended ({status})"
    )


def _run_id(run_id: str) -> str:
    if not run_id:
        raise InvalidArgumentError("runId is required")
    return run_id


def _checked(run_id: str, index: int, event: events_pb2.RunEvent) -> events_pb2.RunEvent:
    """The event with the batch's run id and a summary message, or INVALID_ARGUMENT."""
    if event.run_id and event.run_id != run_id:
        raise InvalidArgumentError(
            f"event {index} of the batch (sequence {event.sequence}) belongs to run "
            f"{event.run_id!r}, not to the batch's run {run_id!r}"
        )
    if event.sequence == 0:
        raise InvalidArgumentError(
            f"event {index} of the batch has sequence 0; a worker numbers its events from 1"
        )
    # Sequences are stored as signed 64-bit integers; the proto field is unsigned.
    limits.check_int64(event.sequence, field=f"event {index} of the batch: sequence")
    limits.check_event(event, where=f"event {index} of the batch (sequence {event.sequence})")
    if event.event_type == events_pb2.RUN_EVENT_TYPE_UNSPECIFIED:
        raise InvalidArgumentError(
            f"event {index} of the batch (sequence {event.sequence}) has no event type"
        )
    if event.run_id and event.message:
        return event
    completed = events_pb2.RunEvent()
    completed.CopyFrom(event)
    completed.run_id = run_id
    if not completed.message:
        completed.message = _failure_summary(event)
    return completed


def _failure_summary(event: events_pb2.RunEvent) -> str:
    """A failure event's error as "Class: message", so the run's failure reason has it."""
    which = event.WhichOneof("payload")
    if which not in ("step_failure", "run_failure"):
        return ""
    error = getattr(event, which).error
    if not error.message:
        return ""
    return f"{error.class_name}: {error.message}" if error.class_name else error.message
