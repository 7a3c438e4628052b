"""Run events reported to the control plane over its wire API, as run workers send them.

A control plane (its gRPC API over SQLite in a temporary directory, nothing else) takes
batches of RunEvents on RunReportingService.ReportEvents: each batch is one transaction
that stores the events once and updates the derived tables. The events are a run's
typical mix: step starts and successes, logs, and materializations with metadata.

For PostgreSQL, pass a URL: `--params '{"events": 20000, "batch": 500,
"database_url": "postgresql+psycopg://postgres@127.0.0.1:5432/bench"}'` (the database
gets Weir's tables).
"""

from __future__ import annotations

from bench.spec import Target

TITLE = "event ingest over the API"
TIMED = "RunReportingService.ReportEvents over gRPC, one transaction per batch, into SQLite"
IMPLEMENTATIONS = ("weir",)
NO_EQUIVALENT = "no API: Dagster's run worker writes each event to the database itself"
PARAMS = [{"events": 20_000, "batch": 500}]
QUICK_PARAMS = [{"events": 2_000, "batch": 500}]
WARMUP_PARAMS = {"events": 500, "batch": 500}
UNIT = ("events", "event")
ORDER = 60


def target(params):
    return Target(max_ms_per_unit=0.1, min_speedup=None)  # 10,000 events/s


def run(bench):
    from weir_controlplane.storage import NewRun
    from weir_protos.v1 import common_pb2, events_pb2, reporting_pb2, reporting_pb2_grpc

    from bench.workloads._grpc_api import serving

    params = bench.params
    with bench.temp_dir() as tmp:
        url = params.get("database_url") or f"sqlite:///{tmp}/weir.db"
        with serving(url) as (storage, channel, _):
            scope = storage.deployments.get_scope("prod")
            events = [_event(events_pb2, common_pb2, i) for i in range(1, params["events"] + 1)]
            # The run is launched to materialize every asset its events name: ingest refuses
            # materializations outside a run's plan.
            planned = tuple(sorted({f"asset_{i // 4}" for i in range(1, params["events"] + 1)}))
            run_id = storage.runs.create_run(
                scope, NewRun(code_location="bench", asset_keys=planned)
            ).run_id
            batches = [
                reporting_pb2.ReportEventsRequest(
                    run_id=run_id, events=events[start : start + params["batch"]]
                )
                for start in range(0, len(events), params["batch"])
            ]
            report = reporting_pb2_grpc.RunReportingServiceStub(channel).ReportEvents
            with bench.timed():
                for batch in batches:
                    acknowledged = report(batch).acknowledged_sequence
            if acknowledged != params["events"]:
                raise RuntimeError(f"acknowledged {acknowledged} of {params['events']} events")


def _event(events_pb2, common_pb2, sequence):
    """Event `sequence` of a run whose steps each start, log, materialize and succeed."""
    step = f"asset_{sequence // 4}"
    kind = sequence % 4
    event = events_pb2.RunEvent(sequence=sequence, step_key=step)
    if kind == 0:
        event.event_type = events_pb2.RUN_EVENT_TYPE_STEP_START
        event.message = f"Started {step}"
    elif kind == 1:
        event.event_type = events_pb2.RUN_EVENT_TYPE_LOG
        event.log.text = f"{step}: read 1,000 rows"
        event.message = event.log.text
    elif kind == 2:
        event.event_type = events_pb2.RUN_EVENT_TYPE_ASSET_MATERIALIZATION
        event.materialization.asset_key.path.append(step)
        event.materialization.metadata.add(label="rows", value=common_pb2.MetadataValue(int=1000))
        event.message = f"Materialized {step}"
    else:
        event.event_type = events_pb2.RUN_EVENT_TYPE_STEP_SUCCESS
        event.message = f"{step} succeeded"
    event.timestamp.GetCurrentTime()
    return event
