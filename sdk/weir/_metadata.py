"""Typed metadata values attached to materializations, checks and definitions.

Event metadata (materializations, check results) wraps plain Python values on the way in
(`normalize_metadata`), so ``metadata={"rows": 3}`` reads back as
``metadata["rows"].value == 3``. Definition metadata (`AssetSpec(metadata=...)`) reads back
as given, as in Dagster (`checked_metadata`), and is wrapped only for the wire. Each kind
maps to one case of the wire contract's metadata ``oneof``.
"""

from __future__ import annotations

import json as _json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, ClassVar

from weir._errors import DefinitionError
from weir._key import AssetKey


@dataclass(frozen=True)
class TableColumn:
    name: str
    type: str = "string"
    description: str | None = None


@dataclass(frozen=True)
class TableSchema:
    columns: tuple[TableColumn, ...] = field(default_factory=tuple)

    def __init__(self, columns: Sequence[TableColumn]):
        object.__setattr__(self, "columns", tuple(columns))


@dataclass(frozen=True)
class MetadataValue:
    """A typed metadata value; build one with the constructors, e.g. ``MetadataValue.url(...)``."""

    kind: ClassVar[str] = "?"
    value: Any

    @staticmethod
    def text(value: str) -> TextMetadataValue:
        return TextMetadataValue(str(value))

    @staticmethod
    def int(value: int) -> IntMetadataValue:
        return IntMetadataValue(value)

    @staticmethod
    def float(value: float) -> FloatMetadataValue:
        return FloatMetadataValue(value)

    @staticmethod
    def bool(value: bool) -> BoolMetadataValue:
        return BoolMetadataValue(value)

    @staticmethod
    def json(value: Any) -> JsonMetadataValue:
        _json.dumps(value)  # fail now, not when the event is sent
        return JsonMetadataValue(value)

    @staticmethod
    def url(value: str) -> UrlMetadataValue:
        return UrlMetadataValue(value)

    @staticmethod
    def path(value: str | os.PathLike[str]) -> PathMetadataValue:
        return PathMetadataValue(os.fspath(value))

    @staticmethod
    def md(value: str) -> MarkdownMetadataValue:
        return MarkdownMetadataValue(value)

    @staticmethod
    def table_schema(value: TableSchema) -> TableSchemaMetadataValue:
        return TableSchemaMetadataValue(value)

    @staticmethod
    def asset(value: AssetKey) -> AssetMetadataValue:
        return AssetMetadataValue(AssetKey.from_coercible(value))

    @staticmethod
    def null() -> NullMetadataValue:
        return NullMetadataValue(None)


class TextMetadataValue(MetadataValue):
    kind = "text"


class IntMetadataValue(MetadataValue):
    kind = "int"


class FloatMetadataValue(MetadataValue):
    kind = "float"


class BoolMetadataValue(MetadataValue):
    kind = "bool"


class JsonMetadataValue(MetadataValue):
    kind = "json"


class UrlMetadataValue(MetadataValue):
    kind = "url"


class PathMetadataValue(MetadataValue):
    kind = "path"


class MarkdownMetadataValue(MetadataValue):
    kind = "md"


class TableSchemaMetadataValue(MetadataValue):
    kind = "table_schema"


class AssetMetadataValue(MetadataValue):
    kind = "asset"


class NullMetadataValue(MetadataValue):
    kind = "null"


def wrap_metadata_value(label: str, value: Any) -> MetadataValue:
    """Wrap a plain Python value in the MetadataValue kind that fits it."""
    if isinstance(value, MetadataValue):
        return value
    if value is None:
        return NullMetadataValue(None)
    if isinstance(value, bool):
        return BoolMetadataValue(value)
    if isinstance(value, int):
        return IntMetadataValue(value)
    if isinstance(value, float):
        return FloatMetadataValue(value if math.isfinite(value) else float(value))
    if isinstance(value, str):
        return TextMetadataValue(value)
    if isinstance(value, AssetKey):
        return AssetMetadataValue(value)
    if isinstance(value, TableSchema):
        return TableSchemaMetadataValue(value)
    if isinstance(value, os.PathLike):
        return PathMetadataValue(os.fspath(value))
    if isinstance(value, (Mapping, list, tuple)):
        try:
            _json.dumps(value)
        except (TypeError, ValueError) as exc:
            raise DefinitionError(
                f"Metadata {label!r} holds a {type(value).__name__} that is not JSON: {exc}"
            ) from None
        return JsonMetadataValue(value)
    raise DefinitionError(
        f"Metadata {label!r} has a value of type {type(value).__name__}; use a str, int, float, "
        "bool, JSON-able dict/list, or a MetadataValue"
    )


# Most definitions carry no metadata: they share one read-only empty mapping instead of
# allocating a dict each (thousands of assets, each one more object for the GC to track).
NO_METADATA: Mapping[str, Any] = MappingProxyType({})


def normalize_metadata(metadata: Mapping[str, Any] | None) -> Mapping[str, MetadataValue]:
    if not metadata:
        return NO_METADATA
    return {str(k): wrap_metadata_value(str(k), v) for k, v in metadata.items()}


def checked_metadata(metadata: Mapping[str, Any] | None) -> Mapping[str, Any]:
    """Definition metadata as given (``spec.metadata["source"] == "crm"``), each value
    checked now to be one the wire can carry, so a bad one fails at definition time."""
    if not metadata:
        return NO_METADATA
    checked = {str(k): v for k, v in metadata.items()}
    for label, value in checked.items():
        wrap_metadata_value(label, value)
    return MappingProxyType(checked)
