"""Asset checks: separate check steps and results returned with a materialization."""

import pytest
import weir as dg


@dg.asset
def orders() -> list[int]:
    return [5, -1]


@dg.asset
def revenue(orders: list[int]) -> int:
    return sum(orders)


def test_check_receives_the_asset_value_and_reports_an_evaluation():
    @dg.asset_check(asset=orders, description="no negatives")
    def no_negative_orders(orders):
        bad = [o for o in orders if o < 0]
        return dg.AssetCheckResult(passed=not bad, metadata={"bad": len(bad)})

    result = dg.materialize([orders, no_negative_orders, revenue])
    assert result.success  # a failing non-blocking check does not fail the run
    (evaluation,) = result.get_asset_check_evaluations()
    assert evaluation.asset_key == dg.AssetKey("orders")
    assert evaluation.check_name == "no_negative_orders"
    assert not evaluation.passed
    assert evaluation.metadata["bad"].value == 1
    assert result.asset_value("revenue") == 4


def test_failing_blocking_check_stops_downstream():
    @dg.asset_check(asset=orders, blocking=True)
    def positive(orders):
        return dg.AssetCheckResult(passed=min(orders) >= 0, description="found a negative")

    @dg.asset
    def unrelated():
        return 1

    result = dg.materialize([orders, positive, revenue, unrelated], raise_on_error=False)
    assert not result.success
    assert [e.step_key for e in result.get_step_skipped_events()] == ["revenue"]
    assert result.output_for_node("unrelated") == 1
    with pytest.raises(dg.CheckFailedError, match="found a negative"):
        dg.materialize([orders, positive, revenue])


def test_warn_severity_does_not_block():
    @dg.asset_check(asset=orders, blocking=True)
    def mild(orders):
        return dg.AssetCheckResult(passed=False, severity=dg.AssetCheckSeverity.WARN)

    assert dg.materialize([orders, mild, revenue]).success


def test_check_results_returned_with_the_materialization():
    @dg.asset(check_specs=[dg.AssetCheckSpec("non_empty", asset="rows", blocking=True)])
    def rows():
        return dg.MaterializeResult(
            metadata={"n": 0}, check_results=[dg.AssetCheckResult(passed=False)]
        )

    @dg.asset(deps=[rows])
    def downstream():
        return 1

    result = dg.materialize([rows, downstream], raise_on_error=False)
    assert [e.asset_key for e in result.get_asset_materialization_events()] == [dg.AssetKey("rows")]
    (evaluation,) = result.get_asset_check_evaluations()
    assert evaluation.check_name == "non_empty" and evaluation.blocking
    assert [e.step_key for e in result.get_step_skipped_events()] == ["downstream"]


def test_undeclared_check_result_is_an_error():
    @dg.asset
    def rows():
        return dg.MaterializeResult(check_results=[dg.AssetCheckResult(passed=True)])

    with pytest.raises(dg.StepError, match="undeclared check"):
        dg.materialize([rows])


def test_check_must_return_a_result():
    @dg.asset_check(asset=orders)
    def forgot(orders):
        return True

    with pytest.raises(dg.StepError, match="must return one AssetCheckResult, got bool"):
        dg.materialize([orders, forgot])


def test_check_parameters_must_be_the_asset_or_declared():
    with pytest.raises(dg.DefinitionError, match="parameter 'other'"):

        @dg.asset_check(asset=orders)
        def confused(other):
            return dg.AssetCheckResult(passed=True)
