"""The code location the browser tests serve: two groups, a check, a partitioned asset,
an asset that always fails, and a schedule."""

import weir as dg


@dg.asset(group_name="ingest", owners=["team:data"], kinds={"python"})
def orders(context: dg.AssetExecutionContext) -> list[dict]:
    """Raw orders."""
    context.log.info("fetched 3 orders")
    return [{"id": 1, "amount": 30.0}, {"id": 2, "amount": 12.5}, {"id": 3, "amount": 7.5}]


@dg.asset_check(asset=orders)
def orders_are_positive(orders: list[dict]) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=all(o["amount"] > 0 for o in orders))


@dg.asset(group_name="marts", kinds={"python"})
def revenue(orders: list[dict]) -> dg.Output[float]:
    """Total revenue."""
    total = sum(o["amount"] for o in orders)
    return dg.Output(total, metadata={"total": total})


@dg.asset(group_name="marts")
def broken_report(revenue: float) -> str:
    """Fails on purpose, so the UI has a failed run to show."""
    raise ValueError(f"report template missing for revenue {revenue}")


days = dg.StaticPartitionsDefinition([f"day-{i:03d}" for i in range(120)])


@dg.asset(group_name="marts", partitions_def=days)
def daily_summary(context: dg.AssetExecutionContext) -> str:
    return context.partition_key


nightly = dg.ScheduleDefinition(
    name="nightly", cron_schedule="0 3 * * *", target=dg.AssetSelection.assets(orders)
)

defs = dg.Definitions(
    assets=[orders, revenue, broken_report, daily_summary],
    asset_checks=[orders_are_positive],
    schedules=[nightly],
)
