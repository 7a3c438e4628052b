"""Heartbeat and GetRun latency while WatchRun streams are open, with none and with 500.

A control plane (its gRPC and HTTP APIs over SQLite in a temporary directory) serves 10
runs that report a batch of 5 events each, every round, 25 rounds 0.2 s apart, the last
batch ending the run. Meanwhile a probe calls Heartbeat and GetRun on another run, each
in its own thread, 10 ms apart, and keeps every latency. With `watchers` > 0, as many
WatchRun streams follow the 10 runs from a second process (`_watch_clients.py`): half
over gRPC (grpc.aio, one channel), half over HTTP/Connect (httpx, one connection each);
every watcher must see every event once, in order. The watchers' process runs at nice 10:
on a deployment they decode on other machines, so their work is not the server's latency.

The timed block is the reporting rounds. The figures that matter are in the notes:
Heartbeat and GetRun p50 and p99 over all timed runs, and the server's RSS before the
streams opened, once they were open and after the runs ended.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

from bench.spec import Target

TITLE = "Heartbeat and GetRun beside open WatchRun streams"
TIMED = "10 runs x 25 rounds of ReportEvents (5 events, 0.2 s apart), probes running"
IMPLEMENTATIONS = ("weir",)
NO_EQUIVALENT = "no streaming API: Dagster's UI polls GraphQL"
PARAMS = [{"watchers": 0}, {"watchers": 500}]
QUICK_PARAMS = [{"watchers": 0}, {"watchers": 500}]
WARMUP_PARAMS = None  # every run starts its own servers; imports are outside the timing
REPEAT = 3
ORDER = 61

RUNS = 10
ROUNDS = 25
EVENTS_PER_BATCH = 5
ROUND_PAUSE_S = 0.2
CALL_TIMEOUT_S = 3.0
CLIENTS = Path(__file__).with_name("_watch_clients.py")

# Latencies of every timed run at each watcher count, so the notes cover them all.
_LATENCIES: dict[int, dict[str, list[float]]] = {}


def target(params):
    return Target(max_seconds=None, min_speedup=None)


def run(bench):
    import grpc
    import uvicorn
    from weir_controlplane import heap
    from weir_controlplane.api import (
        ControlPlaneApi,
        GrpcServerConfig,
        create_connect_app,
        create_server,
    )
    from weir_controlplane.locations import CodeLocationRegistry
    from weir_controlplane.runs import RunCoordinator, RunSettings
    from weir_controlplane.storage import NewRun, Storage
    from weir_protos.v1 import (
        control_plane_pb2,
        control_plane_pb2_grpc,
        events_pb2,
        reporting_pb2,
        reporting_pb2_grpc,
    )

    watchers = bench.params["watchers"]
    with bench.temp_dir() as tmp:
        storage = Storage.open(f"sqlite:///{tmp}/weir.db")
        registry = CodeLocationRegistry(storage)
        coordinator = RunCoordinator(storage, registry, RunSettings())
        api = ControlPlaneApi.build(storage, registry, coordinator)
        server, grpc_port = create_server(GrpcServerConfig(api=api))
        server.start()
        http = uvicorn.Server(
            uvicorn.Config(
                create_connect_app(api, storage.deployments),
                host="127.0.0.1",
                port=0,
                log_level="warning",
                lifespan="off",
                access_log=False,
            )
        )
        http_thread = threading.Thread(target=http.run, daemon=True)
        http_thread.start()
        while not http.started:
            time.sleep(0.01)
        http_port = http.servers[0].sockets[0].getsockname()[1]
        channel = grpc.insecure_channel(
            f"127.0.0.1:{grpc_port}", options=[("grpc.enable_http_proxy", 0)]
        )
        heap.settle_after_startup()  # as ControlPlane.start does
        try:
            scope = storage.deployments.get_scope("prod")
            reporting = reporting_pb2_grpc.RunReportingServiceStub(channel)
            control_plane = control_plane_pb2_grpc.ControlPlaneServiceStub(channel)
            new_run = lambda: storage.runs.create_run(scope, NewRun(code_location="bench")).run_id  # noqa: E731
            probe_run = new_run()
            runs = [new_run() for _ in range(RUNS)]
            clients = None
            rss = {"start": _rss_mb()}
            if watchers:
                options = {
                    "grpc": f"127.0.0.1:{grpc_port}",
                    "http": f"http://127.0.0.1:{http_port}",
                    "deployment": "prod",
                    "runs": runs,
                    "per_transport": watchers // 2,
                    "ready_timeout": 30,
                    "end_timeout": 60,
                }
                # Niced: dashboards decode on other machines, not beside the server.
                clients = subprocess.Popen(
                    ["nice", "-n", "10", sys.executable, str(CLIENTS), json.dumps(options)],
                    stdout=subprocess.PIPE,
                    text=True,
                )
                ready = json.loads(clients.stdout.readline())["ready"]
                if sum(ready.values()) != watchers:
                    raise RuntimeError(f"only {ready} of {watchers} streams opened")
                rss["streams open"] = _rss_mb()
            calls = {
                "Heartbeat": lambda: reporting.Heartbeat(
                    reporting_pb2.HeartbeatRequest(run_id=probe_run), timeout=CALL_TIMEOUT_S
                ),
                "GetRun": lambda: control_plane.GetRun(
                    control_plane_pb2.GetRunRequest(run_id=probe_run), timeout=CALL_TIMEOUT_S
                ),
            }
            latencies = _LATENCIES.setdefault(watchers, {name: [] for name in calls})
            stop = threading.Event()
            probes = [
                threading.Thread(target=_probe, args=(call, latencies[name], stop))
                for name, call in calls.items()
            ]
            for probe in probes:
                probe.start()
            with bench.timed():
                for round_ in range(ROUNDS):
                    for run_id in runs:
                        reporting.ReportEvents(
                            reporting_pb2.ReportEventsRequest(
                                run_id=run_id,
                                events=_batch(events_pb2, round_, last=round_ == ROUNDS - 1),
                            ),
                            timeout=CALL_TIMEOUT_S,
                        )
                    time.sleep(ROUND_PAUSE_S)
            stop.set()
            for probe in probes:
                probe.join()
            if clients is not None:
                seen = json.loads(clients.stdout.readline())["watchers"]
                expected = list(range(1, ROUNDS * EVENTS_PER_BATCH + 1))
                wrong = [w for w in seen if w["sequences"] != expected or w["error"]]
                if wrong:
                    raise RuntimeError(f"{len(wrong)} watchers missed events: {wrong[0]}")
                clients.wait(30)
                rss["runs ended"] = _rss_mb()
            for name, values in latencies.items():
                ordered = sorted(values)
                bench.note(
                    f"{name} ms",
                    {
                        "p50": round(ordered[len(ordered) // 2], 1),
                        "p99": round(ordered[int(len(ordered) * 0.99)], 1),
                        "calls": len(ordered),
                    },
                )
            bench.note("RSS MB", {key: round(value) for key, value in rss.items()})
        finally:
            channel.close()
            http.should_exit = True
            http_thread.join(10)
            server.stop(None).wait(10)
            coordinator.stop()
            registry.stop()
            api.close()
            storage.close()


def _probe(call, latencies, stop):
    import grpc

    while not stop.is_set():
        started = time.perf_counter()
        with contextlib.suppress(grpc.RpcError):  # a call past its deadline counts as such
            call()
        latencies.append((time.perf_counter() - started) * 1000)
        stop.wait(0.01)


def _batch(events_pb2, round_, *, last):
    first = round_ * EVENTS_PER_BATCH + 1
    events = []
    for sequence in range(first, first + EVENTS_PER_BATCH):
        event = events_pb2.RunEvent(sequence=sequence, event_type=events_pb2.RUN_EVENT_TYPE_LOG)
        event.log.text = event.message = f"line {sequence}"
        event.timestamp.GetCurrentTime()
        events.append(event)
    if first == 1:
        events[0].event_type = events_pb2.RUN_EVENT_TYPE_RUN_STARTED
    if last:
        events[-1].event_type = events_pb2.RUN_EVENT_TYPE_RUN_SUCCESS
    return events


def _rss_mb():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0
