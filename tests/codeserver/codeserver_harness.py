"""Helpers for the code-server tests: real code servers on port 0, and a stand-in control
plane that collects run events. (Fixtures are registered in conftest.py.)

`start_codeserver(path)` runs `python -m weir_codeserver -f path --port 0` as a child
process, reads its ready line and returns a client for it. `collector` is a small
RunReportingService (the control plane's side of reporting) in this process: it stores
events by (run_id, sequence) as the contract says and lets tests wait for them.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent import futures
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import pytest
from ports import free_port as free_port  # re-exported: the tests take it from here
from weir_protos.v1 import (
    code_location_pb2,
    code_location_pb2_grpc,
    common_pb2,
    events_pb2,
    reporting_pb2,
    reporting_pb2_grpc,
)

CODE = Path(__file__).parent / "code"
E = events_pb2.RunEventType
FINAL_EVENTS = (
    E.RUN_EVENT_TYPE_RUN_SUCCESS,
    E.RUN_EVENT_TYPE_RUN_FAILURE,
    E.RUN_EVENT_TYPE_RUN_CANCELED,
)
WAIT = 60.0  # the longest a test waits for something to happen, not a timing assertion


@dataclass
class RunningCodeServer:
    process: subprocess.Popen[str]
    port: int
    output: list[str]
    channel: grpc.Channel
    stub: code_location_pb2_grpc.CodeLocationServiceStub
    drain: threading.Thread
    marker: str = ""  # in the environment of the server and every worker it starts

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(WAIT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        # Run workers outlive their code server by design; a test's are done with it.
        kill_processes_marked(self.marker)
        self.drain.join(WAIT)  # the zygote and workers hold the output pipe too
        self.channel.close()
        return self.process.returncode


@pytest.fixture
def weir_home(tmp_path: Path) -> Path:
    home = tmp_path / "weir_home"
    home.mkdir()
    return home


@pytest.fixture
def gate(tmp_path: Path) -> Path:
    """Where the `gated` asset of code/pipeline.py looks for its run's `<run_id>.open`."""
    directory = tmp_path / "gate"
    directory.mkdir()
    return directory


def launch_codeserver(path: Path | str, home: Path, gate: Path, *args: str) -> RunningCodeServer:
    marker = uuid.uuid4().hex
    env = {
        **os.environ,
        "WEIR_HOME": str(home),
        "WEIR_TEST_GATE": str(gate),
        "WEIR_TEST_PROCESS_MARKER": marker,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "weir_codeserver", "-f", str(path), "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        start_new_session=True,
    )
    assert process.stdout is not None
    output: list[str] = []
    port = None
    for line in process.stdout:
        output.append(line)
        if line.startswith("WEIR_CODESERVER_READY"):
            port = int(line.split("port=")[1])
            break
    assert port is not None, f"the code server never became ready:\n{''.join(output)}"
    # Keep draining the output so the server never blocks on a full pipe.
    drain = threading.Thread(target=_drain, args=(process.stdout, output), daemon=True)
    drain.start()
    channel = grpc.insecure_channel(
        f"127.0.0.1:{port}", options=[("grpc.max_receive_message_length", -1)]
    )
    stub = code_location_pb2_grpc.CodeLocationServiceStub(channel)
    return RunningCodeServer(process, port, output, channel, stub, drain, marker)


@pytest.fixture
def start_codeserver(weir_home: Path, gate: Path) -> Iterator[Callable[..., RunningCodeServer]]:
    """Starts a code server of its own for this test (stopped after it)."""
    servers: list[RunningCodeServer] = []

    def start(path: Path | str, *args: str) -> RunningCodeServer:
        servers.append(launch_codeserver(path, weir_home, gate, *args))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(scope="session")
def shared_codeserver(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[[Path], RunningCodeServer]]:
    """One code server per file for the whole session, for tests that only read from it."""
    servers: dict[Path, RunningCodeServer] = {}
    root = tmp_path_factory.mktemp("shared_codeserver")

    def serve(path: Path) -> RunningCodeServer:
        if path not in servers:
            servers[path] = launch_codeserver(path, root, root)
        return servers[path]

    yield serve
    for server in servers.values():
        server.stop()


def kill_processes_marked(marker: str) -> None:
    """SIGKILL every process whose environment carries WEIR_TEST_PROCESS_MARKER=marker."""
    if not marker:
        return
    needle = f"WEIR_TEST_PROCESS_MARKER={marker}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if needle in environ.split(b"\0"):
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(entry.name), signal.SIGKILL)


