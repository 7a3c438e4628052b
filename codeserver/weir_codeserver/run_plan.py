"""An ExecuteRunRequest checked against the definitions and turned into what a worker runs.

The server prepares every run before starting a worker, so a request naming an unknown
asset, job, check or partition, or carrying bad run config, is refused with a message
(INVALID_ARGUMENT) instead of starting a worker that can only fail. The worker prepares
the same request again from the same definitions, which then cannot fail.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from weir import AssetKey, Definitions, ExecutorDefinition, WeirEvent
from weir._assets import DEFAULT_IO_MANAGER_KEY
from weir._errors import WeirError
from weir._execution.executor import required_resource_keys
from weir._execution.materialize import validate_run_config
from weir._execution.plan import ExecutionPlan, StepKind
from weir._execution.step import RunScope, graph_lookups
from weir._partitions.base import PartitionsDefinition
from weir._partitions.dynamic import DynamicPartitionsDefinition
from weir._partitions.multi import MultiPartitionsDefinition
from weir._resources import fs_io_manager, launch_configured
from weir._retries import RetryPolicy
from weir._run_config import configured_resources
from weir_protos.v1 import code_location_pb2

from weir_codeserver.wire_values import struct_to_dict


class RunRequestError(ValueError):
    """The request cannot run against these definitions; the message says why."""


@dataclass
class PreparedRun:
    run_id: str
    plan: ExecutionPlan
    # One entry per partition the run covers, in order; [None] for an unpartitioned run.
    partition_keys: list[str | None]
    configs: dict[str, Any]
    resources: dict[str, Any]
    tags: dict[str, str]
    executor: ExecutorDefinition
    run_config: dict[str, Any] = field(default_factory=dict)
    retry_policy: RetryPolicy | None = None  # the job's op_retry_policy


def bound_resources(defs: Definitions) -> dict[str, Any]:
    """The resources runs of a served code location get: the user's, plus a filesystem I/O
    manager under $WEIR_HOME/storage unless they bind "io_manager" themselves (values must
    outlive the worker process that produced them). It is bound as `fs_io_manager`, which
    builds a PlainFilesystemIOManager in each run: FilesystemIOManager's storage without
    its pydantic model, which would add a fifth to a large location's start-up and 10 MB
    to its zygote."""
    resources = dict(defs.resources)
    if DEFAULT_IO_MANAGER_KEY not in resources:
        resources[DEFAULT_IO_MANAGER_KEY] = fs_io_manager
    return resources


def prepare_run(
    defs: Definitions, resources: Mapping[str, Any], request: code_location_pb2.ExecuteRunRequest
) -> PreparedRun:
    if not request.run_id:
        raise RunRequestError("ExecuteRunRequest.run_id is empty")
    graph = defs.get_asset_graph()
    job = None
    if request.job_name:
        if request.job_name not in defs.jobs:
            known = ", ".join(sorted(defs.jobs)) or "none"
            raise RunRequestError(f"No job named '{request.job_name}'; known jobs: {known}")
        job = defs.jobs[request.job_name]
    keys = _requested_keys(defs, request, job)
    try:
        plan = ExecutionPlan.build(graph, keys)
        _keep_requested_checks(plan, request)
        partition_keys = _partition_keys(plan, request)
        run_config = struct_to_dict(request.run_config) if request.HasField("run_config") else {}
        if not run_config and job is not None and job.config:
            run_config = dict(job.config)
        configs = validate_run_config(plan, run_config)
        resources = configured_resources(resources, run_config)
        needed = required_resource_keys(plan)  # once: it visits every step's inputs
        resources = launch_configured(resources, needed)
    except WeirError as exc:
        raise RunRequestError(str(exc)) from None
    missing = sorted(needed - set(resources))
    if missing:
        raise RunRequestError(f"The run needs resources {missing}, which are not bound")
    tags = {**(job.run_tags if job is not None else {}), **dict(request.tags)}
    return PreparedRun(
        run_id=request.run_id,
        plan=plan,
        partition_keys=partition_keys,
        configs=configs,
        resources=dict(resources),
        tags=tags,
        executor=(job.executor_def if job is not None else None) or defs.executor,
        run_config=run_config,
        retry_policy=job.op_retry_policy if job is not None else None,
    )


def run_scope(
    prepared: PreparedRun, partition_key: str | None, emit: Callable[[WeirEvent], None]
) -> RunScope:
    """What the steps of one partition of the run share (resources bound, not yet set up)."""
    graph = prepared.plan.graph
    return RunScope(
        run_id=prepared.run_id,
        partition_key=partition_key,
        resources=prepared.resources,
        configs=prepared.configs,
        emit=emit,
        tags=prepared.tags,
        **graph_lookups(graph),
        default_retry_policy=prepared.retry_policy,
    )


def _requested_keys(defs: Definitions, request: Any, job: Any) -> set[AssetKey]:
    graph = defs.get_asset_graph()
    requested = {AssetKey(list(k.path)) for k in request.asset_keys}
    unknown = sorted(k.to_user_string() for k in requested if not graph.has(k))
    if unknown:
        raise RunRequestError(f"Unknown assets: {', '.join(unknown)}")
    if job is None:
        if not requested:
            raise RunRequestError("The request names no job and no assets; there is nothing to run")
        return requested
    job_keys = job.resolve_keys(graph)
    outside = sorted(k.to_user_string() for k in requested - job_keys)
    if outside:
        raise RunRequestError(f"Assets {', '.join(outside)} are not part of job '{job.name}'")
    return requested or set(job_keys)


def _keep_requested_checks(plan: ExecutionPlan, request: Any) -> None:
    """Narrow the plan's separate check steps to the requested checks, if any were named.
    Checks declared on an asset run inside the asset's step and cannot be left out."""
    if not request.asset_check_keys:
        return
    wanted = {(tuple(k.asset_key.path), k.name) for k in request.asset_check_keys}
    known = {(tuple(k.asset_key.path), k.name) for k in plan.graph.checks_by_key}
    unknown = sorted(f"{'/'.join(path)}:{name}" for path, name in wanted - known)
    if unknown:
        raise RunRequestError(f"Unknown asset checks: {', '.join(unknown)}")
    dropped = set()
    for step in plan.steps:
        if step.kind is StepKind.CHECK:
            check_key = step.definition.check_key  # type: ignore[union-attr]
            if (check_key.asset_key.path, check_key.name) not in wanted:
                dropped.add(step.key)
    plan.steps = [s for s in plan.steps if s.key not in dropped]
    for step in plan.steps:
        step.upstream_steps -= dropped


