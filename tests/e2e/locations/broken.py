"""A code location whose definitions cannot be built: the control plane must show ERROR."""

import weir as dg


@dg.asset(deps=["does_not_exist"])
def orphan() -> int:
    return 1


defs = dg.Definitions(assets=[orphan])
