"""An end-to-end code location whose runs use the multiprocess executor, two steps at once.

`left` and `right` each wait while $E2E_CONTROL/<name>.hold exists, so a test can keep
one step running and watch the other; `held` does the same for the run-queue tests."""

import os
import time
from pathlib import Path

import weir as dg

CONTROL = Path(os.environ.get("E2E_CONTROL", "/tmp"))


def _wait_while_held(name: str) -> int:
    deadline = time.monotonic() + 60
    while (CONTROL / f"{name}.hold").exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    return os.getpid()


@dg.asset
def left() -> int:
    return _wait_while_held("left")


@dg.asset
def right() -> int:
    return _wait_while_held("right")


@dg.asset
def joined(left: int, right: int) -> list[int]:
    return [left, right]


@dg.asset
def held() -> int:
    return _wait_while_held("held")


defs = dg.Definitions(
    assets=[left, right, joined, held],
    executor=dg.multiprocess_executor.configured({"max_concurrent": 2}),
)
