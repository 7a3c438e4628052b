"""What a code server keeps of each generated asset (a budget), and its input keys, which
read like the dict they replace (weir/_small_mapping.py)."""

from __future__ import annotations

import pickle

import cloudpickle
import pytest
import weir as dg
from kept_memory import bytes_per_item
from weir._small_mapping import small_mapping


def _derived(index: int) -> dg.AssetsDefinition:
    ins = {"left": dg.AssetIn(key=f"left_{index}"), "right": dg.AssetIn(key=f"right_{index}")}

    @dg.asset(name=f"derived_{index}", ins=ins)
    def derived(left, right):
        return left + right

    return derived


def test_generated_assets_keep_their_input_keys_small():
    # What a code server keeps of each of 10,000 generated assets, and its zygote's pages
    # again: 1,700 bytes of a two-input asset (keys, spec, function, ...) with its own
    # parameters, 1,430 with them shared, 1,350 with the input keys in no dict (190 bytes),
    # 1,260 with its required outputs and spec by key made when read.
    per_definition = bytes_per_item(
        """
        import weir as dg

        def _derived(index):
            ins = {
                "left": dg.AssetIn(key=f"left_{index}"),
                "right": dg.AssetIn(key=f"right_{index}"),
            }

            @dg.asset(name=f"derived_{index}", ins=ins)
            def derived(left, right):
                return left + right

            return derived

        _derived(-1)
        """,
        "_derived(i)",
    )
    assert per_definition < 1300, per_definition
    assert _derived(7).input_keys == {
        "left": dg.AssetKey("left_7"),
        "right": dg.AssetKey("right_7"),
    }


def test_input_keys_read_as_a_dict():
    inputs = _derived(3).input_keys
    assert inputs["right"] == dg.AssetKey("right_3") and "left" in inputs and "up" not in inputs
    assert list(inputs) == ["left", "right"] and len(inputs) == 2
    assert list(inputs.values()) == [dg.AssetKey("left_3"), dg.AssetKey("right_3")]
    assert inputs.get("up") is None
    with pytest.raises(KeyError):
        inputs["up"]
    assert repr(inputs) == repr(dict(inputs))


@pytest.mark.parametrize("dumps", [pickle.dumps, cloudpickle.dumps])
def test_input_keys_survive_pickling(dumps):
    # Spawned step workers receive definitions through cloudpickle.
    definition = _derived(5)
    assert pickle.loads(dumps(definition.input_keys)) == definition.input_keys
    assert cloudpickle.loads(cloudpickle.dumps(definition)).input_keys == definition.input_keys


def test_no_inputs_and_many_inputs_are_kept_as_before():
    assert small_mapping({}) == {} and not small_mapping({})
    many = {f"p{i}": i for i in range(20)}
    assert type(small_mapping(many)) is dict and small_mapping(many) == many
