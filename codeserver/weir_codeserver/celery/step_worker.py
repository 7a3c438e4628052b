"""One step attempt on a Celery worker: claim, run with the SDK's core, report, heartbeat.

The worker process loaded the code location once (`weir celery worker -f defs.py`); each
task carries the run's request and the attempt's token, never a database URL. The claim
comes first: a duplicate delivery, a superseded or canceled attempt is refused and the
task ends as Celery's `Ignore` (acked, nothing stored). While the step runs, a thread
renews the attempt's lease; a reply saying stop (the run was canceled) or refusing the
attempt interrupts the step (SIGALRM in this process, raised as `StepStopped`). Inputs
and outputs go through the step's I/O managers, never through the broker.
"""

from __future__ import annotations

import base64
import contextlib
import os
import signal
import socket
import threading
import time
from collections.abc import Mapping
from contextlib import ExitStack
from types import FrameType
from typing import Any

import grpc
from weir import Definitions
from weir._execution.executor import set_up_resources, step_resource_keys
from weir._execution.step import execute_step
from weir_protos.v1 import code_location_pb2, events_pb2, reporting_pb2

from weir_codeserver import run_events
from weir_codeserver.celery.attempts_client import StepAttemptClient
from weir_codeserver.run_plan import RunRequestError, prepare_run, run_scope
from weir_codeserver.wire_values import error_message

E = events_pb2.RunEventType
# Sent at once: the run follows its steps by these.
_URGENT = frozenset(
    {
        E.RUN_EVENT_TYPE_STEP_START,
        E.RUN_EVENT_TYPE_STEP_SUCCESS,
        E.RUN_EVENT_TYPE_STEP_FAILURE,
        E.RUN_EVENT_TYPE_STEP_UP_FOR_RETRY,
    }
)
_BATCH = 200
_STOP_SIGNAL = signal.SIGALRM  # not one Celery's pool uses (SIGUSR1 is its soft time limit)


class StepStopped(BaseException):  # like KeyboardInterrupt: not a step failure to retry
    """The control plane asked this attempt to stop."""


class AttemptRefused(Exception):
    """The claim was refused: another delivery runs it, or it is no longer wanted."""


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class StepAttempt:
    def __init__(self, defs: Definitions, resources: Mapping[str, Any], payload: Mapping[str, Any]):
        self.defs = defs
        self.resources = resources
        self.payload = payload
        self.run_id = str(payload["run_id"])
        self.key = str(payload["launch_key"])
        self.client = StepAttemptClient(
            str(payload["reporting_address"]),
            token=str(payload.get("token") or ""),
            deployment=str(payload.get("deployment") or ""),
        )
        self._sequence = 0
        self._unsent: list[events_pb2.RunEvent] = []
        self._stopping = threading.Event()
        self._done = threading.Event()

    def run(self) -> None:
        try:
            claim = self.client.claim(self.run_id, self.key, worker_id())
            if not claim.claimed:
                name = reporting_pb2.ClaimRefusal.Name(claim.refusal)
                raise AttemptRefused(f"{self.key}: {name}: {claim.message}")
            self._execute()
        finally:
            self.client.close()

    def _execute(self) -> None:
        request = code_location_pb2.ExecuteRunRequest.FromString(
            base64.b64decode(self.payload["request"])
        )
        step_key = str(self.payload["step_key"])
        try:  # this worker's code must know the run and the step (a stale deploy may not)
            prepared = prepare_run(self.defs, self.resources, request)
            step = {s.key: s for s in prepared.plan.steps}[step_key]
        except (RunRequestError, KeyError) as exc:
            why = exc if isinstance(exc, RunRequestError) else f"its code has no step {step_key}"
            self._report_failure(step_key, f"worker {worker_id()} cannot run it: {why}", "")
            return
        translator = run_events.EventTranslator(self.run_id)
        scope = run_scope(
            prepared,
            self.payload.get("partition_key"),
            emit=lambda event: self._report(translator.translate(event)),
        )
        beat = threading.Thread(target=self._heartbeat_loop, daemon=True)
        previous = signal.signal(_STOP_SIGNAL, self._raise_stopped)
        beat.start()
        try:
            with ExitStack() as stack:
                scope.resources = set_up_resources(
                    prepared.resources, step_resource_keys(prepared.plan, step), stack
                )
                execute_step(step, scope)
        except StepStopped:
            self._report_failure(step.key, "the run was canceled", "StepStopped")
        except Exception as exc:  # a resource's setup or teardown failed
            self._report_failure(step.key, f"{type(exc).__name__}: {exc}", type(exc).__name__)
        finally:
            self._done.set()
            signal.signal(_STOP_SIGNAL, previous)
            beat.join(5)
            with contextlib.suppress(grpc.RpcError, StepStopped):
                self._flush()

    def _report(self, events: list[events_pb2.RunEvent]) -> None:
        """Number the step's events within the attempt and send them: at once when one
        starts or ends the step, else with the next such (a step's materializations and
        logs ride with its end). Sent again until acknowledged; stored once."""
        for event in events:
            self._sequence += 1
            event.sequence = self._sequence
            self._unsent.append(event)
        if any(event.event_type in _URGENT for event in events) or len(self._unsent) >= _BATCH:
            self._flush()

    def _flush(self) -> None:
        if not self._unsent:
            return
        try:
            reply = self.client.report(self.run_id, self.key, self._unsent)
        except grpc.RpcError as exc:
            if isinstance(exc, grpc.Call) and exc.code() == grpc.StatusCode.FAILED_PRECONDITION:
                raise StepStopped() from exc  # no longer current: nothing it says counts
            raise
        self._unsent = [e for e in self._unsent if e.sequence > reply.acknowledged_sequence]
        if reply.stop_requested:
            self._request_stop()

    def _report_failure(self, step_key: str, message: str, class_name: str) -> None:
        event = run_events.run_event(
            self.run_id, E.RUN_EVENT_TYPE_STEP_FAILURE, f"{step_key} failed: {message}", step_key
        )
        event.step_failure.error.CopyFrom(error_message(message, class_name))
        with contextlib.suppress(grpc.RpcError, StepStopped):
            self._report([event])

    def _heartbeat_loop(self) -> None:
        interval = float(self.payload.get("heartbeat_seconds") or 10.0)
        while not self._done.wait(interval):
            try:
                stop = self.client.heartbeat(self.run_id, self.key).stop_requested
            except grpc.RpcError as exc:
                stop = isinstance(exc, grpc.Call) and exc.code() in (
                    grpc.StatusCode.FAILED_PRECONDITION,
                    grpc.StatusCode.UNAUTHENTICATED,
                )
            if stop:
                self._request_stop()

    def _request_stop(self) -> None:
        if not self._done.is_set() and not self._stopping.is_set():
            self._stopping.set()
            os.kill(os.getpid(), _STOP_SIGNAL)

    def _raise_stopped(self, signum: int, frame: FrameType | None) -> None:
        if not self._done.is_set():
            raise StepStopped()


def run_attempt(
    defs: Definitions, resources: Mapping[str, Any], payload: Mapping[str, Any]
) -> float:
    """Run one attempt; returns how long it took. Raises AttemptRefused for a refused claim."""
    started = time.monotonic()
    StepAttempt(defs, resources, payload).run()
    return time.monotonic() - started
