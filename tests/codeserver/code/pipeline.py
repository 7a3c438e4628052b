"""A code location for the run-worker tests: assets that succeed, fail, log, and wait.

`gated` waits until the test opens its gate (a file named after the run in
$WEIR_TEST_GATE), so a test can cancel or kill a worker while a step is running.
"""

import os
import time
from pathlib import Path

import weir as dg

GATE = Path(os.environ.get("WEIR_TEST_GATE", "/nonexistent"))


@dg.asset
def numbers() -> list[int]:
    return [1, 2, 3]


@dg.asset
def total(context: dg.AssetExecutionContext, numbers: list[int]) -> int:
    context.log.info("adding %d numbers", len(numbers))
    return sum(numbers)


@dg.asset_check(asset="total")
def total_is_positive(total: int) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=total > 0, metadata={"total": total})


@dg.asset(partitions_def=dg.StaticPartitionsDefinition(["eu", "us", "asia"]))
def regional(context: dg.AssetExecutionContext) -> str:
    return f"sales in {context.partition_key}"


sums = dg.define_asset_job("sums", selection=["numbers", "total"], run_tags={"team": "bi"})


@dg.asset
def boom(numbers: list[int]) -> int:
    raise ValueError(f"kaboom: {len(numbers)} numbers are too many")


@dg.asset
def after_boom(boom: int) -> int:
    return boom


@dg.asset
def gated(context: dg.AssetExecutionContext) -> int:
    opened = GATE / f"{context.run_id}.open"
    while not opened.exists():
        time.sleep(0.01)
    return 1


@dg.asset
def after_gate(gated: int) -> int:
    return gated + 1


@dg.asset
def last(after_gate: int) -> int:
    return after_gate + 1


defs = dg.Definitions(
    assets=[numbers, total, regional, boom, after_boom, gated, after_gate, last],
    asset_checks=[total_is_positive],
    jobs=[sums],
)
