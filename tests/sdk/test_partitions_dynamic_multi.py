"""Dynamic partitions (keys in a store) and multi-dimensional partitions (a cross product)."""

import pickle
from datetime import datetime

import pytest
import weir as dg
from hypothesis import given, settings
from hypothesis import strategies as st

NOW = datetime(2024, 1, 4, 12)
DAYS = dg.DailyPartitionsDefinition("2024-01-01")
REGIONS = dg.StaticPartitionsDefinition(["eu", "us"])


# -- dynamic ------------------------------------------------------------------------------------


def test_dynamic_keys_come_from_the_store():
    fruits = dg.DynamicPartitionsDefinition(name="fruits")
    store = dg.InMemoryDynamicPartitionsStore({"fruits": ["apple", "pear"]})
    assert fruits.get_partition_keys(dynamic_partitions_store=store) == ["apple", "pear"]
    assert fruits.has_partition_key("pear", dynamic_partitions_store=store)
    assert not fruits.has_partition_key("kiwi", dynamic_partitions_store=store)
    assert fruits.get_num_partitions(dynamic_partitions_store=store) == 2
    assert fruits.get_last_partition_key(dynamic_partitions_store=store) == "pear"


def test_sensors_add_and_delete_keys_with_requests():
    fruits = dg.DynamicPartitionsDefinition("fruits")  # the name may be positional
    store = dg.InMemoryDynamicPartitionsStore()
    add = fruits.build_add_request(["apple", "kiwi"])
    assert add == dg.AddDynamicPartitionsRequest("fruits", ["apple", "kiwi"])
    store.apply(add)
    store.apply(fruits.build_delete_request(["apple"]))
    assert isinstance(fruits.build_delete_request(["x"]), dg.DeleteDynamicPartitionsRequest)
    assert fruits.get_partition_keys(dynamic_partitions_store=store) == ["kiwi"]
    # A request is what a sensor returns.
    assert dg.SensorResult(dynamic_partitions_requests=[add]).dynamic_partitions_requests == (add,)


def test_without_a_store_any_key_is_accepted_but_keys_cannot_be_listed():
    fruits = dg.DynamicPartitionsDefinition(name="fruits")
    assert fruits.has_partition_key("anything")
    fruits.validate_partition_key("anything", "orders")
    assert not fruits.has_partition_key("")
    with pytest.raises(dg.DynamicPartitionsStoreError, match="dynamic_partitions_store"):
        fruits.get_partition_keys()


def test_materialize_in_process_accepts_any_dynamic_key():
    fruits = dg.DynamicPartitionsDefinition(name="fruits")

    @dg.asset(partitions_def=fruits)
    def harvest(context: dg.AssetExecutionContext) -> str:
        return context.partition_key.upper()

    result = dg.materialize([harvest], partition_key="mango")
    assert result.output_for_node("harvest") == "MANGO"


def test_unknown_dynamic_key_error_names_the_definition_and_its_keys():
    fruits = dg.DynamicPartitionsDefinition(name="fruits")
    store = dg.InMemoryDynamicPartitionsStore({"fruits": ["apple"]})
    with pytest.raises(dg.PartitionKeyError, match=r"dynamic partitions 'fruits'.*'apple'"):
        fruits.validate_partition_key("kiwi", "orders", dynamic_partitions_store=store)


def test_partition_fn_computes_keys():
    numbered = dg.DynamicPartitionsDefinition(lambda current_time: ["1", "2"])
    assert numbered.get_partition_keys() == ["1", "2"]
    assert not numbered.has_partition_key("3")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({}, "exactly one of name"),
        ({"name": "has space"}, "letters, digits and underscores"),
        ({"name": "x", "partition_fn": lambda t: []}, "exactly one of name"),
    ],
)
def test_bad_dynamic_definitions(kwargs, match):
    with pytest.raises(dg.DefinitionError, match=match):
        dg.DynamicPartitionsDefinition(**kwargs)


def test_bad_requests():
    fruits = dg.DynamicPartitionsDefinition(name="fruits")
    with pytest.raises(dg.DefinitionError, match="not the string"):
        fruits.build_add_request("apple")
    with pytest.raises(dg.DefinitionError, match="non-empty strings"):
        fruits.build_add_request(["apple", ""])


def test_dynamic_definitions_compare_by_name():
    assert dg.DynamicPartitionsDefinition(name="a") == dg.DynamicPartitionsDefinition("a")
    assert dg.DynamicPartitionsDefinition(name="a") != dg.DynamicPartitionsDefinition(name="b")
    defn = dg.DynamicPartitionsDefinition(name="a")
    assert pickle.loads(pickle.dumps(defn)) == defn


# -- multi-dimensional --------------------------------------------------------------------------


def test_keys_join_dimensions_in_name_order_as_dagster_does():
    multi = dg.MultiPartitionsDefinition({"region": REGIONS, "date": DAYS})
    keys = multi.get_partition_keys(current_time=NOW)
    assert keys == [
        "2024-01-01|eu",
        "2024-01-01|us",
        "2024-01-02|eu",
        "2024-01-02|us",
        "2024-01-03|eu",
        "2024-01-03|us",
    ]
    assert keys[3].keys_by_dimension == {"date": "2024-01-02", "region": "us"}
    assert multi.get_num_partitions(current_time=NOW) == 6
    assert multi.partition_dimension_names == ["date", "region"]
    assert multi.time_window_dimension.name == "date"


