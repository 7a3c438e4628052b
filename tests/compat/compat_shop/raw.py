from compat_target import dg


@dg.asset
def orders() -> list[int]:
    return [3, 4, 5]


@dg.asset
def customers() -> list[str]:
    return ["ada", "grace"]


@dg.asset_check(asset=orders)
def orders_not_empty(orders: list[int]) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=len(orders) > 0)


not_an_asset = 42
