"""Partition contexts in runs served by a code location: a run over a range of partitions
runs each step once per partition, and each time the context names that partition, its
time window and the upstream partitions its mapping reads."""

from __future__ import annotations

from codeserver_harness import execute_request
from weir_protos.v1 import partitions_pb2

LOCATION = """
import weir as dg

daily = dg.DailyPartitionsDefinition(start_date="2024-01-01")


@dg.asset(partitions_def=daily)
def readings(context: dg.AssetExecutionContext) -> int:
    return int(context.partition_key[-2:])


@dg.asset(
    partitions_def=daily,
    ins={"readings": dg.AssetIn(partition_mapping=dg.TimeWindowPartitionMapping(start_offset=-1))},
)
def rolling(context: dg.AssetExecutionContext, readings: dict) -> dg.MaterializeResult:
    window = context.partition_time_window
    upstream = context.asset_partition_key_range_for_input("readings")
    return dg.MaterializeResult(
        value=sum(readings.values()),
        metadata={
            "own_range": f"{context.partition_key_range.start}..{context.partition_key_range.end}",
            "window_start": window.start.isoformat(),
            "reads": f"{upstream.start}..{upstream.end}",
        },
    )


defs = dg.Definitions(assets=[readings, rolling])
"""


def test_each_partition_of_a_range_run_sees_its_own_context(start_codeserver, collector, tmp_path):
    events, reporting = collector
    path = tmp_path / "partitioned_location.py"
    path.write_text(LOCATION)
    server = start_codeserver(path)

    def run_range(asset: str, start: str, end: str) -> list:
        request = execute_request(
            reporting.address,
            asset,
            partition_range=partitions_pb2.PartitionKeyRange(start=start, end=end),
        )
        server.stub.ExecuteRun(request)
        return events.wait_for_end(request.run_id)

    run_range("readings", "2024-01-01", "2024-01-03")
    run = run_range("rolling", "2024-01-02", "2024-01-03")

    rolling = {
        e.materialization.partition: {m.label: m.value.text for m in e.materialization.metadata}
        for e in run
        if e.HasField("materialization")
    }
    assert {p: (m["own_range"], m["window_start"], m["reads"]) for p, m in rolling.items()} == {
        "2024-01-02": (
            "2024-01-02..2024-01-02",
            "2024-01-02T00:00:00+00:00",
            "2024-01-01..2024-01-02",
        ),
        "2024-01-03": (
            "2024-01-03..2024-01-03",
            "2024-01-03T00:00:00+00:00",
            "2024-01-02..2024-01-03",
        ),
    }
