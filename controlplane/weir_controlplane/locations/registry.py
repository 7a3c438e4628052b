"""CodeLocationRegistry: the code locations of each deployment, their processes, clients,
status and snapshot graphs.

Snapshots are cached by content hash (in memory and in storage): a reload asks the location
for its hash and fetches definitions only when it changed.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

from weir_protos.v1 import definitions_pb2

from weir_controlplane.errors import FailedPreconditionError, NotFoundError, UnavailableError
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
from weir_controlplane.storage import CodeLocationStatus, DeploymentScope, Storage

log = logging.getLogger(__name__)


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


class _Location:
    def __init__(self, spec: LocationSpec, host: str):
        self.spec = spec
        self.process = LocationProcess(spec, host) if spec.managed else None
        self.client: CodeLocationClient | None = None
        self.graph: SnapshotGraph | None = None
        self.runtime: object | None = None
        self.lock = threading.Lock()

    def address(self) -> str:
        if self.process is not None:
            return self.process.address if self.process.port else ""
        return self.spec.address or ""


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

    def add_all(self, scope: DeploymentScope, specs: list[LocationSpec]) -> list[LocationState]:
        """Register, start and load locations concurrently (a slow one does not hold up the
        rest)."""
        with ThreadPoolExecutor(max_workers=max(1, min(8, len(specs)))) as pool:
            return list(pool.map(lambda spec: self.add(scope, spec), specs))

    def add(self, scope: DeploymentScope, spec: LocationSpec) -> LocationState:
        command = " ".join(spec.command) if spec.command else None
        self._storage.code_locations.upsert(scope, spec.name, address=spec.address, command=command)
        location = _Location(spec, self._host)
        with self._lock:
            old = self._locations.pop((scope.deployment_id, spec.name), None)
            self._locations[(scope.deployment_id, spec.name)] = location
        if old is not None:
            _shut(old)
        return self.reload(scope, spec.name)

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
            self.reload(scope, name)  # restart a crashed server before giving up
        if location.client is None:
            state = self._state(scope, name)
            raise UnavailableError(
                f"Code location '{name}' is {state.status.value.lower()}"
                f"{': ' + state.error if state.error else ''}"
            )
        return location.client

    # --- reload -------------------------------------------------------------------------

    def reload(self, scope: DeploymentScope, name: str) -> LocationState:
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
                    raise LoadFailedError(info.load_error.message, info.load_error.stack)
                graph = self._load_graph(scope, location.client, info.content_hash)
                location.graph = graph
                self._storage.code_locations.set_loaded(
                    scope, name, graph.content_hash, graph.snapshot.SerializeToString()
                )
            except LoadFailedError as exc:
                self._storage.code_locations.set_unavailable(
                    scope, name, CodeLocationStatus.ERROR, exc.message
                )
            except (UnavailableError, LocationStartError) as exc:
                log.warning("code location %s unreachable: %s", name, exc)
                self._storage.code_locations.set_unavailable(
                    scope, name, CodeLocationStatus.UNREACHABLE, str(exc)
                )
        return self._state(scope, name)

    def _connect(self, location: _Location) -> None:
        process = location.process
        if process is not None and not process.alive:
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
        self._graphs[graph.content_hash] = graph
        return graph

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
        return graph

    def _state(self, scope: DeploymentScope, name: str) -> LocationState:
        row = self._storage.code_locations.get(scope, name)
        location = self._locations.get((scope.deployment_id, name))
        graph = self._graph_or_none(scope, name)
        return LocationState(
            name=row.name,
            status=row.status,
            address=location.address() if location else (row.address or ""),
            error=row.error_message,
            content_hash=row.snapshot_hash or "",
            updated_at=row.updated_at,
            asset_count=len(graph.nodes) if graph else 0,
            runtime=location.runtime if location else None,
        )


def _shut(location: _Location) -> None:
    if location.client is not None:
        location.client.close()
    if location.process is not None:
        location.process.stop()
