"""The walk of an executor whose steps run apart from the run's process: each step through
a `StepLauncher` (child processes, Celery tasks), every step whose upstream steps have
succeeded launched at once, at most `max_concurrent` in flight (and per queue, at most
its limit).

Events the launcher relays are emitted here, in the run's process, as they arrive: one
step's events keep their order, and whatever numbers the run's events (the run worker's
reporter) sees one stream with no gaps. A failed step skips what is downstream of it;
the other branches go on. An attempt whose worker was lost is retried by the step's
RetryPolicy as a new attempt (a new launch key), or fails saying why. Cancellation and
`raise_on_error` stop new steps from starting; on cancel the launcher is asked to stop
the running ones.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from weir._errors import StepError
from weir._execution.events import ErrorInfo, EventType, WeirEvent
from weir._execution.executor import PlanExecution
from weir._execution.launcher import Handle, LaunchSpec, Observation, Phase, StepLauncher
from weir._execution.plan import ExecutionPlan, ExecutionStep
from weir._execution.step import RunScope, StepStatus
from weir._execution.step_process import crash_event


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
        queue_of: Callable[[ExecutionStep], str | None] = lambda step: None,
        queue_limits: Mapping[str, int] | None = None,
        cancel_grace: float = 10.0,
    ):
        super().__init__(plan, run, raise_on_error=raise_on_error, should_stop=should_stop)
        self.launcher = launcher
        self.max_concurrent = max(1, max_concurrent)
        self.queue_of = queue_of
        self.queue_limits = dict(queue_limits or {})
        self.cancel_grace = cancel_grace
        self._steps = {step.key: step for step in plan.steps}

    def _walk(self) -> None:
        running: dict[str, Handle] = {}  # by launch key
        try:
            self._schedule(running)
        finally:  # an error here (KeyboardInterrupt) still releases the started steps
            self.launcher.close()

    def _schedule(self, running: dict[str, Handle]) -> None:
        blocked: dict[str, str] = {}
        produced: set[Any] = set()
        finished: set[str] = set()  # succeeded, failed or skipped
        waiting = list(self.plan.steps)  # in plan order: the first ready start first
        terminated = False
        while waiting or running:
            if self._stopping():
                waiting.clear()
                if self.canceled and not terminated:
                    terminated = True
                    for handle in running.values():
                        self.launcher.terminate(handle, self.cancel_grace)
            for step in list(waiting):
                if len(running) >= self.max_concurrent:
                    break
                if not step.upstream_steps <= finished or self._queue_full(step, running):
                    continue
                waiting.remove(step)
                if self._skipped(step, blocked, produced):
                    finished.add(step.key)
                    continue
                self._launch(step, 1, running)
            if not running:
                continue
            for key, seen in self.launcher.observe(list(running.values())).items():
                handle = running[key]
                step = self._steps[handle.spec.step_key]
                for event in seen.events:
                    self.run.emit(event)
                if seen.started:
                    self.started_steps.add(step.key)
                if not seen.phase.ended:
                    continue
                del running[key]
                if seen.phase is Phase.LOST and self._retry(step, handle.spec, seen, running):
                    continue
                finished.add(step.key)
                self._finish(step, seen, blocked, produced)

    def _launch(self, step: ExecutionStep, attempt: int, running: dict[str, Handle]) -> None:
        spec = LaunchSpec(
            self.run.run_id, step.key, attempt, self.run.partition_key, self.queue_of(step)
        )
        handle = self.launcher.launch(spec)
        running[handle.launch_key] = handle

    def _queue_full(self, step: ExecutionStep, running: dict[str, Handle]) -> bool:
        queue = self.queue_of(step)
        limit = self.queue_limits.get(queue) if queue is not None else None
        if limit is None:
            return False
        return sum(1 for h in running.values() if h.spec.queue == queue) >= limit

    def _retry(
        self,
        step: ExecutionStep,
        spec: LaunchSpec,
        seen: Observation,
        running: dict[str, Handle],
    ) -> bool:
        """Launch the next attempt of a lost step, if its RetryPolicy allows one."""
        policy = getattr(step.definition, "retry_policy", None)
        allowed = 1 + (policy.max_retries if policy else 0)
        if spec.attempt >= allowed or self._stopping():
            return False
        self.run.emit(
            WeirEvent(
                EventType.STEP_UP_FOR_RETRY,
                self.run.run_id,
                step.key,
                f"{step.key} attempt {spec.attempt} was lost ({seen.reason}); retry "
                f"{spec.attempt} of {allowed - 1} as attempt {spec.attempt + 1}",
            )
        )
        self._launch(step, spec.attempt + 1, running)
        return True

    def _finish(
        self,
        step: ExecutionStep,
        seen: Observation,
        blocked: dict[str, str],
        produced: set[Any],
    ) -> None:
        if seen.phase is Phase.CANCELED:
            blocked[step.key] = step.key  # never ran: nothing downstream may start
            return
        if seen.phase is Phase.LOST:
            info = ErrorInfo(seen.reason or "its worker was lost", "StepWorkerLostError")
            self.run.emit(crash_event(self.run.run_id, step, info))
        status = StepStatus.SUCCESS if seen.phase is Phase.SUCCEEDED else StepStatus.FAILURE
        exception = None
        if status is StepStatus.FAILURE:
            exception = seen.exception or StepError(
                seen.reason or f"{step.key} failed on its worker", step.key
            )
        self._record(step, status, exception, blocked)
        if status is StepStatus.SUCCESS:
            produced.update(seen.produced)
        if self.run.captured_outputs is not None:
            self.run.captured_outputs.update(seen.outputs)

    def _stopping(self) -> bool:
        if self.should_stop is not None and self.should_stop():
            self.canceled = True
        return self.canceled or (self.raise_on_error and bool(self.failed_steps))
