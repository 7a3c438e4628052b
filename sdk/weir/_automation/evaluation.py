"""Calling a schedule or sensor function and reading what it returned.

Shared by schedules and sensors: which parameters the function takes (a context, resources by
name, for some sensors an event), how a call is made, and how RunRequests, SkipReasons and
SensorResults — returned, listed or yielded — become one `TickResult`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import GeneratorType
from typing import Any

from weir._automation.run_request import (
    DynamicPartitionsRequest,
    RunRequest,
    SensorResult,
    SkipReason,
)
from weir._automation.targets import Target
from weir._errors import DefinitionError, TickEvaluationError, WeirError
from weir._signature import _param_kind, _type_hints


@dataclass(frozen=True)
class TickResult:
    """The outcome of one schedule or sensor tick.

    `run_requests` have their `job_name` filled in; `skip_message` is set when the tick chose
    to launch nothing and said why; `cursor` is the sensor's cursor after the tick.
    """

    run_requests: list[RunRequest] = field(default_factory=list)
    skip_message: str | None = None
    cursor: str | None = None
    dynamic_partitions_requests: list[DynamicPartitionsRequest] = field(default_factory=list)
    asset_events: list[Any] = field(default_factory=list)  # AssetMaterialization, ...


@dataclass(frozen=True)
class EvaluationFnParams:
    """The parameters of a schedule or sensor function, read once at decoration."""

    positional: tuple[str, ...]  # the context, then for event sensors the event
    resources: tuple[str, ...]  # parameter name == resource key


def read_evaluation_params(
    fn: Callable[..., Any], where: str, positional: int
) -> EvaluationFnParams:
    """Split `fn`'s parameters into up to `positional` leading ones and resources."""
    hints = _type_hints(fn)
    names: list[str] = []
    resources: list[str] = []
    for param in inspect.signature(fn).parameters.values():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        if _param_kind(hints.get(param.name)) == "resource":
            resources.append(param.name)
        else:
            names.append(param.name)
    if len(names) > positional:
        expected = "(context)" if positional == 1 else "(context, event)"
        raise DefinitionError(
            f"{where} takes parameters {names}; it should take {expected} plus resources "
            f"annotated with their ConfigurableResource class"
        )
    return EvaluationFnParams(tuple(names), tuple(resources))


def call_evaluation_fn(
    fn: Callable[..., Any],
    params: EvaluationFnParams,
    positional: list[Any],
    resources: Any,
    overrides: Mapping[str, Any] | None = None,
) -> Any:
    """Call `fn` with the leading arguments it declares and its resources by name."""
    kwargs = {}
    for name in params.resources:
        if overrides and name in overrides:
            kwargs[name] = overrides[name]
        elif hasattr(resources, name):
            kwargs[name] = getattr(resources, name)
        else:
            raise DefinitionError(
                f"'{fn.__name__}' needs resource '{name}', which is not bound; pass it in "
                f"Definitions(resources=...) or build_*_context(resources=...)"
            )
    return fn(*positional[: len(params.positional)], **kwargs)


def evaluate_user_fn(where: str, call: Callable[[], Any]) -> list[Any]:
    """Run the user's function, draining a generator, and wrap what it raises."""
    try:
        result = call()
        if isinstance(result, GeneratorType):
            return list(result)
        return [result] if not isinstance(result, list | tuple) else list(result)
    except WeirError as exc:
        if isinstance(exc, TickEvaluationError):
            raise
        raise TickEvaluationError(f"{where} failed: {exc}") from exc
    except Exception as exc:
        raise TickEvaluationError(f"{where} raised {type(exc).__name__}: {exc}") from exc


def collect_results(
    where: str,
    items: list[Any],
    *,
    allow_run_config: bool,
    allow_sensor_result: bool,
) -> tuple[list[RunRequest], str | None, SensorResult | None]:
    """Sort a function's outputs into run requests, a skip message and a SensorResult."""
    requests: list[RunRequest] = []
    skips: list[SkipReason] = []
    sensor_result: SensorResult | None = None
    for item in items:
        if item is None:
            continue
        if isinstance(item, RunRequest):
            requests.append(item)
        elif isinstance(item, SkipReason):
            skips.append(item)
        elif isinstance(item, SensorResult) and allow_sensor_result:
            if sensor_result is not None or len(items) > 1:
                raise TickEvaluationError(
                    f"{where} returned a SensorResult along with other results; return one "
                    f"SensorResult holding all run requests"
                )
            sensor_result = item
            requests.extend(item.run_requests)
            if item.skip_reason is not None:
                skips.append(item.skip_reason)
        elif isinstance(item, Mapping) and allow_run_config:
            requests.append(RunRequest(run_config=item))
        else:
            accepted = "RunRequest, a list of RunRequests, SkipReason"
            accepted += ", a run config dict" if allow_run_config else ""
            accepted += ", SensorResult" if allow_sensor_result else ""
            raise TickEvaluationError(
                f"{where} returned {type(item).__name__} {item!r}; return or yield {accepted}, "
                f"or None to do nothing"
            )
    if skips and requests:
        raise TickEvaluationError(
            f"{where} returned both RunRequests and a SkipReason; return SkipReason only when "
            f"launching nothing"
        )
    if len(skips) > 1:
        raise TickEvaluationError(f"{where} returned {len(skips)} SkipReasons; return one")
    return requests, (skips[0].skip_message if skips else None), sensor_result


def attach_job_names(where: str, requests: list[RunRequest], target: Target) -> list[RunRequest]:
    """Fill in each request's job from the instigator's target, checking it may launch it."""
    names = target.job_names
    out: list[RunRequest] = []
    for request in requests:
        if request.job_name is None:
            if len(names) != 1:
                raise TickEvaluationError(
                    f"{where} returned a RunRequest without job_name, but it targets "
                    + (f"several jobs ({', '.join(names)})" if names else "no job")
                    + "; set RunRequest(job_name=...)"
                    + ("" if names else " and give it job=, jobs= or target=")
                )
            request = request.with_changes(job_name=names[0])
        elif request.job_name not in names:
            raise TickEvaluationError(
                f"{where} returned a RunRequest for job '{request.job_name}', which it does not "
                f"target; its jobs are {', '.join(names) or 'none'} (add it with jobs=[...])"
            )
        out.append(request)
    return out
