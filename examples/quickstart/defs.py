"""Quickstart: three assets, a check, a partitioned asset and a schedule-ready job.

Run it in-process:   python examples/quickstart/defs.py
Serve it:            weir dev -f examples/quickstart/defs.py
"""

import weir as dg


@dg.asset(group_name="sales", owners=["team:data"], kinds={"python"})
def orders(context: dg.AssetExecutionContext) -> list[dict]:
    """Raw orders, as they would come from an API."""
    rows = [
        {"id": 1, "region": "eu", "amount": 30.0},
        {"id": 2, "region": "us", "amount": 12.5},
        {"id": 3, "region": "eu", "amount": 7.5},
    ]
    context.log.info(f"fetched {len(rows)} orders")
    return rows


@dg.asset_check(asset=orders, blocking=True)
def orders_have_positive_amounts(orders: list[dict]) -> dg.AssetCheckResult:
    bad = [o["id"] for o in orders if o["amount"] <= 0]
    return dg.AssetCheckResult(passed=not bad, metadata={"bad_ids": bad})


@dg.asset(group_name="sales")
def revenue_by_region(orders: list[dict]) -> dg.Output[dict[str, float]]:
    """Revenue per region."""
    totals: dict[str, float] = {}
    for order in orders:
        totals[order["region"]] = totals.get(order["region"], 0.0) + order["amount"]
    return dg.Output(totals, metadata={"regions": len(totals)})


regions = dg.StaticPartitionsDefinition(["eu", "us"])


@dg.asset(group_name="sales", partitions_def=regions)
def regional_report(context: dg.AssetExecutionContext, revenue_by_region: dict) -> str:
    region = context.partition_key
    return f"{region}: {revenue_by_region.get(region, 0.0):.2f}"


defs = dg.Definitions(
    assets=[orders, revenue_by_region, regional_report],
    asset_checks=[orders_have_positive_amounts],
)


if __name__ == "__main__":
    result = dg.materialize([orders, orders_have_positive_amounts, revenue_by_region])
    for event in result.all_events:
        print(f"{event.event_type_value:<24} {event.step_key or '':<40} {event.message}")
    print("revenue_by_region =", result.asset_value("revenue_by_region"))
