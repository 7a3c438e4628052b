"""Partitions in the control plane, from the snapshot alone: each asset's key space and the
partition mapping across each dependency, read into the engine the SDK uses
(`weir_partitions`), and the backfill planner built on them."""

from weir_controlplane.partitions.dependencies import (
    DependencyMapping,
    asset_space,
    dependency_mapping,
    dependency_mappings,
    space_of,
)
from weir_controlplane.partitions.wire import DynamicSpaces, key_mapping, key_space

__all__ = [
    "DependencyMapping",
    "DynamicSpaces",
    "asset_space",
    "dependency_mapping",
    "dependency_mappings",
    "key_mapping",
    "key_space",
    "space_of",
]
