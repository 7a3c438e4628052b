"""Step processes for the multiprocess executor: a child runs one step and sends its events
and its outcome back over a pipe, in order; the run's process emits them.

Nothing but plain data crosses: events, the produced asset keys, and the step's exception
and captured outputs only where they pickle. A launcher decides where the child comes
from: `ForkStepLauncher` forks the current process (user code and definitions already
loaded, so a step starts in a millisecond, not after an interpreter start).
"""

from __future__ import annotations

import dataclasses
import os
import pickle
import sys
import traceback
from contextlib import ExitStack
from multiprocessing.connection import Connection, Pipe
from typing import Any, Protocol

from weir._execution.events import ErrorInfo, EventType, StepFailureData, WeirEvent
from weir._execution.executor import set_up_resources, step_resource_keys
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


class StepLauncher(Protocol):
    def launch(self, plan: ExecutionPlan, step: ExecutionStep, run: RunScope) -> StepProcess: ...


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
