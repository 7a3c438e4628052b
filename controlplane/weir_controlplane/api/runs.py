"""Run RPCs: LaunchRun, GetRun, ListRuns, CancelRun, GetRunEvents, WatchRun.

LaunchRun turns a selection, asset keys or a job into the assets of one code location,
checks them against the snapshot (unknown keys, partitions) and hands the run to the
RunCoordinator, which queues it. WatchRun (run_watch.py) is an async generator woken by
the coordinator's RunNotifier, which event ingest rings, so a watcher hears of an event
as soon as it is stored and holds no thread in between.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable

from google.protobuf import json_format
from weir_protos.v1 import control_plane_pb2 as cp

from weir_controlplane.api import convert, limits, paging, run_watch
from weir_controlplane.api.access_checks import require_location, visible_locations
from weir_controlplane.api.asset_graph import DeploymentGraph
from weir_controlplane.api.context import current_scope
from weir_controlplane.api.partition_keys import DynamicSpaces, check_partition_key
from weir_controlplane.auth.roles import Permission
from weir_controlplane.errors import (
    FailedPreconditionError,
    InvalidArgumentError,
    UnimplementedError,
)
from weir_controlplane.locations import CodeLocationRegistry, SnapshotGraph
from weir_controlplane.runs import RunCoordinator
from weir_controlplane.storage import (
    CodeLocationStatus,
    CodeLocationStorage,
    DeploymentScope,
    EventLog,
    EventPage,
    Run,
    RunFilter,
    RunStorage,
)


class RunsApi:
    """Answers the run RPCs of ControlPlaneService for the request's deployment."""

    def __init__(
        self,
        registry: CodeLocationRegistry,
        coordinator: RunCoordinator,
        runs: RunStorage,
        event_log: EventLog,
        code_locations: CodeLocationStorage,
        watch_reads: run_watch.SharedReads,
        dynamic_spaces: Callable[[DeploymentScope], DynamicSpaces] | None = None,
    ) -> None:
        self._registry = registry
        self._coordinator = coordinator
        self._runs = runs
        self._event_log = event_log
        self._code_locations = code_locations
        self._notifier = coordinator.notifier
        self._watch_reads = watch_reads
        self._dynamic_spaces = dynamic_spaces

    # --- launching ----------------------------------------------------------------------

    def launch_run(self, request: cp.LaunchRunRequest) -> cp.LaunchRunResponse:
        scope = current_scope()
        if request.HasField("partition_range"):
            raise UnimplementedError(
                "partitionRange is not supported yet; launch one run per partition with "
                "partitionKey"
            )
        if not (request.selection or request.asset_keys or request.job_name):
            raise InvalidArgumentError(
                'name what to run: selection (e.g. "orders+"), assetKeys or jobName'
            )
        limits.check_tags(request.tags)
        if request.HasField("run_config"):
            limits.check_run_config(request.run_config)
        graphs = self._registry.all_graphs(scope)
        if request.code_location:
            require_location(Permission.LAUNCH, request.code_location)
            if request.code_location not in graphs:
                row = self._code_locations.get(scope, request.code_location)  # 404 if unknown
                raise FailedPreconditionError(
                    f"code location {row.name!r} has no definitions loaded "
                    f"({row.status.value}{': ' + row.error_message if row.error_message else ''})"
                )
            graphs = {request.code_location: graphs[request.code_location]}
        graph = DeploymentGraph.of(graphs)
        keys = self._target_keys(request, graph)
        location = single_location(keys, graph)
        require_location(Permission.LAUNCH, location)
        keys |= computed_together(keys, graph.graphs[location])
        row = self._code_locations.get(scope, location)
        if row.status is CodeLocationStatus.ERROR:
            raise FailedPreconditionError(
                f"code location {location!r} failed to load: {row.error_message}; fix its "
                "code and reload it before launching"
            )
        check_partition_key(
            request.partition_key,
            [graph.nodes[key] for key in keys],
            dynamic=self._dynamic_spaces(scope) if self._dynamic_spaces else None,
        )
        tags = dict(request.tags)
        if request.job_name:
            tags[convert.JOB_NAME_TAG] = request.job_name
        run = self._coordinator.submit(
            scope,
            location=location,
            asset_keys=graph.toposorted(keys),
            partition_key=request.partition_key or None,
            tags=tags,
            run_config=(
                json_format.MessageToDict(request.run_config)
                if request.HasField("run_config")
                else {}
            ),
            selection_text=request.selection,
        )
        return cp.LaunchRunResponse(run=convert.run_proto(run))

    def _target_keys(self, request: cp.LaunchRunRequest, graph: DeploymentGraph) -> set[str]:
        explicit = [convert.key_text(key, field="assetKeys") for key in request.asset_keys]
        unknown = [key for key in explicit if graph.node(key) is None]
        if unknown:
            raise InvalidArgumentError(
                f"unknown asset key(s) {', '.join(map(repr, unknown))}: no code location "
                "of this deployment defines them"
            )
        external = [key for key in explicit if not graph.nodes[key].is_executable]
        if external:
            raise InvalidArgumentError(
                f"asset(s) {', '.join(map(repr, external))} are external: they are "
                "observed, never materialized by a run"
            )
        if request.job_name:
            keys = _job_keys(request.job_name, graph)
            if explicit:
                outside = sorted(set(explicit) - keys)
                if outside:
                    raise InvalidArgumentError(
                        f"job {request.job_name!r} does not include asset(s) "
                        f"{', '.join(map(repr, outside))}"
                    )
                keys = set(explicit)
        else:
            keys = set(explicit)
        if request.selection:
            selected = {
                key for key in graph.resolve(request.selection) if graph.nodes[key].is_executable
            }
            keys = keys & selected if request.job_name else keys | selected
        if not keys:
            raise InvalidArgumentError(
                f"selection {request.selection!r} picks no asset a run can materialize"
                if request.selection
                else "the request picks no asset a run can materialize"
            )
        return keys

    # --- reading and canceling ----------------------------------------------------------

    def get_run(self, request: cp.GetRunRequest) -> cp.GetRunResponse:
        run = self._readable_run(_run_id(request.run_id))
        return cp.GetRunResponse(run=convert.run_proto(run))

    def _readable_run(self, run_id: str) -> Run:
        """The run (NOT_FOUND outside the deployment), if the caller may read its location."""
        run = self._runs.get_run(current_scope(), run_id)
        require_location(Permission.READ, run.code_location)
        return run

    def list_runs(self, request: cp.ListRunsRequest) -> cp.ListRunsResponse:
        limits.check_tags(request.tags)
        tags = dict(request.tags)
        if request.job_name:
            tags[convert.JOB_NAME_TAG] = request.job_name
        run_filter = RunFilter(
            statuses=(
                frozenset(convert.run_status(s) for s in request.statuses)
                if request.statuses
                else None
            ),
            code_location=request.code_location or None,
            code_locations=visible_locations(),
            tags=tags,
            asset_key=(
                convert.key_text(request.asset_key, field="assetKey")
                if request.HasField("asset_key")
                else None
            ),
            created_after=(
                convert.moment(request.created_after) if request.HasField("created_after") else None
            ),
            created_before=(
                convert.moment(request.created_before)
                if request.HasField("created_before")
                else None
            ),
        )
        scope, cursor = current_scope(), request.cursor or None
        page = self._runs.list_runs(
            scope, run_filter, cursor=cursor, limit=paging.page_size(request.limit)
        )
        runs = [convert.run_proto(run) for run in page.items]
        fitting = paging.fitting(runs)
        if fitting < len(runs):  # too big for one reply: the page ends early, with a cursor
            page = self._runs.list_runs(scope, run_filter, cursor=cursor, limit=fitting)
            runs = runs[:fitting]
        return cp.ListRunsResponse(runs=runs, next_cursor=page.next_cursor or "")

    def cancel_run(self, request: cp.CancelRunRequest) -> cp.CancelRunResponse:
        run_id = _run_id(request.run_id)
        reason = request.reason.strip()
        if len(reason) > 1000:
            raise InvalidArgumentError("reason is limited to 1000 characters")
        asked = "a CancelRun request" + (f": {reason}" if reason else "")
        target = self._readable_run(run_id)
        require_location(Permission.LAUNCH, target.code_location)
        run = self._coordinator.cancel(current_scope(), run_id, requested_by=asked)
        return cp.CancelRunResponse(run=convert.run_proto(run))

    # --- events -------------------------------------------------------------------------

    def get_run_events(self, request: cp.GetRunEventsRequest) -> cp.GetRunEventsResponse:
        scope = current_scope()
        run_id = _run_id(request.run_id)
        self._readable_run(run_id)  # NOT_FOUND for an unknown run
        wanted_types = {convert.event_type_name(t) for t in request.event_types}

        def read(limit: int) -> EventPage:
            return self._event_log.get_run_events(
                scope,
                run_id,
                after_cursor=request.cursor or None,
                limit=limit,
                event_types=wanted_types,
                step_key=request.step_key or None,
            )

        page = read(paging.page_size(request.limit))
        events = [convert.run_event_proto(record) for record in page.items]
        fitting = paging.fitting(events)
        if fitting < len(events):  # too big for one reply: the page ends early
            page, events = read(fitting), events[:fitting]
        return cp.GetRunEventsResponse(
            events=events, next_cursor=page.cursor or "0", has_more=page.has_more
        )

    def watch_run(self, request: cp.WatchRunRequest) -> AsyncGenerator[cp.WatchRunResponse]:
        """Events as they are stored; ends after the run's final status was sent."""
        return run_watch.watch_run(
            current_scope(),
            _run_id(request.run_id),
            request.cursor or "0",
            notifier=self._notifier,
            reads=self._watch_reads,
            authorize=lambda run: require_location(Permission.READ, run.code_location),
            from_latest=request.from_latest,
        )


