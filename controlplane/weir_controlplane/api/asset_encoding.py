"""The assets of the asset reads, encoded from their parts: wire bytes and JSON text.

A cold 10,000-asset listing built each `Asset` as a message (the definition copied in,
the health filled field by field), serialized it, and for JSON parsed it again and
converted it: most of its time. But a message's wire bytes are its set fields' entries
in field-number order and its protobuf JSON their `"name":value` pairs in the same order,
so here an asset's are joined from parts: its key, the snapshot's node as it is, and the
recorded state, where most assets of a large location share one of a few healths
(api/health.py encodes each such shape once). The JSON text is made only when a JSON
caller asks, from the parts' texts (api/definition_json.py for the definition,
api/json_mapping.py for the other messages).
Both are byte for byte those of the message built and encoded whole
(tests/controlplane/test_asset_encoding.py).

Example::

    asset = encode_asset(encode_key("raw/orders"), "sales", node, None, (), health)
    cp.Asset.FromString(asset.wire)   # the Asset
    asset.text()                      # its JSON, as json_format writes it
"""

from __future__ import annotations

import json.encoder as json_encoder
from collections.abc import Callable, Sequence
from typing import NamedTuple

from google.protobuf.message import Message
from weir_protos.v1 import common_pb2, definitions_pb2, events_pb2, health_pb2
from weir_protos.v1 import control_plane_pb2 as cp

from weir_controlplane.api.definition_json import definition_text, path_text
from weir_controlplane.api.json_mapping import to_json_text

# What json.dumps(..., ensure_ascii=False) writes for a string (the C function).
_quoted: Callable[[str], str] = json_encoder.encode_basestring


def field_entry(number: int, wire: bytes) -> bytes:
    """A message or string (by its wire bytes) encoded as one entry of field `number`: a
    message parsed from entries joined fills that field in one pass."""
    return _varint(number << 3 | 2) + _varint(len(wire)) + wire  # wire type 2: delimited


# Most lengths and every tag here fit in one byte.
_ONE_BYTE = [bytes((value,)) for value in range(0x80)]


def _varint(value: int) -> bytes:
    if value < 0x80:
        return _ONE_BYTE[value]
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


class Encoded:
    """A message's wire bytes, with its JSON text (`json_mapping.to_json_text`) given or
    made when first asked."""

    __slots__ = ("_message", "_text", "wire")

    def __init__(self, wire: bytes, text: str | None = None, message: Message | None = None):
        if text is None and message is None:
            raise ValueError("an encoded message needs its text or the message")
        self.wire = wire
        self._text = text
        self._message = message

    @classmethod
    def of(cls, message: Message) -> Encoded:
        return cls(message.SerializeToString(), message=message)

    def text(self) -> str:
        text = self._text
        if text is None:
            message = self._message
            if message is None:  # another thread made it meanwhile (text first)
                return self._text  # type: ignore[return-value]
            text = self._text = to_json_text(message)  # two threads may both: the same
            self._message = None
        return text


def encode_key(key: str) -> Encoded:
    """The `AssetKey` of a slash-joined key."""
    parts = key.split("/")
    wire = []
    for part in parts:
        encoded = part.encode()
        wire += [_PATH, _varint(len(encoded)), encoded]
    return Encoded(b"".join(wire), path_text(parts))


_PATH = _varint(common_pb2.AssetKey.PATH_FIELD_NUMBER << 3 | 2)


class EncodedAsset(NamedTuple):
    """An `Asset`'s wire bytes, and how to make its JSON text (which holds on to the
    parts, not to the bytes)."""

    wire: bytes
    text: Callable[[], str]


_ASSET = cp.Asset.DESCRIPTOR.fields_by_name
# AssetHealth.key: the health parts come without it.
_HEALTH_KEY = health_pb2.AssetHealth.KEY_FIELD_NUMBER


def _tag(name: str) -> bytes:
    return _varint(_ASSET[name].number << 3 | 2)


