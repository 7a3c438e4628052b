"""Schedules: launch a job on a cron schedule, in a timezone.

The control plane's scheduler decides when a tick is due (`next_tick_times`); the code
location evaluates the tick (`evaluate_tick`) and returns the runs to launch.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from enum import Enum
from types import SimpleNamespace
from typing import Any

from weir._automation.cron import cron_ticks_after, validate_cron, validate_timezone
from weir._automation.evaluation import (
    TickResult,
    attach_job_names,
    call_evaluation_fn,
    collect_results,
    evaluate_user_fn,
    read_evaluation_params,
)
from weir._automation.run_request import RunRequest, str_mapping
from weir._automation.targets import resolve_target
from weir._errors import DefinitionError
from weir._jobs import JobDefinition
from weir._specs import validate_name


class DefaultScheduleStatus(Enum):
    """Whether a schedule runs as soon as it is deployed, before anyone turns it on or off."""

    RUNNING = "RUNNING"
    STOPPED = "STOPPED"


class ScheduleEvaluationContext:
    """What a schedule function receives: the tick's time and the bound resources.

    Build one in a test with `build_schedule_context`.
    """

    def __init__(
        self,
        scheduled_execution_time: datetime,
        resources: Mapping[str, Any] | None = None,
        schedule_name: str | None = None,
    ):
        self.scheduled_execution_time = scheduled_execution_time
        self.resource_defs = dict(resources or {})
        self.resources = SimpleNamespace(**self.resource_defs)
        self.schedule_name = schedule_name

    @property
    def log(self) -> Any:
        import logging

        return logging.getLogger(f"weir.schedule.{self.schedule_name or 'unnamed'}")

    def _for_schedule(self, name: str, timezone: str) -> ScheduleEvaluationContext:
        """A copy naming the schedule, with the tick time read in the schedule's timezone."""
        tz = validate_timezone(timezone, f"Schedule '{name}'")
        when = self.scheduled_execution_time
        when = when.replace(tzinfo=tz) if when.tzinfo is None else when.astimezone(tz)
        return ScheduleEvaluationContext(when, self.resource_defs, name)


def build_schedule_context(
    scheduled_execution_time: datetime | None = None,
    resources: Mapping[str, Any] | None = None,
) -> ScheduleEvaluationContext:
    """A context for evaluating a schedule in a test.

    A naive `scheduled_execution_time` is read in the schedule's timezone; when left out, the
    current time is used.

    >>> from datetime import datetime
    >>> context = build_schedule_context(scheduled_execution_time=datetime(2024, 1, 1, 6))
    >>> context.scheduled_execution_time.hour
    6
    """
    when = scheduled_execution_time or datetime.now(UTC)
    if not isinstance(when, datetime):
        raise DefinitionError(
            f"scheduled_execution_time must be a datetime, got {type(when).__name__}"
        )
    return ScheduleEvaluationContext(when, resources)


