"""Testing for failures, as Dagster's testing guide does: `pytest.raises(dg.DagsterXxx)`.

A ported test names the error class Dagster raises; Weir raises its own error under that
name (an alias), so the test passes unchanged.
"""

import pytest
from compat_target import dg


class ThresholdConfig(dg.Config):
    minimum: int


@dg.asset
def filtered_orders(config: ThresholdConfig) -> list[int]:
    return [n for n in [3, 8, 12] if n >= config.minimum]


@dg.asset
def order_count() -> int:
    return "twelve"  # type: ignore[return-value]  # the type check catches it


regions = dg.StaticPartitionsDefinition(["emea", "apac"])


@dg.asset(partitions_def=regions)
def regional_sales() -> int:
    return 1


@dg.asset
def report(context: dg.AssetExecutionContext) -> str:
    return context.partition_key  # this asset is not partitioned


@dg.asset
def enriched(filtered_orders: list[int]) -> int:
    return sum(filtered_orders)


def test_config_of_the_wrong_type_raises_invalid_config():
    with pytest.raises(dg.DagsterInvalidConfigError):
        dg.materialize(
            [filtered_orders],
            run_config={"ops": {"filtered_orders": {"config": {"minimum": "ten"}}}},
        )


def test_a_value_that_fails_its_type_hint_raises_type_check_did_not_pass():
    with pytest.raises(dg.DagsterTypeCheckDidNotPass):
        dg.materialize([order_count])


def test_a_value_that_fails_its_type_hint_fails_the_run_without_raising_when_asked():
    result = dg.materialize([order_count], raise_on_error=False)
    assert not result.success


def test_an_unknown_partition_key_raises_unknown_partition():
    with pytest.raises(dg.DagsterUnknownPartitionError):
        dg.materialize([regional_sales], partition_key="latam")


def test_a_known_partition_key_runs():
    assert dg.materialize([regional_sales], partition_key="apac").success


def test_an_invalid_asset_name_raises_invalid_definition():
    with pytest.raises(dg.DagsterInvalidDefinitionError):

        @dg.asset(name="daily orders!")
        def orders() -> int:
            return 1


def test_an_invalid_group_name_raises_invalid_definition():
    with pytest.raises(dg.DagsterInvalidDefinitionError):
        dg.AssetSpec("orders", group_name="sales team")


def test_the_partition_key_of_an_unpartitioned_run_raises_invariant_violation():
    with pytest.raises(dg.DagsterInvariantViolationError):
        dg.materialize([report])


def test_calling_an_asset_without_its_input_raises_invalid_invocation():
    with pytest.raises(dg.DagsterInvalidInvocationError):
        enriched()


def test_calling_an_asset_with_too_many_inputs_raises_invalid_invocation():
    with pytest.raises(dg.DagsterInvalidInvocationError):
        enriched([1], [2])


def test_calling_an_asset_directly_with_its_input_returns_its_value():
    assert enriched([3, 8]) == 11


def test_every_error_is_a_dagster_error():
    # A test (or a sensor) that catches the base class catches each of them.
    for error in (
        dg.DagsterInvalidConfigError,
        dg.DagsterTypeCheckDidNotPass,
        dg.DagsterUnknownPartitionError,
        dg.DagsterInvalidDefinitionError,
        dg.DagsterInvariantViolationError,
        dg.DagsterInvalidInvocationError,
        dg.DagsterExecutionStepExecutionError,
    ):
        assert issubclass(error, dg.DagsterError)
    with pytest.raises(dg.DagsterError):
        dg.materialize([regional_sales], partition_key="latam")
