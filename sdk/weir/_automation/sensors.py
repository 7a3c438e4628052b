"""Sensors: a function polled every `minimum_interval_seconds` that decides what to launch.

A sensor keeps a cursor (a string it owns) between ticks; the control plane stores it with
the tick, so a sensor resumes where it stopped after a restart.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Mapping, Sequence
from enum import Enum
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from weir._automation.evaluation import (
    TickResult,
    attach_job_names,
    call_evaluation_fn,
    collect_results,
    evaluate_user_fn,
    read_evaluation_params,
)
from weir._automation.run_request import str_mapping
from weir._automation.targets import Target, resolve_target
from weir._errors import DefinitionError, TickEvaluationError, UsageError
from weir._jobs import JobDefinition
from weir._specs import validate_name

if TYPE_CHECKING:
    from weir._definitions import Definitions
    from weir._instance import Instance
    from weir._key import AssetKey

DEFAULT_MINIMUM_INTERVAL_SECONDS = 30


class DefaultSensorStatus(Enum):
    """Whether a sensor runs as soon as it is deployed, before anyone turns it on or off."""

    RUNNING = "RUNNING"
    STOPPED = "STOPPED"


class SensorEvaluationContext:
    """What a sensor function receives: its cursor, the bound resources, and the new events
    the control plane hands to event-driven sensors.

    Build one in a test with `build_sensor_context`.
    """

    def __init__(
        self,
        cursor: str | None = None,
        resources: Mapping[str, Any] | None = None,
        sensor_name: str | None = None,
        last_run_key: str | None = None,
        last_tick_completion_time: float | None = None,
        asset_events: Sequence[Any] = (),
        run_status_changes: Sequence[Any] = (),
        definitions: Definitions | None = None,
        instance: Instance | None = None,
    ):
        if cursor is not None and not isinstance(cursor, str):
            raise DefinitionError(
                f"A sensor cursor is a string (serialize it, e.g. with json.dumps), got "
                f"{type(cursor).__name__}"
            )
        self._cursor = cursor
        self.cursor_updated = False
        self.resource_defs = dict(resources or {})
        self.resources = SimpleNamespace(**self.resource_defs)
        self.sensor_name = sensor_name
        self.last_run_key = last_run_key
        self.last_tick_completion_time = last_tick_completion_time
        self.asset_events = tuple(asset_events)
        self.run_status_changes = tuple(run_status_changes)
        # The sensor's Definitions (a weir.Definitions), which assets_with_tag searches.
        self.definitions = definitions
        self._instance = instance

    @property
    def instance(self) -> Instance:
        """The instance a test gave (`build_sensor_context(instance=...)`): what has been
        materialized, the keys of dynamic partitions."""
        if self._instance is None:
            raise UsageError(
                "This sensor context has no instance; in a test, build it with "
                "build_sensor_context(instance=weir.Instance.ephemeral()). A sensor served by "
                "a code location gets new materializations as context.asset_events"
            )
        return self._instance

    def assets_with_tag(self, key: str, value: str | None = None) -> list[AssetKey]:
        """The keys of the code location's assets tagged `key` (with `value`, if given),
        sorted, so that tags can drive what a sensor requests.

        >>> import weir as dg
        >>> @dg.asset(tags={"tier": "gold"})
        ... def revenue() -> int:
        ...     return 1
        >>> context = build_sensor_context(definitions=dg.Definitions(assets=[revenue]))
        >>> [k.to_user_string() for k in context.assets_with_tag("tier", "gold")]
        ['revenue']
        """
        if self.definitions is None:
            raise DefinitionError(
                "This sensor context has no definitions to search; build it with "
                "build_sensor_context(definitions=...) in a test"
            )
        found = [
            spec.key
            for assets_def in self.definitions.assets
            for spec in assets_def.specs
            if key in spec.tags and (value is None or spec.tags[key] == value)
        ]
        return sorted(found, key=lambda k: k.to_user_string())

    @property
    def cursor(self) -> str | None:
        """The cursor the previous tick left, or None on the first tick."""
        return self._cursor

    def update_cursor(self, cursor: str | None) -> None:
        """Set the cursor the next tick will see."""
        if cursor is not None and not isinstance(cursor, str):
            raise DefinitionError(
                f"A sensor cursor is a string (serialize it, e.g. with json.dumps), got "
                f"{type(cursor).__name__}"
            )
        self._cursor = cursor
        self.cursor_updated = True

    @property
    def log(self) -> logging.Logger:
        return logging.getLogger(f"weir.sensor.{self.sensor_name or 'unnamed'}")

    def _for_sensor(self, name: str) -> SensorEvaluationContext:
        """A fresh copy naming the sensor, so evaluating a tick leaves this context as it was."""
        return SensorEvaluationContext(
            cursor=self._cursor,
            resources=self.resource_defs,
            sensor_name=name,
            last_run_key=self.last_run_key,
            last_tick_completion_time=self.last_tick_completion_time,
            asset_events=self.asset_events,
            run_status_changes=self.run_status_changes,
            definitions=self.definitions,
            instance=self._instance,
        )


def storage_id_cursor(cursor: str | None, where: str) -> int | None:
    """Read the cursor of an event-driven sensor: the storage id of the last event handled."""
    if cursor is None:
        return None
    try:
        return int(cursor)
    except ValueError:
        raise TickEvaluationError(
            f"{where} has cursor {cursor!r}, which is not a storage id; its cursor is managed "
            f"for it (reset it to start from the newest event)"
        ) from None


def build_sensor_context(
    instance: Instance | None = None,
    cursor: str | None = None,
    *,
    resources: Mapping[str, Any] | None = None,
    sensor_name: str | None = None,
    definitions: Definitions | None = None,
    last_run_key: str | None = None,
    last_tick_completion_time: float | None = None,
    asset_events: Sequence[Any] = (),
    run_status_changes: Sequence[Any] = (),
) -> SensorEvaluationContext:
    """A context for evaluating a sensor in a test.

    `instance` (a `weir.Instance`) is what ``context.instance`` reads; `asset_events` and
    `run_status_changes` stand in for the new events the control plane passes to asset
    sensors and run-status sensors; `definitions` for the code location's (what
    `context.assets_with_tag` searches). As in Dagster, the instance and the cursor may be
    given by position, in that order; the rest by name.

    >>> context = build_sensor_context(cursor="3")
    >>> context.cursor
    '3'
    """
    from weir._instance import Instance  # its module loads with the first test that needs it

    if instance is not None and not isinstance(instance, Instance):
        raise DefinitionError(
            f"build_sensor_context's first argument is the instance (as in Dagster), got "
            f"{instance!r}; pass the cursor by name: build_sensor_context(cursor=...)"
        )
    return SensorEvaluationContext(
        instance=instance,
        cursor=cursor,
        resources=resources,
        sensor_name=sensor_name,
        last_run_key=last_run_key,
        last_tick_completion_time=last_tick_completion_time,
        asset_events=asset_events,
        run_status_changes=run_status_changes,
        definitions=definitions,
    )


class SensorDefinition:
    """Poll a function and launch the runs it asks for.

    Usually made with `@sensor`. `jobs` are the jobs it may launch; a RunRequest may leave
    out `job_name` when there is exactly one.
    """

    # How many leading arguments the function takes before resources: the context.
    _positional_params = 1

    def __init__(
        self,
        name: str | None = None,
        *,
        evaluation_fn: Callable[..., Any],
        job: JobDefinition | None = None,
        jobs: Sequence[JobDefinition] | None = None,
        job_name: str | None = None,
        target: Any = None,
        minimum_interval_seconds: int | None = None,
        description: str | None = None,
        default_status: DefaultSensorStatus = DefaultSensorStatus.STOPPED,
        tags: Mapping[str, str] | None = None,
        metadata: Mapping[str, Any] | None = None,
    ):
        if not callable(evaluation_fn):
            raise DefinitionError(
                f"SensorDefinition evaluation_fn must be a function, got {evaluation_fn!r}"
            )
        self.name = validate_name(name or evaluation_fn.__name__, "Sensor name")
        where = f"Sensor '{self.name}'"
        self._target: Target = resolve_target(
            where, self.name, job=job, jobs=jobs, job_name=job_name, target=target
        )
        interval = (
            DEFAULT_MINIMUM_INTERVAL_SECONDS
            if minimum_interval_seconds is None
            else minimum_interval_seconds
        )
        if not isinstance(interval, int) or isinstance(interval, bool) or interval < 1:
            raise DefinitionError(
                f"{where} minimum_interval_seconds must be a whole number of seconds >= 1, "
                f"got {minimum_interval_seconds!r}"
            )
        self.minimum_interval_seconds = interval
        if not isinstance(default_status, DefaultSensorStatus):
            raise DefinitionError(
                f"{where} default_status must be DefaultSensorStatus.RUNNING or .STOPPED"
            )
        self.default_status = default_status
        self.description = description or inspect.getdoc(evaluation_fn)
        self.tags = str_mapping(tags, f"{where} tags")
        self.metadata = dict(metadata or {})
        self.evaluation_fn = evaluation_fn
        self._params = read_evaluation_params(evaluation_fn, where, self._positional_params)

    @property
    def jobs(self) -> list[JobDefinition]:
        """The jobs this sensor carries (not those it names only by `job_name`)."""
        return list(self._target.jobs)

    @property
    def job(self) -> JobDefinition | None:
        return self._target.jobs[0] if len(self._target.jobs) == 1 else None

    @property
    def job_name(self) -> str | None:
        """The job this sensor launches, or None when it targets none or several."""
        names = self._target.job_names
        return names[0] if len(names) == 1 else None

    @property
    def job_names(self) -> list[str]:
        return self._target.job_names

    @property
    def required_resource_keys(self) -> set[str]:
        return set(self._params.resources)

    def evaluate_tick(self, context: SensorEvaluationContext) -> TickResult:
        """Evaluate one tick: runs to launch (job names filled in), a skip message, the cursor.

        `context` is left unchanged; the cursor after the tick is `result.cursor`.

        >>> from weir import RunRequest
        >>> @sensor(job_name="ingest")
        ... def new_files(context):
        ...     context.update_cursor("f2")
        ...     return RunRequest(run_key="f2")
        >>> result = new_files.evaluate_tick(build_sensor_context(cursor="f1"))
        >>> result.run_requests[0].job_name, result.cursor
        ('ingest', 'f2')
        """
        where = f"Sensor '{self.name}'"
        if not isinstance(context, SensorEvaluationContext):
            raise DefinitionError(
                f"{where} expects a context from build_sensor_context(), got "
                f"{type(context).__name__}"
            )
        context = context._for_sensor(self.name)
        items = evaluate_user_fn(where, lambda: self._evaluate(context))
        requests, skip_message, sensor_result = collect_results(
            where, items, allow_run_config=False, allow_sensor_result=True
        )
        cursor = context.cursor
        dynamic_requests = []
        asset_events: list[Any] = []
        if sensor_result is not None:
            asset_events = list(sensor_result.asset_events)
            if sensor_result.cursor is not None:
                if context.cursor_updated:
                    raise TickEvaluationError(
                        f"{where} called context.update_cursor() and also returned "
                        f"SensorResult(cursor=...); set the cursor one way"
                    )
                cursor = sensor_result.cursor
            dynamic_requests = list(sensor_result.dynamic_partitions_requests)
        return TickResult(
            run_requests=attach_job_names(where, requests, self._target),
            skip_message=skip_message,
            cursor=cursor,
            dynamic_partitions_requests=dynamic_requests,
            asset_events=asset_events,
        )

    def _evaluate(self, context: SensorEvaluationContext) -> Any:
        """Call the user's function for one tick; event sensors override this."""
        return call_evaluation_fn(self.evaluation_fn, self._params, [context], context.resources)

    def _default_call_args(self) -> list[Any]:
        return [build_sensor_context(sensor_name=self.name)]

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Call the sensor's function directly, as in a unit test.

        ``my_sensor(build_sensor_context(cursor="3"))`` returns what the function returns (a
        generator is collected into a list); the context's cursor reflects `update_cursor`.
        """
        positional = list(args)
        for name in self._params.positional[len(positional) :]:
            if name in kwargs:
                positional.append(kwargs.pop(name))
        if not positional and self._params.positional:
            positional = self._default_call_args()
        unknown = sorted(set(kwargs) - set(self._params.resources))
        if unknown:
            raise DefinitionError(
                f"Sensor '{self.name}' got unexpected arguments {unknown}; it takes "
                f"{list(self._params.positional)} and resources {list(self._params.resources)}"
            )
        resources = getattr(positional[0], "resources", None) if positional else None
        result = call_evaluation_fn(self.evaluation_fn, self._params, positional, resources, kwargs)
        return list(result) if inspect.isgenerator(result) else result

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} -> {', '.join(self.job_names) or 'no job'}>"


def sensor(
    job_name: str | Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    job: JobDefinition | None = None,
    jobs: Sequence[JobDefinition] | None = None,
    target: Any = None,
    minimum_interval_seconds: int | None = None,
    description: str | None = None,
    default_status: DefaultSensorStatus = DefaultSensorStatus.STOPPED,
    tags: Mapping[str, str] | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> Any:
    """Declare a sensor: a function polled every `minimum_interval_seconds` (default 30).

    It takes the context (and resources by name) and returns or yields RunRequests, a
    SkipReason, or a SensorResult that can also set the cursor.

    >>> from weir import RunRequest, SkipReason
    >>> @sensor(job_name="ingest", minimum_interval_seconds=60)
    ... def new_files(context):
    ...     seen = int(context.cursor or 0)
    ...     if seen >= 3:
    ...         return SkipReason("no new files")
    ...     context.update_cursor(str(seen + 1))
    ...     return RunRequest(run_key=f"file-{seen + 1}")
    """

    def build(fn: Callable[..., Any]) -> SensorDefinition:
        return SensorDefinition(
            name=name or fn.__name__,
            evaluation_fn=fn,
            job=job,
            jobs=jobs,
            job_name=job_name,  # type: ignore[arg-type]
            target=target,
            minimum_interval_seconds=minimum_interval_seconds,
            description=description,
            default_status=default_status,
            tags=tags,
            metadata=metadata,
        )

    if callable(job_name):  # bare @sensor
        fn, job_name = job_name, None
        return build(fn)
    return build
