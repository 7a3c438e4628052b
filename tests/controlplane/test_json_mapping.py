"""The HTTP API's JSON mapping gives exactly json_format.MessageToDict's output."""

from __future__ import annotations

import importlib
import json
import pkgutil
import random

import pytest
import weir_protos.v1
from filled_messages import fill
from google.protobuf import json_format
from google.protobuf.descriptor import Descriptor, FieldDescriptor
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


MESSAGE_TYPES = _weir_message_types()


def test_every_weir_message_type_is_covered() -> None:
    names = {descriptor.full_name for descriptor in MESSAGE_TYPES}
    assert {"weir.v1.ListAssetsResponse", "weir.v1.AssetNode", "weir.v1.RunEvent"} <= names


@pytest.mark.parametrize("descriptor", MESSAGE_TYPES, ids=lambda d: d.full_name)
def test_mapping_matches_json_format_byte_for_byte(descriptor: Descriptor) -> None:
    message_class = GetMessageClass(descriptor)
    for seed in range(4):
        message = message_class()
        fill(message, random.Random(f"{descriptor.full_name}/{seed}"), depth=3)
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
        fill(message, random.Random(f"text/{name}/{seed}"), depth=4)
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