class ScheduleDefinition:
    """Launch a job on a cron schedule.

    Without a function, every tick requests one run with `run_config` and the schedule's run
    tags. With `@schedule`, the function decides each tick.

    >>> from weir import define_asset_job
    >>> nightly = ScheduleDefinition(
    ...     job=define_asset_job("refresh", "group:sales"),
    ...     cron_schedule="0 2 * * *",
    ...     execution_timezone="Europe/Berlin",
    ... )
    >>> nightly.name
    'refresh_schedule'
    """

    def __init__(
        self,
        name: str | None = None,
        *,
        cron_schedule: str | Sequence[str],
        job: JobDefinition | None = None,
        job_name: str | None = None,
        target: Any = None,
        run_config: Mapping[str, Any] | None = None,
        tags: Mapping[str, str] | None = None,
        run_tags: Mapping[str, str] | None = None,
        metadata: Mapping[str, Any] | None = None,
        execution_timezone: str | None = None,
        description: str | None = None,
        default_status: DefaultScheduleStatus = DefaultScheduleStatus.STOPPED,
        should_execute: Callable[[ScheduleEvaluationContext], bool] | None = None,
        execution_fn: Callable[..., Any] | None = None,
    ):
        if name is None:
            if isinstance(job, JobDefinition):
                name = f"{job.name}_schedule"
            elif job_name:
                name = f"{job_name}_schedule"
            else:
                raise DefinitionError(
                    "ScheduleDefinition needs a name when it targets assets; pass name='...'"
                )
        self.name = validate_name(name, "Schedule name")
        where = f"Schedule '{self.name}'"
        crons = [cron_schedule] if isinstance(cron_schedule, str) else list(cron_schedule or ())
        if not crons:
            raise DefinitionError(f"{where} needs a cron_schedule, for example '0 6 * * *'")
        self.cron_schedules = [validate_cron(c, where) for c in crons]
        self.execution_timezone = execution_timezone or "UTC"
        self._tz = validate_timezone(self.execution_timezone, where)
        self._target = resolve_target(where, self.name, job=job, job_name=job_name, target=target)
        if not self._target.job_names:
            raise DefinitionError(
                f"{where} launches nothing; pass job=define_asset_job(...), job_name='...' or "
                f"target='group:...'"
            )
        if run_config is not None and not isinstance(run_config, Mapping):
            raise DefinitionError(f"{where} run_config must be a dict")
        if run_config is not None and execution_fn is not None:
            raise DefinitionError(
                f"{where} has both run_config and a function; return the run config from the "
                f"function instead"
            )
        self.run_config = dict(run_config) if run_config is not None else None
        self.tags = str_mapping(tags, f"{where} tags")
        self._run_tags = str_mapping(run_tags, f"{where} run_tags") if run_tags else None
        self.metadata = dict(metadata or {})
        self.description = description
        if not isinstance(default_status, DefaultScheduleStatus):
            raise DefinitionError(
                f"{where} default_status must be DefaultScheduleStatus.RUNNING or .STOPPED"
            )
        self.default_status = default_status
        self.should_execute = should_execute
        self.execution_fn = execution_fn
        self._params = (
            read_evaluation_params(execution_fn, where, positional=1) if execution_fn else None
        )

    @property
    def cron_schedule(self) -> str | list[str]:
        """The cron string, or the list of them when the schedule has several."""
        return self.cron_schedules[0] if len(self.cron_schedules) == 1 else self.cron_schedules

    @property
    def job(self) -> JobDefinition | None:
        """The job this schedule carries, or None when it names one by `job_name`."""
        return self._target.jobs[0] if self._target.jobs else None

    @property
    def job_name(self) -> str:
        return self._target.job_names[0]

    @property
    def run_tags(self) -> dict[str, str]:
        """Tags every run this schedule requests gets: `run_tags` if given, else `tags`."""
        return dict(self._run_tags if self._run_tags is not None else self.tags)

    @property
    def required_resource_keys(self) -> set[str]:
        return set(self._params.resources) if self._params else set()

    def next_tick_times(self, start: datetime, n: int) -> list[datetime]:
        """The next `n` tick times strictly after `start`, in the execution timezone.

        A naive `start` is read in the execution timezone. Across daylight-saving changes,
        a skipped wall time fires at the end of the gap, a repeated one fires once, and
        schedules that fire every hour keep firing once per real hour.

        >>> s = ScheduleDefinition(name="s", cron_schedule="0 6 * * *", job_name="j")
        >>> [t.day for t in s.next_tick_times(datetime(2024, 1, 1, 7, tzinfo=UTC), 2)]
        [2, 3]
        """
        if start.tzinfo is None:
            start = start.replace(tzinfo=self._tz)
        ticks = cron_ticks_after(self.cron_schedules, self._tz, start)
        return [next(ticks) for _ in range(n)]

    def evaluate_tick(self, context: ScheduleEvaluationContext) -> TickResult:
        """Evaluate one tick: the runs to launch (with job names filled in) or a skip message.

        >>> s = ScheduleDefinition(name="s", cron_schedule="0 6 * * *", job_name="j")
        >>> s.evaluate_tick(build_schedule_context()).run_requests[0].job_name
        'j'
        """
        where = f"Schedule '{self.name}'"
        context = context._for_schedule(self.name, self.execution_timezone)
        should_execute = self.should_execute
        if should_execute is not None:
            (should,) = evaluate_user_fn(f"{where} should_execute", lambda: should_execute(context))
            if not should:
                return TickResult(skip_message="should_execute returned False")
        if self.execution_fn is None:
            items: list[Any] = [RunRequest(run_config=self.run_config)]
        else:
            items = evaluate_user_fn(where, lambda: self._call(context))
        requests, skip_message, _ = collect_results(
            where, items, allow_run_config=True, allow_sensor_result=False
        )
        tags = self.run_tags
        requests = [r.with_changes(tags={**tags, **r.tags}) if tags else r for r in requests]
        return TickResult(
            run_requests=attach_job_names(where, requests, self._target),
            skip_message=skip_message,
        )

    def _call(self, context: ScheduleEvaluationContext, **resources: Any) -> Any:
        assert self.execution_fn is not None and self._params is not None
        return call_evaluation_fn(
            self.execution_fn, self._params, [context], context.resources, resources
        )

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Call the schedule's function directly, as in a unit test.

        ``my_schedule(build_schedule_context(...))`` returns what the function returns (a
        generator is collected into a list).
        """
        if self.execution_fn is None or self._params is None:
            raise DefinitionError(f"Schedule '{self.name}' has no function to call")
        context = args[0] if args else kwargs.pop("context", None)
        if context is None:
            context = build_schedule_context()
        if not isinstance(context, ScheduleEvaluationContext):
            raise DefinitionError(
                f"Schedule '{self.name}' expects a context from build_schedule_context(), got "
                f"{type(context).__name__}"
            )
        context = context._for_schedule(self.name, self.execution_timezone)
        result = self._call(context, **kwargs)
        return list(result) if inspect.isgenerator(result) else result

    def __repr__(self) -> str:
        return f"<ScheduleDefinition {self.name}: {self.cron_schedule!r} -> {self.job_name}>"


def schedule(
    cron_schedule: str | Sequence[str],
    *,
    job: JobDefinition | None = None,
    job_name: str | None = None,
    target: Any = None,
    name: str | None = None,
    tags: Mapping[str, str] | None = None,
    run_tags: Mapping[str, str] | None = None,
    metadata: Mapping[str, Any] | None = None,
    execution_timezone: str | None = None,
    description: str | None = None,
    default_status: DefaultScheduleStatus = DefaultScheduleStatus.STOPPED,
    should_execute: Callable[[ScheduleEvaluationContext], bool] | None = None,
) -> Callable[[Callable[..., Any]], ScheduleDefinition]:
    """Declare a schedule whose function decides each tick.

    The function takes the context (and resources by name) and returns a RunRequest, a list
    of them, a SkipReason, a run config dict, or yields RunRequests.

    >>> from weir import RunRequest
    >>> @schedule("0 6 * * *", job_name="refresh", execution_timezone="America/New_York")
    ... def morning(context):
    ...     day = context.scheduled_execution_time.strftime("%Y-%m-%d")
    ...     return RunRequest(run_key=day, tags={"day": day})
    """

    def build(fn: Callable[..., Any]) -> ScheduleDefinition:
        return ScheduleDefinition(
            name=name or fn.__name__,
            cron_schedule=cron_schedule,
            job=job,
            job_name=job_name,
            target=target,
            tags=tags,
            run_tags=run_tags,
            metadata=metadata,
            execution_timezone=execution_timezone,
            description=description or inspect.getdoc(fn),
            default_status=default_status,
            should_execute=should_execute,
            execution_fn=fn,
        )

    if callable(cron_schedule):
        raise DefinitionError(
            "@schedule needs a cron string: write @schedule('0 6 * * *', job=...)"
        )
    return build
