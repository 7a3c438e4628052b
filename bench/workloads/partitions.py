"""A daily-partitioned asset and its daily downstream, materialized one partition at a time."""

from __future__ import annotations

TITLE = "daily partitions, one run each"
TIMED = "dg.materialize([events, daily_total], partition_key=day) per day, in-memory I/O"
IMPLEMENTATIONS = ("weir", "dagster")
PARAMS = [{"partitions": 365}]
QUICK_PARAMS = [{"partitions": 20}]
WARMUP_PARAMS = {"partitions": 2}
UNIT = ("partitions", "partition")
ORDER = 40


def run(bench):
    dg = bench.dg
    daily = dg.DailyPartitionsDefinition(start_date="2024-01-01")

    @dg.asset(partitions_def=daily)
    def events(context):
        return [context.partition_key] * 10

    @dg.asset(partitions_def=daily)
    def daily_total(events):
        return len(events)

    days = daily.get_partition_keys()[: bench.params["partitions"]]
    resources = {"io_manager": dg.InMemoryIOManager()}
    with bench.timed():
        for day in days:
            result = dg.materialize([events, daily_total], partition_key=day, resources=resources)
            if not result.success:
                raise RuntimeError(f"materialize of partition {day} reported failure")
