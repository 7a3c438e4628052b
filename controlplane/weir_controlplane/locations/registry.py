"""CodeLocationRegistry: the code locations of each deployment, their processes, clients,
status and snapshot graphs.

Snapshots are cached by content hash (in memory and in storage): a refresh asks the location
for its hash and fetches definitions only when it changed. `reload` (the API's
ReloadCodeLocation) re-reads the code: a location the control plane started gets a new
process, and the old one is kept until the runs it executes have ended.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from weir_protos.v1 import code_location_pb2, common_pb2, definitions_pb2

from weir_controlplane.errors import (
    ApiError,
    FailedPreconditionError,
    NotFoundError,
    UnavailableError,
)
from weir_controlplane.locations.client import CodeLocationClient, LoadFailedError
from weir_controlplane.locations.graph import SnapshotGraph
from weir_controlplane.locations.process import LocationProcess, LocationStartError
from weir_controlplane.locations.snapshot_check import (
    SnapshotBudget,
    SnapshotLimits,
    SnapshotRefusedError,
    checked_graph,
)
from weir_controlplane.locations.workspace import LocationSpec
from weir_controlplane.storage import (
    IN_PROGRESS_RUN_STATUSES,
    CodeLocationSource,
    CodeLocationStatus,
    DeploymentScope,
    RunFilter,
    Storage,
)

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class LocationState:
    name: str
    status: CodeLocationStatus
    address: str
    error: str | None
    content_hash: str
    updated_at: datetime
    asset_count: int
    runtime: object | None = None  # weir.v1.RuntimeInfo when known
    # weir.v1.Error for ERROR: the load error as the location reported it (class, stack).
    load_error: object | None = None


@dataclass(frozen=True)
class WatchedLocation:
    """What the health watcher needs to know of one location at one moment."""

    scope: DeploymentScope
    name: str
    client: CodeLocationClient | None
    managed: bool
    process_alive: bool


class _Retired:
    """A managed server replaced by a reload, serving the runs it started until they end."""

    def __init__(self, process: LocationProcess, client: CodeLocationClient | None):
        self.process = process
        self.client = client


class _Location:
    def __init__(
        self,
        scope: DeploymentScope,
        spec: LocationSpec,
        host: str,
        source: CodeLocationSource,
        process: LocationProcess | None = None,
    ):
        self.scope = scope
        self.spec = spec
        self.source = source
        self.host = host
        if process is None and spec.managed:
            process = LocationProcess(spec, host)
        self.process = process
        self.client: CodeLocationClient | None = None
        self.graph: SnapshotGraph | None = None
        self.runtime: object | None = None
        self.load_error: common_pb2.Error | None = None
        self.retired: list[_Retired] = []
        self.lock = threading.Lock()

    def address(self) -> str:
        if self.process is not None:
            return self.process.address if self.process.port else ""
        return self.spec.address or ""

    def clients(self) -> list[CodeLocationClient]:
        """The current server's client, then those of servers draining after a reload."""
        found = [self.client] if self.client is not None else []
        return found + [r.client for r in self.retired if r.client is not None]


