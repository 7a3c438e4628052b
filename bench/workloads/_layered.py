"""Layered asset graphs, written against Dagster's public names (`dg` is either library).

Layer 0 has `width` source assets; every later asset reads two assets of the layer before
it through `AssetIn`, so each edge is a data dependency the I/O manager has to serve.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

_REPO = Path(__file__).resolve().parents[2]
_LOCATION = """import sys

sys.path.insert(0, {repo!r})
import {module} as dg

from bench.workloads._layered import layered_assets

defs = dg.Definitions(assets=layered_assets(dg, {assets}))
"""


def layered_assets(dg: ModuleType, count: int, width: int = 100) -> list[Any]:
    """`count` trivial @assets named a_<layer>_<position>, `width` per layer."""
    assets = []
    for index in range(count):
        layer, position = divmod(index, width)
        name = f"a_{layer}_{position}"
        if layer == 0:

            @dg.asset(name=name)
            def source():
                return 1

            assets.append(source)
        else:
            left = f"a_{layer - 1}_{position}"
            right = f"a_{layer - 1}_{(position + 1) % width}"

            @dg.asset(name=name, ins={"left": dg.AssetIn(key=left), "right": dg.AssetIn(key=right)})
            def derived(left, right):
                return 1

            assets.append(derived)
    return assets


def location_source(count: int, module: str = "weir") -> str:
    """A code location file defining `layered_assets(dg, count)`, with `module` as dg."""
    return _LOCATION.format(repo=str(_REPO), module=module, assets=count)
