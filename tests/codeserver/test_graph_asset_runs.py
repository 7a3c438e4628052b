"""A graph asset is served like any asset: listed in the snapshot, run by a run worker."""

from __future__ import annotations

import json

from codeserver_harness import event_types, execute_request
from weir_protos.v1 import code_location_pb2

LOCATION = """
import weir as dg


@dg.asset
def readings() -> list[int]:
    return [3, -1, 4]


@dg.op
def drop_negative(context: dg.OpExecutionContext, rows: list[int]) -> list[int]:
    context.log.info(f"dropping negatives from {len(rows)} rows")
    return [r for r in rows if r >= 0]


@dg.op
def add_up(rows: list[int]) -> int:
    return sum(rows)


@dg.graph_asset
def reading_total(readings):
    return add_up(drop_negative(readings))


defs = dg.Definitions(assets=[readings, reading_total])
"""


def test_a_graph_asset_is_listed_and_runs_as_one_step(
    start_codeserver, collector, weir_home, tmp_path
):
    events, reporting = collector
    path = tmp_path / "graph_location.py"
    path.write_text(LOCATION)
    server = start_codeserver(path)

    snapshot = server.stub.GetDefinitions(code_location_pb2.GetDefinitionsRequest())
    listed = {tuple(a.key.path) for a in snapshot.definitions.assets}
    assert listed == {("readings",), ("reading_total",)}

    request = execute_request(reporting.address, "readings", "reading_total")
    server.stub.ExecuteRun(request)
    run = events.wait_for_end(request.run_id)

    assert event_types(run)[-1] == "RUN_SUCCESS"
    steps = [e.step_key for t, e in zip(event_types(run), run, strict=True) if t == "STEP_START"]
    assert steps == ["readings", "reading_total"]
    logs = [e.log.text for e in run if e.HasField("log")]
    assert "dropping negatives from 3 rows" in logs
    assert json.loads((weir_home / "storage" / "reading_total.json").read_text()) == 7
