"""The partition key of a launch, checked against the snapshot's partitions definitions.

A snapshot carries each asset's partitions definition (`weir.v1.PartitionsDefinition`);
`weir_controlplane.partitions` turns it into the key space of `weir_partitions`, the engine
the SDK cuts partitions with, so a key the control plane accepts is one the code location
has.

Dynamic partitions keep their keys in the deployment's store (`dynamic_partitions`);
callers that can reach it pass `dynamic`, which gives the key space of a definition
name. Without it any non-empty key passes for a dynamic definition (or dimension).
"""

from __future__ import annotations

import time

from weir_protos.v1 import definitions_pb2

from weir_controlplane.errors import InvalidArgumentError
from weir_controlplane.locations.graph import key_string
from weir_controlplane.partitions import DynamicSpaces, space_of

__all__ = ["DynamicSpaces", "check_partition_key", "space_of"]


def check_partition_key(
    partition_key: str,
    nodes: list[definitions_pb2.AssetNode],
    now: float | None = None,
    dynamic: DynamicSpaces | None = None,
) -> None:
    """Raise InvalidArgumentError unless `partition_key` fits the selected assets: set
    exactly when one is partitioned, and a key of every partitioned one as of `now`."""
    partitioned = [node for node in nodes if node.HasField("partitions_def")]
    names = ", ".join(repr(key_string(node.key)) for node in partitioned[:5])
    if partitioned and not partition_key:
        raise InvalidArgumentError(
            f"asset(s) {names} are partitioned: set partitionKey to the partition to run"
        )
    if partition_key and not partitioned:
        raise InvalidArgumentError(
            f"partitionKey {partition_key!r} was given but none of the selected assets is "
            "partitioned"
        )
    moment = time.time() if now is None else now
    for node in partitioned:
        space = space_of(node, dynamic)
        if not space.has_key(partition_key, moment):
            detail = space.describe_valid_keys(partition_key, moment)
            raise InvalidArgumentError(
                f"{partition_key!r} is not a partition of asset {key_string(node.key)!r}: {detail}"
            )
