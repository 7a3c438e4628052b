"""`weir.materialize`: run assets in this process, with no server and no database."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from contextlib import ExitStack
from typing import Any

from weir._assets import DEFAULT_IO_MANAGER_KEY, AssetsDefinition
from weir._checks import AssetChecksDefinition
from weir._definitions import split_assets_and_checks
from weir._errors import ConfigError, DefinitionError, PartitionKeyError
from weir._execution.events import WeirEvent
from weir._execution.executor import PlanExecution, required_resource_keys, set_up_resources
from weir._execution.plan import ExecutionPlan
from weir._execution.result import ExecuteInProcessResult
from weir._execution.step import RunScope
from weir._graph import AssetGraph
from weir._io import InMemoryIOManager
from weir._key import AssetKey
from weir._partitions.base import PartitionsDefinition
from weir._specs import AssetSpec


def materialize(
    assets: Iterable[AssetsDefinition | AssetSpec | AssetChecksDefinition],
    *,
    selection: Any = None,
    resources: Mapping[str, Any] | None = None,
    run_config: Mapping[str, Any] | None = None,
    partition_key: str | None = None,
    raise_on_error: bool = True,
    tags: Mapping[str, str] | None = None,
    run_id: str | None = None,
) -> ExecuteInProcessResult:
    """Materialize `assets` (or the `selection` of them) in this process and return every event.

    Values pass through an in-memory I/O manager unless ``resources={"io_manager": ...}``
    says otherwise. With `raise_on_error` (the default) the first failure is raised.

    >>> from weir import asset
    >>> @asset
    ... def one() -> int:
    ...     return 1
    >>> @asset
    ... def two(one: int) -> int:
    ...     return one + 1
    >>> materialize([one, two]).output_for_node("two")
    2
    """
    assets_defs, checks = split_assets_and_checks(assets)
    graph = AssetGraph(assets_defs, checks)
    keys = _selected_keys(graph, selection)
    plan = ExecutionPlan.build(graph, keys)
    bound = {DEFAULT_IO_MANAGER_KEY: InMemoryIOManager(), **(resources or {})}
    _check_resources(plan, bound)
    _check_partition_key(plan, partition_key)
    events: list[WeirEvent] = []
    run = RunScope(
        run_id=run_id or str(uuid.uuid4()),
        partition_key=partition_key,
        resources=bound,
        configs=validate_run_config(plan, run_config),
        emit=events.append,
        tags=dict(tags or {}),
        io_manager_key_of=lambda key: graph.assets_def_by_key[key].io_manager_key_for(key),
        partitions_def_of=lambda key: graph.specs[key].partitions_def,
        captured_outputs={},
    )
    execution = PlanExecution(plan, run, raise_on_error=raise_on_error)
    with ExitStack() as stack:
        run.resources = set_up_resources(bound, required_resource_keys(plan), stack)
        success = execution.execute()
    if raise_on_error and execution.first_error is not None:
        raise execution.first_error
    node_of_key = {
        key: (ad.node_name, ad.output_names[key]) for ad in assets_defs for key in ad.keys
    }
    return ExecuteInProcessResult(
        run.run_id, success, events, run.captured_outputs or {}, node_of_key
    )


def _selected_keys(graph: AssetGraph, selection: Any) -> set[AssetKey]:
    if selection is None:
        return graph.executable_keys
    from weir._selection import AssetSelection

    return AssetSelection.from_coercible(selection).resolve(graph)


def _check_resources(plan: ExecutionPlan, bound: Mapping[str, Any]) -> None:
    missing = sorted(required_resource_keys(plan) - set(bound))
    if missing:
        raise DefinitionError(
            f"Resources {missing} are required by the selected assets but not provided; pass "
            f"materialize(..., resources={{{', '.join(repr(m) + ': ...' for m in missing)}}})"
        )


def _check_partition_key(plan: ExecutionPlan, partition_key: str | None) -> None:
    partitioned: list[tuple[AssetKey, PartitionsDefinition]] = []
    for step in plan.steps:
        for key in step.asset_keys:
            partitions_def = plan.graph.specs[key].partitions_def
            if partitions_def is not None:
                partitioned.append((key, partitions_def))
    if partition_key is None:
        if partitioned:
            names = ", ".join(k.to_user_string() for k, _ in partitioned[:3])
            raise PartitionKeyError(f"Assets {names} are partitioned; pass partition_key=...")
        return
    if not partitioned:
        raise PartitionKeyError(
            f"partition_key={partition_key!r} was given but none of the selected assets is "
            "partitioned"
        )
    for key, partitions_def in partitioned:
        partitions_def.validate_partition_key(partition_key, key.to_user_string())


def validate_run_config(
    plan: ExecutionPlan, run_config: Mapping[str, Any] | None
) -> dict[str, Any]:
    """Validate ``run_config["ops"][node]["config"]`` against each step's Config class."""
    ops = dict((run_config or {}).get("ops", {}))
    extra_top = set(run_config or {}) - {"ops", "resources", "execution", "loggers"}
    if extra_top:
        raise ConfigError(f"Unknown run_config sections {sorted(extra_top)}; use 'ops'")
    configs: dict[str, Any] = {}
    nodes = {step.definition.node_name: step.definition for step in plan.steps}
    unknown = sorted(set(ops) - set(nodes))
    if unknown:
        raise ConfigError(
            f"run_config names {unknown}, which are not in this run; nodes are {sorted(nodes)}"
        )
    for node_name, definition in nodes.items():
        config_type: Any = definition.params.config_type  # a weir.Config subclass
        if config_type is None:
            continue
        raw = ops.get(node_name, {})
        values = raw.get("config", {}) if isinstance(raw, Mapping) else raw
        try:
            configs[node_name] = config_type.model_validate(values)
        except Exception as exc:  # pydantic.ValidationError, kept lazy
            lines = [ln.strip() for ln in str(exc).splitlines()[1:]]
            raise ConfigError(
                f"Config for '{node_name}' is invalid: {'; '.join(lines)}. Pass it as "
                f"run_config={{'ops': {{'{node_name}': {{'config': {{...}}}}}}}}"
            ) from None
    return configs
