"""A run worker: executes one run with the SDK's execution core and reports every event.

Runs in a process of its own: forked from the zygote (user code already loaded) or, when
the zygote is gone, a fresh interpreter (worker_main.py). SIGTERM or SIGUSR1 asks it to
cancel: it lets the running step finish, skips the rest and ends RUN_CANCELED.

It outlives the code server that started it: its output shares the code server's pipe,
and once no one reads that pipe any more, writing to it must not fail the user's step
or stop the reporter (`_OutputAfterItsReader`).
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import socket
import sys
import time
import traceback
from collections.abc import Callable, Mapping
from typing import Any

from weir import AssetCheckKey, AssetChecksDefinition, Definitions, EventType, WeirEvent
from weir._execution.executor import PlanExecution, execute_plan
from weir._execution.plan import ExecutionStep
from weir_protos.v1 import code_location_pb2, events_pb2

from weir_codeserver import run_events
from weir_codeserver.reporter import EventReporter, reporting_addresses
from weir_codeserver.run_plan import PreparedRun, RunRequestError, prepare_run, run_scope
from weir_codeserver.step_forker import StepForker
from weir_codeserver.wire_values import (
    duration_seconds,
    error_info_message,
    error_message,
    exception_message,
)

E = events_pb2.RunEventType
CANCEL_SIGNALS = (signal.SIGTERM, signal.SIGUSR1)
# Run-level events of the SDK's executor; the worker writes its own (one run may cover
# several partitions, each executed as one plan).
_RUN_LEVEL = frozenset(
    {EventType.RUN_START, EventType.RUN_SUCCESS, EventType.RUN_FAILURE, EventType.RUN_CANCELED}
)
# Exit codes, seen by the server as the worker's exit status.
EXIT_OK, EXIT_UNDELIVERED, EXIT_CRASHED = 0, 3, 4


def worker_id_of(pid: int) -> str:
    return f"pid:{pid}@{socket.gethostname()}"


class CancelFlag:
    """Set from a signal handler or a reporting reply; read between steps."""

    def __init__(self) -> None:
        self.requested = False

    def set(self, *_: Any) -> None:
        self.requested = True

    def __call__(self) -> bool:
        return self.requested


def install_cancel_handlers(flag: CancelFlag) -> None:
    for signum in CANCEL_SIGNALS:
        signal.signal(signum, flag.set)


StatusSink = Callable[[Mapping[str, Any]], None]


class RunWorker:
    """Executes one ExecuteRunRequest in this process."""

    def __init__(
        self,
        defs: Definitions,
        resources: Mapping[str, Any],
        request: code_location_pb2.ExecuteRunRequest,
        *,
        launch: str,
        accepted_at: float,
        status: StatusSink,
        cancel: CancelFlag,
        steps: StepForker | None = None,
    ):
        self.defs = defs
        self.steps = steps
        self.resources = resources
        self.request = request
        self.launch = launch
        self.accepted_at = accepted_at
        self.status = status
        self.cancel = cancel
        self.run_id = request.run_id
        self.worker_id = worker_id_of(os.getpid())
        self.translator = run_events.EventTranslator(self.run_id)
        heartbeat = (
            duration_seconds(request.heartbeat_interval)
            if request.HasField("heartbeat_interval")
            else 10.0
        )
        self.reporter = EventReporter(
            self.run_id,
            self.worker_id,
            reporting_addresses(request),
            token=request.reporting_token,
            deployment=request.deployment,
            heartbeat_seconds=heartbeat if heartbeat > 0 else 10.0,
            on_progress=self._progress,
            on_cancel=cancel.set,
        )
        self._last_progress = 0.0
        self.started_elsewhere: set[str] = set()  # by Celery workers, reporting themselves

    def run(self) -> int:
        started = time.time()
        self.reporter.start()
        self._report_status("STARTED")
        final = "FAILURE"
        try:
            final = self._execute(started)
        except BaseException as exc:  # the worker itself failed; say so before exiting
            self._emit(
                run_events.run_failure(
                    self.run_id,
                    f"The run worker failed: {type(exc).__name__}: {exc}",
                    events_pb2.RUN_FAILURE_REASON_RUN_WORKER_ERROR,
                    exception_message(exc),
                )
            )
            traceback.print_exc()
        self._report_status(final)  # reached, if not yet delivered
        delivered = self.reporter.finish()
        self._report_status(final)
        return EXIT_OK if delivered else EXIT_UNDELIVERED

    def _execute(self, started: float) -> str:
        self._emit(run_events.run_event(self.run_id, E.RUN_EVENT_TYPE_RUN_STARTED, "Started run"))
        try:
            prepared = prepare_run(self.defs, self.resources, self.request)
        except RunRequestError as exc:
            self._emit(
                run_events.run_failure(
                    self.run_id,
                    f"The run could not start: {exc}",
                    events_pb2.RUN_FAILURE_REASON_START_FAILED,
                    error_message(str(exc), "RunRequestError"),
                )
            )
            return "FAILURE"
        self._emit_planned(prepared)
        self._emit(
            run_events.engine_event(
                self.run_id,
                f"Worker {self.worker_id} started ({self.launch}) "
                f"{(started - self.accepted_at) * 1000:.1f} ms after the run was accepted",
                {
                    "pid": os.getpid(),
                    "launch": self.launch,
                    "worker_start_ms": round((started - self.accepted_at) * 1000, 3),
                },
            )
        )
        if prepared.executor.is_multiprocess:
            self._begin_multiprocess(prepared)
        elif prepared.executor.is_celery:
            self._emit(
                run_events.engine_event(
                    self.run_id,
                    f"Executing steps on Celery workers (default queue "
                    f"{prepared.executor.config['default_queue']!r})",
                    {"executor": prepared.executor.name},
                )
            )
        failed: list[str] = []
        canceled = False
        for partition_key in prepared.partition_keys:
            if self.cancel():
                canceled = True
                break
            execution = self._execute_partition(prepared, partition_key)
            failed.extend(execution.failed_steps)
            if execution.canceled:
                canceled = True
                break
        if canceled:
            self._skip_unstarted(prepared)
            self._emit(
                run_events.run_event(self.run_id, E.RUN_EVENT_TYPE_RUN_CANCELED, "Run canceled")
            )
            return "CANCELED"
        if failed:
            self._emit(self._run_failure(failed))
            return "FAILURE"
        self._emit(run_events.run_event(self.run_id, E.RUN_EVENT_TYPE_RUN_SUCCESS, "Finished run"))
        return "SUCCESS"

    def _execute_partition(self, prepared: PreparedRun, partition_key: str | None) -> PlanExecution:
        run = run_scope(prepared, partition_key, emit=self._emit_sdk_event)
        step_launcher = None
        if prepared.executor.is_celery:
            from weir_codeserver.celery.launcher import celery_launcher

            step_launcher = celery_launcher(prepared.executor.config, self.request, self._notice)
        execution = execute_plan(
            prepared.plan,
            run,
            prepared.executor,
            should_stop=self.cancel,
            launcher=self.steps,
            step_launcher=step_launcher,
        )
        self.started_elsewhere |= execution.started_steps
        return execution

    def _notice(self, message: str, metadata: Mapping[str, Any]) -> None:
        self._emit(run_events.engine_event(self.run_id, message, dict(metadata)))

    def _begin_multiprocess(self, prepared: PreparedRun) -> None:
        if self.steps is None:  # not forked ahead of gRPC: see step_forker.py
            raise RuntimeError("the run uses the multiprocess executor but has no step forker")
        self.steps.begin_run(self.request.SerializeToString())
        self._emit(
            run_events.engine_event(
                self.run_id,
                f"Executing steps in child processes, at most "
                f"{prepared.executor.max_concurrent} at once",
                {
                    "executor": prepared.executor.name,
                    "max_concurrent": prepared.executor.max_concurrent,
                },
            )
        )

    # ---- events ------------------------------------------------------------------------

    def _emit(self, event: events_pb2.RunEvent) -> None:
        self.reporter.emit(event)

    def _emit_sdk_event(self, event: WeirEvent) -> None:
        if event.event_type in _RUN_LEVEL:
            return
        for message in self.translator.translate(event):
            self.reporter.emit(message)

    def _emit_planned(self, prepared: PreparedRun) -> None:
        for partition_key in prepared.partition_keys:
            for step in prepared.plan.steps:
                for key in step.asset_keys:
                    self._emit(run_events.materialization_planned(self.run_id, key, partition_key))
        for step in prepared.plan.steps:
            for check_key in _checks_of(step):
                self._emit(
                    run_events.check_planned(self.run_id, check_key.asset_key, check_key.name)
                )

    def _skip_unstarted(self, prepared: PreparedRun) -> None:
        for step in prepared.plan.steps:
            if step.key not in self.translator.started_steps | self.started_elsewhere:
                self._emit(
                    run_events.run_event(
                        self.run_id,
                        E.RUN_EVENT_TYPE_STEP_SKIPPED,
                        f"Skipped {step.key}: the run was canceled",
                        step.key,
                    )
                )

    def _run_failure(self, failed: list[str]) -> events_pb2.RunEvent:
        steps = list(dict.fromkeys(failed))
        first = self.translator.step_errors.get(steps[0])
        detail = f": {first.cls_name}: {first.message}" if first is not None else ""
        more = f" (and {len(steps) - 1} more: {', '.join(steps[1:])})" if len(steps) > 1 else ""
        error = None
        if len(steps) == 1 and first is not None:
            error = error_info_message(first)
        return run_events.run_failure(
            self.run_id,
            f"Step {steps[0]} failed{detail}{more}",
            events_pb2.RUN_FAILURE_REASON_STEP_FAILURE,
            error,
            tuple(steps),
        )

    # ---- status for the code server ----------------------------------------------------

    def _progress(self, last: int, acked: int) -> None:
        now = time.monotonic()
        if now - self._last_progress >= 0.05 or acked == last:
            self._last_progress = now
            self._report_status(None)

    def _report_status(self, status: str | None) -> None:
        message: dict[str, Any] = {
            "kind": "progress",
            "run_id": self.run_id,
            "pid": os.getpid(),
            "last_sequence": self.reporter.last_sequence,
            "acknowledged_sequence": self.reporter.acknowledged_sequence,
        }
        if status is not None:
            message["status"] = status
        # When the code server is gone the note is lost; the control plane still gets every event.
        with contextlib.suppress(OSError):
            self.status(message)


def _checks_of(step: ExecutionStep) -> list[AssetCheckKey]:
    definition = step.definition
    if isinstance(definition, AssetChecksDefinition):
        return [definition.check_key]
    return [spec.key for spec in definition.check_specs]


class _OutputAfterItsReader(io.TextIOBase):
    """sys.stdout / sys.stderr of a worker: once the pipe they write to has no reader (the
    code server and its control plane are gone), output goes to /dev/null instead of
    raising BrokenPipeError into user code."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return int(self._stream.write(text))
        except OSError:
            self._to_devnull()
            return len(text)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except OSError:
            self._to_devnull()

    def fileno(self) -> int:
        return int(self._stream.fileno())

    def isatty(self) -> bool:
        return False

    def writable(self) -> bool:
        return True

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return str(getattr(self._stream, "encoding", "utf-8"))

    def _to_devnull(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self._stream.fileno())
            os.close(devnull)
        self._stream = open(os.devnull, "w")  # noqa: SIM115  (lives as long as the process)


