"""Partitions definitions and partition mappings as weir.v1 messages.

Definitions are recognised by what they are (static keys, a cron-driven time window, a
dynamic name, named dimensions) rather than by import, so kinds the SDK adds later convert
as soon as they carry the attributes their Dagster namesakes have.
"""

from __future__ import annotations

from typing import Any

from weir_protos.v1 import partitions_pb2

from weir_codeserver.wire_values import timestamp_message


class UnsupportedOnWireError(ValueError):
    """An SDK object has no weir.v1 representation (e.g. a user-defined partition mapping)."""


def partitions_def_message(partitions_def: Any) -> partitions_pb2.PartitionsDefinition:
    message = partitions_pb2.PartitionsDefinition()
    kind = type(partitions_def).__name__
    if hasattr(partitions_def, "cron_schedule") and hasattr(partitions_def, "fmt"):
        window = message.time_window
        window.start.CopyFrom(timestamp_message(partitions_def.start))
        if getattr(partitions_def, "end", None) is not None:
            window.end.CopyFrom(timestamp_message(partitions_def.end))
        window.fmt = partitions_def.fmt
        window.cron_schedule = partitions_def.cron_schedule
        window.timezone = getattr(partitions_def, "timezone", "") or ""
        window.end_offset = getattr(partitions_def, "end_offset", 0) or 0
    elif kind.startswith("Dynamic"):
        message.dynamic.name = partitions_def.name
    elif hasattr(partitions_def, "partitions_defs"):  # multi: named dimensions, in order
        for dimension in partitions_def.partitions_defs:
            message.multi.dimensions.add(
                name=dimension.name,
                partitions_def=partitions_def_message(dimension.partitions_def),
            )
    else:  # a fixed list of keys: static, or any other kind that can list its keys now
        message.static.keys.extend(partitions_def.get_partition_keys())
    return message


def partition_mapping_message(mapping: Any) -> partitions_pb2.PartitionMapping:
    """The wire form of a built-in mapping; raises UnsupportedOnWireError for others."""
    message = partitions_pb2.PartitionMapping()
    kind = type(mapping).__name__
    if kind == "IdentityPartitionMapping":
        message.identity.SetInParent()
    elif kind == "TimeWindowPartitionMapping":
        message.time_window.start_offset = getattr(mapping, "start_offset", 0)
        message.time_window.end_offset = getattr(mapping, "end_offset", 0)
        message.time_window.allow_nonexistent_upstream_partitions = bool(
            getattr(mapping, "allow_nonexistent_upstream_partitions", False)
        )
    elif kind == "AllPartitionMapping":
        message.all.SetInParent()
    elif kind == "LastPartitionMapping":
        message.last.SetInParent()
    elif kind == "StaticPartitionMapping":
        by_upstream = _first_attr(
            mapping, "downstream_partition_keys_by_upstream_partition_key", "mapping"
        )
        for upstream, downstream in sorted(by_upstream.items()):
            keys = [downstream] if isinstance(downstream, str) else sorted(downstream)
            message.static.downstream_keys_by_upstream_key[upstream].keys.extend(keys)
    elif kind == "SpecificPartitionsPartitionMapping":
        message.specific.partition_keys.extend(mapping.partition_keys)
    elif kind == "MultiToSingleDimensionPartitionMapping":
        name = _first_attr(mapping, "partition_dimension_name", "dimension_name")
        message.multi_to_single.dimension_name = name or ""
    elif kind == "MultiPartitionMapping":
        by_upstream = _first_attr(
            mapping, "downstream_mappings_by_upstream_dimension", "dimension_mappings"
        )
        for upstream_name, dimension in by_upstream.items():
            message.multi.dimension_mappings.add(
                upstream_dimension_name=upstream_name,
                downstream_dimension_name=dimension.dimension_name,
                partition_mapping=partition_mapping_message(dimension.partition_mapping),
            )
    else:
        raise UnsupportedOnWireError(
            f"partition mapping {kind} is not one of the built-in mappings the control plane "
            "evaluates"
        )
    return message


def _first_attr(obj: Any, *names: str) -> Any:
    for name in names:
        if hasattr(obj, name):
            return getattr(obj, name)
    raise UnsupportedOnWireError(f"{type(obj).__name__} has none of {names}")
