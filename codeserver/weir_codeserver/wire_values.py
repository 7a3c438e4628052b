"""SDK values as weir.v1 messages: asset keys, typed metadata, errors, times, JSON structs.

Shared by the definitions snapshot, run events and tick replies. Every function here is
pure and imports only protobuf, never grpc, so the run-worker zygote can load it before
any gRPC object exists.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from functools import singledispatch
from typing import Any

from google.protobuf import duration_pb2, json_format, struct_pb2, timestamp_pb2
from weir import AssetKey, MetadataValue
from weir._execution.events import ErrorInfo
from weir._metadata import (
    AssetMetadataValue,
    BoolMetadataValue,
    FloatMetadataValue,
    IntMetadataValue,
    JsonMetadataValue,
    MarkdownMetadataValue,
    NullMetadataValue,
    PathMetadataValue,
    TableColumn,
    TableSchema,
    TableSchemaMetadataValue,
    TextMetadataValue,
    UrlMetadataValue,
    wrap_metadata_value,
)
from weir_protos.v1 import common_pb2

from weir_codeserver.loader import USER_MODULE_PREFIX

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


class UnsupportedOnWireError(ValueError):
    """An SDK object has no weir.v1 representation (e.g. a user-defined partition mapping)."""


def asset_key_message(key: AssetKey) -> common_pb2.AssetKey:
    return common_pb2.AssetKey(path=key.path)


def asset_key_from_message(message: common_pb2.AssetKey) -> AssetKey:
    return AssetKey(list(message.path))


def check_key_message(asset_key: AssetKey, name: str) -> common_pb2.AssetCheckKey:
    return common_pb2.AssetCheckKey(asset_key=asset_key_message(asset_key), name=name)


def timestamp_message(when: datetime | float) -> timestamp_pb2.Timestamp:
    if isinstance(when, datetime) and when.tzinfo is not None:
        # Exact to the microsecond: a float of POSIX seconds is not (a partitions
        # definition's start must reach the control plane as the SDK holds it).
        message = timestamp_pb2.Timestamp()
        message.FromDatetime(when)
        return message
    message = timestamp_pb2.Timestamp()
    set_timestamp(message, when.timestamp() if isinstance(when, datetime) else float(when))
    return message


def set_timestamp(message: timestamp_pb2.Timestamp, seconds: float) -> None:
    """Set a Timestamp (a message's field, in place) to POSIX `seconds`: a run's events
    each carry one, and building a Timestamp to copy into the event cost half as much
    again as the event."""
    whole = math.floor(seconds)
    message.seconds = whole
    message.nanos = round((seconds - whole) * 1e9) % 10**9


def timestamp_to_datetime(message: timestamp_pb2.Timestamp) -> datetime:
    return datetime.fromtimestamp(message.seconds + message.nanos / 1e9, tz=UTC)


def duration_message(value: timedelta | float) -> duration_pb2.Duration:
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    whole = math.floor(seconds)
    return duration_pb2.Duration(seconds=whole, nanos=round((seconds - whole) * 1e9) % 10**9)


def duration_seconds(message: duration_pb2.Duration) -> float:
    return message.seconds + message.nanos / 1e9


def struct_message(value: Mapping[str, Any] | None) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    if value:
        struct.update(_jsonable(value))
    return struct


def struct_to_dict(message: struct_pb2.Struct) -> dict[str, Any]:
    return json_format.MessageToDict(message)


def json_value_message(value: Any) -> struct_pb2.Value:
    message = struct_pb2.Value()
    message.MergeFrom(json_format.ParseDict(_jsonable(value), struct_pb2.Value()))
    return message


def _jsonable(value: Any) -> Any:
    """Tuples become lists and non-finite floats become strings, which JSON cannot hold."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


@singledispatch
def metadata_value_message(value: MetadataValue) -> common_pb2.MetadataValue:
    """One typed value as the wire's `oneof`, one converter per SDK kind."""
    raise UnsupportedOnWireError(
        f"metadata value {type(value).__qualname__} (kind {value.kind!r}) has no weir.v1 form"
    )


@metadata_value_message.register
def _text(value: TextMetadataValue) -> common_pb2.MetadataValue:
    return common_pb2.MetadataValue(text=str(value.value))


@metadata_value_message.register
def _int(value: IntMetadataValue) -> common_pb2.MetadataValue:
    if _INT64_MIN <= value.value <= _INT64_MAX:
        return common_pb2.MetadataValue(int=value.value)
    return common_pb2.MetadataValue(text=str(value.value))  # Python ints are unbounded


@metadata_value_message.register
def _float(value: FloatMetadataValue) -> common_pb2.MetadataValue:
    return common_pb2.MetadataValue(float=float(value.value))


@metadata_value_message.register
def _bool(value: BoolMetadataValue) -> common_pb2.MetadataValue:
    return common_pb2.MetadataValue(bool=bool(value.value))


@metadata_value_message.register
def _json(value: JsonMetadataValue) -> common_pb2.MetadataValue:
    return common_pb2.MetadataValue(json=json_value_message(value.value))


@metadata_value_message.register
def _url(value: UrlMetadataValue) -> common_pb2.MetadataValue:
    return common_pb2.MetadataValue(url=str(value.value))


@metadata_value_message.register
def _path(value: PathMetadataValue) -> common_pb2.MetadataValue:
    return common_pb2.MetadataValue(path=str(value.value))


@metadata_value_message.register
def _md(value: MarkdownMetadataValue) -> common_pb2.MetadataValue:
    return common_pb2.MetadataValue(md=str(value.value))


@metadata_value_message.register
def _table_schema(value: TableSchemaMetadataValue) -> common_pb2.MetadataValue:
    schema: TableSchema = value.value
    return common_pb2.MetadataValue(
        table_schema=common_pb2.TableSchema(
            columns=[
                common_pb2.TableColumn(
                    name=column.name, type=column.type, description=column.description or ""
                )
                for column in schema.columns
            ]
        )
    )


@metadata_value_message.register
def _asset(value: AssetMetadataValue) -> common_pb2.MetadataValue:
    return common_pb2.MetadataValue(asset=asset_key_message(AssetKey.from_coercible(value.value)))


@metadata_value_message.register
def _null(value: NullMetadataValue) -> common_pb2.MetadataValue:
    return common_pb2.MetadataValue(null="NULL_VALUE")  # the enum by name, as the stubs type it


def metadata_entries(metadata: Mapping[str, Any] | None) -> list[common_pb2.MetadataEntry]:
    """Entries in the order the user wrote them; plain values are wrapped first."""
    return [
        common_pb2.MetadataEntry(
            label=str(label), value=metadata_value_message(wrap_metadata_value(str(label), value))
        )
        for label, value in (metadata or {}).items()
    ]


def metadata_from_entries(entries: Iterable[common_pb2.MetadataEntry]) -> dict[str, MetadataValue]:
    """The reverse, for values the control plane hands to sensors."""
    out: dict[str, MetadataValue] = {}
    for entry in entries:
        out[entry.label] = _metadata_value_from_message(entry.value)
    return out


def _metadata_value_from_message(message: common_pb2.MetadataValue) -> MetadataValue:
    kind = message.WhichOneof("value")
    if kind is None:
        return MetadataValue.null()
    return _FROM_WIRE[kind](message)


def _table_schema_from_message(message: common_pb2.MetadataValue) -> MetadataValue:
    columns = [
        TableColumn(c.name, c.type, c.description or None) for c in message.table_schema.columns
    ]
    return MetadataValue.table_schema(TableSchema(columns))


# Each case of the wire's MetadataValue -> the SDK value it reads back as.
_FROM_WIRE: dict[str, Callable[[common_pb2.MetadataValue], MetadataValue]] = {
    "text": lambda m: MetadataValue.text(m.text),
    "int": lambda m: MetadataValue.int(m.int),
    "float": lambda m: MetadataValue.float(m.float),
    "bool": lambda m: MetadataValue.bool(m.bool),
    "json": lambda m: MetadataValue.json(json_format.MessageToDict(m.json)),
    "url": lambda m: MetadataValue.url(m.url),
    "path": lambda m: MetadataValue.path(m.path),
    "md": lambda m: MetadataValue.md(m.md),
    "table_schema": _table_schema_from_message,
    "asset": lambda m: MetadataValue.asset(AssetKey(list(m.asset.path))),
    "null": lambda m: MetadataValue.null(),
    # The SDK has no timestamp kind: a wire timestamp reads as its ISO 8601 text.
    "timestamp": lambda m: MetadataValue.text(timestamp_to_datetime(m.timestamp).isoformat()),
}


def error_message(
    message: str, class_name: str = "", stack: str = "", cause: ErrorInfo | None = None
) -> common_pb2.Error:
    error = common_pb2.Error(
        message=message or class_name or "error", class_name=class_name, stack=stack
    )
    if cause is not None:
        error.cause.CopyFrom(error_info_message(cause))
    return error


def error_info_message(info: ErrorInfo) -> common_pb2.Error:
    """The SDK's ErrorInfo (message, cls_name, stack, cause) as a wire Error."""
    return error_message(info.message, info.cls_name, info.stack, info.cause)


def exception_message(exc: BaseException) -> common_pb2.Error:
    from weir._execution.step import error_info

    return error_info_message(error_info(exc))


def python_type_name(obj: Any) -> str:
    """A stable, readable type name: weir's own classes as ``weir.Name``.

    Classes of a user file loaded by path are named after the file, e.g. ``defs.Warehouse``.
    """
    cls = type(obj)
    module = cls.__module__ or ""
    if module == "weir" or module.startswith("weir."):
        return f"weir.{cls.__qualname__}"
    if module.startswith(USER_MODULE_PREFIX):  # a file loaded by path: name it by the file
        path = getattr(sys.modules.get(module), "__file__", None) or module
        module = os.path.splitext(os.path.basename(path))[0]
    return f"{module}.{cls.__qualname__}" if module and module != "builtins" else cls.__qualname__
