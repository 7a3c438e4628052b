"""A code location whose runs use the multiprocess executor, two steps at a time.

Each `nap_*` asset sleeps long enough that steps run one after another could never
overlap, and returns the pid of the process that ran it. The `one_at_a_time` job runs
the same assets in process, its own executor overriding the location's.
"""

import os
import time

import weir as dg

NAPS = [f"nap_{n}" for n in range(4)]


def _nap(name: str) -> dg.AssetsDefinition:
    @dg.asset(name=name)
    def nap() -> int:
        time.sleep(0.3)
        return os.getpid()

    return nap


@dg.asset
def pids(nap_0: int, nap_1: int) -> list[int]:
    return [nap_0, nap_1]


@dg.asset
def broken() -> int:
    raise ValueError("no data today")


@dg.asset
def after_broken(broken: int) -> int:
    return broken


defs = dg.Definitions(
    assets=[*(_nap(name) for name in NAPS), pids, broken, after_broken],
    executor=dg.multiprocess_executor.configured({"max_concurrent": 2}),
    jobs=[
        dg.define_asset_job(
            "one_at_a_time", selection=["nap_0", "nap_1"], executor_def=dg.in_process_executor
        )
    ],
)
