"""The Python code server over the wire: start-up, definitions RPCs, and how soon a run's
first step starts after ExecuteRun.

Each measurement runs a real `python -m weir_codeserver` on a generated layered location
(bench/workloads/_layered.py) on a loopback port. ExecuteRun reports to a minimal
RunReportingService inside this process; the first step's start is read from the
STEP_START event's timestamp (the worker's clock, the same machine's).
"""

from __future__ import annotations

import atexit
import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

from bench.spec import Target
from bench.workloads._layered import location_source

TITLE = "code server"
TIMED = "per row: start-up to ready line / one definitions RPC, decoded / ExecuteRun to STEP_START"
IMPLEMENTATIONS = ("weir",)
NO_EQUIVALENT = "Dagster's code server speaks its own API; compared end to end elsewhere"
PARAMS = [
    {"measure": "startup", "assets": 10_000},
    {"measure": "get_definitions", "assets": 10_000},
    {"measure": "stream_definitions", "assets": 50_000},
    {"measure": "first_step", "assets": 1},
]
QUICK_PARAMS = [
    {"measure": "get_definitions", "assets": 10_000},
    {"measure": "first_step", "assets": 1},
]
WARMUP_PARAMS = None
REPEAT = 5
ORDER = 60

_servers: dict[int, tuple[subprocess.Popen[str], int]] = {}
_warm: set[str] = set()


def target(params):
    return {
        "startup": Target(max_seconds=None, min_speedup=None),
        "get_definitions": Target(max_seconds=1.0, min_speedup=None),
        "stream_definitions": Target(max_seconds=5.0, min_speedup=None),
        "first_step": Target(max_seconds=0.1, min_speedup=None),
    }[params["measure"]]


def run(bench):
    measure, assets = bench.params["measure"], bench.params["assets"]
    if measure == "startup":
        started = time.perf_counter()
        process, _ = _start_server(assets)
        bench.record(time.perf_counter() - started)
        _stop(process)
        return
    process, port = _servers.get(assets) or _servers.setdefault(assets, _start_server(assets))
    if measure not in _warm:  # one untimed call: connection set-up is not the figure
        _warm.add(measure)
        _MEASURES[measure](bench, port, timed=False)
    _MEASURES[measure](bench, port, timed=True)


def _get_definitions(bench, port, timed):
    from weir_protos.v1 import code_location_pb2

    stub = _stub(port)
    with bench.timed() if timed else _untimed():
        reply = stub.GetDefinitions(code_location_pb2.GetDefinitionsRequest())
    bench.note("snapshot_bytes", reply.definitions.ByteSize())


def _stream_definitions(bench, port, timed):
    from weir_protos.v1 import code_location_pb2, definitions_pb2

    stub = _stub(port)
    with bench.timed() if timed else _untimed():
        snapshot = definitions_pb2.DefinitionsSnapshot()
        parts = 0
        for part in stub.StreamDefinitions(code_location_pb2.StreamDefinitionsRequest()):
            snapshot.MergeFrom(part.part)
            parts += 1
    bench.note("parts", parts)
    bench.note("snapshot_bytes", snapshot.ByteSize())


def _first_step(bench, port, timed):
    from weir_protos.v1 import code_location_pb2, common_pb2, events_pb2

    collector = _collector()
    # Runs launched a moment apart, as a queue launches them: the zygote has replaced the
    # warm spare the previous run took (back to back, a run waits for that fork and gRPC
    # initialization, ~30-80 ms on a 2-core machine).
    time.sleep(0.5)
    run_id = str(uuid.uuid4())
    request = code_location_pb2.ExecuteRunRequest(
        run_id=run_id,
        asset_keys=[common_pb2.AssetKey(path=["a_0_0"])],
        reporting_address=f"127.0.0.1:{collector.port}",
    )
    called = time.time()
    _stub(port).ExecuteRun(request)
    events = collector.wait_for_end(run_id)
    ended = time.time()
    start = next(e for e in events if e.event_type == events_pb2.RUN_EVENT_TYPE_STEP_START)
    if timed:
        bench.record(start.timestamp.ToNanoseconds() / 1e9 - called)
        bench.note("execute_run_to_run_success_received_ms", round((ended - called) * 1000, 1))


