"""Run requests of a tick, turned into queued runs, each run key launched once.

A request with a run key gets a run id derived from (deployment, schedule or sensor,
run key): the id is the de-duplication. Whichever replica, restart or repeated tick asks
again finds the run already there (one query for the whole tick), and two that race
both insert the same primary key, so one of them fails and launches nothing. The run
also carries its key and origin as tags (`weir/run_key`, `weir/sensor_name` or
`weir/schedule_name`), which ListRuns filters on.

Every request of a tick is checked (job, assets, partition) before any is launched, so
a tick that names an unknown asset fails whole, with the reason.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from google.protobuf import json_format
from weir_protos.v1 import runs_pb2

from weir_controlplane.api import limits
from weir_controlplane.api.convert import JOB_NAME_TAG
from weir_controlplane.api.partition_keys import DynamicSpaces, check_partition_key
from weir_controlplane.api.partitions import StoredDynamicKeySpace
from weir_controlplane.api.runs import computed_together
from weir_controlplane.errors import InvalidArgumentError
from weir_controlplane.locations.graph import SnapshotGraph, key_string
from weir_controlplane.runs import RunCoordinator
from weir_controlplane.storage import DeploymentScope, DuplicateRunError, InstigatorKind, Storage

RUN_KEY_TAG = "weir/run_key"
# Marks the run holding materializations a sensor reported: the control plane opened and
# ended it, nothing ran (daemons/reported_materializations.py).
RUNLESS_TAG = "weir/runless"
ORIGIN_TAGS = {
    InstigatorKind.SENSOR: "weir/sensor_name",
    InstigatorKind.SCHEDULE: "weir/schedule_name",
}
# Names the ids of runs launched under a run key (any fixed UUID would do; never change it).
_RUN_KEY_NAMESPACE = uuid.UUID("5d0f2a5e-7c1b-4d8e-9a43-0b6f3e2c1d77")


@dataclass(frozen=True)
class Origin:
    """The schedule or sensor a tick belongs to, and what its requests default to."""

    kind: InstigatorKind
    code_location: str
    name: str
    # The job a request naming none runs; empty: the target assets below.
    default_job: str = ""
    default_assets: tuple[str, ...] = ()


@dataclass(frozen=True)
class PlannedRun:
    run_id: str
    run_key: str
    asset_keys: tuple[str, ...]
    partition_key: str | None
    tags: dict[str, str]
    run_config: dict[str, object]


@dataclass(frozen=True)
class LaunchOutcome:
    # Runs this tick created, in request order.
    launched: tuple[str, ...]
    # The run keys of every request, empty ones left out.
    run_keys: tuple[str, ...]


class RunRequestLauncher:
    def __init__(self, storage: Storage, coordinator: RunCoordinator) -> None:
        self._storage = storage
        self._coordinator = coordinator

    def launch(
        self,
        scope: DeploymentScope,
        origin: Origin,
        graph: SnapshotGraph,
        requests: Sequence[runs_pb2.RunRequest],
    ) -> LaunchOutcome:
        """Queue a run for each request whose run key launched none yet. Raises
        InvalidArgumentError (launching nothing) when any request cannot be run."""
        store = self._storage.dynamic_partitions

        def dynamic(name: str) -> StoredDynamicKeySpace:
            return StoredDynamicKeySpace(store, scope, name)

        planned = [plan_run(scope, origin, graph, request, dynamic) for request in requests]
        keyed = [run.run_id for run in planned if run.run_key]
        already = self._storage.runs.existing_run_ids(scope, keyed)
        launched: list[str] = []
        seen: set[str] = set(already)
        for run in planned:
            if run.run_id in seen:
                continue
            seen.add(run.run_id)
            try:
                self._coordinator.submit(
                    scope,
                    location=origin.code_location,
                    asset_keys=run.asset_keys,
                    partition_key=run.partition_key,
                    tags=run.tags,
                    run_config=run.run_config,
                    run_id=run.run_id,
                )
            except DuplicateRunError:
                continue  # another replica launched it a moment ago
            launched.append(run.run_id)
        return LaunchOutcome(
            launched=tuple(launched),
            run_keys=tuple(run.run_key for run in planned if run.run_key),
        )


def plan_run(
    scope: DeploymentScope,
    origin: Origin,
    graph: SnapshotGraph,
    request: runs_pb2.RunRequest,
    dynamic: DynamicSpaces | None = None,
) -> PlannedRun:
    limits.check_tags(request.tags, field="the run request's tags")
    if request.HasField("run_config"):
        limits.check_run_config(request.run_config, field="the run request's run config")
    job = request.job_name or origin.default_job
    tags = dict(request.tags)
    if job:
        if job not in graph.jobs:
            raise InvalidArgumentError(
                f"the run request names job {job!r}, which code location "
                f"{origin.code_location!r} does not define"
            )
        keys = [key_string(key) for key in graph.jobs[job].asset_keys]
        tags = dict(graph.jobs[job].run_tags) | tags
        tags[JOB_NAME_TAG] = job
    else:
        keys = list(origin.default_assets)
    if request.asset_keys:
        wanted = [key_string(key) for key in request.asset_keys]
        unknown = [key for key in wanted if key not in graph.nodes]
        if unknown:
            raise InvalidArgumentError(
                f"the run request names asset(s) {', '.join(map(repr, unknown))}, which code "
                f"location {origin.code_location!r} does not define"
            )
        outside = [key for key in wanted if job and key not in keys]
        if outside:
            raise InvalidArgumentError(
                f"the run request names asset(s) {', '.join(map(repr, outside))} outside job "
                f"{job!r}"
            )
        keys = wanted
    if not keys:
        raise InvalidArgumentError(
            f"the run request of {origin.kind.value} {origin.name!r} names no job or asset to run"
        )
    if request.HasField("partition_range"):
        raise InvalidArgumentError(
            "the run request asks for a partition range, which runs do not support yet; "
            "request one run per partition key"
        )
    keys = sorted(set(keys) | computed_together(set(keys), graph))
    check_partition_key(request.partition_key, [graph.nodes[key] for key in keys], dynamic=dynamic)
    order = graph.position
    tags[ORIGIN_TAGS[origin.kind]] = origin.name
    run_id = str(uuid.uuid4())
    if request.run_key:
        tags[RUN_KEY_TAG] = request.run_key
        run_id = run_id_for_key(scope, origin, request.run_key)
    return PlannedRun(
        run_id=run_id,
        run_key=request.run_key,
        asset_keys=tuple(sorted(set(keys), key=lambda key: order.get(key, len(order)))),
        partition_key=request.partition_key or None,
        tags=tags,
        run_config=(
            json_format.MessageToDict(request.run_config) if request.HasField("run_config") else {}
        ),
    )


def run_id_for_key(scope: DeploymentScope, origin: Origin, run_key: str) -> str:
    """The run id a run key stands for: the same on every replica and every tick."""
    name = f"{scope.deployment_id}/{origin.kind.value}/{origin.code_location}/{origin.name}"
    return str(uuid.uuid5(_RUN_KEY_NAMESPACE, f"{name}/{run_key}"))
