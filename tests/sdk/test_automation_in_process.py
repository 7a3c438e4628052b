"""evaluate_automation_conditions in process: what Dagster's tests read is covered by
tests/compat/test_compat_automation_testing.py; these are the facts Weir's engine reads
from the instance (failures, checks, partition mappings) and the errors."""

import doctest
from datetime import UTC, datetime

import pytest
import weir as dg
from weir._automation import in_process

AC = dg.AutomationCondition


def test_a_failed_partition_is_what_execution_failed_reads() -> None:
    @dg.asset(automation_condition=AC.execution_failed())
    def flaky() -> int:
        raise RuntimeError("down")

    instance = dg.Instance.ephemeral()
    assert dg.evaluate_automation_conditions([flaky], instance).total_requested == 0

    dg.materialize([flaky], instance=instance, raise_on_error=False)

    assert dg.evaluate_automation_conditions([flaky], instance).get_num_requested("flaky") == 1


def test_a_failed_check_is_what_check_failed_reads() -> None:
    @dg.asset(automation_condition=AC.any_checks_match(AC.check_failed()))
    def orders() -> int:
        return 1

    @dg.asset_check(asset=orders)
    def has_rows() -> dg.AssetCheckResult:
        return dg.AssetCheckResult(passed=False)

    instance = dg.Instance.ephemeral()
    dg.materialize([orders, has_rows], instance=instance)

    result = dg.evaluate_automation_conditions([orders, has_rows], instance)

    assert result.get_requested_partitions("orders") == {None}


def test_an_upstream_through_a_partition_mapping_is_read_through_it() -> None:
    daily = dg.DailyPartitionsDefinition(start_date="2026-01-01")

    @dg.asset(partitions_def=daily)
    def events() -> int:
        return 1

    @dg.asset(
        partitions_def=daily,
        deps=[dg.AssetDep(events, partition_mapping=dg.TimeWindowPartitionMapping(-1, -1))],
        automation_condition=AC.in_latest_time_window() & AC.any_deps_match(AC.newly_updated()),
    )
    def rollup() -> None:
        return None

    instance = dg.Instance.ephemeral()
    now = datetime(2026, 3, 2, 12, tzinfo=UTC)
    first = dg.evaluate_automation_conditions([events, rollup], instance, evaluation_time=now)
    dg.materialize([events], partition_key="2026-02-28", instance=instance)

    result = dg.evaluate_automation_conditions(
        [events, rollup], instance, evaluation_time=now, cursor=first.cursor
    )

    # The latest window is 2026-03-01, which reads the day before it.
    assert result.get_requested_partitions("rollup") == {"2026-03-01"}


def test_an_instance_of_another_kind_is_refused() -> None:
    with pytest.raises(dg.DefinitionError, match="needs a weir"):
        dg.evaluate_automation_conditions([], object())  # type: ignore[arg-type]


def test_a_cursor_of_another_kind_is_refused() -> None:
    with pytest.raises(dg.DefinitionError, match="cursor="):
        dg.evaluate_automation_conditions([], dg.Instance.ephemeral(), cursor="3")  # type: ignore[arg-type]


def test_docstring_examples() -> None:
    assert doctest.testmod(in_process).failed == 0
