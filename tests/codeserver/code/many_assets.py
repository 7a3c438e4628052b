"""2,000 executable assets, each reading the one before it: enough Python objects that a
zygote copying the server's pages would show in its memory. Values stay in memory: the
default filesystem I/O manager would have the zygote import pydantic for its workers,
memory of the zygote's own by design (the server starts without it)."""

import weir as dg

ASSETS = 2_000


def _asset(index: int) -> dg.AssetsDefinition:
    if index == 0:

        @dg.asset(name="step_0")
        def first() -> int:
            return 0

        return first

    @dg.asset(name=f"step_{index}", ins={"previous": dg.AssetIn(key=f"step_{index - 1}")})
    def step(previous: int) -> int:
        return previous + 1

    return step


defs = dg.Definitions(
    assets=[_asset(i) for i in range(ASSETS)], resources={"io_manager": dg.mem_io_manager}
)
