"""Runs one step: load inputs, call the user's function, check and store outputs, emit events."""

from __future__ import annotations

import os
import time
import traceback
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypedDict

from weir._assets import DEFAULT_IO_MANAGER_KEY, AssetsDefinition
from weir._checks import AssetChecksDefinition
from weir._context import AssetExecutionContext, RunLog
from weir._errors import CheckFailedError, StepError, TypeCheckError, UnselectedOutputError
from weir._execution.events import (
    AssetCheckEvaluation,
    AssetMaterialization,
    ErrorInfo,
    EventType,
    StepFailureData,
    StepRetryData,
    WeirEvent,
)
from weir._execution.partition_inputs import step_partitions, upstream_partitions
from weir._execution.plan import ExecutionStep, StepKind
from weir._execution.typecheck import check_value, json_schema_for, unwrap_output_hint
from weir._graph import AssetGraph
from weir._io import InputContext, OutputContext
from weir._key import AssetKey
from weir._metadata import MetadataValue, normalize_metadata
from weir._results import AssetCheckResult, AssetCheckSeverity, MaterializeResult, Output
from weir._retries import RetryPolicy, RetryRequested, retry_delay

_OWN_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class StepStatus(StrEnum):
    SUCCESS = "SUCCESS"
    FAILURE = "FAILURE"


@dataclass
class StepOutcome:
    status: StepStatus
    exception: BaseException | None = None
    produced: tuple[AssetKey, ...] = ()


@dataclass
class RunScope:
    """What every step of one run shares."""

    run_id: str
    partition_key: str | None
    resources: Mapping[str, Any]
    configs: Mapping[str, Any]  # node name -> validated Config instance
    emit: Callable[[WeirEvent], None]
    tags: Mapping[str, str] = field(default_factory=dict)
    io_manager_key_of: Callable[[AssetKey], str] = lambda key: DEFAULT_IO_MANAGER_KEY
    partitions_def_of: Callable[[AssetKey], Any] = lambda key: None
    # The upstream output an input reads, as its InputContext.upstream_output names it.
    output_name_of: Callable[[AssetKey], str] = lambda key: "result"
    captured_outputs: dict[tuple[str, str], Any] | None = None  # in-process results only
    default_retry_policy: RetryPolicy | None = None  # the job's, for steps declaring none

    def log_emitter(self) -> Callable[[str, int, str], None]:
        run_id, emit = self.run_id, self.emit

        def emit_log(step_key: str, level: int, text: str) -> None:
            emit(WeirEvent(EventType.LOG, run_id, step_key or None, text, level=level))

        return emit_log


class GraphLookups(TypedDict):
    """The RunScope fields that look an asset up in the run's asset graph."""

    io_manager_key_of: Callable[[AssetKey], str]
    partitions_def_of: Callable[[AssetKey], Any]
    output_name_of: Callable[[AssetKey], str]


def graph_lookups(graph: AssetGraph) -> GraphLookups:
    """`RunScope(..., **graph_lookups(graph))`: assets looked up in `graph`."""
    return {
        "io_manager_key_of": lambda key: graph.assets_def_by_key[key].io_manager_key_for(key),
        "partitions_def_of": lambda key: graph.specs[key].partitions_def,
        "output_name_of": lambda key: graph.assets_def_by_key[key].output_names.get(key, "result"),
    }


def error_info(exc: BaseException) -> ErrorInfo:
    """The error as text, its stack limited to the user's frames."""
    tb = traceback.TracebackException.from_exception(exc)
    frames = [f for f in tb.stack if not f.filename.startswith(_OWN_DIR)]
    stack = "".join(traceback.StackSummary.from_list(frames).format())
    cause = exc.__cause__ or exc.__context__
    return ErrorInfo(
        message=str(exc),
        cls_name=type(exc).__name__,
        stack=stack,
        cause=error_info(cause) if cause is not None and cause is not exc else None,
    )


