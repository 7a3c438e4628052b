"""The code location of bench/backfill.py: three daily assets over 365 days, the second
reading the day before too (TimeWindowPartitionMapping(start_offset=-1)); each
materialization is a trivial value, so the figures are the orchestration's."""

import weir as dg

DAYS = dg.DailyPartitionsDefinition("2023-01-01", end_date="2024-01-01")  # 365 days


@dg.asset(partitions_def=DAYS)
def raw(context: dg.AssetExecutionContext) -> int:
    return 1


@dg.asset(
    partitions_def=DAYS,
    ins={"raw": dg.AssetIn(partition_mapping=dg.TimeWindowPartitionMapping(start_offset=-1))},
)
def clean(context: dg.AssetExecutionContext, raw: object) -> int:
    return 1


@dg.asset(partitions_def=DAYS)
def summary(context: dg.AssetExecutionContext, clean: int) -> int:
    return 1


defs = dg.Definitions(assets=[raw, clean, summary])