def _partition_keys(plan: ExecutionPlan, request: Any) -> list[str | None]:
    partitioned: list[tuple[AssetKey, PartitionsDefinition]] = []
    for step in plan.steps:
        for key in step.asset_keys:
            partitions_def = plan.graph.specs[key].partitions_def
            if partitions_def is not None:
                partitioned.append((key, partitions_def))
    has_range = request.HasField("partition_range")
    if not partitioned:
        if request.partition_key or has_range:
            raise RunRequestError(
                "A partition was given but none of the selected assets is partitioned"
            )
        return [None]
    if request.partition_key and has_range:
        raise RunRequestError("Give partition_key or partition_range, not both")
    if has_range:
        _first_key, first_def = partitioned[0]
        keys = first_def.get_partition_keys_in_range(
            request.partition_range.start, request.partition_range.end
        )
        if not keys:
            raise RunRequestError("The partition range covers no partitions")
    elif request.partition_key:
        keys = [request.partition_key]
    else:
        names = ", ".join(k.to_user_string() for k, _ in partitioned[:3])
        raise RunRequestError(f"Assets {names} are partitioned; the run needs a partition key")
    for key, partitions_def in partitioned:
        if _keys_known_here(partitions_def):
            for partition in keys:
                partitions_def.validate_partition_key(partition, key.to_user_string())
    return list(keys)


def _keys_known_here(partitions_def: PartitionsDefinition) -> bool:
    """Dynamic partition keys live in the control plane, which checked them before launch."""
    kinds = [partitions_def]
    if isinstance(partitions_def, MultiPartitionsDefinition):
        kinds += [d.partitions_def for d in partitions_def.partitions_defs]
    return not any(isinstance(p, DynamicPartitionsDefinition) for p in kinds)
