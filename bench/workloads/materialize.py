"""In-process materialization of a layered graph of trivial assets, in memory or on disk."""

from __future__ import annotations

from bench.spec import Target
from bench.workloads._layered import layered_assets

TITLE = "materialize, layered assets"
TIMED = (
    'dg.materialize(assets, resources={"io_manager": ...}) with dg.InMemoryIOManager() '
    "or dg.FilesystemIOManager(base_dir=tmp); decoration excluded"
)
IMPLEMENTATIONS = ("weir", "dagster")
PARAMS = [
    {"assets": 100, "io": "memory"},
    {"assets": 500, "io": "memory"},
    {"assets": 1000, "io": "memory"},
    {"assets": 100, "io": "filesystem"},
    {"assets": 500, "io": "filesystem"},
    {"assets": 1000, "io": "filesystem"},
]
QUICK_PARAMS = [{"assets": 100, "io": "memory"}, {"assets": 100, "io": "filesystem"}]
WARMUP_PARAMS = {"assets": 20, "io": "filesystem"}
UNIT = ("assets", "asset")
ORDER = 30


def target(params):
    if params["io"] == "memory":
        return Target(max_ms_per_unit=0.5)
    return Target()


def run(bench):
    dg = bench.dg
    assets = layered_assets(dg, bench.params["assets"])
    if bench.params["io"] == "memory":
        # Named explicitly: Dagster's bare materialize() pickles every output into its
        # ephemeral instance's temporary directory, which is the filesystem case below.
        io_manager = dg.InMemoryIOManager()
        with bench.timed():
            result = dg.materialize(assets, resources={"io_manager": io_manager})
    else:
        with bench.temp_dir() as base_dir:
            io_manager = dg.FilesystemIOManager(base_dir=str(base_dir))
            with bench.timed():
                result = dg.materialize(assets, resources={"io_manager": io_manager})
    if not result.success:
        raise RuntimeError("materialize reported failure")
