"""Code locations: the workspace file, their server processes, clients, health and snapshot
graphs."""

from weir_controlplane.locations.client import CodeLocationClient, LoadFailedError
from weir_controlplane.locations.graph import SnapshotGraph, key_string
from weir_controlplane.locations.health import HealthSettings, LocationHealthWatcher
from weir_controlplane.locations.registry import CodeLocationRegistry, LocationState
from weir_controlplane.locations.workspace import LocationSpec, load_workspace

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
