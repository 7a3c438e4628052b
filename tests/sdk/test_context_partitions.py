"""weir/_context_partitions.py and partition_loading_context: what a step's context says
about partitions, and errors that say what to ask instead."""

import doctest

import pytest
import weir as dg
import weir._partitions.loading_context as loading_context

daily = dg.DailyPartitionsDefinition(start_date="2024-01-01")


@dg.asset(partitions_def=daily)
def days() -> int:
    return 1


def _materialize_context_probe(probe):
    @dg.asset(
        partitions_def=daily,
        deps=[dg.AssetDep("days", partition_mapping=dg.TimeWindowPartitionMapping(-1))],
    )
    def probed(context: dg.AssetExecutionContext) -> None:
        probe(context)

    return dg.materialize([days, probed], selection=["probed"], partition_key="2024-01-05")


def test_asking_for_one_input_partition_of_a_range_says_what_to_ask_instead():
    def probe(context):
        with pytest.raises(
            dg.WeirError, match=r"reads 2 partitions \('2024-01-04' to '2024-01-05'\)"
        ):
            context.asset_partition_key_for_input("days")

    assert _materialize_context_probe(probe).success


def test_an_unknown_input_or_output_name_lists_the_real_ones():
    def probe(context):
        with pytest.raises(dg.WeirError, match=r"no input named 'dayz'; its inputs are \['days'\]"):
            context.asset_partition_keys_for_input("dayz")
        with pytest.raises(dg.WeirError, match="no output named 'other'"):
            context.asset_partition_key_for_output("other")

    assert _materialize_context_probe(probe).success


def test_a_unit_test_context_has_no_inputs_to_ask_about():
    context = dg.build_asset_context(partition_key="2024-01-02")

    assert context.partition_key_range == dg.PartitionKeyRange("2024-01-02", "2024-01-02")
    with pytest.raises(dg.WeirError, match="not started by a run"):
        context.asset_partition_keys_for_input("days")


def test_partition_loading_context_supplies_the_dynamic_partitions_store():
    fruits = dg.DynamicPartitionsDefinition(name="fruits")
    store = dg.InMemoryDynamicPartitionsStore()
    store.add_dynamic_partitions("fruits", ["apple", "kiwi"])

    with dg.partition_loading_context(dynamic_partitions_store=store):
        assert fruits.get_partition_keys() == ["apple", "kiwi"]
        assert fruits.has_partition_key("kiwi")
        assert not fruits.has_partition_key("plum")
    with pytest.raises(dg.DynamicPartitionsStoreError):
        fruits.get_partition_keys()


def test_the_documented_examples_run():
    assert doctest.testmod(loading_context).failed == 0
