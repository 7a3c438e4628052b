"""Protobuf messages to JSON objects: `json_format.MessageToDict`'s output, faster.

`MessageToDict` decides afresh, for every field of every message, how that field maps
(is it a map? repeated? an enum? which JSON name?), which makes a 10,000-asset listing
spend most of its time there. Here each message type's field mappings are worked out once
from its descriptor and kept, so a message costs one `ListFields()` and a converter call
per field. The output is the same object `MessageToDict(message)` gives with its default
options, key order included (both follow `ListFields()`), so the JSON bytes are too;
tests/controlplane/test_json_mapping.py holds the two side by side on every weir.v1
message type. Well-known types (Timestamp, Struct, wrappers, Any…) keep
`json_format`'s own mapping.

`to_json_text` gives that object's compact JSON text, joining elements whose text the
caller already holds (api/asset_fragments.py keeps each asset's): a listing after one
asset changed converts that asset, not the page.

Example::

    to_json_text(reply) == json.dumps(to_json_object(reply), separators=(",", ":"),
                                      ensure_ascii=False)
"""

from __future__ import annotations

import base64
import functools
import json
import json.encoder as json_encoder
import math
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from google.protobuf import json_format
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.internal import type_checkers
from google.protobuf.message import Message

_Converter = Callable[[Any], Any]
F = FieldDescriptor
_INT64 = frozenset({F.CPPTYPE_INT64, F.CPPTYPE_UINT64})
# Timestamp, Duration and FieldMask map through their own ToJsonString, as json_format does.
_TO_JSON_STRING = frozenset(
    {"google.protobuf.Timestamp", "google.protobuf.Duration", "google.protobuf.FieldMask"}
)

_lock = threading.Lock()
# Per regular message type: field number -> (JSON name, converter of the field's value);
# None for a type json_format should map whole (an enum with options, a closed enum).
_fields_by_type: dict[str, dict[int, tuple[str, _Converter]] | None] = {}


def to_json_object(message: Message) -> Any:
    """What `json_format.MessageToDict(message)` returns, to be read, not changed: parts
    of it may be shared with other replies' objects."""
    descriptor = message.DESCRIPTOR
    convert = _converters.get(descriptor.full_name)
    if convert is None:  # two threads may both make it: the same converter
        convert = _converters[descriptor.full_name] = _message_converter(descriptor)
    return convert(message)


# Each message type's converter, made once: a new one would compile its fields again
# (a tenth of converting a small message).
_converters: dict[str, _Converter] = {}


def _message_converter(descriptor: Any) -> _Converter:
    full_name = descriptor.full_name
    if full_name in _TO_JSON_STRING:
        return _to_json_string
    if descriptor.file.name.startswith("google/protobuf/"):
        return json_format.MessageToDict  # the other well-known types, as json_format maps them
    only = _only_repeated_string(descriptor)
    if only is not None:
        return _strings_converter(only)
    regular = _regular_converter(descriptor)
    if full_name in _REMEMBERED_TYPES:
        return functools.partial(_remembered, regular=regular)
    return regular


def _only_repeated_string(descriptor: Any) -> FieldDescriptor | None:
    """The field of a type whose one field is a repeated string (AssetKey's `path`)."""
    fields = descriptor.fields
    if len(fields) != 1 or descriptor.extension_ranges:
        return None
    field = fields[0]
    if not field.is_repeated or field.type != F.TYPE_STRING:
        return None
    return field


def _strings_converter(field: FieldDescriptor) -> _Converter:
    """Asset keys are in most messages, several times over: reading their one field
    directly is a third of the cost of listing the fields."""
    name, attribute = field.json_name, field.name

    def convert(message: Message) -> Any:
        values = getattr(message, attribute)
        return {name: list(values)} if values else {}

    return convert


# Definitions stay the same across the replies of one snapshot while the recorded state
# around them changes, so their JSON objects are kept by their wire bytes (equal bytes:
# equal fields in equal order, maps included, so an equal object).
_REMEMBERED_TYPES = frozenset({"weir.v1.AssetNode"})
_REMEMBERED_MAX = 20_000  # about two 10,000-asset snapshots
_remembered_objects: dict[bytes, Any] = {}


def _remembered(message: Message, regular: _Converter) -> Any:
    wire = message.SerializeToString()
    found = _remembered_objects.get(wire)
    if found is None:
        found = regular(message)
        with _lock:
            if len(_remembered_objects) >= _REMEMBERED_MAX:
                _remembered_objects.clear()  # a new snapshot's definitions replace the old
            _remembered_objects[wire] = found
    return found


# One encoder for every call: json.dumps with options builds a new one each time, which
# costs a quarter of dumping a small object (10,000 of them make a listing).
_encoder = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def _one_encoder() -> Callable[[Any], str]:
    """`_encoder.encode`, with its C encoder made once rather than per call (a third of
    encoding a small object). Without the circular-reference check: these objects come
    from messages, which hold no cycles."""
    # The C accelerator's constructor (None in a Python built without it; not in the
    # stubs, so looked up by name).
    make: Callable[..., Any] | None = getattr(json_encoder, "c_make_encoder", None)
    if make is None:  # no C accelerator: the encoder as it is
        return _encoder.encode
    c_encode = make(
        None,  # no markers: no circular-reference check
        _encoder.default,
        json_encoder.encode_basestring,  # as ensure_ascii=False picks
        None,  # no indent
        ":",
        ",",
        False,  # sort_keys
        False,  # skipkeys
        True,  # allow_nan
    )
    return lambda value: "".join(c_encode(value, 0))


_dumps = _one_encoder()


