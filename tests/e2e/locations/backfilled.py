"""A code location for backfill end-to-end tests: three daily assets over 30 days, the
second reading the day before too; a partition fails where $E2E_CONTROL/<asset>-<key>.fail
exists, and every materialization is logged in $E2E_CONTROL/made.log. Plus a daily asset
backfilled in one run per range, a multi-partitioned asset and a dynamically partitioned
one."""

import os
import time
from pathlib import Path

import weir as dg

CONTROL = Path(os.environ.get("E2E_CONTROL", "/tmp"))
DAYS = dg.DailyPartitionsDefinition("2024-01-01", end_date="2024-01-31")


def _made(context: dg.AssetExecutionContext, name: str) -> int:
    if (CONTROL / f"{name}-{context.partition_key}.fail").exists():
        raise RuntimeError(f"{name} has no input for {context.partition_key}")
    delay = CONTROL / "delay"
    if delay.exists():
        time.sleep(float(delay.read_text()))
    with open(CONTROL / "made.log", "a") as log:
        log.write(f"{name} {context.partition_key}\n")
    return 1


@dg.asset(partitions_def=DAYS)
def raw(context: dg.AssetExecutionContext) -> int:
    return _made(context, "raw")


@dg.asset(
    partitions_def=DAYS,
    ins={"raw": dg.AssetIn(partition_mapping=dg.TimeWindowPartitionMapping(start_offset=-1))},
)
def clean(context: dg.AssetExecutionContext, raw: object) -> int:
    return _made(context, "clean")


@dg.asset(partitions_def=DAYS)
def summary(context: dg.AssetExecutionContext, clean: int) -> int:
    return _made(context, "summary")


@dg.asset(partitions_def=DAYS, backfill_policy=dg.BackfillPolicy.single_run())
def rollup(context: dg.AssetExecutionContext) -> int:
    return _made(context, "rollup")


@dg.asset(
    partitions_def=dg.MultiPartitionsDefinition(
        {
            "color": dg.StaticPartitionsDefinition(["red", "blue"]),
            "date": dg.DailyPartitionsDefinition("2024-01-01", end_date="2024-01-04"),
        }
    )
)
def grid(context: dg.AssetExecutionContext) -> int:
    return _made(context, "grid")


@dg.asset(partitions_def=dg.DynamicPartitionsDefinition(name="files"))
def file_rows(context: dg.AssetExecutionContext) -> int:
    return _made(context, "file_rows")


defs = dg.Definitions(assets=[raw, clean, summary, rollup, grid, file_rows])
