"""The multiprocess executor's walk: each step in a process of its own, every step whose
upstream steps have succeeded started at once, at most `max_concurrent` running.

Events are emitted here, in the run's process, as they arrive: one step's events keep
their order (one pipe each), and whatever numbers the run's events (the run worker's
reporter) sees one stream with no gaps. A failed step skips what is downstream of it;
the other branches go on. Cancellation and `raise_on_error` stop new steps from
starting and let the running ones finish.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from multiprocessing.connection import wait
from typing import Any

from weir._errors import StepError
from weir._execution.events import ErrorInfo, WeirEvent
from weir._execution.executor import PlanExecution
from weir._execution.plan import ExecutionPlan, ExecutionStep
from weir._execution.step import RunScope, StepStatus
from weir._execution.step_process import StepDone, StepLauncher, StepProcess, crash_event


class ParallelPlanExecution(PlanExecution):
    def __init__(
        self,
        plan: ExecutionPlan,
        run: RunScope,
        launcher: StepLauncher,
        max_concurrent: int,
        *,
        raise_on_error: bool = False,
        should_stop: Callable[[], bool] | None = None,
    ):
        super().__init__(plan, run, raise_on_error=raise_on_error, should_stop=should_stop)
        self.launcher = launcher
        self.max_concurrent = max(1, max_concurrent)
        self._failure_messages: dict[str, str] = {}  # for exceptions that did not pickle

    def _walk(self) -> None:
        blocked: dict[str, str] = {}
        produced: set[Any] = set()
        finished: set[str] = set()  # succeeded, failed or skipped
        waiting = list(self.plan.steps)  # in plan order: the first ready start first
        running: dict[Any, StepProcess] = {}
        try:
            self._schedule(waiting, running, blocked, produced, finished)
        finally:  # an error here (KeyboardInterrupt) still waits for the started steps
            for process in running.values():
                process.exit_description()

    def _schedule(
        self,
        waiting: list[ExecutionStep],
        running: dict[Any, StepProcess],
        blocked: dict[str, str],
        produced: set[Any],
        finished: set[str],
    ) -> None:
        while waiting or running:
            if self._stopping():
                waiting.clear()
            for step in list(waiting):
                if len(running) >= self.max_concurrent:
                    break
                if not step.upstream_steps <= finished:
                    continue
                waiting.remove(step)
                if self._skipped(step, blocked, produced):
                    finished.add(step.key)
                    continue
                process = self.launcher.launch(self.plan, step, self.run)
                running[process.conn] = process
            if not running:
                continue
            for conn in wait(list(running)):
                done = self._receive(running[conn])
                if done is None:
                    continue
                step = running.pop(conn).step
                finished.add(step.key)
                exception = _exception(step, done, self._failure_messages.get(step.key))
                self._record(step, done.status, exception, blocked)
                if done.status is StepStatus.SUCCESS:
                    produced.update(done.produced)
                if self.run.captured_outputs is not None:
                    for key, data in done.outputs.items():
                        self.run.captured_outputs[key] = pickle.loads(data)

    def _stopping(self) -> bool:
        if self.should_stop is not None and self.should_stop():
            self.canceled = True
        return self.canceled or (self.raise_on_error and bool(self.failed_steps))

    def _receive(self, process: StepProcess) -> StepDone | None:
        """Emit the step's next message if it is an event; its StepDone when it is done."""
        try:
            message = process.conn.recv()
        except (EOFError, OSError):
            how = process.exit_description()
            info = ErrorInfo(
                f"The process of step {process.step.key} {how} before reporting its result",
                "StepProcessExitError",
            )
            self.run.emit(crash_event(self.run.run_id, process.step, info))
            return StepDone(StepStatus.FAILURE, crash=info)
        if isinstance(message, WeirEvent):
            if message.is_step_failure:
                self._failure_messages[process.step.key] = message.message
            self.run.emit(message)
            return None
        assert isinstance(message, StepDone)
        process.exit_description()
        if message.crash is not None:
            self.run.emit(crash_event(self.run.run_id, process.step, message.crash))
        return message


def _exception(
    step: ExecutionStep, done: StepDone, failure_message: str | None
) -> BaseException | None:
    """The step's own exception where it pickled, else a StepError carrying its text."""
    if done.status is StepStatus.SUCCESS:
        return None
    if done.exception is not None:
        try:
            loaded = pickle.loads(done.exception)
        except Exception:
            loaded = None
        if isinstance(loaded, BaseException):
            return loaded
    if done.crash is not None:
        return StepError(done.crash.message, step.key)
    return StepError(failure_message or f"{step.key} failed in its process", step.key)
