"""`weir.materialize`: run assets in this process, with no server and no database."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from contextlib import ExitStack
from tempfile import TemporaryDirectory
from typing import TYPE_CHECKING, Any

from weir._assets import DEFAULT_IO_MANAGER_KEY, AssetsDefinition
from weir._checks import AssetChecksDefinition
from weir._definitions import split_assets_and_checks
from weir._definitions_building import merged_resources
from weir._errors import ConfigError, DefinitionError, PartitionKeyError, UsageError
from weir._execution.events import WeirEvent
from weir._execution.executor import execute_plan, required_resource_keys
from weir._execution.plan import ExecutionPlan
from weir._execution.result import ExecuteInProcessResult
from weir._execution.step import RunScope, graph_lookups
from weir._executors import ExecutorDefinition, in_process_executor
from weir._graph import AssetGraph
from weir._io import InMemoryIOManager
from weir._key import AssetKey
from weir._partitions.base import PartitionsDefinition
from weir._resources import mem_io_manager
from weir._retries import RetryPolicy
from weir._run_config import RunConfig, as_config_dict, configured_resources, invalid_config
from weir._specs import AssetSpec

if TYPE_CHECKING:
    from weir._instance import Instance


def materialize(
    assets: Iterable[AssetsDefinition | AssetSpec | AssetChecksDefinition],
    *,
    selection: Any = None,
    resources: Mapping[str, Any] | None = None,
    run_config: RunConfig | Mapping[str, Any] | None = None,
    partition_key: str | None = None,
    raise_on_error: bool = True,
    tags: Mapping[str, str] | None = None,
    run_id: str | None = None,
    executor: ExecutorDefinition | None = None,
    instance: Instance | None = None,
    op_retry_policy: RetryPolicy | None = None,
) -> ExecuteInProcessResult:
    """Materialize `assets` (or the `selection` of them) in this process and return every event.

    With an `instance` (``weir.Instance.ephemeral()``) the run is recorded into it, and the
    keys of dynamic partitions are those it holds.

    Values pass through an in-memory I/O manager unless ``resources={"io_manager": ...}``
    says otherwise. With `raise_on_error` (the default) the first failure is raised.
    ``executor=multiprocess_executor.configured({"max_concurrent": 4})`` runs each step in
    a child process, independent steps in parallel; values then pass through files (a
    temporary directory unless an I/O manager is bound). `op_retry_policy` retries the
    steps whose assets declare no retry policy (an asset job's ``op_retry_policy``).

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
    config = as_config_dict(run_config)
    with ExitStack() as stack:
        given = merged_resources(
            ((f"'{a.node_name}' (with_resources)", a.resource_defs) for a in assets_defs),
            into=resources,
        )
        bound = {DEFAULT_IO_MANAGER_KEY: _default_io_manager(executor, stack), **given}
        bound = configured_resources(bound, config)
        return _run(assets_defs, plan, bound, executor, raise_on_error, run_id, partition_key,
                    tags, config, instance, op_retry_policy)  # fmt: skip


def materialize_to_memory(
    assets: Iterable[AssetsDefinition | AssetSpec | AssetChecksDefinition],
    run_config: RunConfig | Mapping[str, Any] | None = None,
    *,
    resources: Mapping[str, Any] | None = None,
    partition_key: str | None = None,
    raise_on_error: bool = True,
    tags: Mapping[str, str] | None = None,
    selection: Any = None,
    instance: Instance | None = None,
) -> ExecuteInProcessResult:
    """`materialize` with every I/O manager key the assets use bound to memory, so a test
    needs no storage; binding an I/O manager key yourself is refused, as it would be ignored.

    >>> from weir import asset
    >>> @asset(io_manager_key="warehouse")
    ... def rows() -> list[int]:
    ...     return [1, 2]
    >>> materialize_to_memory([rows]).asset_value("rows")
    [1, 2]
    """
    assets = list(assets)
    assets_defs, _ = split_assets_and_checks(assets)
    io_manager_keys = {ad.io_manager_key_for(key) for ad in assets_defs for key in ad.keys}
    overridden = sorted(io_manager_keys & set(resources or {}))
    if overridden:
        raise UsageError(
            f"materialize_to_memory was given a resource for the I/O manager key "
            f"'{overridden[0]}'; it keeps every asset's value in memory, so leave I/O manager "
            "keys out of resources (or call materialize to use your own I/O manager)"
        )
    in_memory = {key: InMemoryIOManager() for key in io_manager_keys}
    return materialize(
        assets,
        selection=selection,
        resources={**(resources or {}), **in_memory},
        run_config=run_config,
        partition_key=partition_key,
        raise_on_error=raise_on_error,
        tags=tags,
        instance=instance,
    )


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
    instance: Instance | None,
    op_retry_policy: RetryPolicy | None,
) -> ExecuteInProcessResult:
    graph = plan.graph
    _check_resources(plan, bound)
    if executor.is_multiprocess:
        _check_values_can_cross_processes(plan, bound)
    _check_partition_key(plan, partition_key, instance)
    events: list[WeirEvent] = []
    run = RunScope(
        run_id=run_id or str(uuid.uuid4()),
        partition_key=partition_key,
        resources=bound,
        configs=validate_run_config(plan, run_config),
        emit=events.append,
        tags=dict(tags or {}),
        **graph_lookups(graph),
        captured_outputs={},
        default_retry_policy=op_retry_policy,
    )
    execution = execute_plan(plan, run, executor, raise_on_error=raise_on_error)
    success = not execution.failed_steps and not execution.canceled
    if instance is not None:
        _record(instance, plan, run.run_id, partition_key, events, execution.failed_steps)
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
        if isinstance(bound[key], InMemoryIOManager) or bound[key] is mem_io_manager:
            raise DefinitionError(
                f"The multiprocess executor runs each step in its own process, so values "
                f"cannot pass through the in-memory I/O manager bound as '{key}'; bind one "
                f"that stores them, e.g. resources={{'{key}': FilesystemIOManager(base_dir=...)}}"
            )


def _record(
    instance: Instance,
    plan: ExecutionPlan,
    run_id: str,
    partition_key: str | None,
    events: list[WeirEvent],
    failed_steps: list[str],
) -> None:
    failed = {key for step in plan.steps if step.key in failed_steps for key in step.asset_keys}
    targets = {key for step in plan.steps for key in step.asset_keys}
    instance.record_run(run_id, targets, partition_key, events, failed)


def _check_partition_key(
    plan: ExecutionPlan, partition_key: str | None, instance: Instance | None = None
) -> None:
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
        partitions_def.validate_partition_key(
            partition_key, key.to_user_string(), dynamic_partitions_store=instance
        )


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
        if isinstance(raw, Mapping) and "ops" in raw:  # a graph asset: config per inner op
            values = raw
        else:
            values = raw.get("config", {}) if isinstance(raw, Mapping) else raw
        try:
            configs[node_name] = config_type.model_validate(values)
        except ConfigError:
            raise  # already names the node (a graph asset's inner op)
        except Exception as exc:  # pydantic.ValidationError, kept lazy
            raise invalid_config(node_name, exc) from None
    return configs