def execute_step(step: ExecutionStep, run: RunScope) -> StepOutcome:
    """Run `step`, retried by its RetryPolicy or a RetryRequested it raises; every outcome
    is reported as events."""
    policy = getattr(step.definition, "retry_policy", None) or run.default_retry_policy
    run.emit(WeirEvent(EventType.STEP_START, run.run_id, step.key, f"Started {step.key}"))
    retries = 0
    while True:
        try:
            if step.kind is StepKind.ASSET:
                produced = _run_asset_step(step, run)
            else:
                produced = _run_check_step(step, run)
        except Exception as exc:
            # Type and check failures are verdicts, not flakes: retrying cannot fix them.
            retryable = not isinstance(exc, (TypeCheckError, CheckFailedError))
            wait = retry_delay(exc, policy, retries) if retryable else None
            if wait is not None:
                retries += 1
                run.emit(up_for_retry_event(run.run_id, step.key, exc, retries, wait))
                time.sleep(wait)
                continue
            failure = retries_exhausted(exc, step.key)
            info = error_info(failure)
            run.emit(
                WeirEvent(
                    EventType.STEP_FAILURE,
                    run.run_id,
                    step.key,
                    f"{step.key} failed: {info.cls_name}: {info.message}",
                    StepFailureData(info),
                )
            )
            return StepOutcome(StepStatus.FAILURE, failure)
        run.emit(WeirEvent(EventType.STEP_SUCCESS, run.run_id, step.key, f"Finished {step.key}"))
        return StepOutcome(StepStatus.SUCCESS, produced=produced)


def up_for_retry_event(
    run_id: str, step_key: str, error: BaseException, retry: int, wait: float
) -> WeirEvent:
    reason = "requested a retry" if isinstance(error, RetryRequested) else "failed"
    return WeirEvent(
        EventType.STEP_UP_FOR_RETRY,
        run_id,
        step_key,
        f"{step_key} {reason} ({type(error).__name__}: {error}); retry {retry} in {wait:.3g}s",
        StepRetryData(error_info(error), wait),
    )


def retries_exhausted(error: BaseException, step_key: str) -> BaseException:
    """The error a step fails with: a RetryRequested past its limit says so, with the
    error that led to it as the cause."""
    if not isinstance(error, RetryRequested):
        return error
    failure = StepError(
        f"'{step_key}' exceeded max_retries of {error.max_retries} requested with RetryRequested",
        step_key,
    )
    failure.__cause__ = error.__cause__
    return failure


def _call_kwargs(
    definition: AssetsDefinition | AssetChecksDefinition,
    step: ExecutionStep,
    run: RunScope,
    context_keys: tuple[AssetKey, ...],
) -> tuple[dict[str, Any], AssetExecutionContext | None]:
    params = definition.params
    kwargs: dict[str, Any] = {}
    context = None
    if params.context_param:
        partitions = step_partitions(definition, run)
        context = AssetExecutionContext(
            run_id=run.run_id,
            node_name=step.key,
            asset_keys=context_keys,
            partition_key=partitions.typed_key(run.partition_key),
            resources=run.resources,
            log=RunLog(run.log_emitter(), step.key),
            op_config=run.configs.get(definition.node_name),
            run_tags=run.tags,
            output_names=definition.output_names
            if isinstance(definition, AssetsDefinition)
            else None,
            partitions=partitions,
        )
        kwargs[params.context_param] = context
    if params.config_param:
        kwargs[params.config_param] = run.configs[definition.node_name]
    for param, resource_key in params.resource_params.items():
        kwargs[param] = run.resources[resource_key]
    for param, hint in params.input_params.items():
        upstream = definition.input_keys[param]
        value = _load_input(step, run, param, upstream, definition)
        if hint is not None:
            check_value(hint, value, what=f"Input '{param}' of '{step.key}'")
        kwargs[param] = value
    return kwargs, context


def _load_input(
    step: ExecutionStep,
    run: RunScope,
    param: str,
    upstream: AssetKey,
    definition: AssetsDefinition | AssetChecksDefinition,
) -> Any:
    io_manager = run.resources[run.io_manager_key_of(upstream)]
    metadata = getattr(definition, "input_metadata", {}).get(param, {})
    keys = upstream_partitions(definition, upstream, run)

    def context(partition_key: str | None) -> InputContext:
        # What the upstream step's OutputContext said, for I/O managers that read it back.
        stored = OutputContext(
            upstream, run.output_name_of(upstream), partition_key=partition_key, run_id=run.run_id
        )
        return InputContext(
            upstream, param, partition_key, run.run_id, metadata, upstream_output=stored,
            step_key=step.key,
        )  # fmt: skip

    if keys is None or isinstance(keys, str):
        return io_manager.load_input(context(keys))
    return {pk: io_manager.load_input(context(pk)) for pk in keys}


def _invoke(fn: Callable[..., Any], kwargs: dict[str, Any], is_generator: bool) -> list[Any]:
    result = fn(**kwargs)
    if is_generator or isinstance(result, Iterator):
        return list(result)
    return [result]


