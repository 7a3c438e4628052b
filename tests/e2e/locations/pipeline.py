"""A code location for end-to-end tests. Behaviour is steered by files in $E2E_CONTROL so
tests can make steps slow or fail without changing code."""

import os
import time
from pathlib import Path

import weir as dg

CONTROL = Path(os.environ.get("E2E_CONTROL", "/tmp"))


def _pause(name: str) -> None:
    """Sleep while CONTROL/<name>.hold exists (bounded), so a test can act mid-run."""
    deadline = time.monotonic() + 60
    while (CONTROL / f"{name}.hold").exists() and time.monotonic() < deadline:
        time.sleep(0.02)


@dg.asset(group_name="e2e")
def raw(context: dg.AssetExecutionContext) -> list[int]:
    context.log.info("loading raw")
    return [1, 2, 3]


@dg.asset(group_name="e2e")
def slow(raw: list[int]) -> int:
    (CONTROL / "slow.pid").write_text(str(os.getpid()))  # the run worker's pid, for kill -9
    _pause("slow")
    return sum(raw)


@dg.asset(group_name="e2e")
def after_slow(slow: int) -> int:
    _pause("after_slow")
    return slow * 2


@dg.asset(group_name="fragile")
def fragile() -> int:
    if (CONTROL / "fragile.fail").exists():
        raise ZeroDivisionError("fragile asset divided by zero")
    return 1


@dg.asset_check(asset=raw)
def raw_not_empty(raw: list[int]) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=bool(raw), metadata={"rows": len(raw)})


@dg.asset(group_name="faults")
def chatty(context: dg.AssetExecutionContext) -> int:
    """Logs many lines (each an event), so a test can kill the control plane mid-ingest."""
    (CONTROL / "chatty.pid").write_text(str(os.getpid()))
    lines = 3000
    for n in range(lines):
        context.log.info("line %d", n)
        if n % 100 == 99:
            time.sleep(0.02)
    return lines


defs = dg.Definitions(assets=[raw, slow, after_slow, fragile, chatty], asset_checks=[raw_not_empty])
