"""@run_status_sensor and @run_failure_sensor: react to runs reaching a status.

Each tick the control plane hands the sensor the run status changes stored since its cursor
(`context.run_status_changes`). The function is called once per change that matches the
sensor's status and monitored jobs; the cursor then moves past every change seen.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from types import SimpleNamespace
from typing import Any

from weir._automation.evaluation import call_evaluation_fn, evaluate_user_fn
from weir._automation.run_request import RunRequest, SkipReason
from weir._automation.sensors import (
    DefaultSensorStatus,
    SensorDefinition,
    SensorEvaluationContext,
    storage_id_cursor,
)
from weir._errors import DefinitionError, TickEvaluationError
from weir._jobs import JobDefinition


class RunStatus(Enum):
    """Where a run is in its life: QUEUED → STARTING → STARTED → SUCCESS / FAILURE / CANCELED."""

    QUEUED = "QUEUED"
    STARTING = "STARTING"
    STARTED = "STARTED"
    SUCCESS = "SUCCESS"
    FAILURE = "FAILURE"
    CANCELED = "CANCELED"


@dataclass(frozen=True)
class RunInfo:
    """A run as a run-status sensor sees it."""

    run_id: str
    job_name: str
    status: RunStatus
    tags: Mapping[str, str] = field(default_factory=dict)
    run_config: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RunStatusChange:
    """One run reaching a status. `storage_id` orders changes; `message` carries, for a
    failure, the error."""

    run: RunInfo
    storage_id: int
    timestamp: float = 0.0
    message: str | None = None

    @property
    def status(self) -> RunStatus:
        return self.run.status


class RunStatusSensorContext:
    """What a run-status sensor function receives for one run status change.

    `dagster_run` and `dagster_event` are the same objects as `run` and `event`, under the
    names code ported from Dagster uses.
    """

    def __init__(
        self,
        sensor_name: str,
        run: RunInfo,
        event: RunStatusChange | None = None,
        resources: Mapping[str, Any] | None = None,
    ):
        self.sensor_name = sensor_name
        self.run = run
        self.event = event or RunStatusChange(run=run, storage_id=0)
        self.resources = SimpleNamespace(**dict(resources or {}))

    @property
    def dagster_run(self) -> RunInfo:
        return self.run

    @property
    def dagster_event(self) -> RunStatusChange:
        return self.event

    @property
    def failure_event(self) -> RunStatusChange:
        """The change, for a run that failed (what @run_failure_sensor functions read)."""
        if self.run.status is not RunStatus.FAILURE:
            raise DefinitionError(
                f"Run {self.run.run_id} has status {self.run.status.value}, not FAILURE"
            )
        return self.event

    @property
    def log(self) -> logging.Logger:
        return logging.getLogger(f"weir.sensor.{self.sensor_name}")


def build_run_status_sensor_context(
    sensor_name: str,
    dagster_run: RunInfo,
    dagster_event: RunStatusChange | None = None,
    resources: Mapping[str, Any] | None = None,
) -> RunStatusSensorContext:
    """A context for calling a run-status sensor function in a test."""
    return RunStatusSensorContext(sensor_name, dagster_run, dagster_event, resources)


class RunStatusSensorDefinition(SensorDefinition):
    """A sensor called once for each run that reaches `run_status`."""

    def __init__(
        self,
        name: str | None = None,
        *,
        run_status: RunStatus | str,
        monitored_jobs: Sequence[JobDefinition | str] | None = None,
        **kwargs: Any,
    ):
        self.run_status = _coerce_status(run_status)
        self.monitored_job_names = frozenset(
            j.name if isinstance(j, JobDefinition) else j for j in monitored_jobs or ()
        )
        super().__init__(name, **kwargs)

    def _evaluate(self, context: SensorEvaluationContext) -> Any:
        after = storage_id_cursor(context.cursor, f"Run-status sensor '{self.name}'")
        changes = sorted(
            (c for c in context.run_status_changes if after is None or c.storage_id > after),
            key=lambda c: c.storage_id,
        )
        requests: list[RunRequest] = []
        skip: SkipReason | None = None
        matched = 0
        for change in changes:
            if not self._matches(change):
                continue
            matched += 1
            run_context = RunStatusSensorContext(
                self.name, change.run, change, context.resource_defs
            )
            items = evaluate_user_fn(
                f"Sensor '{self.name}' (run {change.run.run_id})",
                functools.partial(self._call_for_run, run_context),
            )
            for item in items:
                if isinstance(item, RunRequest):
                    requests.append(item)
                elif isinstance(item, SkipReason):
                    skip = item
                elif item is not None:
                    raise TickEvaluationError(
                        f"Sensor '{self.name}' returned {type(item).__name__} {item!r}; a "
                        f"run-status sensor returns RunRequest, SkipReason or None"
                    )
        if changes:
            context._cursor = str(changes[-1].storage_id)
        if requests:
            return requests
        if skip is not None:
            return skip
        if not matched:
            return SkipReason(f"No run reached {self.run_status.value} since the last tick")
        return None

    def _call_for_run(self, run_context: RunStatusSensorContext) -> Any:
        return call_evaluation_fn(
            self.evaluation_fn, self._params, [run_context], run_context.resources
        )

    def _matches(self, change: RunStatusChange) -> bool:
        if change.status is not self.run_status:
            return False
        return not self.monitored_job_names or change.run.job_name in self.monitored_job_names

    def _default_call_args(self) -> list[Any]:
        raise DefinitionError(
            f"Sensor '{self.name}' needs a context: call it with "
            f"build_run_status_sensor_context(...)"
        )


def _coerce_status(status: RunStatus | str) -> RunStatus:
    if isinstance(status, RunStatus):
        return status
    try:
        return RunStatus(str(status).upper())
    except ValueError:
        known = ", ".join(s.value for s in RunStatus)
        raise DefinitionError(f"Unknown run status {status!r}; use one of {known}") from None


def run_status_sensor(
    run_status: RunStatus | str,
    *,
    name: str | None = None,
    monitored_jobs: Sequence[JobDefinition | str] | None = None,
    request_job: JobDefinition | None = None,
    request_jobs: Sequence[JobDefinition] | None = None,
    minimum_interval_seconds: int | None = None,
    description: str | None = None,
    default_status: DefaultSensorStatus = DefaultSensorStatus.STOPPED,
    tags: Mapping[str, str] | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> Callable[[Callable[..., Any]], RunStatusSensorDefinition]:
    """Declare a sensor called for each run that reaches `run_status`.

    The function takes a RunStatusSensorContext (``context.dagster_run.job_name``, …) and may
    return RunRequests for `request_job`, a SkipReason, or None. `monitored_jobs` narrows
    which runs it sees (all jobs of the code location by default).

    >>> @run_status_sensor(run_status=RunStatus.SUCCESS, monitored_jobs=["ingest"])
    ... def ingest_done(context):
    ...     context.log.info("run %s succeeded", context.dagster_run.run_id)
    """

    def build(fn: Callable[..., Any]) -> RunStatusSensorDefinition:
        return RunStatusSensorDefinition(
            name or fn.__name__,
            run_status=run_status,
            monitored_jobs=monitored_jobs,
            evaluation_fn=fn,
            job=request_job,
            jobs=request_jobs,
            minimum_interval_seconds=minimum_interval_seconds,
            description=description,
            default_status=default_status,
            tags=tags,
            metadata=metadata,
        )

    return build


def run_failure_sensor(
    name: str | Callable[..., Any] | None = None,
    *,
    monitored_jobs: Sequence[JobDefinition | str] | None = None,
    request_job: JobDefinition | None = None,
    request_jobs: Sequence[JobDefinition] | None = None,
    minimum_interval_seconds: int | None = None,
    description: str | None = None,
    default_status: DefaultSensorStatus = DefaultSensorStatus.STOPPED,
) -> Any:
    """Declare a sensor called for each failed run; ``context.failure_event.message`` says why.

    >>> @run_failure_sensor
    ... def page_on_failure(context):
    ...     print(f"{context.dagster_run.job_name} failed: {context.failure_event.message}")
    """

    def decorate(fn: Callable[..., Any]) -> RunStatusSensorDefinition:
        return run_status_sensor(
            RunStatus.FAILURE,
            name=(name if isinstance(name, str) else None) or fn.__name__,
            monitored_jobs=monitored_jobs,
            request_job=request_job,
            request_jobs=request_jobs,
            minimum_interval_seconds=minimum_interval_seconds,
            description=description,
            default_status=default_status,
        )(fn)

    if callable(name):  # bare @run_failure_sensor
        return decorate(name)
    return decorate