class CodeLocationRegistry:
    def __init__(
        self, storage: Storage, host: str = "127.0.0.1", limits: SnapshotLimits | None = None
    ):
        self._storage = storage
        self._limits = limits or SnapshotLimits()
        self._host = host
        self._locations: dict[tuple[int, str], _Location] = {}
        self._graphs: dict[str, SnapshotGraph] = {}  # by content hash
        self._lock = threading.Lock()

    # --- lifecycle ----------------------------------------------------------------------

    def sync(
        self,
        scope: DeploymentScope,
        specs: list[LocationSpec],
        spawned: Mapping[str, LocationProcess] | None = None,
    ) -> list[LocationState]:
        """Serve exactly the workspace's locations plus those added through the API.

        Called at start: a location an earlier workspace file (or `weir dev -f`) declared
        and this one does not is removed, so its assets are no longer listed and no run
        can be launched on it; its runs and their events stay readable. `spawned` holds
        servers already started for some of `specs` (by name), which are used as they are.
        """
        spawned = spawned or {}
        wanted = {spec.name for spec in specs}
        kept: list[tuple[LocationSpec, CodeLocationSource]] = []
        for row in self._storage.code_locations.list_locations(scope):
            if row.name in wanted:
                continue
            if row.source is CodeLocationSource.API and row.address:
                kept.append((LocationSpec(row.name, address=row.address), row.source))
            else:
                log.info("code location %s is no longer in the workspace; removing it", row.name)
                self.remove(scope, row.name)
        todo = [(spec, CodeLocationSource.WORKSPACE) for spec in specs] + kept
        with ThreadPoolExecutor(max_workers=max(1, min(8, len(todo)))) as pool:
            # Concurrently: a slow location does not hold up the rest.
            return list(
                pool.map(
                    lambda item: self.add(scope, item[0], item[1], spawned.get(item[0].name)),
                    todo,
                )
            )

    def add(
        self,
        scope: DeploymentScope,
        spec: LocationSpec,
        source: CodeLocationSource = CodeLocationSource.WORKSPACE,
        process: LocationProcess | None = None,
    ) -> LocationState:
        command = " ".join(spec.command) if spec.command else None
        self._storage.code_locations.upsert(
            scope, spec.name, address=spec.address, command=command, source=source
        )
        location = _Location(scope, spec, self._host, source, process)
        with self._lock:
            old = self._locations.pop((scope.deployment_id, spec.name), None)
            self._locations[(scope.deployment_id, spec.name)] = location
        if old is not None:
            _shut(old)
        return self.refresh(scope, spec.name)

    def remove(self, scope: DeploymentScope, name: str) -> None:
        """Forget a location: stop its process (if managed) and drop its row."""
        with self._lock:
            location = self._locations.pop((scope.deployment_id, name), None)
        if location is not None:
            _shut(location)
        self._storage.code_locations.remove(scope, name)

    def stop(self) -> None:
        with self._lock:
            locations = list(self._locations.values())
            self._locations.clear()
        for location in locations:
            _shut(location)

    # --- reads --------------------------------------------------------------------------

    def list_locations(self, scope: DeploymentScope) -> list[LocationState]:
        return [
            self._state(scope, row.name)
            for row in self._storage.code_locations.list_locations(scope)
        ]

    def snapshot(
        self, scope: DeploymentScope, name: str
    ) -> definitions_pb2.DefinitionsSnapshot | None:
        graph = self._graph_or_none(scope, name)
        return graph.snapshot if graph is not None else None

    def graph(self, scope: DeploymentScope, name: str) -> SnapshotGraph:
        graph = self._graph_or_none(scope, name)
        if graph is None:
            state = self._state(scope, name)
            raise FailedPreconditionError(
                f"Code location '{name}' has no definitions loaded ({state.status.value}"
                f"{': ' + state.error if state.error else ''})"
            )
        return graph

    def all_graphs(self, scope: DeploymentScope) -> dict[str, SnapshotGraph]:
        graphs = {}
        for row in self._storage.code_locations.list_locations(scope):
            graph = self._graph_or_none(scope, row.name)
            if graph is not None:
                graphs[row.name] = graph
        return graphs

    def client(self, scope: DeploymentScope, name: str) -> CodeLocationClient:
        location = self._location(scope, name)
        if location.process is not None and not location.process.alive:
            self.refresh(scope, name)  # restart a crashed server before giving up
        if location.client is None:
            state = self._state(scope, name)
            raise UnavailableError(
                f"Code location '{name}' is {state.status.value.lower()}"
                f"{': ' + state.error if state.error else ''}"
            )
        return location.client

    # --- runs on servers old and new ----------------------------------------------------

    def cancel_run(self, scope: DeploymentScope, name: str, run_id: str) -> bool:
        """Ask whichever server executes the run (the current one, or one draining after a
        reload) to cancel it; True when a worker was running it."""
        reply = self._ask_about_run(scope, name, lambda client: client.cancel_run(run_id))
        return bool(reply)

    def run_status(
        self, scope: DeploymentScope, name: str, run_id: str
    ) -> code_location_pb2.GetRunStatusResponse:
        """The location's view of a run; NotFoundError when no server of it knows the run."""
        return self._ask_about_run(scope, name, lambda client: client.run_status(run_id))

    def _ask_about_run(
        self, scope: DeploymentScope, name: str, ask: Callable[[CodeLocationClient], T]
    ) -> T:
        location = self._location(scope, name)
        clients = location.clients() or [self.client(scope, name)]
        not_found: NotFoundError | None = None
        for client in clients:
            try:
                return ask(client)
            except NotFoundError as exc:
                not_found = exc
        assert not_found is not None
        raise not_found

    # --- reload -------------------------------------------------------------------------

    def reload(self, scope: DeploymentScope, name: str) -> LocationState:
        """Re-read the location's code. A location the control plane started is restarted
        (a new process loads the code afresh; the old one finishes the runs it executes);
        one running elsewhere is asked for its definitions again."""
        location = self._location(scope, name)
        if location.process is not None:
            with location.lock:
                try:
                    self._replace_process(location)
                except LocationStartError as exc:
                    log.warning("code location %s did not restart: %s", name, exc)
                    self._storage.code_locations.set_unavailable(
                        scope, name, CodeLocationStatus.UNREACHABLE, str(exc)
                    )
                    return self._state(scope, name)
        return self.refresh(scope, name)

    def restart(self, scope: DeploymentScope, name: str) -> LocationState:
        """Stop a managed server that stopped answering (and its runs with it), start it
        again and load it."""
        location = self._location(scope, name)
        with location.lock:
            if location.process is not None:
                if location.client is not None:
                    location.client.close()
                    location.client = None
                location.process.stop(grace=2.0)
        return self.refresh(scope, name)

    def refresh(self, scope: DeploymentScope, name: str) -> LocationState:
        """(Re)connect, restart a managed process that died, and fetch definitions if their
        hash changed. Failures become the location's status, never exceptions."""
        location = self._location(scope, name)
        with location.lock:
            try:
                self._connect(location)
                assert location.client is not None
                info = location.client.info()
                location.runtime = info.runtime
                if info.HasField("load_error"):
                    raise LoadFailedError.reported(info.load_error)
                graph = self._load_graph(scope, location.client, info.content_hash)
                location.graph = graph
                location.load_error = None
                self._storage.code_locations.set_loaded(
                    scope, name, graph.content_hash, graph.snapshot.SerializeToString()
                )
            except LoadFailedError as exc:
                location.load_error = exc.error
                self._storage.code_locations.set_unavailable(
                    scope, name, CodeLocationStatus.ERROR, exc.message
                )
            except (ApiError, LocationStartError) as exc:
                log.warning("code location %s unreachable: %s", name, exc)
                self._storage.code_locations.set_unavailable(
                    scope, name, CodeLocationStatus.UNREACHABLE, str(exc)
                )
        return self._state(scope, name)

    def _replace_process(self, location: _Location) -> None:
        process = LocationProcess(location.spec, location.host)
        process.start()
        old_process, old_client = location.process, location.client
        location.process = process
        location.client = CodeLocationClient(location.spec.name, process.address)
        if old_process is not None and old_process.alive:
            location.retired.append(_Retired(old_process, old_client))
        elif old_client is not None:
            old_client.close()

    def _connect(self, location: _Location) -> None:
        process = location.process
        if process is not None and not process.serving:
            if location.client is not None:
                location.client.close()
                location.client = None
            process.start()
        if location.client is None:
            location.client = CodeLocationClient(location.spec.name, location.address())

    def _load_graph(
        self, scope: DeploymentScope, client: CodeLocationClient, content_hash: str
    ) -> SnapshotGraph:
        graph = self._graphs.get(content_hash) if content_hash else None
        if graph is not None:
            return graph
        stored = (
            self._storage.code_locations.get_snapshot(scope, content_hash) if content_hash else None
        )
        try:
            if stored is not None:
                snapshot = definitions_pb2.DefinitionsSnapshot.FromString(stored)
            else:
                snapshot = client.definitions(SnapshotBudget(client.name, self._limits))
            graph = checked_graph(client.name, snapshot, self._limits)
        except SnapshotRefusedError as exc:
            raise LoadFailedError(str(exc)) from None
        graph.automation_digests  # noqa: B018 (made at load, not on an automation tick)
        self._graphs[graph.content_hash] = graph
        return graph

    # --- health -------------------------------------------------------------------------

    def watched(self) -> list[WatchedLocation]:
        with self._lock:
            locations = list(self._locations.values())
        return [
            WatchedLocation(
                scope=location.scope,
                name=location.spec.name,
                client=location.client,
                managed=location.process is not None,
                process_alive=location.process is not None and location.process.alive,
            )
            for location in locations
        ]

    def status(self, scope: DeploymentScope, name: str) -> CodeLocationStatus:
        return self._storage.code_locations.get(scope, name).status

    def mark_unreachable(self, scope: DeploymentScope, name: str, message: str) -> None:
        self._storage.code_locations.set_unavailable(
            scope, name, CodeLocationStatus.UNREACHABLE, message
        )

    def stop_drained(self) -> None:
        """Stop servers replaced by a reload once none of their run workers is alive."""
        with self._lock:
            locations = [location for location in self._locations.values() if location.retired]
        for location in locations:
            for retired in list(location.retired):
                if retired.process.alive and self._still_running(location, retired):
                    continue
                location.retired.remove(retired)
                if retired.client is not None:
                    retired.client.close()
                retired.process.stop()

    def _still_running(self, location: _Location, retired: _Retired) -> bool:
        if retired.client is None:
            return False
        page = self._storage.runs.list_runs(
            location.scope,
            RunFilter(
                statuses=frozenset(IN_PROGRESS_RUN_STATUSES), code_location=location.spec.name
            ),
            limit=500,
        )
        for run in page.items:
            try:
                if retired.client.run_status(run.run_id).worker_alive:
                    return True
            except NotFoundError:
                continue
            except ApiError:
                return True  # cannot tell: keep it a while longer
        return False

    # --- helpers ------------------------------------------------------------------------

    def _location(self, scope: DeploymentScope, name: str) -> _Location:
        location = self._locations.get((scope.deployment_id, name))
        if location is None:
            known = ", ".join(sorted(n for d, n in self._locations if d == scope.deployment_id))
            raise NotFoundError(f"No code location named '{name}' (known: {known or 'none'})")
        return location

    def _graph_or_none(self, scope: DeploymentScope, name: str) -> SnapshotGraph | None:
        location = self._locations.get((scope.deployment_id, name))
        if location is not None and location.graph is not None:
            return location.graph
        row = self._storage.code_locations.get(scope, name)
        if not row.snapshot_hash:
            return None
        graph = self._graphs.get(row.snapshot_hash)
        if graph is None:
            body = self._storage.code_locations.get_snapshot(scope, row.snapshot_hash)
            if body is None:
                return None
            graph = self._graphs[row.snapshot_hash] = SnapshotGraph(
                definitions_pb2.DefinitionsSnapshot.FromString(body)
            )
            graph.automation_digests  # noqa: B018 (made at load, not on an automation tick)
        return graph

    def _state(self, scope: DeploymentScope, name: str) -> LocationState:
        row = self._storage.code_locations.get(scope, name)
        location = self._locations.get((scope.deployment_id, name))
        graph = self._graph_or_none(scope, name)
        load_error = location.load_error if location is not None else None
        return LocationState(
            name=row.name,
            status=row.status,
            address=location.address() if location else (row.address or ""),
            error=row.error_message,
            content_hash=row.snapshot_hash or "",
            updated_at=row.updated_at,
            asset_count=len(graph.nodes) if graph else 0,
            runtime=location.runtime if location else None,
            load_error=load_error if row.status is CodeLocationStatus.ERROR else None,
        )


def _shut(location: _Location) -> None:
    for client in location.clients():
        client.close()
    for retired in location.retired:
        retired.process.stop()
    if location.process is not None:
        location.process.stop()
