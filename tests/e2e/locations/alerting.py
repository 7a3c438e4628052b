"""A code location whose run fails after one of its checks failed: what alerts are for."""

import weir as dg


@dg.asset(group_name="alerts")
def orders() -> list[int]:
    return []


@dg.asset_check(asset=orders)
def orders_not_empty(orders: list[int]) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=bool(orders), description="orders is empty")


@dg.asset(group_name="alerts")
def revenue(orders: list[int]) -> float:
    return sum(orders) / len(orders)  # ZeroDivisionError: the run fails


defs = dg.Definitions(assets=[orders, revenue], asset_checks=[orders_not_empty])
