"""A code location with daily partitions and a rolling window over them, for end-to-end
tests of partition keys and mappings."""

import weir as dg

DAYS = dg.DailyPartitionsDefinition("2024-01-01", end_date="2024-02-01")


@dg.asset(partitions_def=DAYS, group_name="e2e")
def daily(context: dg.AssetExecutionContext) -> str:
    return context.partition_key


@dg.asset(
    partitions_def=DAYS,
    group_name="e2e",
    ins={"daily": dg.AssetIn(partition_mapping=dg.TimeWindowPartitionMapping(start_offset=-1))},
)
def two_days(daily: dict[str, str]) -> dg.Output[list[str]]:
    days = sorted(daily)
    return dg.Output(days, metadata={"read": ", ".join(days)})


defs = dg.Definitions(assets=[daily, two_days])
