"""The control plane's gRPC API in the measuring process, over one storage, nothing else."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any


@contextlib.contextmanager
def serving(database_url: str) -> Iterator[tuple[Any, Any, str]]:
    """(storage, channel, address): the API on a free loopback port, a channel to it, and
    its address for other processes."""
    import grpc
    from weir_controlplane.api import ControlPlaneApi, GrpcServerConfig, create_server
    from weir_controlplane.locations import CodeLocationRegistry
    from weir_controlplane.runs import RunCoordinator, RunSettings
    from weir_controlplane.storage import Storage

    storage = Storage.open(database_url)
    registry = CodeLocationRegistry(storage)
    coordinator = RunCoordinator(storage, registry, RunSettings())
    server, port = create_server(
        GrpcServerConfig(api=ControlPlaneApi.build(storage, registry, coordinator))
    )
    server.start()
    address = f"127.0.0.1:{port}"
    channel = grpc.insecure_channel(address, options=[("grpc.enable_http_proxy", 0)])
    try:
        yield storage, channel, address
    finally:
        channel.close()
        server.stop(None).wait()
        coordinator.stop()
        registry.stop()
        storage.close()