def _run_id(run_id: str) -> str:
    if not run_id:
        raise InvalidArgumentError("runId is required")
    return run_id


def _job_keys(job_name: str, graph: DeploymentGraph) -> set[str]:
    defining = [name for name, g in graph.graphs.items() if job_name in g.jobs]
    if not defining:
        known = sorted({job for g in graph.graphs.values() for job in g.jobs})
        raise InvalidArgumentError(
            f"no code location defines a job named {job_name!r}"
            + (f" (jobs: {', '.join(known)})" if known else "")
        )
    if len(defining) > 1:
        raise InvalidArgumentError(
            f"job {job_name!r} is defined in code locations {', '.join(defining)}; "
            "set codeLocation to choose one"
        )
    job = graph.graphs[defining[0]].jobs[job_name]
    return {"/".join(key.path) for key in job.asset_keys}


def computed_together(keys: set[str], graph: SnapshotGraph) -> set[str]:
    """The other outputs of selected multi-assets that cannot run a subset: their step
    materializes them too, so they belong to the run's plan (whose events it accepts)."""
    nodes = graph.nodes
    steps = {
        nodes[key].node_name
        for key in keys
        if key in nodes and nodes[key].node_name and not nodes[key].can_subset
    }
    if not steps:
        return set()
    by_step = graph.keys_by_node_name  # not a walk of every asset of the location
    return {key for step in steps for key in by_step.get(step, ())}


def single_location(keys: set[str], graph: DeploymentGraph) -> str:
    locations = sorted({graph.location_of[key] for key in keys})
    if len(locations) > 1:
        raise InvalidArgumentError(
            f"the selected assets live in code locations {', '.join(locations)}; a run "
            "executes in one, so narrow the selection or set codeLocation"
        )
    return locations[0]
