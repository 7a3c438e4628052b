"""RunReportingService's step-attempt calls: steps of a run executing on other workers.

The run's worker (with the run token) commits each attempt before launching it and gets
back a token for that attempt alone; the step's worker claims the attempt with that
token, reports the step's events and heartbeats with it, and never holds more. A
duplicate delivery or a superseded attempt is refused at the claim (a typed refusal, not
an error), and every later call re-checks that the attempt is current, so a worker the
run has given up on cannot write.
"""

from __future__ import annotations

from typing import Any

from weir_protos.v1 import reporting_pb2

from weir_controlplane.api import limits
from weir_controlplane.api.context import current_principal, current_scope
from weir_controlplane.api.reporting import RunReportingServicer, _checked, _run_id
from weir_controlplane.errors import (
    FailedPreconditionError,
    InvalidArgumentError,
    PermissionDeniedError,
)
from weir_controlplane.runs import RunCoordinator
from weir_controlplane.runs.events import to_new_event
from weir_controlplane.storage import EventIngest, RunStorage
from weir_controlplane.storage.step_attempts import (
    AttemptNotCurrentError,
    NewAttempt,
    StepAttemptStorage,
)

_ATTEMPT_TOKEN_PREFIX = "attempt "
MAX_ATTEMPTS_PER_CALL = 1000
MAX_LAUNCH_KEY = 63


class StepAttemptReportingServicer(RunReportingServicer):
    """RunReportingService with the step-attempt calls."""

    def __init__(
        self,
        events: EventIngest,
        runs: RunStorage,
        coordinator: RunCoordinator,
        attempts: StepAttemptStorage,
    ) -> None:
        super().__init__(events, runs, coordinator)
        self._attempts = attempts
        self._tokens_of = coordinator

    def ReportEvents(
        self, request: reporting_pb2.ReportEventsRequest, context: Any
    ) -> reporting_pb2.ReportEventsResponse:
        _check_run_token(_run_id(request.run_id))  # an attempt's token reports its step only
        return super().ReportEvents(request, context)

    def Heartbeat(
        self, request: reporting_pb2.HeartbeatRequest, context: Any
    ) -> reporting_pb2.HeartbeatResponse:
        _check_run_token(_run_id(request.run_id))
        return super().Heartbeat(request, context)

    def RegisterStepAttempts(
        self, request: reporting_pb2.RegisterStepAttemptsRequest, context: Any
    ) -> reporting_pb2.RegisterStepAttemptsResponse:
        scope = current_scope()
        run_id = _run_id(request.run_id)
        _check_run_token(run_id)
        if len(request.attempts) > MAX_ATTEMPTS_PER_CALL:
            raise InvalidArgumentError(
                f"at most {MAX_ATTEMPTS_PER_CALL} attempts per call, got {len(request.attempts)}"
            )
        tokens = self._tokens_of.run_tokens
        new, secrets = [], []
        for index, spec in enumerate(request.attempts):
            _check_spec(index, spec)
            token_id, secret = (
                tokens.mint_for_attempt(scope, run_id, spec.launch_key)
                if tokens is not None
                else (None, "")
            )
            new.append(
                NewAttempt(
                    step_key=spec.step_key,
                    attempt=spec.attempt,
                    launch_key=spec.launch_key,
                    queue=spec.queue or None,
                    lease_seconds=spec.lease_seconds,
                    token_id=token_id,
                    queued_timeout_seconds=spec.queued_timeout_seconds or None,
                )
            )
            secrets.append(
                reporting_pb2.RegisteredStepAttempt(launch_key=spec.launch_key, token=secret)
            )
        self._attempts.register(scope, run_id, new)
        return reporting_pb2.RegisterStepAttemptsResponse(attempts=secrets)

    def GetStepAttempts(
        self, request: reporting_pb2.GetStepAttemptsRequest, context: Any
    ) -> reporting_pb2.GetStepAttemptsResponse:
        scope = current_scope()
        run_id = _run_id(request.run_id)
        _check_run_token(run_id)
        if len(request.launch_keys) > MAX_ATTEMPTS_PER_CALL:
            raise InvalidArgumentError(
                f"at most {MAX_ATTEMPTS_PER_CALL} launch keys per call, got "
                f"{len(request.launch_keys)}"
            )
        found, status = self._attempts.get(scope, run_id, list(request.launch_keys))
        states = [
            reporting_pb2.StepAttemptState(
                launch_key=attempt.launch_key,
                status=f"STEP_ATTEMPT_STATUS_{attempt.status.value}",
                worker_id=attempt.worker_id or "",
                produced=attempt.produced,
                reason=attempt.reason or "",
            )
            for attempt in found
        ]
        return reporting_pb2.GetStepAttemptsResponse(
            attempts=states, cancel_requested=status.value in ("CANCELING", "CANCELED")
        )

    def ClaimStepAttempt(
        self, request: reporting_pb2.ClaimStepAttemptRequest, context: Any
    ) -> reporting_pb2.ClaimStepAttemptResponse:
        scope = current_scope()
        run_id = _run_id(request.run_id)
        self._check_attempt_token(run_id, request.launch_key)
        if not request.worker_id:
            raise InvalidArgumentError("workerId is required")
        claim = self._attempts.claim(scope, run_id, request.launch_key, request.worker_id)
        refusal = "CLAIM_REFUSAL_" + (claim.refusal.value if claim.refusal else "UNSPECIFIED")
        return reporting_pb2.ClaimStepAttemptResponse(
            claimed=claim.claimed,
            refusal=refusal,
            message=claim.message,
        )

    def ReportStepEvents(
        self, request: reporting_pb2.ReportStepEventsRequest, context: Any
    ) -> reporting_pb2.ReportStepEventsResponse:
        scope = current_scope()
        run_id = _run_id(request.run_id)
        self._check_attempt_token(run_id, request.launch_key)
        batch = [
            to_new_event(_checked(run_id, index, event))
            for index, event in enumerate(request.events)
        ]
        try:
            ack, stop = self._attempts.store_events(scope, run_id, request.launch_key, batch)
        except AttemptNotCurrentError as exc:
            raise FailedPreconditionError(str(exc)) from exc
        if batch:
            self._coordinator.notify(run_id)
        return reporting_pb2.ReportStepEventsResponse(
            acknowledged_sequence=ack, stop_requested=stop
        )

    def StepHeartbeat(
        self, request: reporting_pb2.StepHeartbeatRequest, context: Any
    ) -> reporting_pb2.StepHeartbeatResponse:
        scope = current_scope()
        run_id = _run_id(request.run_id)
        self._check_attempt_token(run_id, request.launch_key)
        try:
            stop = self._attempts.heartbeat(scope, run_id, request.launch_key)
        except AttemptNotCurrentError as exc:
            raise FailedPreconditionError(str(exc)) from exc
        return reporting_pb2.StepHeartbeatResponse(stop_requested=stop)

    def _check_attempt_token(self, run_id: str, launch_key: str) -> None:
        if not launch_key:
            raise InvalidArgumentError("launchKey is required")
        principal = current_principal()
        if principal.unrestricted:
            return
        attempt = self._attempts.find(current_scope(), run_id, launch_key)
        if principal.run_id != run_id or attempt.token_id != principal.actor:
            raise PermissionDeniedError(
                f"{principal.describe()} does not report for step attempt {launch_key!r}"
            )


