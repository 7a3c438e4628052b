"""Code locations: the workspace file, their server processes, clients, health and snapshot
graphs.

The names below are imported on first use: `weir dev` starts its code servers from
`locations.process` and `locations.workspace` before anything loads grpc, protobuf or
SQLAlchemy, and importing a submodule runs this file first.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from weir_controlplane.locations.client import CodeLocationClient, LoadFailedError
    from weir_controlplane.locations.graph import SnapshotGraph, key_string
    from weir_controlplane.locations.health import HealthSettings, LocationHealthWatcher
    from weir_controlplane.locations.registry import CodeLocationRegistry, LocationState
    from weir_controlplane.locations.workspace import LocationSpec, load_workspace

_HOMES = {
    "CodeLocationClient": "client",
    "LoadFailedError": "client",
    "SnapshotGraph": "graph",
    "key_string": "graph",
    "HealthSettings": "health",
    "LocationHealthWatcher": "health",
    "CodeLocationRegistry": "registry",
    "LocationState": "registry",
    "LocationSpec": "workspace",
    "load_workspace": "workspace",
}

__all__ = [
    "CodeLocationClient",
    "CodeLocationRegistry",
    "HealthSettings",
    "LoadFailedError",
    "LocationHealthWatcher",
    "LocationSpec",
    "LocationState",
    "SnapshotGraph",
    "key_string",
    "load_workspace",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value  # later lookups skip this function
    return value
