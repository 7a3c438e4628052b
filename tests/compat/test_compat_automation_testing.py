"""Testing declarative automation as Dagster's guide does: evaluate the conditions against
an ephemeral instance, change what the instance holds, evaluate again with the cursor.
"""

import datetime

from compat_target import dg

AC = dg.AutomationCondition


@dg.asset(automation_condition=AC.eager())
def raw_events() -> int:
    return 1


@dg.asset(automation_condition=AC.eager())
def sessions(raw_events: int) -> int:
    return raw_events


@dg.asset(automation_condition=AC.missing() & ~AC.in_progress())
def lookup_table() -> int:
    return 1


daily = dg.DailyPartitionsDefinition(start_date="2026-01-01")


@dg.asset(partitions_def=daily, automation_condition=AC.on_cron("0 9 * * *"))
def daily_orders() -> int:
    return 1


@dg.asset(partitions_def=daily, automation_condition=AC.eager())
def daily_summary(daily_orders: int) -> int:
    return daily_orders


tenants = dg.DynamicPartitionsDefinition(name="tenants")


@dg.asset(partitions_def=tenants, automation_condition=AC.on_missing())
def tenant_setup() -> int:
    return 1


defs = dg.Definitions(
    assets=[raw_events, sessions, lookup_table, daily_orders, daily_summary, tenant_setup]
)
MORNING = datetime.datetime(2026, 3, 1, 8, 0, tzinfo=datetime.UTC)


def _minutes(n: int) -> datetime.datetime:
    return MORNING + datetime.timedelta(minutes=n)


def test_a_condition_without_history_requests_what_is_missing():
    instance = dg.DagsterInstance.ephemeral()

    result = dg.evaluate_automation_conditions(
        defs=defs, instance=instance, asset_selection=dg.AssetSelection.assets("lookup_table")
    )

    assert result.total_requested == 1
    assert result.get_requested_partitions(dg.AssetKey("lookup_table")) == {None}


def test_eager_assets_request_nothing_on_the_first_evaluation():
    instance = dg.DagsterInstance.ephemeral()

    result = dg.evaluate_automation_conditions(
        defs=defs, instance=instance, asset_selection=dg.AssetSelection.assets("sessions")
    )

    assert result.total_requested == 0


def test_an_eager_asset_is_requested_once_after_its_upstream_updates():
    instance = dg.DagsterInstance.ephemeral()
    selection = dg.AssetSelection.assets("raw_events", "sessions")
    result = dg.evaluate_automation_conditions(
        defs=defs, instance=instance, asset_selection=selection
    )

    dg.materialize([raw_events], instance=instance)
    result = dg.evaluate_automation_conditions(
        defs=defs, instance=instance, asset_selection=selection, cursor=result.cursor
    )
    assert result.get_num_requested(dg.AssetKey("sessions")) == 1
    assert result.get_num_requested(dg.AssetKey("raw_events")) == 0

    # Requested on the previous evaluation: handled, not requested again.
    result = dg.evaluate_automation_conditions(
        defs=defs, instance=instance, asset_selection=selection, cursor=result.cursor
    )
    assert result.total_requested == 0


def test_on_cron_requests_the_latest_partition_once_the_tick_passes():
    instance = dg.DagsterInstance.ephemeral()
    selection = dg.AssetSelection.assets("daily_orders")
    result = dg.evaluate_automation_conditions(
        defs=defs, instance=instance, asset_selection=selection, evaluation_time=_minutes(0)
    )

    result = dg.evaluate_automation_conditions(
        defs=defs, instance=instance, asset_selection=selection, evaluation_time=_minutes(30),
        cursor=result.cursor,
    )  # fmt: skip
    assert result.total_requested == 0  # 08:30: the 09:00 tick has not passed

    result = dg.evaluate_automation_conditions(
        defs=defs, instance=instance, asset_selection=selection, evaluation_time=_minutes(65),
        cursor=result.cursor,
    )  # fmt: skip
    assert result.get_requested_partitions(dg.AssetKey("daily_orders")) == {"2026-02-28"}

    result = dg.evaluate_automation_conditions(
        defs=defs, instance=instance, asset_selection=selection, evaluation_time=_minutes(70),
        cursor=result.cursor,
    )  # fmt: skip
    assert result.total_requested == 0  # handled until the next tick


def test_an_eager_downstream_is_requested_with_its_upstream_on_the_same_evaluation():
    instance = dg.DagsterInstance.ephemeral()
    selection = dg.AssetSelection.assets("daily_orders", "daily_summary")
    result = dg.evaluate_automation_conditions(
        defs=defs, instance=instance, asset_selection=selection, evaluation_time=_minutes(0)
    )

    result = dg.evaluate_automation_conditions(
        defs=defs, instance=instance, asset_selection=selection, evaluation_time=_minutes(65),
        cursor=result.cursor,
    )  # fmt: skip

    assert result.get_requested_partitions(dg.AssetKey("daily_summary")) == {"2026-02-28"}
    assert result.total_requested == 2

    # Materializing what was requested does not request the downstream again.
    dg.materialize([daily_orders], partition_key="2026-02-28", instance=instance)
    result = dg.evaluate_automation_conditions(
        defs=defs, instance=instance, asset_selection=selection, evaluation_time=_minutes(70),
        cursor=result.cursor,
    )  # fmt: skip
    assert result.total_requested == 0


def test_on_missing_requests_a_dynamic_partition_added_after_the_first_evaluation():
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("tenants", ["acme"])
    selection = dg.AssetSelection.assets("tenant_setup")
    result = dg.evaluate_automation_conditions(
        defs=defs, instance=instance, asset_selection=selection
    )
    assert result.total_requested == 0  # what was there before automation started

    instance.add_dynamic_partitions("tenants", ["globex"])
    result = dg.evaluate_automation_conditions(
        defs=defs, instance=instance, asset_selection=selection, cursor=result.cursor
    )

    assert result.get_requested_partitions(dg.AssetKey("tenant_setup")) == {"globex"}


def test_a_materialized_asset_is_no_longer_missing():
    instance = dg.DagsterInstance.ephemeral()
    dg.materialize([lookup_table], instance=instance)

    result = dg.evaluate_automation_conditions(
        defs=defs, instance=instance, asset_selection=dg.AssetSelection.assets("lookup_table")
    )

    assert result.total_requested == 0


def test_a_list_of_assets_stands_for_definitions():
    instance = dg.DagsterInstance.ephemeral()

    result = dg.evaluate_automation_conditions(defs=[lookup_table], instance=instance)

    assert result.get_num_requested(dg.AssetKey("lookup_table")) == 1
