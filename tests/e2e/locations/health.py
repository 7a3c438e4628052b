"""A code location for the health e2e tests: `orders` is fresh with a passing check,
`ledger` has a failing ERROR check, `archive` is never built; all three have a freshness
policy."""

from datetime import timedelta

import weir as dg

HOURLY = dg.FreshnessPolicy.time_window(fail_window=timedelta(hours=1))


@dg.asset(
    freshness_policy=HOURLY,
    metadata={"docs": "https://wiki/orders"},
    check_specs=[dg.AssetCheckSpec("has_ids", asset="orders")],
)
def orders() -> dg.MaterializeResult:
    return dg.MaterializeResult(
        metadata={"row_count": 3},
        check_results=[
            dg.AssetCheckResult(
                check_name="has_ids", passed=True, description="3 rows, all with ids"
            )
        ],
    )


@dg.asset_check(asset=orders, description="orders exist")
def orders_exist() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=True, description="orders exist: 3")


@dg.asset(
    freshness_policy=HOURLY,
    check_specs=[dg.AssetCheckSpec("balanced", asset="ledger")],
)
def ledger() -> dg.MaterializeResult:
    return dg.MaterializeResult(
        check_results=[
            dg.AssetCheckResult(
                check_name="balanced",
                passed=False,
                description="debits exceed credits by 12",
                metadata={"gap": 12},
            )
        ],
    )


@dg.asset(freshness_policy=HOURLY)
def archive() -> int:
    return 1


defs = dg.Definitions(assets=[orders, ledger, archive], asset_checks=[orders_exist])
