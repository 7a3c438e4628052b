"""The control plane's API: one implementation of each RPC, served over gRPC and over
HTTP/JSON in the Connect protocol, both through the same interceptor chain.

Example (what app.py does)::

    api = ControlPlaneApi.build(storage, registry, coordinator)
    server, grpc_port = create_server(GrpcServerConfig(api=api, host="127.0.0.1", port=4000))
    server.start()  # a grpc.aio server on its own event loop thread
    http_app = create_connect_app(api, storage.deployments)  # serve with uvicorn
"""

from weir_controlplane.api.connect import create_connect_app
from weir_controlplane.api.context import current_request_id, current_scope
from weir_controlplane.api.grpc_server import GrpcApiServer, GrpcServerConfig, create_server
from weir_controlplane.api.handlers import SERVICE_NAMES, ControlPlaneApi
from weir_controlplane.api.openapi import openapi_document

__all__ = [
    "SERVICE_NAMES",
    "ControlPlaneApi",
    "GrpcApiServer",
    "GrpcServerConfig",
    "create_connect_app",
    "create_server",
    "current_request_id",
    "current_scope",
    "openapi_document",
]
