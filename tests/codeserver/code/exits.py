"""A code location whose asset ends its run worker's process with exit code 3."""

import os

import weir as dg


@dg.asset
def exits() -> None:
    os._exit(3)


defs = dg.Definitions(assets=[exits])
