"""Partitions definitions and partition mappings as weir.v1 messages.

One converter per SDK class, chosen by `functools.singledispatch` on the real type, and
each reads the SDK's attributes directly: an attribute the SDK renames fails here with an
AttributeError instead of vanishing from the wire. A class with no converter (a user's own
partition mapping) raises `UnsupportedOnWireError`. tests/codeserver/test_wire_conversions.py
pins the SDK fields each converter carries.
"""

from __future__ import annotations

from functools import singledispatch

from weir._partitions.base import PartitionsDefinition
from weir._partitions.dynamic import DynamicPartitionsDefinition
from weir._partitions.mappings import (
    AllPartitionMapping,
    IdentityPartitionMapping,
    LastPartitionMapping,
    MultiPartitionMapping,
    MultiToSingleDimensionPartitionMapping,
    PartitionMapping,
    SpecificPartitionsPartitionMapping,
    StaticPartitionMapping,
    TimeWindowPartitionMapping,
)
from weir._partitions.multi import MultiPartitionsDefinition
from weir._partitions.static import StaticPartitionsDefinition
from weir._partitions.time_window import TimeWindowPartitionsDefinition
from weir_protos.v1 import partitions_pb2

from weir_codeserver.wire_values import UnsupportedOnWireError, timestamp_message

__all__ = ["UnsupportedOnWireError", "partition_mapping_message", "partitions_def_message"]


# ---- partitions definitions -----------------------------------------------------------


@singledispatch
def partitions_def_message(
    partitions_def: PartitionsDefinition,
) -> partitions_pb2.PartitionsDefinition:
    """The wire form of a built-in partitions definition; raises UnsupportedOnWireError
    for other classes, whose keys the control plane could not compute."""
    raise UnsupportedOnWireError(
        f"partitions definition {type(partitions_def).__qualname__} is not one of the built-in "
        "definitions (static, time window, dynamic, multi) the control plane evaluates"
    )


@partitions_def_message.register
def _static(partitions_def: StaticPartitionsDefinition) -> partitions_pb2.PartitionsDefinition:
    message = partitions_pb2.PartitionsDefinition()
    message.static.keys.extend(partitions_def.get_partition_keys())
    return message


@partitions_def_message.register
def _time_window(
    partitions_def: TimeWindowPartitionsDefinition,
) -> partitions_pb2.PartitionsDefinition:
    # Daily, Hourly, Weekly and Monthly are subclasses: their offsets and schedule type are
    # already folded into cron_schedule.
    message = partitions_pb2.PartitionsDefinition()
    window = message.time_window
    window.start.CopyFrom(timestamp_message(partitions_def.start))
    if partitions_def.end is not None:
        window.end.CopyFrom(timestamp_message(partitions_def.end))
    window.fmt = partitions_def.fmt
    window.cron_schedule = partitions_def.cron_schedule
    window.timezone = partitions_def.timezone
    window.end_offset = partitions_def.end_offset
    return message


@partitions_def_message.register
def _dynamic(partitions_def: DynamicPartitionsDefinition) -> partitions_pb2.PartitionsDefinition:
    message = partitions_pb2.PartitionsDefinition()
    if partitions_def.name is not None:
        message.dynamic.name = partitions_def.name
    else:
        # Keys computed by a user function: the control plane cannot call it, so it gets the
        # keys the function gives at load time; a reload refreshes them.
        message.static.keys.extend(partitions_def.get_partition_keys())
    return message


@partitions_def_message.register
def _multi(partitions_def: MultiPartitionsDefinition) -> partitions_pb2.PartitionsDefinition:
    message = partitions_pb2.PartitionsDefinition()
    for dimension in partitions_def.partitions_defs:  # in name order, as keys join them
        message.multi.dimensions.add(
            name=dimension.name, partitions_def=partitions_def_message(dimension.partitions_def)
        )
    return message


# ---- partition mappings ---------------------------------------------------------------


@singledispatch
def partition_mapping_message(mapping: PartitionMapping) -> partitions_pb2.PartitionMapping:
    """The wire form of a built-in mapping; raises UnsupportedOnWireError for others."""
    raise UnsupportedOnWireError(
        f"partition mapping {type(mapping).__qualname__} is not one of the built-in mappings "
        "the control plane evaluates"
    )


@partition_mapping_message.register
def _identity(mapping: IdentityPartitionMapping) -> partitions_pb2.PartitionMapping:
    return partitions_pb2.PartitionMapping(identity=partitions_pb2.IdentityPartitionMapping())


@partition_mapping_message.register
def _all(mapping: AllPartitionMapping) -> partitions_pb2.PartitionMapping:
    return partitions_pb2.PartitionMapping(all=partitions_pb2.AllPartitionMapping())


@partition_mapping_message.register
def _last(mapping: LastPartitionMapping) -> partitions_pb2.PartitionMapping:
    return partitions_pb2.PartitionMapping(last=partitions_pb2.LastPartitionMapping())


@partition_mapping_message.register
def _time_window_mapping(mapping: TimeWindowPartitionMapping) -> partitions_pb2.PartitionMapping:
    return partitions_pb2.PartitionMapping(
        time_window=partitions_pb2.TimeWindowPartitionMapping(
            start_offset=mapping.start_offset,
            end_offset=mapping.end_offset,
            allow_nonexistent_upstream_partitions=mapping.allow_nonexistent_upstream_partitions,
        )
    )


@partition_mapping_message.register
def _static_mapping(mapping: StaticPartitionMapping) -> partitions_pb2.PartitionMapping:
    message = partitions_pb2.PartitionMapping()
    table = message.static.downstream_keys_by_upstream_key
    by_upstream = mapping.downstream_partition_keys_by_upstream_partition_key
    for upstream, downstream in sorted(by_upstream.items()):
        table[upstream].keys.extend(sorted(downstream))
    return message


@partition_mapping_message.register
def _specific(mapping: SpecificPartitionsPartitionMapping) -> partitions_pb2.PartitionMapping:
    return partitions_pb2.PartitionMapping(
        specific=partitions_pb2.SpecificPartitionsPartitionMapping(
            partition_keys=mapping.partition_keys
        )
    )


@partition_mapping_message.register
def _multi_to_single(
    mapping: MultiToSingleDimensionPartitionMapping,
) -> partitions_pb2.PartitionMapping:
    return partitions_pb2.PartitionMapping(
        multi_to_single=partitions_pb2.MultiToSingleDimensionPartitionMapping(
            dimension_name=mapping.partition_dimension_name or ""
        )
    )


@partition_mapping_message.register
def _multi_mapping(mapping: MultiPartitionMapping) -> partitions_pb2.PartitionMapping:
    message = partitions_pb2.PartitionMapping()
    for upstream_name, dimension in mapping.downstream_mappings_by_upstream_dimension.items():
        message.multi.dimension_mappings.add(
            upstream_dimension_name=upstream_name,
            downstream_dimension_name=dimension.dimension_name,
            partition_mapping=partition_mapping_message(dimension.partition_mapping),
        )
    return message