_MEASURES = {
    "get_definitions": _get_definitions,
    "stream_definitions": _stream_definitions,
    "first_step": _first_step,
}


class _untimed:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _start_server(assets):
    directory = Path(os.environ.get("TMPDIR", "/tmp")) / f"weir-bench-codeserver-{os.getpid()}"
    directory.mkdir(exist_ok=True)
    location = directory / f"layered_{assets}.py"
    location.write_text(location_source(assets))
    env = {**os.environ, "WEIR_HOME": str(directory / "home")}
    process = subprocess.Popen(
        [sys.executable, "-m", "weir_codeserver", "-f", str(location), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith("WEIR_CODESERVER_READY"):
            port = int(line.split("port=")[1])
            threading.Thread(target=process.stdout.read, daemon=True).start()
            atexit.register(_stop, process)
            return process, port
    raise RuntimeError("the code server exited before it was ready")


def _stop(process):
    if process.poll() is None:
        process.terminate()
        process.wait(30)


_stubs: dict[int, object] = {}


def _stub(port):
    import grpc
    from weir_protos.v1 import code_location_pb2_grpc

    if port not in _stubs:
        channel = grpc.insecure_channel(
            f"127.0.0.1:{port}", options=[("grpc.max_receive_message_length", -1)]
        )
        _stubs[port] = code_location_pb2_grpc.CodeLocationServiceStub(channel)
    return _stubs[port]


_the_collector = None


def _collector():
    global _the_collector
    if _the_collector is None:
        _the_collector = _Collector()
    return _the_collector


class _Collector:
    """The control plane's side of run reporting, reduced to storing events by sequence."""

    def __init__(self) -> None:
        from concurrent import futures

        import grpc
        from weir_protos.v1 import reporting_pb2, reporting_pb2_grpc

        collector = self
        self.events: dict[str, dict[int, object]] = {}
        self.cond = threading.Condition()

        class Servicer(reporting_pb2_grpc.RunReportingServiceServicer):
            def ReportEvents(
                self, request: reporting_pb2.ReportEventsRequest, context: grpc.ServicerContext
            ) -> reporting_pb2.ReportEventsResponse:
                with collector.cond:
                    stored = collector.events.setdefault(request.run_id, {})
                    for event in request.events:
                        stored.setdefault(event.sequence, event)
                    ack = 0
                    while ack + 1 in stored:
                        ack += 1
                    collector.cond.notify_all()
                return reporting_pb2.ReportEventsResponse(acknowledged_sequence=ack)

            def Heartbeat(
                self, request: reporting_pb2.HeartbeatRequest, context: grpc.ServicerContext
            ) -> reporting_pb2.HeartbeatResponse:
                return reporting_pb2.HeartbeatResponse()

        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        reporting_pb2_grpc.add_RunReportingServiceServicer_to_server(Servicer(), self.server)
        self.port = self.server.add_insecure_port("127.0.0.1:0")
        self.server.start()

    def wait_for_end(self, run_id):
        from weir_protos.v1 import events_pb2

        final = {
            events_pb2.RUN_EVENT_TYPE_RUN_SUCCESS,
            events_pb2.RUN_EVENT_TYPE_RUN_FAILURE,
            events_pb2.RUN_EVENT_TYPE_RUN_CANCELED,
        }

        def ended():
            stored = self.events.get(run_id, {})
            return any(e.event_type in final for e in stored.values())

        with self.cond:
            if not self.cond.wait_for(ended, 60):
                raise RuntimeError(f"run {run_id} did not end")
            stored = self.events[run_id]
            return [stored[s] for s in sorted(stored)]
