"""@job and OpJobDefinition: an op graph with the resources and config its runs get."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any

from weir._errors import ConfigError, DefinitionError
from weir._execution.events import EventType, WeirEvent
from weir._execution.executor import set_up_resources
from weir._execution.result import ExecuteInProcessResult
from weir._jobs import JobDefinition
from weir._ops.compose import GraphDefinition, compose
from weir._ops.execute import OpRun, execute_graph
from weir._retries import RetryPolicy
from weir._run_config import (
    RunConfig,
    as_config_dict,
    configured_resources,
    invalid_config,
    op_config_values,
)
from weir._signature import read_params
from weir._specs import validate_name

if TYPE_CHECKING:
    from weir._definitions import Definitions


class OpJobDefinition(JobDefinition):
    """A job that runs an op graph, made by `@job` or `graph.to_job()`.

    It materializes no assets of the code location, so it selects none of them.
    """

    def __init__(
        self,
        name: str,
        graph: GraphDefinition,
        *,
        resource_defs: Mapping[str, Any] | None = None,
        config: RunConfig | Mapping[str, Any] | None = None,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
        run_tags: Mapping[str, str] | None = None,
        metadata: Mapping[str, Any] | None = None,
        op_retry_policy: RetryPolicy | None = None,
    ):
        super().__init__(
            name,
            config=as_config_dict(config) if config is not None else None,
            description=description or graph.description,
            tags=tags,
            run_tags=run_tags,
            metadata=metadata,
            op_retry_policy=op_retry_policy,
        )
        self.graph = graph
        self.op_graph = graph  # the same, typed as always present
        self.resource_defs = dict(resource_defs or {})

    def resolve_keys(self, graph: Any) -> set[Any]:
        return set()

    def bound_to(self, definitions: Definitions) -> OpJobDefinition:
        """This job with the Definitions' resources filling in those it does not bind."""
        bound = copy.copy(self)
        bound.resource_defs = {**definitions.resources, **self.resource_defs}
        return bound

    def execute_in_process(
        self,
        run_config: RunConfig | Mapping[str, Any] | None = None,
        *,
        resources: Mapping[str, Any] | None = None,
        raise_on_error: bool = True,
        run_id: str | None = None,
        tags: Mapping[str, str] | None = None,
        partition_key: str | None = None,
    ) -> ExecuteInProcessResult:
        """Run the graph in this process and return every event and output.

        >>> from weir._ops.op import op
        >>> @op
        ... def hello() -> str:
        ...     return "hi"
        >>> @job
        ... def greet():
        ...     hello()
        >>> greet.execute_in_process().output_for_node("hello")
        'hi'
        """
        config = as_config_dict(run_config if run_config is not None else self.config)
        bound = configured_resources({**self.resource_defs, **(resources or {})}, config)
        self._check_resources(bound)
        events: list[WeirEvent] = []
        run = OpRun(
            run_id=run_id or str(uuid.uuid4()),
            job_name=self.name,
            resources=bound,
            configs=op_configs(self.op_graph, config),
            emit=events.append,
            tags={**self.run_tags, **(tags or {})},
            partition_key=partition_key,
            input_values=op_input_values(self.op_graph, config),
            default_retry_policy=self.op_retry_policy,
        )
        emit = events.append
        emit(WeirEvent(EventType.RUN_START, run.run_id, message=f"Started run of {self.name}"))
        with ExitStack() as stack:
            run.resources = set_up_resources(
                bound, sorted(self.op_graph.required_resource_keys), stack
            )
            outcome = execute_graph(self.op_graph, {}, run, stop_on_error=raise_on_error)
        if outcome.failed:
            failed = ", ".join(outcome.failed)
            emit(WeirEvent(EventType.RUN_FAILURE, run.run_id, message=f"Steps failed: {failed}"))
        else:
            emit(WeirEvent(EventType.RUN_SUCCESS, run.run_id, message="Finished run"))
        if raise_on_error and outcome.first_error is not None:
            raise outcome.first_error
        outputs = {(h.node, h.output): value for h, value in outcome.values.items()}
        return ExecuteInProcessResult(run.run_id, not outcome.failed, events, outputs, {})

    def _check_resources(self, bound: Mapping[str, Any]) -> None:
        missing = sorted(self.op_graph.required_resource_keys - set(bound))
        if missing:
            raise DefinitionError(
                f"Job '{self.name}' needs resources {missing}, which are not bound; pass "
                f"@job(resource_defs={{...}}), Definitions(resources={{...}}) or "
                f"execute_in_process(resources={{...}})"
            )

    def __repr__(self) -> str:
        return f"<OpJobDefinition {self.name}: {len(self.op_graph.nodes)} ops>"


