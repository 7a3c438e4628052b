"""How soon GetRun shows a run ended, after its worker reports the terminal event.

The control plane's gRPC API over SQLite in a temporary directory (nothing else): for
each run, the test acting as its worker reports RUN_STARTED, then RUN_SUCCESS over
RunReportingService.ReportEvents, while a reader process of its own calls GetRun on that
run every 0.2 ms. The lag of a run is from the terminal ReportEvents call to the first
GetRun reply that says SUCCESS; one more GetRun right after the acknowledgement must say
SUCCESS (the status changes in the transaction that stores the event).
"""

from __future__ import annotations

import multiprocessing
import statistics
import time

from bench.spec import Target

TITLE = "run status seen by GetRun after the terminal event"
TIMED = "median, over the runs, of ReportEvents(RUN_SUCCESS) sent → GetRun first says SUCCESS"
IMPLEMENTATIONS = ("weir",)
NO_EQUIVALENT = "no API: Dagster's run worker writes the event to the database itself"
PARAMS = [{"runs": 200}]
QUICK_PARAMS = [{"runs": 50}]
WARMUP_PARAMS = {"runs": 5}
ORDER = 61


def target(params):
    return Target(max_seconds=0.005, min_speedup=None)


def run(bench):
    from weir_controlplane.storage import NewRun
    from weir_protos.v1 import control_plane_pb2 as cp
    from weir_protos.v1 import (
        control_plane_pb2_grpc,
        events_pb2,
        reporting_pb2,
        reporting_pb2_grpc,
        runs_pb2,
    )

    from bench.workloads._grpc_api import serving

    E = events_pb2.RunEventType
    with bench.temp_dir() as tmp, serving(f"sqlite:///{tmp}/weir.db") as served:
        storage, channel, address = served
        scope = storage.deployments.get_scope("prod")
        report = reporting_pb2_grpc.RunReportingServiceStub(channel).ReportEvents
        get_run = control_plane_pb2_grpc.ControlPlaneServiceStub(channel).GetRun
        # The reader is a process of its own, as API clients are: it does not compete
        # with the server for this interpreter.
        here, there = multiprocessing.get_context("spawn").Pipe()
        reader = multiprocessing.get_context("spawn").Process(
            target=_read_until_ended, args=(address, there), daemon=True
        )
        reader.start()
        lags, acks, stale_after_ack = [], [], 0
        try:
            for _ in range(bench.params["runs"]):
                run_id = storage.runs.create_run(scope, NewRun(code_location="bench")).run_id

                def event(sequence, event_type, run_id=run_id):
                    item = events_pb2.RunEvent(sequence=sequence, event_type=event_type)
                    item.timestamp.GetCurrentTime()
                    return reporting_pb2.ReportEventsRequest(run_id=run_id, events=[item])

                report(event(1, E.RUN_EVENT_TYPE_RUN_STARTED))
                here.send(run_id)
                if not here.poll(30) or here.recv() != "reading":
                    raise RuntimeError("the GetRun reader did not start")
                terminal = event(2, E.RUN_EVENT_TYPE_RUN_SUCCESS)
                sent = time.perf_counter()
                report(terminal)
                acks.append(time.perf_counter() - sent)
                after_ack = get_run(cp.GetRunRequest(run_id=run_id)).run.status
                stale_after_ack += after_ack != runs_pb2.RUN_STATUS_SUCCESS
                if not here.poll(30):
                    raise RuntimeError(f"GetRun never said SUCCESS for run {run_id}")
                lags.append(here.recv() - sent)
        finally:
            here.send(None)
            reader.join(10)
        lags.sort()
        bench.record(statistics.median(lags))
        bench.note("p99 ms", round(1000 * lags[int(0.99 * (len(lags) - 1))], 2))
        bench.note("max ms", round(1000 * lags[-1], 2))
        bench.note(
            "ReportEvents(RUN_SUCCESS) acknowledged, median ms",
            round(1000 * statistics.median(acks), 2),
        )
        bench.note("GetRun right after the ack not yet SUCCESS", stale_after_ack)


def _read_until_ended(address, pipe):
    """The reader process: for each run id it is sent, GetRun every 0.2 ms until the run
    says SUCCESS, then send back when (perf_counter is one clock for every process)."""
    import grpc
    from weir_protos.v1 import control_plane_pb2 as cp
    from weir_protos.v1 import control_plane_pb2_grpc, runs_pb2

    channel = grpc.insecure_channel(address, options=[("grpc.enable_http_proxy", 0)])
    get_run = control_plane_pb2_grpc.ControlPlaneServiceStub(channel).GetRun
    while (run_id := pipe.recv()) is not None:
        request = cp.GetRunRequest(run_id=run_id)
        get_run(request)  # the channel is warm before the clock matters
        pipe.send("reading")
        deadline = time.perf_counter() + 10
        while time.perf_counter() < deadline:
            if get_run(request).run.status == runs_pb2.RUN_STATUS_SUCCESS:
                pipe.send(time.perf_counter())
                break
            time.sleep(0.0002)  # a reader polling hard, leaving the server room
    channel.close()
