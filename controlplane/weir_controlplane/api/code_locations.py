"""Code-location RPCs: ListCodeLocations, ReloadCodeLocation, CreateCodeLocation,
DeleteCodeLocation, answered by the CodeLocationRegistry."""

from __future__ import annotations

import re
from pathlib import Path

from weir_protos.v1 import control_plane_pb2 as cp

from weir_controlplane.api import convert
from weir_controlplane.api.access_checks import require_location, visible_locations
from weir_controlplane.api.context import current_scope
from weir_controlplane.auth.roles import Permission
from weir_controlplane.errors import (
    AlreadyExistsError,
    FailedPreconditionError,
    InvalidArgumentError,
)
from weir_controlplane.locations import CodeLocationRegistry
from weir_controlplane.locations.workspace import parse_location
from weir_controlplane.storage import (
    CodeLocationNotFoundError,
    CodeLocationSource,
    CodeLocationStorage,
)


class CodeLocationsApi:
    """Answers the code-location RPCs of ControlPlaneService for the request's deployment."""

    def __init__(self, registry: CodeLocationRegistry, code_locations: CodeLocationStorage) -> None:
        self._registry = registry
        self._code_locations = code_locations

    def list_code_locations(
        self, request: cp.ListCodeLocationsRequest
    ) -> cp.ListCodeLocationsResponse:
        states = self._registry.list_locations(current_scope())
        visible = visible_locations()
        if visible is not None:
            states = [state for state in states if state.name in visible]
        return cp.ListCodeLocationsResponse(
            code_locations=[convert.code_location_proto(state) for state in states]
        )

    def reload_code_location(
        self, request: cp.ReloadCodeLocationRequest
    ) -> cp.ReloadCodeLocationResponse:
        name = _name(request.name)
        require_location(Permission.DEPLOY_LOCATIONS, name)
        state = self._registry.reload(current_scope(), name)
        return cp.ReloadCodeLocationResponse(code_location=convert.code_location_proto(state))

    def create_code_location(
        self, request: cp.CreateCodeLocationRequest
    ) -> cp.CreateCodeLocationResponse:
        scope = current_scope()
        name = _name(request.name)
        require_location(Permission.DEPLOY_LOCATIONS, name)
        if not request.address:
            raise InvalidArgumentError(
                "address is required: the gRPC target of its CodeLocationService, e.g. "
                '"127.0.0.1:4266"'
            )
        _check_address(request.address)
        spec = parse_location({"name": name, "address": request.address}, Path.cwd())
        try:
            self._code_locations.get(scope, name)
        except CodeLocationNotFoundError:
            pass
        else:
            raise AlreadyExistsError(f"a code location named {name!r} already exists")
        state = self._registry.add(scope, spec, CodeLocationSource.API)
        return cp.CreateCodeLocationResponse(code_location=convert.code_location_proto(state))

    def delete_code_location(
        self, request: cp.DeleteCodeLocationRequest
    ) -> cp.DeleteCodeLocationResponse:
        scope = current_scope()
        name = _name(request.name)
        require_location(Permission.EDIT, name)
        row = self._code_locations.get(scope, name)  # NOT_FOUND if unknown
        if row.command:
            raise FailedPreconditionError(
                f"code location {name!r} is started by the control plane from its workspace "
                "file; remove it there instead"
            )
        self._registry.remove(scope, name)
        return cp.DeleteCodeLocationResponse()


# What CreateCodeLocation connects to: host:port, [ipv6]:port, or a gRPC dns: target.
# Other gRPC schemes (unix:, unix-abstract:, vsock:, ipv4:/ipv6: lists) would let an API
# client point the control plane at local sockets.
_HOST = r"(?:[A-Za-z0-9](?:[A-Za-z0-9\-\.]{0,252}[A-Za-z0-9])?|\[[0-9A-Fa-f:\.]+\])"
_PORT = r"(?:[1-9][0-9]{0,4})"
_ADDRESS = re.compile(rf"^(?:dns:(?://[^/]*/)?)?{_HOST}:{_PORT}$")


def _check_address(address: str) -> None:
    match = _ADDRESS.match(address)
    port = int(address.rsplit(":", 1)[1]) if match else 0
    if not match or not 0 < port < 65536:
        raise InvalidArgumentError(
            f'address {address[:100]!r} is not a host:port (e.g. "127.0.0.1:4266", '
            '"[::1]:4266", "dns:codeserver.internal:4266")'
        )


def _name(name: str) -> str:
    if not name:
        raise InvalidArgumentError("name is required: the code location's name")
    return name
