"""Runs an op graph in this process: each node after its inputs, values kept in memory.

Op jobs run their graph here with step events; a graph asset runs its graph here as the
body of its one asset step.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from weir._context import RunLog
from weir._errors import StepError, TypeCheckError
from weir._execution.events import (
    AssetMaterialization,
    EventType,
    StepFailureData,
    WeirEvent,
)
from weir._execution.step import error_info, retries_exhausted, up_for_retry_event
from weir._execution.typecheck import check_value
from weir._ops.compose import GraphDefinition, GraphInput, Node, NodeOutput
from weir._ops.context import OpExecutionContext
from weir._results import Output
from weir._retries import RetryPolicy, retry_delay


@dataclass
class OpRun:
    """What every node of one graph run shares."""

    run_id: str
    job_name: str
    resources: Mapping[str, Any]
    configs: Mapping[str, Any]  # node name -> validated Config (or raw config of a plain op)
    emit: Callable[[WeirEvent], None]
    tags: Mapping[str, str] = field(default_factory=dict)
    partition_key: str | None = None
    log: RunLog | None = None  # a graph asset's nodes log through the asset's step
    # node -> values for inputs the graph leaves unwired, from run_config["ops"][node]["inputs"]
    input_values: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    default_retry_policy: RetryPolicy | None = None  # the job's, for ops declaring none
    step_events: bool = True


@dataclass
class GraphOutcome:
    values: dict[NodeOutput, Any]
    failed: list[str]
    first_error: BaseException | None


def execute_graph(
    graph: GraphDefinition, inputs: Mapping[str, Any], run: OpRun, *, stop_on_error: bool
) -> GraphOutcome:
    """Run every node of `graph`. A failed node skips the nodes downstream of it; with
    `stop_on_error` the run stops at the first failure."""
    values: dict[NodeOutput, Any] = {}
    not_run: set[str] = set()  # failed or skipped
    outcome = GraphOutcome(values, [], None)
    for node in graph.nodes:
        upstream = {
            b.node for b in (*node.inputs.values(), *node.after) if isinstance(b, NodeOutput)
        }
        if upstream & not_run or (outcome.failed and stop_on_error):
            not_run.add(node.name)
            _event(run, EventType.STEP_SKIPPED, node.name, f"Skipped {node.name}")
            continue
        _event(run, EventType.STEP_START, node.name, f"Started {node.name}")
        try:
            values.update(_run_with_retries(node, inputs, values, run))
        except Exception as exc:
            not_run.add(node.name)
            outcome.failed.append(node.name)
            outcome.first_error = outcome.first_error or exc
            info = error_info(exc)
            _event(
                run,
                EventType.STEP_FAILURE,
                node.name,
                f"{node.name} failed: {info.cls_name}: {info.message}",
                StepFailureData(info),
            )
            continue
        _event(run, EventType.STEP_SUCCESS, node.name, f"Finished {node.name}")
    return outcome


def _run_with_retries(
    node: Node, inputs: Mapping[str, Any], values: Mapping[NodeOutput, Any], run: OpRun
) -> dict[NodeOutput, Any]:
    """`_run_node`, again after the wait its RetryPolicy or a RetryRequested asks for."""
    retries = 0
    while True:
        try:
            return _run_node(node, inputs, values, run)
        except Exception as exc:
            error = exc
        retryable = not isinstance(error, TypeCheckError)
        policy = node.op.retry_policy or run.default_retry_policy
        wait = retry_delay(error, policy, retries) if retryable else None
        if wait is None:
            raise retries_exhausted(error, node.name)
        retries += 1
        if run.step_events:
            run.emit(up_for_retry_event(run.run_id, node.name, error, retries, wait))
        time.sleep(wait)


def _event(run: OpRun, kind: EventType, step: str, message: str, data: Any = None) -> None:
    if run.step_events:
        run.emit(WeirEvent(kind, run.run_id, step, message, data))


def _run_node(
    node: Node, inputs: Mapping[str, Any], values: Mapping[NodeOutput, Any], run: OpRun
) -> dict[NodeOutput, Any]:
    op = node.op
    params = op.params
    kwargs: dict[str, Any] = {}
    if params.context_param:
        log = run.log or RunLog(_log_emitter(run), node.name)
        config = run.configs.get(node.name)
        kwargs[params.context_param] = OpExecutionContext(
            run_id=run.run_id,
            node_name=node.name,
            job_name=run.job_name,
            resources=run.resources,
            log=log,
            op_config=_as_dict(config),
            run_tags=run.tags,
            partition_key=run.partition_key,
        )
    if params.config_param:
        kwargs[params.config_param] = run.configs[node.name]
    for param in params.resource_params:
        kwargs[param] = run.resources[param]
    for param in params.input_params:
        binding = node.inputs.get(param)
        if binding is None:  # unwired: from run config, else the input's default
            value = run.input_values.get(node.name, {}).get(param, op.input_defaults.get(param))
        elif isinstance(binding, GraphInput):
            value = inputs[binding.name]
        else:
            value = values[binding]
        hint = op.input_hint(param)
        if hint is not None:
            check_value(hint, value, what=f"Input '{param}' of op '{node.name}'")
        kwargs[param] = value
    returned = op.fn(**kwargs)
    items = list(returned) if params.is_generator or isinstance(returned, Iterator) else [returned]
    return _outputs(node, items, run)


def _outputs(node: Node, items: list[Any], run: OpRun) -> dict[NodeOutput, Any]:
    op = node.op
    names = list(op.outs)
    produced: dict[str, Any] = {}
    returned: list[Any] = []  # a plain return value (a generator yields Outputs instead)
    for item in items:
        if isinstance(item, AssetMaterialization):
            reported = _reported(item, run)
            _event(
                run,
                EventType.ASSET_MATERIALIZATION,
                node.name,
                f"Materialized {reported.asset_key.to_user_string()}",
                reported,
            )
        elif isinstance(item, Output):
            if item.output_name not in op.outs:
                raise StepError(
                    f"Op '{node.name}' yielded an Output named "
                    f"{item.output_name!r}; its outputs are {names}",
                    node.name,
                )
            produced[item.output_name] = item.value
        else:
            returned.append(item)
    for value in returned:
        if len(names) == 1:
            produced.setdefault(names[0], value)
        elif isinstance(value, tuple) and len(value) == len(names):
            produced.update(zip(names, value, strict=True))
        elif value is not None:
            raise StepError(
                f"Op '{node.name}' has outputs {names}; return a tuple with one value per "
                f"output, in order, or yield Output(value, output_name=...)",
                node.name,
            )
    missing = [n for n in names if n not in produced and op.outs[n].is_required]
    if missing:
        raise StepError(f"Op '{node.name}' did not produce required output(s) {missing}", node.name)
    for name, value in produced.items():
        hint = op.output_hint(name)
        if hint is not None:
            check_value(hint, value, what=f"Output '{name}' of op '{node.name}'")
    return {NodeOutput(node.name, name): value for name, value in produced.items()}


def _reported(item: AssetMaterialization, run: OpRun) -> AssetMaterialization:
    """A materialization an op yielded, for the run's partition unless it names one."""
    if item.partition is not None or run.partition_key is None:
        return item
    return replace(item, partition=run.partition_key)


def _log_emitter(run: OpRun) -> Callable[[str, int, str], None]:
    def emit_log(step_key: str, level: int, text: str) -> None:
        run.emit(WeirEvent(EventType.LOG, run.run_id, step_key or None, text, level=level))

    return emit_log


def _as_dict(config: Any) -> Any:
    """``context.op_config`` is the config as a dict, as Dagster gives it, for Config too."""
    dump = getattr(config, "model_dump", None)
    return dump() if callable(dump) else config
