"""A code location of partitioned assets for end-to-end tests: daily partitions that fail
where $E2E_CONTROL/<key>.fail exists, and dynamic partitions named "files"."""

import os
from pathlib import Path

import weir as dg

CONTROL = Path(os.environ.get("E2E_CONTROL", "/tmp"))


@dg.asset(partitions_def=dg.DailyPartitionsDefinition("2024-01-01", end_date="2024-01-11"))
def daily_sales(context: dg.AssetExecutionContext) -> int:
    if (CONTROL / f"{context.partition_key}.fail").exists():
        raise RuntimeError(f"no sales file for {context.partition_key}")
    return 1


@dg.asset(partitions_def=dg.DynamicPartitionsDefinition(name="files"))
def file_rows(context: dg.AssetExecutionContext) -> str:
    return context.partition_key


defs = dg.Definitions(assets=[daily_sales, file_rows])
