"""A large code location: 50,000 assets in layers of 100, each depending on two assets of
the layer before."""

import weir as dg

ASSETS, WIDTH = 50_000, 100


def _deps(i: int) -> list[str]:
    if i < WIDTH:
        return []
    layer, slot = divmod(i, WIDTH)
    return [f"asset_{(layer - 1) * WIDTH + (slot + k) % WIDTH}" for k in (0, 1)]


defs = dg.Definitions(
    assets=[
        dg.AssetSpec(f"asset_{i}", deps=_deps(i), group_name=f"layer_{i // WIDTH % 10}")
        for i in range(ASSETS)
    ]
)
