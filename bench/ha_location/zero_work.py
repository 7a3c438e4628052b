"""The high-availability benchmark's code location: `quick` does no work; `held` waits while
$WEIR_BENCH_HOLD exists (so runs are in flight when a replica is killed)."""

import os
import time
from pathlib import Path

import weir as dg


@dg.asset
def quick() -> int:
    return 1


@dg.asset
def held() -> int:
    hold = Path(os.environ.get("WEIR_BENCH_HOLD", "/nonexistent"))
    deadline = time.monotonic() + 300
    while hold.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    return 1


defs = dg.Definitions(assets=[quick, held])
