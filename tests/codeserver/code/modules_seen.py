"""A code location whose asset stores which pydantic modules its run worker had loaded.

No type hint of its own needs pydantic to check (`-> list` is checked by isinstance), and
it binds no I/O manager: its runs store through the default one.
"""

import sys

import weir as dg


@dg.asset
def pydantic_modules() -> list:
    return sorted(name for name in sys.modules if name.split(".")[0].startswith("pydantic"))


defs = dg.Definitions(assets=[pydantic_modules])
