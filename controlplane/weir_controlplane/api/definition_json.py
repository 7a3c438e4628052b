"""An asset's definition (`AssetNode`) as JSON text, written straight from its fields.

The first listing of a large location writes every definition's JSON: through
json_mapping's objects (a dict per message, then the encoder) that was 15 us an asset,
two thirds of a cold 10,000-asset listing's definitions. Most of a node's fields are
strings, booleans, string lists and asset keys, which are written here directly, each
with its `"jsonName":` made once; its messages (partitions, checks, policies,
metadata) go through `json_mapping.to_json_text`. 5-6 us an asset. The text is
json_format's, byte for byte (tests/controlplane/test_asset_encoding.py fills every
field); a field of a kind not handled here (one added later, say) sends the whole node
to `to_json_text`.

Example::

    definition_text(node) == json_mapping.to_json_text(node)
"""

from __future__ import annotations

import json.encoder as json_encoder
from collections.abc import Callable, Iterable
from typing import Any

from google.protobuf.descriptor import FieldDescriptor
from weir_protos.v1 import common_pb2, definitions_pb2

from weir_controlplane.api.json_mapping import to_json_text

F = FieldDescriptor
# What json.dumps(..., ensure_ascii=False) writes for a string (the C function).
_quoted: Callable[[str], str] = json_encoder.encode_basestring
_ASSET_KEY = common_pb2.AssetKey.DESCRIPTOR
assert [field.name for field in _ASSET_KEY.fields] == ["path"], "path_text writes path alone"


def key_text(key: common_pb2.AssetKey) -> str:
    """An `AssetKey`'s JSON text."""
    path = key.path
    return path_text(path) if path else "{}"


def path_text(path: Iterable[str]) -> str:
    """The JSON text of an `AssetKey` with this (non-empty) path."""
    return '{"path":[' + ",".join(map(_quoted, path)) + "]}"


# Field kinds written here; anything else is left to json_mapping.
_STRING, _BOOL, _STRINGS, _KEY, _STRING_MAP, _MESSAGE, _MESSAGES, _DEPS = range(8)


def _kinds(descriptor: Any) -> dict[Any, tuple[int, str]]:
    """Per field descriptor of `descriptor`'s type: (its kind, `"jsonName":`)."""
    found = {}
    for field in descriptor.fields:
        prefix = _quoted(field.json_name) + ":"
        message_type = field.message_type
        kind: int | None = None
        if message_type is not None and message_type.GetOptions().map_entry:
            key, value = message_type.fields_by_name["key"], message_type.fields_by_name["value"]
            if key.type == value.type == F.TYPE_STRING:
                kind = _STRING_MAP
        elif message_type is _ASSET_KEY and not field.is_repeated:
            kind = _KEY
        elif message_type is definitions_pb2.AssetDep.DESCRIPTOR and field.is_repeated:
            kind = _DEPS
        elif message_type is not None:
            kind = _MESSAGES if field.is_repeated else _MESSAGE
        elif field.type == F.TYPE_STRING:
            kind = _STRINGS if field.is_repeated else _STRING
        elif field.type == F.TYPE_BOOL and not field.is_repeated:
            kind = _BOOL
        if kind is not None:
            found[field] = (kind, prefix)
    return found


_NODE_FIELDS = _kinds(definitions_pb2.AssetNode.DESCRIPTOR)
_DEP_FIELDS = _kinds(definitions_pb2.AssetDep.DESCRIPTOR)


def definition_text(node: definitions_pb2.AssetNode) -> str:
    """`to_json_text(node)`, faster."""
    return _text(node, _NODE_FIELDS)


def _dep_text(dep: definitions_pb2.AssetDep) -> str:
    return _text(dep, _DEP_FIELDS)


def _text(message: Any, fields: dict[Any, tuple[int, str]]) -> str:
    parts = []
    for field, value in message.ListFields():
        known = fields.get(field)
        if known is None:  # a kind this module does not write
            return to_json_text(message)
        kind, prefix = known
        if kind == _STRING:
            parts.append(prefix + _quoted(value))
        elif kind == _BOOL:
            parts.append(prefix + ("true" if value else "false"))
        elif kind == _KEY:
            parts.append(prefix + key_text(value))
        elif kind == _STRINGS:
            parts.append(prefix + "[" + ",".join(map(_quoted, value)) + "]")
        elif kind == _DEPS:
            parts.append(prefix + "[" + ",".join(map(_dep_text, value)) + "]")
        elif kind == _MESSAGE:
            parts.append(prefix + to_json_text(value))
        elif kind == _MESSAGES:
            parts.append(prefix + "[" + ",".join(map(to_json_text, value)) + "]")
        else:  # _STRING_MAP, in the map's own order as json_format writes it
            entries = [_quoted(name) + ":" + _quoted(value[name]) for name in value]
            parts.append(prefix + "{" + ",".join(entries) + "}")
    return "{" + ",".join(parts) + "}"
