"""`ControlPlaneApi`: the API's servicers, their method handlers and the interceptor chain.

Built once in app.py and handed to both transports: each resolves a call's method
through `intercepted` (the handler wrapped in `interceptors`), so both run one policy.
Synchronous handlers run on `pools`: run reporting on threads of its own, so that no
number of readers can delay a heartbeat; WatchRun streams wait on an event loop and
borrow a thread only to read storage.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import grpc
from weir_protos.v1 import control_plane_pb2_grpc, reporting_pb2_grpc

from weir_controlplane.api.access import AccessApi
from weir_controlplane.api.access_interceptors import ScopeResolver, standard_chain
from weir_controlplane.api.alerts import AlertsApi
from weir_controlplane.api.assets import AssetsApi
from weir_controlplane.api.automation import AutomationApi
from weir_controlplane.api.backfills import BackfillsApi
from weir_controlplane.api.code_locations import CodeLocationsApi
from weir_controlplane.api.health import HealthApi
from weir_controlplane.api.instigators import InstigatorsApi
from weir_controlplane.api.partitions import PartitionsApi, SnapshotPartitionIndex
from weir_controlplane.api.replicas import ReplicasApi
from weir_controlplane.api.reply_cache import ReplyCache
from weir_controlplane.api.reporting import RunReportingServicer
from weir_controlplane.api.run_watch import SharedReads
from weir_controlplane.api.runs import RunsApi
from weir_controlplane.api.servicer import ControlPlaneServicer
from weir_controlplane.api.step_attempts import StepAttemptReportingServicer
from weir_controlplane.api.tenancy import DeploymentsApi
from weir_controlplane.auth.authenticator import Authenticator
from weir_controlplane.locations import CodeLocationRegistry
from weir_controlplane.runs import RunCoordinator
from weir_controlplane.storage import Deployment, Storage
from weir_controlplane.tenancy import DeploymentService

# Fully qualified names of the services the API serves, as in "/<service>/<method>".
SERVICE_NAMES = ("weir.v1.ControlPlaneService", "weir.v1.RunReportingService")
_REPORTING_METHODS = "/weir.v1.RunReportingService/"


@dataclass(frozen=True)
class CallPools:
    """The threads synchronous handlers run on, kept apart so one kind of call cannot
    starve another. Sized to leave storage connections free (SQLite's pool holds 15):
    reads and watch reads together never take them all, so reporting finds one."""

    reads: ThreadPoolExecutor  # ControlPlaneService's unary calls
    reporting: ThreadPoolExecutor  # RunReportingService: events and heartbeats
    watch_reads: ThreadPoolExecutor  # storage reads of WatchRun streams

    @classmethod
    def create(cls, reads: int = 8, reporting: int = 4, watch_reads: int = 2) -> CallPools:
        return cls(
            reads=ThreadPoolExecutor(reads, thread_name_prefix="api-read"),
            reporting=ThreadPoolExecutor(reporting, thread_name_prefix="api-reporting"),
            watch_reads=ThreadPoolExecutor(watch_reads, thread_name_prefix="api-watch"),
        )

    def for_method(self, path: str) -> Executor:
        """Where the unary method `path` ("/weir.v1.RunReportingService/Heartbeat") runs."""
        return self.reporting if path.startswith(_REPORTING_METHODS) else self.reads

    def shutdown(self) -> None:
        for pool in (self.reads, self.reporting, self.watch_reads):
            pool.shutdown(wait=False, cancel_futures=True)


class _HandlerCollector:
    """Stands in for a grpc.Server to capture what the generated `add_..._to_server` adds."""

    def __init__(self) -> None:
        self.by_path: dict[str, grpc.RpcMethodHandler] = {}

    def add_generic_rpc_handlers(self, handlers: Sequence[Any]) -> None:
        pass  # the same handlers arrive through add_registered_method_handlers

    def add_registered_method_handlers(
        self, service: str, handlers: Mapping[str, grpc.RpcMethodHandler]
    ) -> None:
        for name, handler in handlers.items():
            self.by_path[f"/{service}/{name}"] = handler


@dataclass
class ControlPlaneApi:
    """Everything both transports serve.

    Example::

        api = ControlPlaneApi.build(storage, registry, coordinator)
        server, port = create_server(GrpcServerConfig(api=api, port=4000))
        http_app = create_connect_app(api)
    """

    control_plane: ControlPlaneServicer
    reporting: RunReportingServicer
    interceptors: list[grpc.ServerInterceptor]
    pools: CallPools = field(default_factory=CallPools.create)
    # Built asset replies of this API's storage, and their JSON (api/reply_cache.py).
    replies: ReplyCache = field(default_factory=ReplyCache)
    method_handlers: dict[str, grpc.RpcMethodHandler] = field(init=False)
    # Told SERVING (True) or NOT_SERVING (False): each server's grpc.health.v1 servicer.
    serving_listeners: list[Callable[[bool], None]] = field(default_factory=list)
    serving: bool = False
    # This control-plane replica's id in the membership table ("" before it registers).
    replica_id: Callable[[], str] = lambda: ""

    def __post_init__(self) -> None:
        collector = _HandlerCollector()
        self.add_to_server(collector)
        self.method_handlers = collector.by_path

    @classmethod
    def build(
        cls,
        storage: Storage,
        registry: CodeLocationRegistry,
        coordinator: RunCoordinator,
        *,
        authenticator: Authenticator | None = None,
        deployment_service: DeploymentService | None = None,
        wake_backfills: Callable[[], None] = lambda: None,
    ) -> ControlPlaneApi:
        """`authenticator` None serves without auth: every caller may do anything.
        `wake_backfills` tells the backfill daemon that a backfill changed."""
        pools = CallPools.create()
        replies = ReplyCache()
        resolver = ScopeResolver(storage.deployments)

        def forget_deployment(deployment: Deployment) -> None:
            resolver.forget(deployment.organization_id, deployment.name)
            storage.asset_revisions.forget(deployment.scope)
            if authenticator is not None:
                authenticator.forget_all()  # its role bindings are gone

        service = deployment_service or DeploymentService(storage.deployments, registry)
        service.add_listener(forget_deployment)
        # Ingest numbers partitions by the snapshots' definitions to keep their status.
        storage.events.index_partitions_with(
            SnapshotPartitionIndex(registry, storage.dynamic_partitions)
        )
        partitions = PartitionsApi(registry, storage.partition_status, storage.dynamic_partitions)
        assets = AssetsApi(
            registry,
            storage.assets,
            storage.event_log,
            storage.code_locations,
            dynamic_spaces=partitions.dynamic_spaces,
            metadata=storage.metadata,
            revisions=storage.asset_revisions,
            cache=replies,
        )
        assets.health = health = HealthApi(
            assets.graph, storage.health, storage.freshness, storage.assets
        )
        control_plane = ControlPlaneServicer(
            code_locations=CodeLocationsApi(registry, storage.code_locations),
            assets=assets,
            health=health,
            partitions=partitions,
            automation=AutomationApi(registry, storage.automation),
            backfills=BackfillsApi(
                registry,
                storage.backfills,
                storage.partition_status,
                storage.assets,
                storage.dynamic_partitions,
                partitions.dynamic_spaces,
                wake_backfills,
            ),
            runs=RunsApi(
                registry,
                coordinator,
                storage.runs,
                storage.event_log,
                storage.code_locations,
                watch_reads=SharedReads(storage.runs, storage.event_log, pools.watch_reads),
                dynamic_spaces=partitions.dynamic_spaces,
            ),
            deployments=DeploymentsApi(storage.deployments, service),
            access=AccessApi(storage.access, storage.audit, authenticator),
            instigators=InstigatorsApi(registry, storage.instigators),
            replicas=ReplicasApi(storage.replicas, lambda: coordinator.replica_id),
            alerts=AlertsApi(storage.alerts),
        )
        return cls(
            control_plane=control_plane,
            reporting=StepAttemptReportingServicer(
                storage.events, storage.runs, coordinator, storage.step_attempts
            ),
            interceptors=standard_chain(
                storage.deployments, storage.audit, authenticator, resolver
            ),
            pools=pools,
            replies=replies,
            replica_id=lambda: coordinator.replica_id,
        )

    def add_to_server(self, server: Any) -> None:
        control_plane_pb2_grpc.add_ControlPlaneServiceServicer_to_server(self.control_plane, server)
        reporting_pb2_grpc.add_RunReportingServiceServicer_to_server(self.reporting, server)

    def intercepted(self, path: str, metadata: Sequence[tuple[str, str]]) -> Any:
        """The handler of `path` ("/weir.v1.ControlPlaneService/GetRun") wrapped in the
        interceptor chain, as a gRPC server would run it; None for an unknown method."""
        details = _HandlerCallDetails(method=path, invocation_metadata=tuple(metadata))

        def continue_from(index: int, call: Any) -> grpc.RpcMethodHandler | None:
            if index == len(self.interceptors):
                return self.method_handlers.get(call.method)
            return self.interceptors[index].intercept_service(
                lambda next_call: continue_from(index + 1, next_call), call
            )

        return continue_from(0, details)

    def set_serving(self, serving: bool) -> None:
        """Report SERVING or NOT_SERVING on grpc.health.v1 (before a graceful stop)."""
        self.serving = serving
        for listener in self.serving_listeners:
            listener(serving)

    def close(self) -> None:
        """Stop the handler threads (after the servers stopped)."""
        self.pools.shutdown()


@dataclass(frozen=True)
class _HandlerCallDetails(grpc.HandlerCallDetails):
    method: str
    invocation_metadata: tuple[tuple[str, str], ...]
