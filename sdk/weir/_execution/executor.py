"""Walks an execution plan in one process: the core both `materialize` and run workers use."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any

from weir._errors import DefinitionError
from weir._execution.events import EventType, WeirEvent
from weir._execution.plan import ExecutionPlan, ExecutionStep
from weir._execution.step import RunScope, StepStatus, execute_step

if TYPE_CHECKING:
    from weir._execution.launcher import StepLauncher
    from weir._execution.step_process import StepProcessLauncher
    from weir._executors import ExecutorDefinition


def step_resource_keys(plan: ExecutionPlan, step: ExecutionStep) -> set[str]:
    """Resources one step uses, including the I/O managers of the assets it reads."""
    keys = set(step.definition.required_resource_keys)
    for upstream in step.definition.input_keys.values():
        keys.add(plan.graph.assets_def_by_key[upstream].io_manager_key_for(upstream))
    return keys


def required_resource_keys(plan: ExecutionPlan) -> set[str]:
    """Resources the plan's steps use, including the I/O managers of the assets they read."""
    return set().union(*(step_resource_keys(plan, step) for step in plan.steps))


def set_up_resources(
    resources: Mapping[str, Any], keys: Iterable[str], stack: ExitStack
) -> dict[str, Any]:
    """Enter each resource's run lifecycle (setup now, teardown when `stack` closes): what
    is bound becomes what steps receive (EnvVar fields read, I/O managers built)."""
    from weir._resources import ready_for_run

    ready = dict(resources)
    for key in keys:
        ready[key] = stack.enter_context(ready_for_run(key, resources[key], resources))
    return ready


class PlanExecution:
    """Runs the steps in order. A failed step skips everything downstream of it, never
    unrelated branches. Stops early when `should_stop` says so (cancellation) or on the
    first failure when `raise_on_error` is set."""

    def __init__(
        self,
        plan: ExecutionPlan,
        run: RunScope,
        *,
        raise_on_error: bool = False,
        should_stop: Callable[[], bool] | None = None,
    ):
        self.plan = plan
        self.run = run
        self.raise_on_error = raise_on_error
        self.should_stop = should_stop
        self.first_error: BaseException | None = None
        self.failed_steps: list[str] = []
        self.canceled = False
        # Steps started by a worker that reported their events itself (Celery).
        self.started_steps: set[str] = set()

    def execute(self) -> bool:
        run, emit = self.run, self.run.emit
        emit(WeirEvent(EventType.RUN_START, run.run_id, message="Started run"))
        self._walk()
        success = not self.failed_steps and not self.canceled
        if self.canceled:
            emit(WeirEvent(EventType.RUN_CANCELED, run.run_id, message="Run canceled"))
        elif success:
            emit(WeirEvent(EventType.RUN_SUCCESS, run.run_id, message="Finished run"))
        else:
            steps = ", ".join(self.failed_steps)
            emit(WeirEvent(EventType.RUN_FAILURE, run.run_id, message=f"Steps failed: {steps}"))
        return success

    def _walk(self) -> None:
        blocked: dict[str, str] = {}  # step -> the failed or skipped step that blocks it
        produced: set[Any] = set()
        for step in self.plan.steps:
            if self.should_stop is not None and self.should_stop():
                self.canceled = True
                break
            if self._skipped(step, blocked, produced):
                continue
            outcome = execute_step(step, self.run)
            self._record(step, outcome.status, outcome.exception, blocked)
            if outcome.status is StepStatus.SUCCESS:
                produced.update(outcome.produced)
            elif self.raise_on_error:
                break

    def _skipped(self, step: ExecutionStep, blocked: dict[str, str], produced: set[Any]) -> bool:
        """Skip `step` (and say why) if an upstream step failed, was skipped, or left out
        an asset it reads."""
        cause = next((blocked[u] for u in step.upstream_steps if u in blocked), None)
        if cause is None:
            cause = self._missing_input(step, produced)
        if cause is None:
            return False
        blocked[step.key] = cause
        message = f"Skipped {step.key}: upstream {cause} did not succeed"
        self.run.emit(WeirEvent(EventType.STEP_SKIPPED, self.run.run_id, step.key, message))
        return True

    def _record(
        self,
        step: ExecutionStep,
        status: StepStatus,
        exception: BaseException | None,
        blocked: dict[str, str],
    ) -> None:
        if status is StepStatus.FAILURE:
            blocked[step.key] = step.key
            self.failed_steps.append(step.key)
            if self.first_error is None:
                self.first_error = exception

    def _missing_input(self, step: Any, produced: set[Any]) -> str | None:
        """A skippable output upstream that was not produced leaves its consumers nothing."""
        for key in step.asset_keys:
            for parent in self.plan.graph.parents[key]:
                ad = self.plan.graph.assets_def_by_key[parent]
                step_key = ad.node_name
                if step_key in step.upstream_steps and parent not in produced:
                    return f"{step_key} (asset {parent.to_user_string()} was not produced)"
        return None


def execute_plan(
    plan: ExecutionPlan,
    run: RunScope,
    executor: ExecutorDefinition,
    *,
    raise_on_error: bool = False,
    should_stop: Callable[[], bool] | None = None,
    launcher: StepProcessLauncher | None = None,
    step_launcher: StepLauncher | None = None,
) -> PlanExecution:
    """Run `plan` with `executor`; `run.resources` are the bound, not yet set-up resources.

    In process, the resources are set up once for the run; with the multiprocess executor
    each step's process sets up the ones its step uses. `launcher` says where step
    processes come from (default: forked from this process). `step_launcher` runs the
    steps elsewhere (the Celery executor's, which only a code server can make).
    """
    if executor.launches_steps:
        from weir._execution.parallel import ParallelPlanExecution
        from weir._execution.step_process import ForkStepLauncher, ProcessStepLauncher
        from weir._executors import step_queue

        if step_launcher is None and executor.is_celery:
            raise DefinitionError(
                "The celery executor runs steps on Celery workers for runs launched through "
                "a code server; weir.materialize runs in process or with the multiprocess "
                "executor"
            )
        default_queue = str(executor.config.get("default_queue", ""))
        execution: PlanExecution = ParallelPlanExecution(
            plan,
            run,
            step_launcher or ProcessStepLauncher(launcher or ForkStepLauncher(), plan, run),
            executor.max_concurrent,
            raise_on_error=raise_on_error,
            should_stop=should_stop,
            queue_of=(lambda step: step_queue(step.definition, default_queue))
            if executor.is_celery
            else (lambda step: None),
            queue_limits=executor.config.get("queue_concurrency"),
            cancel_grace=float(executor.config.get("cancel_grace_seconds", 10.0)),
        )
        execution.execute()
        return execution
    execution = PlanExecution(plan, run, raise_on_error=raise_on_error, should_stop=should_stop)
    with ExitStack() as stack:
        run.resources = set_up_resources(run.resources, required_resource_keys(plan), stack)
        execution.execute()
    return execution
