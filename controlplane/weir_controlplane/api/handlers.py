"""`ControlPlaneApi`: the API's servicers, their method handlers and the interceptor chain.

Built once in app.py and handed to both transports: `create_server` registers the
servicers on a gRPC server with `interceptors`; the Connect app looks methods up in
`method_handlers` and runs them through the same `interceptors`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2
from weir_protos.v1 import control_plane_pb2_grpc, reporting_pb2_grpc

from weir_controlplane.api.assets import AssetsApi
from weir_controlplane.api.code_locations import CodeLocationsApi
from weir_controlplane.api.interceptors import standard_interceptors
from weir_controlplane.api.reporting import RunReportingServicer
from weir_controlplane.api.runs import RunsApi
from weir_controlplane.api.servicer import ControlPlaneServicer
from weir_controlplane.locations import CodeLocationRegistry
from weir_controlplane.runs import RunCoordinator
from weir_controlplane.storage import Storage

# Fully qualified names of the services the API serves, as in "/<service>/<method>".
SERVICE_NAMES = ("weir.v1.ControlPlaneService", "weir.v1.RunReportingService")


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
    health: health.HealthServicer = field(default_factory=health.HealthServicer)
    method_handlers: dict[str, grpc.RpcMethodHandler] = field(init=False)

    def __post_init__(self) -> None:
        collector = _HandlerCollector()
        self.add_to_server(collector)
        self.method_handlers = collector.by_path

    @classmethod
    def build(
        cls, storage: Storage, registry: CodeLocationRegistry, coordinator: RunCoordinator
    ) -> ControlPlaneApi:
        control_plane = ControlPlaneServicer(
            code_locations=CodeLocationsApi(registry, storage.code_locations),
            assets=AssetsApi(registry, storage.assets, storage.event_log, storage.code_locations),
            runs=RunsApi(
                registry, coordinator, storage.runs, storage.event_log, storage.code_locations
            ),
        )
        return cls(
            control_plane=control_plane,
            reporting=RunReportingServicer(storage.events, storage.runs, coordinator),
            interceptors=standard_interceptors(storage.deployments),
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
        status = (
            health_pb2.HealthCheckResponse.SERVING
            if serving
            else health_pb2.HealthCheckResponse.NOT_SERVING
        )
        for service in ("", *SERVICE_NAMES):
            self.health.set(service, status)


@dataclass(frozen=True)
class _HandlerCallDetails(grpc.HandlerCallDetails):
    method: str
    invocation_metadata: tuple[tuple[str, str], ...]