def _invoke_keeping_yields(
    fn: Callable[..., Any], kwargs: dict[str, Any], is_generator: bool
) -> tuple[list[Any], Exception | None]:
    """What `fn` returned or yielded, and the exception a generator raised after its
    yields: what it yielded before failing still happened (dbt built some models)."""
    result = fn(**kwargs)
    if not (is_generator or isinstance(result, Iterator)):
        return [result], None
    items: list[Any] = []
    try:
        for item in result:
            items.append(item)
    except Exception as error:
        return items, error
    return items, None


def _run_asset_step(step: ExecutionStep, run: RunScope) -> tuple[AssetKey, ...]:
    ad = step.definition
    assert isinstance(ad, AssetsDefinition) and ad.fn is not None
    kwargs, context = _call_kwargs(ad, step, run, step.asset_keys)
    returned, error = _invoke_keeping_yields(ad.fn, kwargs, ad.params.is_generator)
    outputs, check_results = _sort_outputs(ad, step, returned)
    produced: list[AssetKey] = []
    extra = context.output_metadata if context is not None else {}
    for key, (value, metadata, store) in outputs.items():
        materialize_metadata = dict(metadata)
        if key in extra:
            materialize_metadata.update(normalize_metadata(extra[key]))
        if store:
            hint = unwrap_output_hint(ad.params.return_hint) if len(ad.specs) == 1 else None
            if hint is not None:
                check_value(hint, value, what=f"Asset '{key.to_user_string()}'")
                schema = json_schema_for(hint)
                if schema is not None:
                    materialize_metadata.setdefault("json_schema", MetadataValue.json(schema))
            materialize_metadata.update(_store(ad, key, value, run, materialize_metadata))
            if run.captured_outputs is not None:
                run.captured_outputs[(step.key, ad.output_names[key])] = value
        run.emit(
            WeirEvent(
                EventType.ASSET_MATERIALIZATION,
                run.run_id,
                step.key,
                f"Materialized {key.to_user_string()}",
                AssetMaterialization(
                    key, partition=run.partition_key, metadata=materialize_metadata
                ),
            )
        )
        produced.append(key)
    if error is not None:
        _report_own_checks(ad, step, run, check_results)
        raise error
    missing = [k for k in step.asset_keys if k in ad.required_outputs and k not in outputs]
    if missing:
        names = ", ".join(k.to_user_string() for k in missing)
        raise StepError(f"'{step.key}' did not produce required asset(s) {names}", step.key)
    _report_own_checks(ad, step, run, check_results)
    return tuple(produced)


_Output = tuple[Any, dict[str, MetadataValue], bool]  # value, metadata, store with I/O manager


def _sort_outputs(
    ad: AssetsDefinition, step: ExecutionStep, returned: list[Any]
) -> tuple[dict[AssetKey, _Output], list[AssetCheckResult]]:
    outputs: dict[AssetKey, _Output] = {}
    checks: list[AssetCheckResult] = []
    single = len(ad.specs) == 1
    by_name = ad.keys_by_output_name
    if not single and len(returned) == 1 and isinstance(returned[0], tuple):
        values = returned[0]
        if len(values) != len(ad.specs):
            raise StepError(
                f"'{step.key}' returned {len(values)} values for {len(ad.specs)} assets; return "
                "one per AssetOut, in order, or yield Output(value, output_name=...)",
                step.key,
            )
        returned = [
            v if isinstance(v, (Output, MaterializeResult)) else Output(v, ad.output_names[k])
            for k, v in zip(ad.keys, values, strict=True)
        ]
    for item in returned:
        if isinstance(item, AssetCheckResult):
            checks.append(item)
        elif isinstance(item, MaterializeResult):
            key = item.asset_key or (ad.keys[0] if single else None)
            if key is None or key not in ad.specs_by_key:
                raise StepError(
                    f"'{step.key}' returned a MaterializeResult without a valid asset_key; "
                    f"set asset_key to one of {[k.to_user_string() for k in ad.keys]}",
                    step.key,
                )
            outputs[key] = (item.value, dict(item.metadata), item.value is not None)
            checks.extend(item.check_results)
        elif isinstance(item, Output):
            key = ad.keys[0] if single else by_name.get(item.output_name)
            if key is None:
                raise StepError(
                    f"'{step.key}' yielded an Output named {item.output_name!r}; its outputs "
                    f"are {sorted(by_name)}",
                    step.key,
                )
            outputs[key] = (item.value, dict(item.metadata), True)
        elif single:
            store = not (item is None and ad.params.return_hint is type(None))
            outputs[ad.keys[0]] = (item, {}, store)
        elif item is not None:
            raise StepError(
                f"'{step.key}' produces several assets; return a tuple with one value per "
                f"asset or yield Output(value, output_name=...), got {type(item).__name__}",
                step.key,
            )
    _refuse_unselected(ad, step, outputs)
    return outputs, checks