def _json_name(name: str) -> str:
    return _quoted(_ASSET[name].json_name) + ":"


_KEY, _LOCATION, _DEFINITION, _MATERIALIZATION, _CHECKS, _HEALTH = map(
    _tag, ("key", "code_location", "definition", "latest_materialization", "checks", "health")
)
_KEY_NAME, _LOCATION_NAME, _DEFINITION_NAME, _MATERIALIZATION_NAME, _CHECKS_NAME = map(
    _json_name, ("key", "code_location", "definition", "latest_materialization", "checks")
)
_HEALTH_NAME = _json_name("health")
assert [field.name for field in cp.Asset.DESCRIPTOR.fields] == [
    "key",
    "code_location",
    "definition",
    "latest_materialization",
    "checks",
    "health",
], "encode_asset writes the fields in this order: the field numbers' order"


def encode_asset(
    key: Encoded,
    code_location: str,
    definition: definitions_pb2.AssetNode | None,
    latest_materialization: events_pb2.MaterializationRecord | None,
    checks: Sequence[cp.AssetCheck],
    health: Encoded | None,
) -> EncodedAsset:
    """The `Asset` with these fields; `health` is its `AssetHealth` without the key,
    which is the asset's. None, "" or no checks: the field is not set."""
    key_wire = key.wire
    wire = [_KEY, _varint(len(key_wire)), key_wire]
    if code_location:
        location = code_location.encode()
        wire += [_LOCATION, _varint(len(location)), location]
    if definition is not None:
        node = definition.SerializeToString()
        wire += [_DEFINITION, _varint(len(node)), node]
    if latest_materialization is not None:
        materialization = latest_materialization.SerializeToString()
        wire += [_MATERIALIZATION, _varint(len(materialization)), materialization]
    for check in checks:
        check_wire = check.SerializeToString()
        wire += [_CHECKS, _varint(len(check_wire)), check_wire]
    if health is not None:
        with_key = field_entry(_HEALTH_KEY, key_wire) + health.wire
        wire += [_HEALTH, _varint(len(with_key)), with_key]

    text = _AssetText(
        key.text(),
        code_location,
        definition,
        latest_materialization,
        tuple(checks) if checks else (),
        health,
    )
    return EncodedAsset(b"".join(wire), text)


class _AssetText:
    """What an asset's JSON text is made of, kept until a JSON caller asks for it: small
    (the node and the shared healths are the graph's and the health encoder's), as a kept
    asset that only gRPC callers read holds it for as long as it is kept."""

    __slots__ = ("checks", "code_location", "definition", "health", "key", "materialization")

    def __init__(
        self,
        key: str,
        code_location: str,
        definition: definitions_pb2.AssetNode | None,
        materialization: events_pb2.MaterializationRecord | None,
        checks: tuple[cp.AssetCheck, ...],
        health: Encoded | None,
    ) -> None:
        self.key = key
        self.code_location = code_location
        self.definition = definition
        self.materialization = materialization
        self.checks = checks
        self.health = health

    def __call__(self) -> str:
        key_text = self.key
        parts = ["{", _KEY_NAME, key_text]
        if self.code_location:
            parts += [",", _LOCATION_NAME, _quoted(self.code_location)]
        if self.definition is not None:
            parts += [",", _DEFINITION_NAME, definition_text(self.definition)]
        if self.materialization is not None:
            parts += [",", _MATERIALIZATION_NAME, to_json_text(self.materialization)]
        if self.checks:
            parts += [",", _CHECKS_NAME, "[", ",".join(map(to_json_text, self.checks)), "]"]
        if self.health is not None:
            rest = self.health.text()  # "{...}" without the key, or "{}"
            parts += [",", _HEALTH_NAME, '{"key":', key_text]
            parts.append("}" if rest == "{}" else "," + rest[1:])
        parts.append("}")
        return "".join(parts)