def op_configs(
    graph: GraphDefinition, config: Mapping[str, Any], outer: str = ""
) -> dict[str, Any]:
    """Each node's config from ``config["ops"]``, validated against the op's Config class.

    A nested graph's node ``inner.op`` reads ``{"ops": {"inner": {"ops": {"op": ...}}}}``;
    `outer` names the graph asset whose ops these are, for messages.
    """
    ops = config.get("ops") or {}
    _check_known(ops, {n.name for n in graph.nodes}, outer)
    out: dict[str, Any] = {}
    for node in graph.nodes:
        entry = _entry(ops, node.name.split("."))
        config_type: Any = node.op.params.config_type
        values = op_config_values(entry) if entry is not None else {}
        if config_type is None:
            if entry is not None:
                out[node.name] = values
            continue
        try:
            out[node.name] = config_type.model_validate(values)
        except Exception as exc:  # pydantic.ValidationError, kept lazy
            raise invalid_config(f"{outer}.{node.name}" if outer else node.name, exc) from None
    return out


def op_input_values(graph: GraphDefinition, config: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """``run_config["ops"][node]["inputs"]``: values for inputs the job leaves unwired."""
    ops = config.get("ops") or {}
    out: dict[str, dict[str, Any]] = {}
    for node in graph.nodes:
        entry = _entry(ops, node.name.split("."))
        given = entry.get("inputs") if isinstance(entry, Mapping) else None
        if not given:
            continue
        unwired = [n for n in node.op.params.input_params if n not in node.inputs]
        wrong = sorted(set(given) - set(unwired))
        if wrong:
            raise ConfigError(
                f"run_config gives inputs {wrong} of op '{node.name}', which are wired to "
                f"other ops or do not exist; its unwired inputs are {unwired}"
            )
        out[node.name] = dict(given)
    return out


def _entry(ops: Mapping[str, Any], parts: list[str]) -> Any:
    entry: Any = ops.get(parts[0])
    for part in parts[1:]:
        entry = ((entry or {}).get("ops") or {}).get(part) if isinstance(entry, Mapping) else None
    return entry


def _check_known(ops: Mapping[str, Any], names: set[str], prefix: str) -> None:
    heads = {n.split(".")[0] for n in names}
    unknown = sorted(set(ops) - heads)
    if unknown:
        where = f" of graph '{prefix}'" if prefix else ""
        raise ConfigError(
            f"run_config configures ops {unknown}{where}, which are not in this job; its ops "
            f"are {sorted(heads)}"
        )
    for head in heads:
        inner = {n.split(".", 1)[1] for n in names if n.startswith(f"{head}.")}
        entry = ops.get(head)
        if inner and isinstance(entry, Mapping) and isinstance(entry.get("ops"), Mapping):
            _check_known(entry["ops"], inner, head)


def job(
    fn: Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    resource_defs: Mapping[str, Any] | None = None,
    config: RunConfig | Mapping[str, Any] | None = None,
    description: str | None = None,
    tags: Mapping[str, str] | None = None,
    run_tags: Mapping[str, str] | None = None,
    metadata: Mapping[str, Any] | None = None,
    op_retry_policy: RetryPolicy | None = None,
) -> Any:
    """Wire ops into a job by calling them in the decorated function.

    `resource_defs` binds resources for its runs (a Definitions' resources fill in the
    rest); `config` is the run config used when a run gives none; `op_retry_policy`
    retries the ops that declare no retry policy of their own.
    """

    def build(func: Callable[..., Any]) -> OpJobDefinition:
        job_name = validate_name(name or func.__name__, "Job name")
        params = read_params(func, f"job '{job_name}'")
        if params.input_params:
            raise DefinitionError(
                f"Job '{job_name}' takes parameters {sorted(params.input_params)}; a job has no "
                "inputs: give its ops config, or make it a @graph"
            )
        graph = compose(func, job_name, [])
        if graph.outputs:
            raise DefinitionError(
                f"Job '{job_name}' returns op outputs; a job has no outputs, so wire the ops "
                "without returning them (or make it a @graph)"
            )
        return OpJobDefinition(
            job_name,
            graph,
            resource_defs=resource_defs,
            config=config,
            description=description or func.__doc__,
            tags=tags,
            run_tags=run_tags,
            metadata=metadata,
            op_retry_policy=op_retry_policy,
        )

    return build(fn) if fn is not None else build
