"""Backfill RPCs: LaunchBackfill, GetBackfill, ListBackfills, CancelBackfill, ResumeBackfill.

LaunchBackfill resolves the selection to one code location's assets, the partitions to
each asset's targets (backfills/targets.py), plans the runs (backfills/planner.py) and
stores the backfill with its plan in one transaction: a refused request stores nothing.
The BackfillDaemon then launches the runs; these RPCs only change what it reads.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping, Sequence

from weir_protos.v1 import control_plane_pb2 as cp
from weir_protos.v1 import definitions_pb2

from weir_controlplane.api import convert, limits
from weir_controlplane.api.access_checks import require_location, visible_locations
from weir_controlplane.api.asset_graph import DeploymentGraph
from weir_controlplane.api.backfill_progress import asset_progress
from weir_controlplane.api.context import current_scope
from weir_controlplane.api.partitions import indexed_partitions
from weir_controlplane.api.runs import single_location
from weir_controlplane.auth.roles import Permission
from weir_controlplane.backfills.planner import plan_backfill
from weir_controlplane.backfills.targets import PartitionRequest, backfill_targets
from weir_controlplane.errors import FailedPreconditionError, InvalidArgumentError
from weir_controlplane.locations import CodeLocationRegistry
from weir_controlplane.partitions import DynamicSpaces, dependency_mappings
from weir_controlplane.storage import (
    AssetStorage,
    DeploymentScope,
    DynamicPartitionStorage,
    PartitionStatusStorage,
)
from weir_controlplane.storage.backfills import (
    Backfill,
    BackfillStatus,
    BackfillStorage,
    NewBackfill,
    NewPlannedRun,
    PlannedRunState,
)

_STATUS_PROTO: dict[BackfillStatus, cp.BackfillStatus] = {
    status: getattr(cp, f"BACKFILL_STATUS_{status.value}") for status in BackfillStatus
}
_STATUS_OF = {int(value): status for status, value in _STATUS_PROTO.items()}


class BackfillsApi:
    """Answers the backfill RPCs of ControlPlaneService for the request's deployment."""

    def __init__(
        self,
        registry: CodeLocationRegistry,
        backfills: BackfillStorage,
        status: PartitionStatusStorage,
        assets: AssetStorage,
        dynamic: DynamicPartitionStorage,
        dynamic_spaces: Callable[[DeploymentScope], DynamicSpaces],
        wake_daemon: Callable[[], None] = lambda: None,
    ) -> None:
        self._registry = registry
        self._backfills = backfills
        self._status = status
        self._assets = assets
        self._dynamic = dynamic
        self._dynamic_spaces = dynamic_spaces
        self._wake_daemon = wake_daemon

    # --- launching ----------------------------------------------------------------------

    def launch_backfill(self, request: cp.LaunchBackfillRequest) -> cp.LaunchBackfillResponse:
        scope = current_scope()
        if not request.selection:
            raise InvalidArgumentError('selection is required, e.g. "raw_events*"')
        limits.check_tags(request.tags)
        partitions = PartitionRequest(
            keys=tuple(request.partition_keys),
            key_range=(
                (request.partition_range.start, request.partition_range.end)
                if request.HasField("partition_range")
                else None
            ),
            every=request.all_partitions,
        )
        graph = DeploymentGraph.of(self._registry.all_graphs(scope))
        keys = {key for key in graph.resolve(request.selection) if graph.nodes[key].is_executable}
        if not keys:
            raise InvalidArgumentError(
                f"selection {request.selection!r} picks no asset a run can materialize"
            )
        location = single_location(keys, graph)
        require_location(Permission.LAUNCH, location)
        nodes = graph.graphs[location].nodes
        order = graph.toposorted(keys)
        dynamic = self._dynamic_spaces(scope)
        now = time.time()
        targets = backfill_targets(nodes, order, partitions, now, dynamic)
        if request.from_failure:
            targets = self._from_failure(scope, nodes, order, targets, now, dynamic)
            order = [key for key in order if key in targets]
        plan = plan_backfill(graph.graphs[location], order, targets, now, dynamic)
        backfill_id = uuid.uuid4().hex[:12]
        backfill = self._backfills.create(
            scope,
            NewBackfill(
                backfill_id=backfill_id,
                code_location=location,
                selection=request.selection,
                tags=dict(request.tags),
                targets={key: targets[key] for key in order},
                runs=[
                    NewPlannedRun(run.asset_keys, run.partition_keys, run.after)
                    for run in plan.runs
                ],
            ),
        )
        self._wake_daemon()
        return cp.LaunchBackfillResponse(backfill_id=backfill_id, run_count=backfill.run_count)

    def _from_failure(
        self,
        scope: DeploymentScope,
        nodes: Mapping[str, definitions_pb2.AssetNode],
        order: Sequence[str],
        targets: Mapping[str, Sequence[str]],
        now: float,
        dynamic: DynamicSpaces,
    ) -> dict[str, list[str]]:
        """What a backfill from failure re-runs: the target partitions whose latest outcome
        is a failure, the unpartitioned assets whose latest outcome is one, and downstream
        of those (in dependency order) the partitions and assets reading them that the
        failure left unmaterialized. Never-materialized partitions upstream of no failure
        stay out."""
        plain = [asset for asset in order if not nodes[asset].HasField("partitions_def")]
        failed_plain = self._assets.failed_unpartitioned(scope, plain)
        rerun: dict[str, list[str]] = {}
        for asset in order:
            edges = [e for e in dependency_mappings(nodes, asset, dynamic) if e.upstream in rerun]
            if asset in plain:
                if asset in failed_plain or edges:
                    rerun[asset] = []
                continue
            keys = targets[asset]
            failed, unmaterialized = self._outcomes(scope, nodes[asset], asset, keys)
            fed: set[str] = set()
            for edge in edges:
                upstream_keys = rerun[edge.upstream]
                # An unpartitioned upstream feeds every partition.
                fed.update(edge.downstream_keys(upstream_keys, now) if upstream_keys else keys)
            kept = [key for key in keys if key in failed or (key in fed and key in unmaterialized)]
            if kept:
                rerun[asset] = kept
        if not rerun:
            raise FailedPreconditionError(
                "fromFailure: no partition named of the selected assets (and no unpartitioned "
                "asset) failed in its latest attempt; nothing to backfill"
            )
        return rerun

    def _outcomes(
        self,
        scope: DeploymentScope,
        node: definitions_pb2.AssetNode,
        asset: str,
        keys: Sequence[str],
    ) -> tuple[set[str], set[str]]:
        """Of `keys`, (those whose latest outcome is a failure, those not materialized)."""
        indexed = indexed_partitions(node, self._dynamic_spaces(scope)) if keys else None
        if indexed is None:
            return set(), set()
        stored = self._status.get(scope, asset, indexed)
        if indexed.dynamic_name is not None:
            index = self._dynamic.ordinals(scope, indexed.dynamic_name, keys)
        else:
            assert indexed.index_many is not None
            found = zip(keys, indexed.index_many(keys), strict=True)
            index = {key: at for key, at in found if at is not None}
        failed = {key for key in keys if key in index and index[key] in stored.failed}
        unmaterialized = {
            key for key in keys if key not in index or index[key] not in stored.materialized
        }
        return failed, unmaterialized

    # --- reading ------------------------------------------------------------------------

    def get_backfill(self, request: cp.GetBackfillRequest) -> cp.GetBackfillResponse:
        scope = current_scope()
        backfill = self._readable(scope, request.backfill_id, Permission.READ)
        message = backfill_proto(backfill)
        planned = self._backfills.planned_runs(scope, backfill.backfill_id)
        message.assets.extend(asset_progress(backfill, planned, request.max_buckets))
        return cp.GetBackfillResponse(backfill=message)

    def list_backfills(self, request: cp.ListBackfillsRequest) -> cp.ListBackfillsResponse:
        if request.limit < 0:
            raise InvalidArgumentError("limit must be 0 (the default, 50) or more")
        statuses = [backfill_status(value) for value in request.statuses]
        page = self._backfills.list_backfills(
            current_scope(),
            statuses,
            code_locations=visible_locations(),
            cursor=request.cursor or None,
            limit=request.limit or 50,
        )
        return cp.ListBackfillsResponse(
            backfills=[backfill_proto(b) for b in page.items], next_cursor=page.next_cursor or ""
        )

    def _readable(
        self, scope: DeploymentScope, backfill_id: str, permission: Permission
    ) -> Backfill:
        if not backfill_id:
            raise InvalidArgumentError("backfillId is required")
        backfill = self._backfills.get(scope, backfill_id)  # NOT_FOUND outside the deployment
        require_location(permission, backfill.code_location)
        return backfill

    # --- cancel and resume --------------------------------------------------------------

    def cancel_backfill(self, request: cp.CancelBackfillRequest) -> cp.CancelBackfillResponse:
        scope = current_scope()
        backfill = self._readable(scope, request.backfill_id, Permission.LAUNCH)
        if backfill.status in (BackfillStatus.COMPLETED, BackfillStatus.FAILED):
            raise FailedPreconditionError(
                f"backfill {backfill.backfill_id!r} already ended ({backfill.status.value}); "
                "there is nothing to cancel"
            )
        self._backfills.set_status(
            scope, backfill.backfill_id,
            from_statuses={BackfillStatus.REQUESTED, BackfillStatus.RUNNING},
            to=BackfillStatus.CANCELING,
        )  # fmt: skip
        self._wake_daemon()
        return cp.CancelBackfillResponse(
            backfill=backfill_proto(self._backfills.get(scope, backfill.backfill_id))
        )

    def resume_backfill(self, request: cp.ResumeBackfillRequest) -> cp.ResumeBackfillResponse:
        scope = current_scope()
        backfill = self._readable(scope, request.backfill_id, Permission.LAUNCH)
        if not self._backfills.resume(scope, backfill.backfill_id):
            raise FailedPreconditionError(
                f"backfill {backfill.backfill_id!r} is {backfill.status.value}; only a CANCELED "
                "or FAILED backfill can be resumed"
            )
        self._wake_daemon()
        return cp.ResumeBackfillResponse(
            backfill=backfill_proto(self._backfills.get(scope, backfill.backfill_id))
        )


def backfill_status(value: int) -> BackfillStatus:
    status = _STATUS_OF.get(value)
    if status is None:
        raise InvalidArgumentError(f"statuses: {value} is not a backfill status")
    return status


def backfill_proto(backfill: Backfill) -> cp.Backfill:
    states = backfill.run_states
    message = cp.Backfill(
        backfill_id=backfill.backfill_id,
        status=_STATUS_PROTO[backfill.status],
        selection=backfill.selection,
        code_location=backfill.code_location,
        tags=dict(backfill.tags),
        run_count=backfill.run_count,
        runs_succeeded=states.get(PlannedRunState.SUCCEEDED, 0),
        runs_failed=states.get(PlannedRunState.FAILED, 0),
        runs_skipped=states.get(PlannedRunState.SKIPPED, 0)
        + states.get(PlannedRunState.CANCELED, 0),
        runs_in_progress=states.get(PlannedRunState.LAUNCHED, 0),
        create_time=convert.timestamp(backfill.created_at),
    )
    if backfill.ended_at is not None:
        message.end_time.CopyFrom(convert.timestamp(backfill.ended_at))
    return message
