"""Assets encoded from their parts are byte for byte the message built and encoded whole:
the same wire bytes, and the JSON text json_format writes."""

from __future__ import annotations

import json
import random

import pytest
from filled_messages import fill
from google.protobuf import json_format
from google.protobuf.message import Message
from weir_controlplane.api.asset_encoding import Encoded, encode_asset, encode_key
from weir_controlplane.api.definition_json import definition_text
from weir_controlplane.api.health import _encoded, _message
from weir_controlplane.storage import FreshnessRecord, FreshnessState
from weir_controlplane.storage.health import unknown_health
from weir_protos.v1 import common_pb2, definitions_pb2, health_pb2
from weir_protos.v1 import control_plane_pb2 as cp


def _json_format_text(message: Message) -> str:
    return json.dumps(json_format.MessageToDict(message), separators=(",", ":"), ensure_ascii=False)


def _without_key(health: health_pb2.AssetHealth) -> Encoded:
    rest = health_pb2.AssetHealth()
    rest.CopyFrom(health)
    rest.ClearField("key")
    return Encoded.of(rest)


def _encoded_from_parts(asset: cp.Asset) -> tuple[bytes, str]:
    encoded = encode_asset(
        encode_key("/".join(asset.key.path)),
        asset.code_location,
        asset.definition if asset.HasField("definition") else None,
        asset.latest_materialization if asset.HasField("latest_materialization") else None,
        list(asset.checks),
        _without_key(asset.health) if asset.HasField("health") else None,
    )
    return encoded.wire, encoded.text()


@pytest.mark.parametrize("seed", range(12))
def test_an_asset_with_every_field_set_encodes_as_the_whole_message(seed: int) -> None:
    asset = cp.Asset()
    fill(asset, random.Random(f"asset/{seed}"), depth=4)
    asset.key.ClearField("path")
    asset.key.path.extend(["raw", f"orders ✓ {seed}", 'a "quoted" part'][: 1 + seed % 3])
    asset.health.key.CopyFrom(asset.key)  # an asset's health is its own
    assert asset.definition.ListFields() and asset.checks and asset.latest_materialization.run_id
    assert _encoded_from_parts(asset) == (asset.SerializeToString(), _json_format_text(asset))


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"code_location": "etl"},
        {"definition": definitions_pb2.AssetNode()},  # set, though empty
        {"health": health_pb2.AssetHealth()},  # a health of only its key
    ],
    ids=["key only", "location", "empty definition", "health with only its key"],
)
def test_an_asset_with_few_fields_set_encodes_as_the_whole_message(fields: dict) -> None:
    asset = cp.Asset(key=common_pb2.AssetKey(path=["x"]), **fields)
    if asset.HasField("health"):
        asset.health.key.CopyFrom(asset.key)
    assert _encoded_from_parts(asset) == (asset.SerializeToString(), _json_format_text(asset))


def test_the_health_many_assets_share_is_encoded_once_and_is_each_assets_own() -> None:
    node = definitions_pb2.AssetNode(group_name="default")
    assert _encoded(unknown_health("raw/orders"), None, node) is _encoded(
        unknown_health("users"), None, None
    )
    for key in ("raw/orders", "users"):
        expected = cp.Asset(
            key=common_pb2.AssetKey(path=key.split("/")),
            code_location="etl",
            health=_message(unknown_health(key), None, None),
        )
        encoded = encode_asset(
            encode_key(key), "etl", None, None, (), _encoded(unknown_health(key), None, None)
        )
        assert encoded.wire == expected.SerializeToString()
        assert encoded.text() == _json_format_text(expected)


def test_a_health_with_a_policy_and_freshness_record_is_its_own_message() -> None:
    node = definitions_pb2.AssetNode()
    node.freshness_policy.time_window.fail_window.FromSeconds(3600)
    record = FreshnessRecord(
        asset_key="orders", state=FreshnessState.FAIL, reason="late", evaluated_at=None, due_at=None
    )
    for freshness in (None, record):
        expected = cp.Asset(
            key=common_pb2.AssetKey(path=["orders"]),
            health=_message(unknown_health("orders"), freshness, node),
        )
        assert expected.health.freshness_state.HasField("policy")
        encoded = encode_asset(
            encode_key("orders"),
            "",
            None,
            None,
            (),
            _encoded(unknown_health("orders"), freshness, node),
        )
        assert (encoded.wire, encoded.text()) == (
            expected.SerializeToString(),
            _json_format_text(expected),
        )


@pytest.mark.parametrize("seed", range(12))
def test_a_definition_with_every_field_set_is_written_as_json_format_writes_it(seed: int) -> None:
    node = definitions_pb2.AssetNode()
    fill(node, random.Random(f"node/{seed}"), depth=4)
    node.tags["ünïcode ✓"] = 'quote " and \\'
    assert {field.name for field, _ in node.ListFields()} == {
        field.name for field in node.DESCRIPTOR.fields
    }
    assert definition_text(node) == _json_format_text(node)
    assert definition_text(definitions_pb2.AssetNode()) == "{}"


def test_a_definition_of_a_large_location_is_written_as_json_format_writes_it() -> None:
    # What most nodes of a large location hold: a key, two deps and a few strings.
    node = definitions_pb2.AssetNode(
        group_name="default", is_executable=True, node_name="a_2_54", io_manager_key="io"
    )
    node.key.path.append("a_2_54")
    node.required_resource_keys.append("io")
    for upstream in ("a_1_54", "a_1_55"):
        node.deps.add().asset_key.path.append(upstream)
    node.deps[1].partition_mapping.identity.SetInParent()
    node.deps.add()  # a dep with nothing set
    assert definition_text(node) == _json_format_text(node)
