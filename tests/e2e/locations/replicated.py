"""An end-to-end code location for the high-availability tests: `held` waits while
$E2E_CONTROL/held.hold exists (so runs are in flight when a replica is killed), and
`quick` does no work at all."""

import os
import time
from pathlib import Path

import weir as dg

CONTROL = Path(os.environ.get("E2E_CONTROL", "/tmp"))


@dg.asset
def held() -> int:
    deadline = time.monotonic() + 120
    while (CONTROL / "held.hold").exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    return os.getpid()


@dg.asset
def quick() -> int:
    return 1


defs = dg.Definitions(assets=[held, quick])
