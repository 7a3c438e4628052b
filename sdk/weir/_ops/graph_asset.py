"""@graph_asset and @graph_multi_asset: assets computed by an op graph.

The graph runs as the body of the asset's one step, its ops in order and their values in
memory; upstream assets come in as the graph's inputs, as for @asset.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from weir._assets import AssetsDefinition, _asset_key, _input_deps, _merge_deps
from weir._errors import DefinitionError
from weir._key import AssetKey, CoercibleToAssetKey
from weir._ops.compose import GraphDefinition, NodeOutput, compose
from weir._ops.execute import OpRun, execute_graph
from weir._ops.job import op_configs
from weir._signature import FunctionParams, read_params
from weir._specs import AssetDep, AssetIn, AssetOut, AssetSpec, validate_name


def _graph_body(
    graph: GraphDefinition, results: Sequence[NodeOutput], inputs: Sequence[str]
) -> Callable[..., Any]:
    """The asset step's function: run the graph on the upstream values, return its output(s)."""

    def run_graph(context: Any, **kwargs: Any) -> Any:
        resources = {k: v for k, v in kwargs.items() if k not in inputs}
        run = OpRun(
            run_id=context.run_id,
            job_name=graph.name,
            resources=resources,
            configs=context.op_config,  # validated before the run by the graph's config type
            emit=lambda event: None,  # the asset step reports; its ops log through it
            partition_key=context.partition_key if context.has_partition_key else None,
            log=context.log,
            step_events=False,
        )
        outcome = execute_graph(graph, {n: kwargs[n] for n in inputs}, run, stop_on_error=True)
        if outcome.first_error is not None:
            raise outcome.first_error
        values = tuple(outcome.values[r] for r in results)
        return values[0] if len(values) == 1 else values

    return run_graph


class GraphOpsConfig:
    """The config type of a graph asset's step: ``{"ops": {op: {"config": {...}}}}`` validated
    against each inner op's Config, as run config validation does for a Config class."""

    graph: GraphDefinition

    @classmethod
    def model_validate(cls, values: Mapping[str, Any]) -> dict[str, Any]:
        return op_configs(cls.graph, values, outer=cls.graph.name)


def _step_params(graph: GraphDefinition, inputs: Sequence[str]) -> FunctionParams:
    config_type = type(f"{graph.name}_ops_config", (GraphOpsConfig,), {"graph": graph})
    return FunctionParams(
        context_param="context",
        config_type=config_type,
        resource_params={key: key for key in sorted(graph.required_resource_keys)},
        input_params=dict.fromkeys(inputs),
    )


def graph_asset(
    fn: Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    key: CoercibleToAssetKey | None = None,
    key_prefix: str | Sequence[str] | None = None,
    ins: Mapping[str, AssetIn] | None = None,
    deps: Sequence[Any] | None = None,
    group_name: str | None = None,
    description: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    tags: Mapping[str, str] | None = None,
    owners: Sequence[str] | None = None,
    kinds: Sequence[str] | None = None,
    code_version: str | None = None,
    partitions_def: Any = None,
    automation_condition: Any = None,
) -> Any:
    """Declare an asset computed by the op graph the decorated function wires.

    >>> from weir._ops.op import op
    >>> @op
    ... def clean(rows: list[int]) -> list[int]:
    ...     return [r for r in rows if r >= 0]
    >>> @graph_asset
    ... def cleaned_rows(raw_rows):
    ...     return clean(raw_rows)
    >>> cleaned_rows.key
    AssetKey(['cleaned_rows'])
    """

    def build(func: Callable[..., Any]) -> AssetsDefinition:
        asset_key = _asset_key(name, key, key_prefix, func.__name__)
        where = f"graph_asset '{asset_key.to_user_string()}'"
        node_name = asset_key.to_python_identifier()
        params = read_params(func, where)
        inputs = list(params.input_params)
        graph = compose(func, node_name, inputs)
        if len(graph.outputs) != 1:
            raise DefinitionError(f"{where} must return the output of one op, the asset's value")
        input_keys, input_metadata, input_deps = _input_deps(params, ins or {}, where)
        spec = AssetSpec(
            asset_key,
            deps=_merge_deps(input_deps, (AssetDep.coerce(d) for d in deps or ())),
            description=description or func.__doc__,
            metadata=metadata,
            group_name=group_name,
            code_version=code_version,
            automation_condition=automation_condition,
            owners=owners,
            tags=tags,
            kinds=kinds,
            partitions_def=partitions_def,
        )
        return AssetsDefinition(
            node_name=node_name,
            specs=[spec],
            fn=_graph_body(graph, list(graph.outputs.values()), inputs),
            params=_step_params(graph, inputs),
            input_keys=input_keys,
            input_metadata=input_metadata,
        )

    return build(fn) if fn is not None else build


def graph_multi_asset(
    *,
    outs: Mapping[str, AssetOut],
    name: str | None = None,
    ins: Mapping[str, AssetIn] | None = None,
    group_name: str | None = None,
    partitions_def: Any = None,
) -> Callable[[Callable[..., Any]], AssetsDefinition]:
    """Declare several assets computed by one op graph; the function returns a dict of
    output name -> op output (or a tuple in the order of `outs`)."""

    def build(func: Callable[..., Any]) -> AssetsDefinition:
        node_name = validate_name(name or func.__name__, "Graph multi-asset name")
        where = f"graph_multi_asset '{node_name}'"
        params = read_params(func, where)
        inputs = list(params.input_params)
        graph = compose(func, node_name, inputs)
        results = _ordered_results(graph, list(outs), where)
        input_keys, input_metadata, input_deps = _input_deps(params, ins or {}, where)
        specs, output_names = [], {}
        for out_name, out in outs.items():
            asset_key = out.key or AssetKey((*(out.key_prefix or ()), out_name))
            specs.append(
                AssetSpec(
                    asset_key,
                    deps=tuple(input_deps),
                    description=out.description,
                    metadata=out.metadata,
                    group_name=out.group_name or group_name,
                    partitions_def=partitions_def,
                )
            )
            output_names[asset_key] = out_name
        return AssetsDefinition(
            node_name=node_name,
            specs=specs,
            fn=_graph_body(graph, results, inputs),
            params=_step_params(graph, inputs),
            input_keys=input_keys,
            input_metadata=input_metadata,
            output_names=output_names,
        )

    return build


def _ordered_results(graph: GraphDefinition, names: list[str], where: str) -> list[NodeOutput]:
    returned = graph.outputs
    if set(returned) == {str(i) for i in range(len(names))}:  # a tuple, in the order of outs
        return [returned[str(i)] for i in range(len(names))]
    if set(returned) != set(names):
        raise DefinitionError(
            f"{where} returns outputs {sorted(returned)} but declares outs {sorted(names)}; "
            "return a dict with one op output per out"
        )
    return [returned[n] for n in names]