def _drain(stream: Any, output: list[str]) -> None:
    with stream:
        output.extend(stream)


@dataclass
class EventCollector(reporting_pb2_grpc.RunReportingServiceServicer):
    """Stores each run's events once by sequence and acknowledges the gapless prefix."""

    events: dict[str, dict[int, events_pb2.RunEvent]] = field(default_factory=dict)
    received: dict[str, list[int]] = field(default_factory=dict)  # every sequence, resends too
    metadata: list[dict[str, str]] = field(default_factory=list)
    worker_ids: set[str] = field(default_factory=set)
    heartbeats: int = 0
    cancel_requested: set[str] = field(default_factory=set)
    # Replies to drop after storing the batch, as if the network lost them.
    lose_replies: int = 0
    cond: threading.Condition = field(default_factory=threading.Condition)

    def ReportEvents(self, request: Any, context: grpc.ServicerContext) -> Any:
        with self.cond:
            self.metadata.append(dict(context.invocation_metadata()))
            self.worker_ids.add(request.worker_id)
            stored = self.events.setdefault(request.run_id, {})
            for event in request.events:
                self.received.setdefault(request.run_id, []).append(event.sequence)
                stored.setdefault(event.sequence, event)
            ack = 0
            while ack + 1 in stored:
                ack += 1
            self.cond.notify_all()
            if self.lose_replies > 0:
                self.lose_replies -= 1
                context.abort(grpc.StatusCode.UNAVAILABLE, "reply lost")
            return reporting_pb2.ReportEventsResponse(
                acknowledged_sequence=ack, cancel_requested=request.run_id in self.cancel_requested
            )

    def Heartbeat(self, request: Any, context: grpc.ServicerContext) -> Any:
        with self.cond:
            self.heartbeats += 1
            stored = self.events.get(request.run_id, {})
            ack = 0
            while ack + 1 in stored:
                ack += 1
            self.cond.notify_all()
        return reporting_pb2.HeartbeatResponse(
            cancel_requested=request.run_id in self.cancel_requested, acknowledged_sequence=ack
        )

    def run_events(self, run_id: str) -> list[events_pb2.RunEvent]:
        with self.cond:
            stored = self.events.get(run_id, {})
            return [stored[s] for s in sorted(stored)]

    def wait_for(self, predicate: Callable[[], bool], what: str) -> None:
        with self.cond:
            assert self.cond.wait_for(predicate, WAIT), f"timed out waiting for {what}"

    def wait_for_event(self, run_id: str, event_type: int, step_key: str = "") -> None:
        def seen() -> bool:
            return any(
                e.event_type == event_type and (not step_key or e.step_key == step_key)
                for e in self.events.get(run_id, {}).values()
            )

        self.wait_for(seen, f"{E.Name(event_type)} {step_key} of run {run_id}")

    def wait_for_end(self, run_id: str) -> list[events_pb2.RunEvent]:
        """Every event of the run once its final event and everything before it arrived."""

        def complete() -> bool:
            stored = self.events.get(run_id, {})
            finals = [s for s, e in stored.items() if e.event_type in FINAL_EVENTS]
            return bool(finals) and all(s in stored for s in range(1, finals[0] + 1))

        self.wait_for(complete, f"the end of run {run_id}")
        return self.run_events(run_id)


class CollectorServer:
    """Serves an EventCollector; can stop and come back on the same port (a restart)."""

    def __init__(self, collector: EventCollector, port: int = 0):
        self.collector = collector
        self.port = port
        self.server: grpc.Server | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> CollectorServer:
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
        reporting_pb2_grpc.add_RunReportingServiceServicer_to_server(self.collector, server)
        self.port = server.add_insecure_port(f"127.0.0.1:{self.port}")
        server.start()
        self.server = server
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop(0).wait()
            self.server = None


@pytest.fixture
def collector() -> Iterator[tuple[EventCollector, CollectorServer]]:
    events = EventCollector()
    server = CollectorServer(events).start()
    yield events, server
    server.stop()


def execute_request(
    reporting_address: str, *asset_keys: str, run_id: str | None = None, **fields: Any
) -> code_location_pb2.ExecuteRunRequest:
    return code_location_pb2.ExecuteRunRequest(
        run_id=run_id or str(uuid.uuid4()),
        asset_keys=[common_pb2.AssetKey(path=key.split("/")) for key in asset_keys],
        reporting_address=reporting_address,
        **fields,
    )


def event_types(events: list[events_pb2.RunEvent]) -> list[str]:
    return [E.Name(e.event_type).removeprefix("RUN_EVENT_TYPE_") for e in events]
