"""Step processes for the multiprocess executor: a child runs one step and sends its events
and its outcome back over a pipe, in order; the run's process emits them.

Nothing but plain data crosses: events, the produced asset keys, and the step's exception
and captured outputs only where they pickle. A process launcher decides where the child
comes from: `ForkStepLauncher` forks the current process (user code and definitions
already loaded, so a step starts in a millisecond, not after an interpreter start).
`ProcessStepLauncher` puts any of them behind the engine-neutral `StepLauncher`.

Steps in processes are not terminated on cancel: the run stops starting new ones and
lets these finish, as a step in process would.
"""

from __future__ import annotations

import dataclasses
import os
import pickle
import sys
import traceback
from collections.abc import Mapping, Sequence
from contextlib import ExitStack
from multiprocessing.connection import Connection, Pipe, wait
from typing import Any, Protocol

from weir._errors import StepError
from weir._execution.events import ErrorInfo, EventType, StepFailureData, WeirEvent
from weir._execution.executor import set_up_resources, step_resource_keys
from weir._execution.launcher import Handle, LaunchSpec, Observation, Phase
from weir._execution.plan import ExecutionPlan, ExecutionStep
from weir._execution.step import RunScope, StepStatus, error_info, execute_step


@dataclasses.dataclass
class StepDone:
    """The last message of a step's process."""

    status: StepStatus
    produced: tuple[Any, ...] = ()
    exception: bytes | None = None  # pickled, when it pickles
    outputs: dict[tuple[str, str], bytes] = dataclasses.field(default_factory=dict)
    crash: ErrorInfo | None = None  # the process itself failed (say, a resource's setup)


class StepProcess:
    """The run's handle on one step's process: its message pipe and, if known, its pid."""

    def __init__(self, step: ExecutionStep, conn: Connection, pid: int | None = None):
        self.step = step
        self.conn = conn
        self.pid = pid

    def exit_description(self) -> str:
        """Reap the process (when it is ours) and say how it ended."""
        self.conn.close()
        if self.pid is None:
            return "ended"
        _, status = os.waitpid(self.pid, 0)
        return f"exited with code {os.waitstatus_to_exitcode(status)}"


class StepProcessLauncher(Protocol):
    def launch(self, plan: ExecutionPlan, step: ExecutionStep, run: RunScope) -> StepProcess: ...


class ProcessStepLauncher:
    """The `StepLauncher` of the multiprocess executor: one process per step attempt,
    its events relayed from its pipe."""

    engine = "process"

    def __init__(self, processes: StepProcessLauncher, plan: ExecutionPlan, run: RunScope):
        self._processes = processes
        self._plan = plan
        self._run = run
        self._steps = {step.key: step for step in plan.steps}
        self._running: dict[str, StepProcess] = {}
        self._failure_messages: dict[str, str] = {}  # for exceptions that did not pickle

    def launch(self, spec: LaunchSpec) -> Handle:
        if spec.launch_key not in self._running:
            step = self._steps[spec.step_key]
            self._running[spec.launch_key] = self._processes.launch(self._plan, step, self._run)
        return Handle(self.engine, spec)

    def observe(self, handles: Sequence[Handle]) -> Mapping[str, Observation]:
        by_conn = {self._running[h.launch_key].conn: h for h in handles}
        news: dict[str, Observation] = {}
        for conn in wait(list(by_conn)):
            key = by_conn[conn].launch_key  # type: ignore[index]
            news[key] = self._receive(self._running[key])
            if news[key].phase.ended:
                del self._running[key]
        return news

    def terminate(self, handle: Handle, grace: float) -> None:
        """Nothing: a step in a process finishes (see the module's docstring)."""

    def close(self) -> None:
        for process in self._running.values():
            process.exit_description()
        self._running.clear()

    def _receive(self, process: StepProcess) -> Observation:
        """The step's next message: an event, or its outcome when it is done."""
        step = process.step
        try:
            message = process.conn.recv()
        except (EOFError, OSError):
            how = process.exit_description()
            info = ErrorInfo(
                f"The process of step {step.key} {how} before reporting its result",
                "StepProcessExitError",
            )
            crash = crash_event(self._run.run_id, step, info)
            return Observation(Phase.FAILED, [crash], exception=StepError(info.message, step.key))
        if isinstance(message, WeirEvent):
            if message.is_step_failure:
                self._failure_messages[step.key] = message.message
            return Observation(Phase.RUNNING, [message], started=True)
        assert isinstance(message, StepDone)
        process.exit_description()
        events = []
        if message.crash is not None:
            events.append(crash_event(self._run.run_id, step, message.crash))
        succeeded = message.status is StepStatus.SUCCESS
        return Observation(
            Phase.SUCCEEDED if succeeded else Phase.FAILED,
            events,
            produced=message.produced,
            exception=None if succeeded else _exception(step, message, self._failure_messages),
            outputs={key: pickle.loads(data) for key, data in message.outputs.items()},
        )


def _exception(
    step: ExecutionStep, done: StepDone, failure_messages: Mapping[str, str]
) -> BaseException:
    """The step's own exception where it pickled, else a StepError carrying its text."""
    if done.exception is not None:
        try:
            loaded = pickle.loads(done.exception)
        except Exception:
            loaded = None
        if isinstance(loaded, BaseException):
            return loaded
    if done.crash is not None:
        return StepError(done.crash.message, step.key)
    message = failure_messages.get(step.key)
    return StepError(message or f"{step.key} failed in its process", step.key)


class ForkStepLauncher:
    """Forks each step from this process; the child inherits the loaded code."""

    def launch(self, plan: ExecutionPlan, step: ExecutionStep, run: RunScope) -> StepProcess:
        reader, writer = Pipe(duplex=False)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the step's process
            code = 1
            try:
                reader.close()
                code = run_step_here(plan, step, run, writer)
            finally:
                os._exit(code)
        writer.close()
        return StepProcess(step, reader, pid)


def run_step_here(plan: ExecutionPlan, step: ExecutionStep, run: RunScope, conn: Any) -> int:
    """In a step's process: run `step`, sending each event and then a StepDone on `conn`.

    The resources are set up here, for this step only: objects set up in another
    process (connections, clients) do not carry across a fork.
    """
    try:
        scope = dataclasses.replace(
            run,
            emit=lambda event: conn.send(event),
            captured_outputs={} if run.captured_outputs is not None else None,
        )
        with ExitStack() as stack:
            scope.resources = set_up_resources(run.resources, step_resource_keys(plan, step), stack)
            outcome = execute_step(step, scope)
        done = StepDone(
            outcome.status,
            outcome.produced,
            _pickled(outcome.exception) if outcome.exception is not None else None,
            _pickled_values(scope.captured_outputs or {}),
        )
    except BaseException as exc:
        traceback.print_exc()
        done = StepDone(StepStatus.FAILURE, crash=error_info(exc), exception=_pickled(exc))
    try:
        conn.send(done)
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        conn.close()
    return 0


def crash_event(run_id: str, step: ExecutionStep, info: ErrorInfo) -> WeirEvent:
    return WeirEvent(
        EventType.STEP_FAILURE,
        run_id,
        step.key,
        f"{step.key} failed: {info.cls_name}: {info.message}",
        StepFailureData(info),
    )


def _pickled(value: Any) -> bytes | None:
    try:
        return pickle.dumps(value)
    except Exception:  # an unpicklable exception or value stays in the step's process
        return None


def _pickled_values(values: dict[tuple[str, str], Any]) -> dict[tuple[str, str], bytes]:
    pickled = {key: _pickled(value) for key, value in values.items()}
    return {key: data for key, data in pickled.items() if data is not None}
