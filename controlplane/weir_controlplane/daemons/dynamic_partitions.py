"""A sensor's `SensorResult(dynamic_partitions_requests=...)`, applied to the
deployment's dynamic partitions store before its run requests are launched, so a run
may target a key the same tick added."""

from __future__ import annotations

from collections.abc import Sequence

from weir_protos.v1 import code_location_pb2

from weir_controlplane.api.partitions import checked_dynamic_keys, dynamic_names
from weir_controlplane.errors import InvalidArgumentError
from weir_controlplane.locations.graph import SnapshotGraph
from weir_controlplane.storage import DeploymentScope, DynamicPartitionStorage


def apply_dynamic_partitions(
    store: DynamicPartitionStorage,
    scope: DeploymentScope,
    graph: SnapshotGraph,
    requests: Sequence[code_location_pb2.DynamicPartitionsRequest],
) -> None:
    """Add and delete the requested keys; InvalidArgumentError (changing nothing) when a
    request names a definition the sensor's code location lacks, or a key is invalid."""
    if not requests:
        return
    known = {name for node in graph.nodes.values() for name in dynamic_names(node.partitions_def)}
    checked = []
    for request in requests:
        name = request.partitions_def_name
        if name not in known:
            listed = ", ".join(repr(n) for n in sorted(known)) or "none"
            raise InvalidArgumentError(
                f"the sensor asks to change dynamic partitions {name!r}, which its code "
                f"location does not define (dynamic definitions: {listed})"
            )
        adding = (
            checked_dynamic_keys(request.add_partition_keys) if request.add_partition_keys else []
        )
        deleting = (
            checked_dynamic_keys(request.delete_partition_keys)
            if request.delete_partition_keys
            else []
        )
        checked.append((name, adding, deleting))
    for name, adding, deleting in checked:
        if adding:
            store.add(scope, name, adding)
        if deleting:
            store.delete(scope, name, deleting)
