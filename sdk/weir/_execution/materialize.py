"""`weir.materialize`: run assets in this process, with no server and no database."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from contextlib import ExitStack
from tempfile import TemporaryDirectory
from typing import Any

from weir._assets import DEFAULT_IO_MANAGER_KEY, AssetsDefinition
from weir._checks import AssetChecksDefinition
from weir._definitions import split_assets_and_checks
from weir._errors import ConfigError, DefinitionError, PartitionKeyError
from weir._execution.events import WeirEvent
from weir._execution.executor import execute_plan, required_resource_keys
from weir._execution.plan import ExecutionPlan
from weir._execution.result import ExecuteInProcessResult
from weir._execution.step import RunScope
from weir._executors import ExecutorDefinition, in_process_executor
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
    executor: ExecutorDefinition | None = None,
) -> ExecuteInProcessResult:
    """Materialize `assets` (or the `selection` of them) in this process and return every event.

    Values pass through an in-memory I/O manager unless ``resources={"io_manager": ...}``
    says otherwise. With `raise_on_error` (the default) the first failure is raised.
    ``executor=multiprocess_executor.configured({"max_concurrent": 4})`` runs each step in
    a child process, independent steps in parallel; values then pass through files (a
    temporary directory unless an I/O manager is bound).

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
    executor = executor or in_process_executor
    with ExitStack() as stack:
        bound = {DEFAULT_IO_MANAGER_KEY: _default_io_manager(executor, stack), **(resources or {})}
        return _run(assets_defs, plan, bound, executor, raise_on_error, run_id, partition_key,
                    tags, run_config)  # fmt: skip


def _default_io_manager(executor: ExecutorDefinition, stack: ExitStack) -> Any:
    """In memory, unless steps run in processes of their own: then files, removed after."""
    if not executor.is_multiprocess:
        return InMemoryIOManager()
    from weir._fs_io import FilesystemIOManager  # pydantic: loaded only when needed

    return FilesystemIOManager(base_dir=stack.enter_context(TemporaryDirectory()))


def _run(
    assets_defs: list[AssetsDefinition],
    plan: ExecutionPlan,
    bound: dict[str, Any],
    executor: ExecutorDefinition,
    raise_on_error: bool,
    run_id: str | None,
    partition_key: str | None,
    tags: Mapping[str, str] | None,
    run_config: Mapping[str, Any] | None,
) -> ExecuteInProcessResult:
    graph = plan.graph
    _check_resources(plan, bound)
    if executor.is_multiprocess:
        _check_values_can_cross_processes(plan, bound)
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
    execution = execute_plan(plan, run, executor, raise_on_error=raise_on_error)
    success = not execution.failed_steps and not execution.canceled
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


def _check_values_can_cross_processes(plan: ExecutionPlan, bound: Mapping[str, Any]) -> None:
    for key in sorted(required_resource_keys(plan)):
        if isinstance(bound[key], InMemoryIOManager):
            raise DefinitionError(
                f"The multiprocess executor runs each step in its own process, so values "
                f"cannot pass through the in-memory I/O manager bound as '{key}'; bind one "
                f"that stores them, e.g. resources={{'{key}': FilesystemIOManager(base_dir=...)}}"
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
