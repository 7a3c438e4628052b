"""The API over gRPC: ControlPlaneService and RunReportingService, with health and
reflection, every call through the shared interceptor chain."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from weir_controlplane.api.handlers import SERVICE_NAMES, ControlPlaneApi

# Snapshots and event batches can be large; the default 4 MiB is too tight for them.
MAX_MESSAGE_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class GrpcServerConfig:
    """Where and how the gRPC server listens. Port 0 picks a free port."""

    api: ControlPlaneApi
    host: str = "127.0.0.1"
    port: int = 0
    max_workers: int = 32


def create_server(config: GrpcServerConfig) -> tuple[grpc.Server, int]:
    """A started-ready (not yet started) gRPC server and the port it is bound to.

    Example::

        server, port = create_server(GrpcServerConfig(api=api, port=0))
        server.start()
        ...
        api.set_serving(False)
        server.stop(grace=5).wait()
    """
    server = grpc.server(
        ThreadPoolExecutor(max_workers=config.max_workers, thread_name_prefix="grpc-api"),
        interceptors=config.api.interceptors,
        options=[
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
        ],
    )
    config.api.add_to_server(server)
    health_pb2_grpc.add_HealthServicer_to_server(config.api.health, server)
    config.api.set_serving(True)
    reflection.enable_server_reflection(
        (
            *SERVICE_NAMES,
            health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
            reflection.SERVICE_NAME,
        ),
        server,
    )
    port = server.add_insecure_port(f"{config.host}:{config.port}")
    if port == 0:
        raise OSError(f"cannot listen for gRPC on {config.host}:{config.port}")
    return server, port
