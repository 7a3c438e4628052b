"""A code location of one trivial asset, for the load tests: a run is all overhead."""

import weir as dg


@dg.asset(group_name="load")
def tick() -> int:
    return 1


defs = dg.Definitions(assets=[tick])
