"""Partitions definitions and partition mappings of a snapshot, read into the engine.

A snapshot carries each asset's `weir.v1.PartitionsDefinition` and each dependency's
`weir.v1.PartitionMapping`; these turn them into the key spaces and mappings of
`weir_partitions`, the engine the SDK evaluates the same definitions with, so the control
plane resolves keys and mappings exactly as the code location does, without its code.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC

from weir_partitions import (
    DynamicKeySpace,
    KeySpace,
    MappingError,
    MultiKeySpace,
    PartitionsError,
    StaticKeySpace,
    TimeWindowKeySpace,
)
from weir_partitions.mappings import (
    AllMapping,
    DimensionMapping,
    IdentityMapping,
    KeyMapping,
    LastMapping,
    MultiDimensionMapping,
    MultiToSingleDimensionMapping,
    SpecificKeysMapping,
    StaticMapping,
    TimeWindowMapping,
)
from weir_protos.v1 import partitions_pb2

# The key space of a dynamic partitions definition, by its name (the deployment's store).
DynamicSpaces = Callable[[str], KeySpace]


def key_space(
    definition: partitions_pb2.PartitionsDefinition, dynamic: DynamicSpaces | None = None
) -> KeySpace:
    """The key space of a partitions definition as a snapshot carries it; `dynamic` gives
    the keys of dynamic definitions (without it, any non-empty key passes for them).

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


def has_dynamic_keys(definition: partitions_pb2.PartitionsDefinition) -> bool:
    kind = definition.WhichOneof("kind")
    if kind == "multi":
        return any(has_dynamic_keys(d.partitions_def) for d in definition.multi.dimensions)
    return kind == "dynamic"


def key_mapping(message: partitions_pb2.PartitionMapping) -> KeyMapping:
    """The mapping a dependency's `weir.v1.PartitionMapping` describes.

    Raises `weir_partitions.MappingError` for a message with no kind set.
    """
    kind = message.WhichOneof("kind")
    if kind == "identity":
        return IdentityMapping()
    if kind == "all":
        return AllMapping()
    if kind == "last":
        return LastMapping()
    if kind == "time_window":
        window = message.time_window
        return TimeWindowMapping(
            window.start_offset, window.end_offset, window.allow_nonexistent_upstream_partitions
        )
    if kind == "specific":
        return SpecificKeysMapping(tuple(message.specific.partition_keys))
    if kind == "static":
        table = message.static.downstream_keys_by_upstream_key
        return StaticMapping.of({up: list(downs.keys) for up, downs in table.items()})
    if kind == "multi_to_single":
        return MultiToSingleDimensionMapping(message.multi_to_single.dimension_name or None)
    if kind == "multi":
        return MultiDimensionMapping(
            tuple(
                DimensionMapping(
                    key_mapping(d.partition_mapping),
                    d.upstream_dimension_name,
                    d.downstream_dimension_name,
                )
                for d in message.multi.dimension_mappings
            )
        )
    raise MappingError(f"a partition mapping with no kind set ({kind!r})")
