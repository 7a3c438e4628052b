"""The per-key mappings of single-asset definitions: compact, and read like dicts and
frozensets (weir/_one_key.py)."""

from __future__ import annotations

import pickle
import sys

import cloudpickle
import pytest
import weir as dg
from weir._one_key import OneKeyMapping, OneKeySet, compact_mapping, compact_set


@dg.asset
def orders() -> int:
    return 1


def test_a_single_asset_definition_reads_its_mappings_as_dicts_and_a_frozenset():
    key = dg.AssetKey("orders")
    assert orders.output_names == {key: "result"}
    assert orders.specs_by_key[key] is orders.specs[0]
    assert orders.required_outputs == frozenset({key})
    assert key in orders.required_outputs
    assert orders.keys_by_output_name == {"result": key}
    assert orders.op.outs["result"].is_required


def test_a_single_asset_definition_keeps_its_per_key_mappings_small():
    # A dict or frozenset of one entry is over 200 bytes each; 10,000 assets held 6 MB.
    sizes = [
        sys.getsizeof(orders.output_names),
        sys.getsizeof(orders.specs_by_key),
        sys.getsizeof(orders.required_outputs),
    ]
    assert sum(sizes) < 200, sizes


def test_a_multi_asset_keeps_dicts_and_a_frozenset():
    @dg.multi_asset(outs={"a": dg.AssetOut(), "b": dg.AssetOut(is_required=False)})
    def both():
        yield dg.Output(1, output_name="a")

    assert both.output_names == {dg.AssetKey("a"): "a", dg.AssetKey("b"): "b"}
    assert type(both.specs_by_key) is dict
    assert both.required_outputs == frozenset({dg.AssetKey("a")})  # b may be skipped


def test_one_key_mapping_behaves_as_an_immutable_dict_of_one_entry():
    names = OneKeyMapping("a", 1)
    assert names["a"] == 1 and names.get("b") is None and "b" not in names
    assert names == {"a": 1} and names != {"a": 2}
    assert {"a": 1} == names  # noqa: SIM300 (the dict's side of the comparison)
    assert list(names.items()) == [("a", 1)] and len(names) == 1
    assert repr(names) == "{'a': 1}"
    with pytest.raises(KeyError):
        names["b"]
    with pytest.raises(TypeError):
        names["a"] = 2  # type: ignore[index]


def test_one_key_set_behaves_as_a_frozenset_of_one_key():
    keys = OneKeySet("a")
    assert keys == frozenset({"a"}) and keys == {"a"}
    assert frozenset({"a"}) == keys  # the frozenset's side of the comparison
    assert hash(keys) == hash(frozenset({"a"}))
    assert keys | {"b"} == {"a", "b"} and keys & {"b"} == frozenset() and keys - {"a"} == set()
    assert type(keys | {"b"}) is frozenset


@pytest.mark.parametrize("dumps", [pickle.dumps, cloudpickle.dumps])
def test_one_key_containers_survive_pickling(dumps):
    assert pickle.loads(dumps(OneKeyMapping("a", 1))) == {"a": 1}
    assert pickle.loads(dumps(OneKeySet("a"))) == {"a"}


def test_a_definition_sent_to_a_worker_keeps_its_mappings():
    # Spawned step workers receive definitions through cloudpickle.
    assert cloudpickle.loads(cloudpickle.dumps(orders)).output_names == orders.output_names


def test_compact_containers_are_compact_only_for_one_entry():
    assert type(compact_mapping({"a": 1})) is OneKeyMapping
    assert compact_mapping({"a": 1, "b": 2}) == {"a": 1, "b": 2}
    assert compact_mapping({}) == {}
    assert type(compact_set(["a", "a"])) is OneKeySet
    assert compact_set([]) == frozenset() and type(compact_set("ab")) is frozenset