def test_multi_partition_key_is_a_string_that_knows_its_parts():
    key = dg.MultiPartitionKey({"region": "eu", "date": "2024-01-02"})
    assert key == "2024-01-02|eu" and isinstance(key, str)
    assert [d.dimension_name for d in key.dimension_keys] == ["date", "region"]
    restored = pickle.loads(pickle.dumps(key))
    assert restored.keys_by_dimension == key.keys_by_dimension


def test_has_partition_key_accepts_strings_and_multi_partition_keys():
    multi = dg.MultiPartitionsDefinition({"date": DAYS, "region": REGIONS})
    assert multi.has_partition_key("2024-01-02|us", current_time=NOW)
    assert multi.has_partition_key(
        dg.MultiPartitionKey({"date": "2024-01-02", "region": "us"}), current_time=NOW
    )
    assert not multi.has_partition_key("2024-01-02|mars", current_time=NOW)
    assert not multi.has_partition_key("2024-01-09|us", current_time=NOW)
    assert not multi.has_partition_key("2024-01-02", current_time=NOW)
    assert not multi.has_partition_key(dg.MultiPartitionKey({"day": "2024-01-02", "x": "us"}))


def test_unknown_multi_key_error_names_the_dimension_at_fault():
    multi = dg.MultiPartitionsDefinition({"date": DAYS, "region": REGIONS})
    with pytest.raises(dg.PartitionKeyError, match="dimension 'region' has no key 'mars'"):
        multi.validate_partition_key("2024-01-02|mars", "sales", current_time=NOW)
    with pytest.raises(dg.PartitionKeyError, match=r"one key per dimension \(date, region\)"):
        multi.validate_partition_key("2024-01-02", "sales", current_time=NOW)


def test_three_dimensions_with_a_dynamic_one():
    fruits = dg.DynamicPartitionsDefinition(name="fruits")
    store = dg.InMemoryDynamicPartitionsStore({"fruits": ["pear", "apple"]})
    multi = dg.MultiPartitionsDefinition({"date": DAYS, "fruit": fruits, "region": REGIONS})
    keys = multi.get_partition_keys(current_time=NOW, dynamic_partitions_store=store)
    assert len(keys) == 3 * 2 * 2
    assert keys[:2] == ["2024-01-01|pear|eu", "2024-01-01|pear|us"]
    assert multi.has_partition_key("2024-01-01|apple|us", NOW, store)
    assert not multi.has_partition_key("2024-01-01|kiwi|us", NOW, store)
    assert multi.has_partition_key("2024-01-01|kiwi|us", NOW)  # no store: any fruit


def test_first_last_and_range_work_per_dimension():
    multi = dg.MultiPartitionsDefinition({"date": DAYS, "region": REGIONS})
    assert multi.get_first_partition_key(current_time=NOW) == "2024-01-01|eu"
    assert multi.get_last_partition_key(current_time=NOW) == "2024-01-03|us"
    assert multi.get_partition_keys_in_range("2024-01-02|eu", "2024-01-03|eu", NOW) == [
        "2024-01-02|eu",
        "2024-01-03|eu",
    ]


def test_materialize_a_multi_partitioned_asset():
    multi = dg.MultiPartitionsDefinition({"date": DAYS, "region": REGIONS})

    @dg.asset(partitions_def=multi)
    def sales(context: dg.AssetExecutionContext) -> str:
        return context.partition_key

    result = dg.materialize([sales], partition_key="2024-01-02|us")
    assert result.output_for_node("sales") == "2024-01-02|us"
    with pytest.raises(dg.PartitionKeyError, match="dimension 'region'"):
        dg.materialize([sales], partition_key="2024-01-02|mars")


@pytest.mark.parametrize(
    ("dimensions", "match"),
    [
        ({"only": REGIONS}, "two or more"),
        ({"a": REGIONS, "b": dg.StaticPartitionsDefinition(["x|y"])}, r"cannot contain any of"),
        ({"a": REGIONS, "b|c": REGIONS}, "without '|'"),
        ({"a": REGIONS, "b": dg.MultiPartitionsDefinition({"x": REGIONS, "y": DAYS})}, "static"),
    ],
)
def test_bad_multi_definitions(dimensions, match):
    with pytest.raises(dg.DefinitionError, match=match):
        dg.MultiPartitionsDefinition(dimensions)


def test_multi_definitions_compare_by_dimensions():
    a = dg.MultiPartitionsDefinition({"date": DAYS, "region": REGIONS})
    b = dg.MultiPartitionsDefinition({"region": REGIONS, "date": DAYS})
    assert a == b and hash(a) == hash(b)
    assert pickle.loads(pickle.dumps(a)) == a
    assert a != dg.MultiPartitionsDefinition({"day": DAYS, "region": REGIONS})


@settings(max_examples=50, deadline=None)
@given(
    st.dictionaries(
        st.text("abcdefgh", min_size=1, max_size=4),
        st.lists(st.text("xyz123", min_size=1, max_size=3), min_size=1, max_size=4, unique=True),
        min_size=2,
        max_size=4,
    )
)
def test_multi_keys_are_the_sorted_unique_product(dimensions):
    multi = dg.MultiPartitionsDefinition(
        {name: dg.StaticPartitionsDefinition(keys) for name, keys in dimensions.items()}
    )
    keys = multi.get_partition_keys()
    expected_count = 1
    for values in dimensions.values():
        expected_count *= len(values)
    assert len(keys) == len(set(keys)) == expected_count == multi.get_num_partitions()
    for key in keys:
        assert multi.has_partition_key(key)
        assert multi.get_partition_key_from_str(str(key)).keys_by_dimension == dict(
            key.keys_by_dimension
        )
    assert multi._sort_keys(reversed(keys), None, None) == keys
