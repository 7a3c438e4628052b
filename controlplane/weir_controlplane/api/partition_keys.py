"""The partition key of a launch, checked against the snapshot's partitions definitions.

A snapshot carries each asset's partitions definition (`weir.v1.PartitionsDefinition`);
`key_space` turns it into the key space of `weir_partitions`, the engine the SDK cuts
partitions with, so a key the control plane accepts is one the code location has.

Dynamic partitions keep their keys in the deployment's store (`dynamic_partitions`);
callers that can reach it pass `dynamic`, which gives the key space of a definition
name. Without it any non-empty key passes for a dynamic definition (or dimension).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC
from functools import lru_cache

from weir_partitions import (
    DynamicKeySpace,
    KeySpace,
    MultiKeySpace,
    PartitionsError,
    StaticKeySpace,
    TimeWindowKeySpace,
)
from weir_protos.v1 import definitions_pb2, partitions_pb2

from weir_controlplane.errors import FailedPreconditionError, InvalidArgumentError

# The key space of a dynamic partitions definition, by its name.
DynamicSpaces = Callable[[str], KeySpace]


def check_partition_key(
    partition_key: str,
    nodes: list[definitions_pb2.AssetNode],
    now: float | None = None,
    dynamic: DynamicSpaces | None = None,
) -> None:
    """Raise InvalidArgumentError unless `partition_key` fits the selected assets: set
    exactly when one is partitioned, and a key of every partitioned one as of `now`."""
    partitioned = [node for node in nodes if node.HasField("partitions_def")]
    names = ", ".join(repr(_label(node)) for node in partitioned[:5])
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
                f"{partition_key!r} is not a partition of asset {_label(node)!r}: {detail}"
            )


def key_space(
    definition: partitions_pb2.PartitionsDefinition, dynamic: DynamicSpaces | None = None
) -> KeySpace:
    """The key space of a partitions definition as a snapshot carries it.

    Raises `weir_partitions.PartitionsError` for one the engine cannot read (a bad cron
    string or time zone from a location not written with the SDK).
    """
    kind = definition.WhichOneof("kind")
    if kind == "static":
        return StaticKeySpace(list(definition.static.keys))
    if kind == "time_window":
        window = definition.time_window
        return TimeWindowKeySpace(
            window.cron_schedule,
            window.timezone or "UTC",
            window.fmt,
            window.start.ToDatetime(tzinfo=UTC),
            window.end.ToDatetime(tzinfo=UTC) if window.HasField("end") else None,
            window.end_offset,
        )
    if kind == "dynamic":
        name = definition.dynamic.name
        return DynamicKeySpace(name) if dynamic is None else dynamic(name)
    if kind == "multi":
        return MultiKeySpace(
            [(d.name, key_space(d.partitions_def, dynamic)) for d in definition.multi.dimensions]
        )
    raise PartitionsError(f"a partitions definition with no kind set ({kind!r})")


@lru_cache(maxsize=512)
def _cached_space(serialized: bytes) -> KeySpace:
    # Building a time-window space reads its cron string and checks its format: once per
    # definition, not once per launch. A space also caches key -> window lookups.
    return key_space(partitions_pb2.PartitionsDefinition.FromString(serialized))


def has_dynamic_keys(definition: partitions_pb2.PartitionsDefinition) -> bool:
    kind = definition.WhichOneof("kind")
    if kind == "multi":
        return any(has_dynamic_keys(d.partitions_def) for d in definition.multi.dimensions)
    return kind == "dynamic"


def space_of(node: definitions_pb2.AssetNode, dynamic: DynamicSpaces | None = None) -> KeySpace:
    """The key space of a partitioned asset; FAILED_PRECONDITION if it cannot be read."""
    try:
        if dynamic is not None and has_dynamic_keys(node.partitions_def):
            return key_space(node.partitions_def, dynamic)  # the store's keys, read now
        return _cached_space(node.partitions_def.SerializeToString(deterministic=True))
    except PartitionsError as exc:
        raise FailedPreconditionError(
            f"the partitions definition of asset {_label(node)!r} cannot be read: {exc}; fix "
            "it in the code location and reload it"
        ) from None


def _label(node: definitions_pb2.AssetNode) -> str:
    return "/".join(node.key.path)
