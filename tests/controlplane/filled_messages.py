"""Messages with every field set to varied values, for tests that hold an encoding against
json_format's."""

from __future__ import annotations

import random
from typing import Any

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

F = FieldDescriptor


_SPECIAL_DOUBLES = [float("nan"), float("inf"), float("-inf"), 0.1, -2.5e300, 3.0]


def _scalar(field: FieldDescriptor, rng: random.Random) -> Any:
    if field.cpp_type == F.CPPTYPE_ENUM:
        numbers = [value.number for value in field.enum_type.values]
        return rng.choice([*numbers, 97])  # 97: a number the enum has no name for
    if field.cpp_type == F.CPPTYPE_STRING:
        if field.type == F.TYPE_BYTES:
            return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 9)))
        return rng.choice(["a", "ünïcode ✓", 'quote " and \\', "x" * 40, "line\nbreak"])
    if field.cpp_type == F.CPPTYPE_BOOL:
        return True
    if field.cpp_type in (F.CPPTYPE_INT64,):
        return rng.choice([-(2**63), 2**53 + 1, -7, 1])
    if field.cpp_type == F.CPPTYPE_UINT64:
        return rng.choice([2**64 - 1, 5])
    if field.cpp_type == F.CPPTYPE_INT32:
        return rng.choice([-(2**31), 2**31 - 1, 3])
    if field.cpp_type == F.CPPTYPE_UINT32:
        return rng.choice([2**32 - 1, 3])
    if field.cpp_type in (F.CPPTYPE_DOUBLE, F.CPPTYPE_FLOAT):
        return rng.choice(_SPECIAL_DOUBLES)
    raise AssertionError(field.full_name)


def fill(message: Message, rng: random.Random, depth: int) -> None:
    """Set every field (one member of each oneof, chosen at random) to a varied value."""
    descriptor = message.DESCRIPTOR
    if descriptor.full_name == "google.protobuf.Timestamp":
        message.FromSeconds(rng.randrange(0, 2_000_000_000))  # type: ignore[attr-defined]
        return
    if descriptor.full_name == "google.protobuf.Duration":
        message.FromNanoseconds(rng.randrange(-(10**12), 10**12))  # type: ignore[attr-defined]
        return
    if descriptor.full_name == "google.protobuf.Struct":
        message.update({"k": 1, "list": [True, None, "s"]})  # type: ignore[attr-defined]
        return
    if descriptor.full_name == "google.protobuf.Value":
        message.string_value = "v"  # type: ignore[attr-defined]
        return
    chosen = {oneof.name: rng.choice(oneof.fields) for oneof in descriptor.oneofs}
    for field in descriptor.fields:
        oneof = field.containing_oneof
        if oneof is not None and chosen[oneof.name] is not field:
            continue
        value_type = field.message_type
        if value_type is not None and value_type.GetOptions().map_entry:
            key_field = value_type.fields_by_name["key"]
            value_field = value_type.fields_by_name["value"]
            entries = getattr(message, field.name)
            for _ in range(2):
                key = _scalar(key_field, rng)
                if value_field.cpp_type == F.CPPTYPE_MESSAGE:
                    if depth > 0:
                        fill(entries[key], rng, depth - 1)
                else:
                    entries[key] = _scalar(value_field, rng)
            continue
        if field.cpp_type == F.CPPTYPE_MESSAGE:
            if depth == 0:
                continue
            if field.is_repeated:
                for _ in range(2):
                    fill(getattr(message, field.name).add(), rng, depth - 1)
            else:
                fill(getattr(message, field.name), rng, depth - 1)
                getattr(message, field.name).SetInParent()
            continue
        if field.is_repeated:
            getattr(message, field.name).extend(_scalar(field, rng) for _ in range(3))
        else:
            setattr(message, field.name, _scalar(field, rng))
