"""The HTTP API's JSON mapping gives exactly json_format.MessageToDict's output."""

from __future__ import annotations

import importlib
import json
import pkgutil
import random
from typing import Any

import pytest
import weir_protos.v1
from google.protobuf import json_format
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message
from google.protobuf.message_factory import GetMessageClass
from weir_controlplane.api.json_mapping import to_json_object, to_json_text

F = FieldDescriptor


def _weir_message_types() -> list[Descriptor]:
    found: dict[str, Descriptor] = {}

    def visit(descriptor: Descriptor) -> None:
        if not descriptor.GetOptions().map_entry:
            found[descriptor.full_name] = descriptor
        for nested in descriptor.nested_types:
            visit(nested)

    for module in pkgutil.iter_modules(weir_protos.v1.__path__):
        if module.name.endswith("_pb2"):
            file = importlib.import_module(f"weir_protos.v1.{module.name}").DESCRIPTOR
            for descriptor in file.message_types_by_name.values():
                visit(descriptor)
    return sorted(found.values(), key=lambda d: d.full_name)


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


def _fill(message: Message, rng: random.Random, depth: int) -> None:
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
                        _fill(entries[key], rng, depth - 1)
                else:
                    entries[key] = _scalar(value_field, rng)
            continue
        if field.cpp_type == F.CPPTYPE_MESSAGE:
            if depth == 0:
                continue
            if field.is_repeated:
                for _ in range(2):
                    _fill(getattr(message, field.name).add(), rng, depth - 1)
            else:
                _fill(getattr(message, field.name), rng, depth - 1)
                getattr(message, field.name).SetInParent()
            continue
        if field.is_repeated:
            getattr(message, field.name).extend(_scalar(field, rng) for _ in range(3))
        else:
            setattr(message, field.name, _scalar(field, rng))


MESSAGE_TYPES = _weir_message_types()


def test_every_weir_message_type_is_covered() -> None:
    names = {descriptor.full_name for descriptor in MESSAGE_TYPES}
    assert {"weir.v1.ListAssetsResponse", "weir.v1.AssetNode", "weir.v1.RunEvent"} <= names


@pytest.mark.parametrize("descriptor", MESSAGE_TYPES, ids=lambda d: d.full_name)
def test_mapping_matches_json_format_byte_for_byte(descriptor: Descriptor) -> None:
    message_class = GetMessageClass(descriptor)
    for seed in range(4):
        message = message_class()
        _fill(message, random.Random(f"{descriptor.full_name}/{seed}"), depth=3)
        expected = json_format.MessageToDict(message)
        found = to_json_object(message)
        assert json.dumps(found, ensure_ascii=False) == json.dumps(expected, ensure_ascii=False)
    assert to_json_object(message_class()) == {}  # nothing set: nothing printed


def test_a_remembered_definition_is_mapped_anew_once_it_changes() -> None:
    from weir_protos.v1 import definitions_pb2

    node = definitions_pb2.AssetNode(group_name="sales", tags={"tier": "gold"})
    node.key.path.append("orders")
    assert to_json_object(node) == to_json_object(node) == json_format.MessageToDict(node)
    node.tags["tier"] = "silver"
    node.tags["owner"] = "finance"
    assert to_json_object(node) == json_format.MessageToDict(node)
    assert to_json_object(node)["tags"] == {"tier": "silver", "owner": "finance"}


@pytest.mark.parametrize("name", ["weir.v1.ListAssetsResponse", "weir.v1.GetAssetLineageResponse"])
def test_json_text_joined_from_the_assets_texts_is_the_same_bytes(name: str) -> None:
    descriptor = next(d for d in MESSAGE_TYPES if d.full_name == name)
    message_class = GetMessageClass(descriptor)
    for seed in range(4):
        message = message_class()
        _fill(message, random.Random(f"text/{name}/{seed}"), depth=4)
        expected = json.dumps(
            json_format.MessageToDict(message), separators=(",", ":"), ensure_ascii=False
        )
        texts = [to_json_text(asset) for asset in message.assets]  # type: ignore[attr-defined]
        assert to_json_text(message) == expected
        assert to_json_text(message, {message.ASSETS_FIELD_NUMBER: texts}) == expected  # type: ignore[attr-defined]
        # A reply whose assets were never parsed: its other fields, and the assets' texts.
        rest = message_class()
        rest.CopyFrom(message)
        rest.ClearField("assets")
        assert to_json_text(rest, {message.ASSETS_FIELD_NUMBER: texts}) == expected  # type: ignore[attr-defined]
        if texts:
            with pytest.raises(ValueError, match="texts for"):
                to_json_text(message, {message.ASSETS_FIELD_NUMBER: texts[1:]})  # type: ignore[attr-defined]