def _check_run_token(run_id: str) -> None:
    """The run's own token: not an attempt's, not another run's."""
    principal = current_principal()
    if principal.unrestricted:
        return
    if principal.run_id != run_id or principal.name.startswith(_ATTEMPT_TOKEN_PREFIX):
        raise PermissionDeniedError(
            f"{principal.describe()} does not report for run {run_id!r} itself"
        )


def _check_spec(index: int, spec: reporting_pb2.StepAttemptSpec) -> None:
    where = f"attempt {index} of the request"
    if not spec.step_key:
        raise InvalidArgumentError(f"{where}: stepKey is required")
    if spec.attempt < 1:
        raise InvalidArgumentError(f"{where}: attempt numbers start at 1, got {spec.attempt}")
    if not spec.launch_key or len(spec.launch_key) > MAX_LAUNCH_KEY:
        raise InvalidArgumentError(f"{where}: launchKey must be 1 to {MAX_LAUNCH_KEY} characters")
    if not spec.lease_seconds > 0:
        raise InvalidArgumentError(f"{where}: leaseSeconds must be positive")
    if not 0 <= spec.queued_timeout_seconds < 1e9:  # also refuses nan and infinity
        raise InvalidArgumentError(
            f"{where}: queuedTimeoutSeconds must be 0 (no limit) or a positive number of "
            f"seconds, got {spec.queued_timeout_seconds}"
        )
    limits.check_int64(spec.attempt, field=f"{where}: attempt")


def attempt_token_name(launch_key: str) -> str:
    return f"{_ATTEMPT_TOKEN_PREFIX}{launch_key}"
