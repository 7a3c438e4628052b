"""Definitions over a generated layered graph: every asset decorated, the graph validated."""

from __future__ import annotations

from bench.spec import Target
from bench.workloads._layered import layered_assets

TITLE = "Definitions, layered assets"
TIMED = "@asset decoration + Definitions construction + validation"
IMPLEMENTATIONS = ("weir", "dagster")
PARAMS = [{"assets": 1000}, {"assets": 5000}, {"assets": 10000}]
QUICK_PARAMS = [{"assets": 1000}]
WARMUP_PARAMS = {"assets": 200}
UNIT = ("assets", "asset")
ORDER = 20


def target(params):
    # 0.6 s for 10,000 assets, scaled linearly to the other sizes.
    return Target(max_seconds=0.6 * params["assets"] / 10_000)


def run(bench):
    dg = bench.dg
    with bench.timed("@asset decoration"):
        assets = layered_assets(dg, bench.params["assets"])
    with bench.timed("Definitions + validation"):
        defs = dg.Definitions(assets=assets)
        # Weir validates in the constructor; Dagster defers the graph until it is resolved.
        validate_loadable = getattr(dg.Definitions, "validate_loadable", None)
        if validate_loadable is not None:
            validate_loadable(defs)
