"""A code location declaring most of what the SDK can, for the definitions-snapshot tests."""

from datetime import timedelta

import weir as dg

daily = dg.DailyPartitionsDefinition(start_date="2024-01-01")


class Warehouse(dg.ConfigurableResource):
    url: str = "sqlite://"


@dg.asset(
    group_name="sales",
    metadata={"rows": 3, "docs": dg.MetadataValue.url("https://example.com"), "shape": {"a": [1]}},
    tags={"tier": "gold"},
    owners=["team:data", "ana@example.com"],
    kinds={"sql", "python"},
    code_version="v2",
    automation_condition=dg.AutomationCondition.eager(),
    freshness_policy=dg.FreshnessPolicy.time_window(fail_window=timedelta(hours=2)),
)
def orders() -> list[int]:
    """Every order."""
    return [1, 2, 3]


@dg.asset(
    partitions_def=daily,
    backfill_policy=dg.BackfillPolicy.multi_run(5),
    retry_policy=dg.RetryPolicy(max_retries=2, delay=1.5),
    automation_condition=dg.AutomationCondition.on_cron("0 6 * * *", "Europe/Paris"),
)
def events() -> int:
    return 1


@dg.asset(
    partitions_def=daily,
    ins={"events": dg.AssetIn(partition_mapping=dg.TimeWindowPartitionMapping(start_offset=-1))},
)
def rolling(events: dict) -> int:
    return len(events)


@dg.asset(group_name="sales")
def revenue(orders: list[int], warehouse: Warehouse) -> int:
    return sum(orders)


@dg.asset_check(asset="revenue", blocking=True, description="Revenue is positive")
def revenue_positive(revenue: int) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=revenue > 0)


@dg.multi_asset(outs={"users": dg.AssetOut(), "accounts": dg.AssetOut()}, can_subset=True)
def load_crm():
    return [1], [2]


landed = dg.AssetSpec("raw/landed", description="Written by another system")

sales = dg.define_asset_job("sales", selection="group:sales", run_tags={"team": "bi"})


@dg.schedule("0 6 * * *", job=sales, execution_timezone="Europe/Paris")
def mornings(context):
    return dg.RunRequest(run_key=context.scheduled_execution_time.strftime("%Y-%m-%d"))


@dg.sensor(job=sales, minimum_interval_seconds=60)
def new_files(context):
    return dg.SkipReason("nothing new")


@dg.asset_sensor(asset_key="orders", job=sales)
def orders_changed(context, asset_event):
    return dg.RunRequest(run_key=str(asset_event.storage_id))


@dg.run_failure_sensor
def page_someone(context):
    return None


defs = dg.Definitions(
    assets=[orders, events, rolling, revenue, load_crm, landed],
    asset_checks=[revenue_positive],
    jobs=[sales],
    schedules=[mornings],
    sensors=[new_files, orders_changed, page_someone],
    resources={"warehouse": Warehouse()},
)