def to_json_text(message: Message, joined: Mapping[int, Sequence[str]] | None = None) -> str:
    """`to_json_object(message)` as compact JSON text, byte for byte. `joined` gives, for
    repeated message fields by number, their elements' texts already made (each its own
    `to_json_text`), which are joined rather than converted again. The message holds
    those elements, or leaves the field empty (a reply never parsed from its parts needs
    only its other fields parsed)."""
    if not joined:
        return _dumps(to_json_object(message))
    descriptor = message.DESCRIPTOR
    fields = _fields_by_type.get(descriptor.full_name) or _compile(descriptor)
    listed = {field.number: value for field, value in message.ListFields()}
    parts = []
    # In field number order, as ListFields() gives them and MessageToDict writes them.
    for number in sorted(listed.keys() | {number for number, texts in joined.items() if texts}):
        known = fields.get(number) if fields is not None else None
        if known is None:  # left to json_format: nothing to join
            if any(texts and number not in listed for number, texts in joined.items()):
                raise ValueError(f"{descriptor.full_name} cannot join texts it does not hold")
            return _dumps(to_json_object(message))
        name, convert = known
        texts = joined.get(number)
        if texts is not None:
            value = listed.get(number)
            if value is not None and len(texts) != len(value):
                raise ValueError(f"{len(texts)} texts for {len(value)} elements of {name}")
            text = "[" + ",".join(texts) + "]"
        else:
            text = _dumps(convert(listed[number]))
        parts.append(f"{_dumps(name)}:{text}")
    return "{" + ",".join(parts) + "}"


def _to_json_string(message: Any) -> Any:
    return message.ToJsonString()


def _regular_converter(descriptor: Any) -> _Converter:
    """The converter of one regular message type. Its fields are compiled on the first
    call, not here: a type may contain itself. Per field it calls the value's converter,
    except for values JSON takes as they are (strings, int32s, repeated strings)."""
    # Keyed by the field descriptors ListFields() gives (the descriptor's own objects).
    compiled: list[dict[Any, tuple[str, _Converter | None]] | None] = []

    def convert(message: Message) -> Any:
        if not compiled:
            by_number = _fields_by_type.get(descriptor.full_name) or _compile(descriptor)
            compiled.append(
                None
                if by_number is None
                else {
                    descriptor.fields_by_number[number]: (name, None if value is _same else value)
                    for number, (name, value) in by_number.items()
                }
            )
        fields = compiled[0]
        if fields is None:
            return json_format.MessageToDict(message)
        js: dict[str, Any] = {}
        for field, value in message.ListFields():
            known = fields.get(field)
            if known is None:  # an extension: json_format names it
                return json_format.MessageToDict(message)
            name, value_converter = known
            js[name] = value if value_converter is None else value_converter(value)
        return js

    return convert


def _compile(descriptor: Any) -> dict[int, tuple[str, _Converter]] | None:
    fields: dict[int, tuple[str, _Converter]] | None
    try:
        fields = {
            field.number: (field.json_name, _field_converter(field)) for field in descriptor.fields
        }
    except _Unusual:
        fields = None
    with _lock:
        _fields_by_type[descriptor.full_name] = fields
    return fields


class _Unusual(Exception):
    """A field this module leaves to json_format."""


def _field_converter(field: FieldDescriptor) -> _Converter:
    message_type = field.message_type
    if message_type is not None and message_type.GetOptions().map_entry:
        key_field = message_type.fields_by_name["key"]
        value = _value_converter(message_type.fields_by_name["value"])
        if key_field.cpp_type == F.CPPTYPE_BOOL:
            return lambda entries: {
                ("true" if key else "false"): value(entries[key]) for key in entries
            }
        return lambda entries: {str(key): value(entries[key]) for key in entries}
    single = _value_converter(field)
    if field.is_repeated:
        if single is _same:
            return list
        return lambda values: [single(item) for item in values]
    return single


def _value_converter(field: FieldDescriptor) -> _Converter:
    """One value of `field` (an element, for a repeated field), as json_format maps it."""
    cpp_type = field.cpp_type
    if cpp_type == F.CPPTYPE_MESSAGE:
        return _message_converter(field.message_type)
    if cpp_type == F.CPPTYPE_ENUM:
        return _enum_converter(field.enum_type)
    if cpp_type == F.CPPTYPE_STRING:
        return _bytes if field.type == F.TYPE_BYTES else _same
    if cpp_type == F.CPPTYPE_BOOL:
        return bool
    if cpp_type in _INT64:
        return str
    if cpp_type == F.CPPTYPE_FLOAT:
        return _float32
    if cpp_type == F.CPPTYPE_DOUBLE:
        return _double
    return _same


def _enum_converter(enum: Any) -> _Converter:
    if enum.full_name == "google.protobuf.NullValue":
        return _null
    if enum.is_closed or any(value.GetOptions().ListFields() for value in enum.values):
        raise _Unusual(enum.full_name)
    names = {number: value.name for number, value in enum.values_by_number.items()}
    # An open enum keeps a number it has no name for, and json_format prints the number.
    return lambda number: names.get(number, number)


def _null(value: Any) -> None:
    return None


def _same(value: Any) -> Any:
    return value


def _bytes(value: bytes) -> str:
    return base64.b64encode(value).decode("utf-8")


def _special_float(value: float) -> str | None:
    if math.isinf(value):
        return "-Infinity" if value < 0.0 else "Infinity"
    if math.isnan(value):
        return "NaN"
    return None


def _double(value: float) -> Any:
    special = _special_float(value)
    return value if special is None else special


def _float32(value: float) -> Any:
    special = _special_float(value)
    return type_checkers.ToShortestFloat(value) if special is None else special