def outlive_the_output_pipe() -> None:
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is not None and not isinstance(stream, _OutputAfterItsReader):
            setattr(sys, name, _OutputAfterItsReader(stream))


def run_worker_process(
    defs: Definitions,
    resources: Mapping[str, Any],
    request_bytes: bytes,
    *,
    launch: str,
    accepted_at: float,
    status: StatusSink,
    cancel: CancelFlag,
    steps: StepForker | None = None,
) -> int:
    """The whole life of a worker process; returns its exit code. `steps` is the step
    forker, started before any gRPC object when the definitions use the multiprocess
    executor."""
    outlive_the_output_pipe()
    try:
        request = code_location_pb2.ExecuteRunRequest.FromString(request_bytes)
        worker = RunWorker(
            defs,
            resources,
            request,
            launch=launch,
            accepted_at=accepted_at,
            status=status,
            cancel=cancel,
            steps=steps,
        )
        return worker.run()
    except BaseException:
        traceback.print_exc()
        return EXIT_CRASHED
    finally:
        if steps is not None:
            steps.close()
        sys.stdout.flush()
        sys.stderr.flush()


def report_start_failure(request_bytes: bytes, message: str, class_name: str = "") -> int:
    """For a worker that cannot even load the code: RUN_STARTED, then RUN_FAILURE saying why."""
    request = code_location_pb2.ExecuteRunRequest.FromString(request_bytes)
    reporter = EventReporter(
        request.run_id,
        worker_id_of(os.getpid()),
        reporting_addresses(request),
        token=request.reporting_token,
        deployment=request.deployment,
    )
    reporter.start()
    reporter.emit(run_events.run_event(request.run_id, E.RUN_EVENT_TYPE_RUN_STARTED, "Started run"))
    reporter.emit(
        run_events.run_failure(
            request.run_id,
            f"The run could not start: {message}",
            events_pb2.RUN_FAILURE_REASON_START_FAILED,
            error_message(message, class_name),
        )
    )
    return EXIT_OK if reporter.finish() else EXIT_UNDELIVERED