def _refuse_unselected(
    ad: AssetsDefinition, step: ExecutionStep, outputs: Mapping[AssetKey, Any]
) -> None:
    """A subset run of a multi-asset stores only what it selected: an output outside the
    selection fails the step before anything is stored, as the function misread it."""
    unselected = [k for k in outputs if k not in step.asset_keys]
    if unselected:
        selected = sorted(ad.output_names[k] for k in step.asset_keys)
        raise UnselectedOutputError(
            f"'{step.key}' returned an output '{ad.output_names[unselected[0]]}' that is not "
            f"selected in this run; the selected outputs are {selected}: yield only "
            "context.selected_output_names",
            step.key,
        )


def _store(
    ad: AssetsDefinition, key: AssetKey, value: Any, run: RunScope, metadata: dict[str, Any]
) -> Mapping[str, MetadataValue]:
    io_manager = run.resources[ad.io_manager_key_for(key)]
    ctx = OutputContext(
        asset_key=key,
        step_key=ad.node_name,
        name=ad.output_names[key],
        partition_key=run.partition_key,
        run_id=run.run_id,
        metadata=metadata,
        definition_metadata=ad.specs_by_key[key].metadata,
    )
    io_manager.handle_output(ctx, value)
    return normalize_metadata(ctx._added_metadata)


def _emit_check(
    run: RunScope,
    step: ExecutionStep,
    asset_key: AssetKey,
    check_name: str,
    blocking: bool,
    result: AssetCheckResult,
) -> None:
    run.emit(
        WeirEvent(
            EventType.ASSET_CHECK_EVALUATION,
            run.run_id,
            step.key,
            f"Check {asset_key.to_user_string()}:{check_name} "
            f"{'passed' if result.passed else 'failed'}",
            AssetCheckEvaluation(
                asset_key,
                check_name,
                result.passed,
                result.severity,
                result.metadata,
                result.description,
                blocking,
                run.partition_key,
            ),
        )
    )


def _blocks(result: AssetCheckResult, blocking: bool) -> bool:
    return blocking and not result.passed and result.severity is AssetCheckSeverity.ERROR


def _report_own_checks(
    ad: AssetsDefinition, step: ExecutionStep, run: RunScope, results: list[AssetCheckResult]
) -> None:
    specs = {(s.asset_key, s.name): s for s in ad.check_specs}
    failed: list[str] = []
    for result in results:
        key = result.asset_key or (ad.keys[0] if len(ad.keys) == 1 else None)
        name = result.check_name or (ad.check_specs[0].name if len(ad.check_specs) == 1 else None)
        spec = specs.pop((key, name), None) if key and name else None
        if spec is None:
            declared = [f"{k.to_user_string()}:{n}" for k, n in specs] or ["none"]
            raise StepError(
                f"'{step.key}' returned a check result for an undeclared check "
                f"({key and key.to_user_string()}:{name}); declare it with "
                f"check_specs=[AssetCheckSpec(...)] (remaining declared: {', '.join(declared)})",
                step.key,
            )
        _emit_check(run, step, spec.asset_key, spec.name, spec.blocking, result)
        if _blocks(result, spec.blocking):
            failed.append(spec.name)
    for spec in specs.values():
        run.emit(
            WeirEvent(
                EventType.LOG,
                run.run_id,
                step.key,
                f"Check '{spec.name}' declared on '{step.key}' returned no result",
                level=30,
            )
        )
    if failed:
        raise CheckFailedError(f"Blocking check(s) failed: {', '.join(failed)}", step.key)


def _run_check_step(step: ExecutionStep, run: RunScope) -> tuple[AssetKey, ...]:
    cd = step.definition
    assert isinstance(cd, AssetChecksDefinition)
    kwargs, _ = _call_kwargs(cd, step, run, (cd.asset_key,))
    returned = _invoke(cd.fn, kwargs, cd.params.is_generator)
    results = [r for r in returned if isinstance(r, AssetCheckResult)]
    if len(results) != 1 or len(returned) != 1:
        got = ", ".join(type(r).__name__ for r in returned)
        raise StepError(
            f"Asset check '{cd.spec.name}' must return one AssetCheckResult, got {got}", step.key
        )
    result = results[0]
    _emit_check(run, step, cd.asset_key, cd.spec.name, cd.spec.blocking, result)
    if _blocks(result, cd.spec.blocking):
        raise CheckFailedError(
            f"Blocking check '{cd.spec.name}' on '{cd.asset_key.to_user_string()}' failed"
            + (f": {result.description}" if result.description else ""),
            step.key,
        )
    return ()
