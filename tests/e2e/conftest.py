"""Real processes on real ports: the control plane (`weir controlplane`), code-location servers
(`weir-codeserver`), and an HTTP client speaking the Connect JSON API.

The control plane runs on SQLite under $WEIR_HOME. Tests marked `@ON_BOTH_DATABASES` run
again on PostgreSQL (a schema of their own, dropped after) when `WEIR_TEST_POSTGRES_URL`
is set: the ones whose outcome rests on the database (the queue's claim, ingest,
heartbeats, restarts), so CI does not pay twice for every process start.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from ports import free_port
from sqlalchemy.engine import make_url

BIN = Path(sys.executable).parent
LOCATIONS = Path(__file__).parent / "locations"
POSTGRES_URL_ENV = "WEIR_TEST_POSTGRES_URL"
ON_BOTH_DATABASES = pytest.mark.parametrize(
    "database", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)


class Process:
    """A child process whose output is kept (and shown when a test fails)."""

    def __init__(self, args: list[str], env: dict[str, str], ready: str, timeout: float = 60):
        self.args = args
        self.output: deque[str] = deque(maxlen=400)
        self._ready = re.compile(ready)
        self._ready_event = threading.Event()
        self.match: re.Match[str] | None = None
        self.proc = subprocess.Popen(
            args,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self._pump_thread = threading.Thread(target=self._pump, daemon=True)
        self._pump_thread.start()
        if not self._ready_event.wait(timeout):
            self.kill()
            raise AssertionError(f"{args[0]} did not become ready:\n{self.log()}")

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.output.append(line.rstrip())
            match = self._ready.search(line)
            if match and not self._ready_event.is_set():
                self.match = match
                self._ready_event.set()
        self._ready_event.set()

    def log(self) -> str:
        return "\n".join(self.output)

    def stop(self, timeout: float = 15) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        self._close()

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self._close()

    def _close(self) -> None:
        # A run worker outlives its code server and holds the inherited pipe open; closing
        # it under the reading thread would block, so the reader is left to end at EOF.
        self._pump_thread.join(5)
        if self.proc.stdout is not None and not self._pump_thread.is_alive():
            self.proc.stdout.close()


def wait_until(what: str, found: Callable[[], Any], timeout: float = 60) -> Any:
    """The first truthy value `found()` returns, polled every 0.1 s until `timeout`."""
    deadline = time.monotonic() + timeout
    value = None
    while time.monotonic() < deadline:
        value = found()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}; last: {value!r}")


class Api:
    """The Connect JSON API: POST /weir.v1.ControlPlaneService/<Method>."""

    def __init__(self, http_port: int, token: str | None = None):
        self.base = f"http://127.0.0.1:{http_port}"
        headers = {"authorization": f"Bearer {token}"} if token else {}
        self.http = httpx.Client(base_url=self.base, timeout=30, headers=headers)

    def raw(self, method: str, body: Any) -> httpx.Response:
        return self.http.post(f"/weir.v1.ControlPlaneService/{method}", json=body)

    def __call__(self, method: str, **body: Any) -> dict[str, Any]:
        reply = self.raw(method, body)
        assert reply.status_code == 200, f"{method}: {reply.status_code} {reply.text}"
        return reply.json()

    def launch(self, selection: str, **extra: Any) -> str:
        return self("LaunchRun", selection=selection, **extra)["run"]["runId"]

    def run(self, run_id: str) -> dict[str, Any]:
        return self("GetRun", runId=run_id)["run"]

    def events(self, run_id: str) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        cursor = ""
        while True:
            page = self("GetRunEvents", runId=run_id, cursor=cursor, limit=500)
            events += page.get("events", [])
            cursor = page.get("nextCursor", "")
            if not cursor or not page.get("events"):
                return events

    def wait_for(self, run_id: str, predicate: Callable[[dict], bool], timeout: float = 60) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            run = self.run(run_id)
            if predicate(run):
                return run
            time.sleep(0.05)
        raise AssertionError(f"run {run_id} never satisfied the condition; last: {run}")

    def wait_status(self, run_id: str, *statuses: str, timeout: float = 60) -> dict:
        wanted = {f"RUN_STATUS_{s}" for s in statuses}
        return self.wait_for(run_id, lambda r: r.get("status") in wanted, timeout)

    def wait_event(self, run_id: str, event_type: str, step: str = "", timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for event in self.events(run_id):
                if event.get("eventType") == f"RUN_EVENT_TYPE_{event_type}" and (
                    not step or event.get("stepKey") == step
                ):
                    return
            time.sleep(0.05)
        raise AssertionError(f"no {event_type} {step} event in run {run_id}")


class ControlPlane:
    """`weir controlplane` on fixed ports (so a restart keeps its address) and one database."""

    def __init__(self, workspace: Path, home: Path, env: dict[str, str], **flags: Any):
        self.grpc_port = free_port()
        self.http_port = free_port()
        self.workspace = workspace
        self.home = home
        self.env = env
        self.flags = flags
        self.process: Process | None = None
        self.api = Api(self.http_port)

    def start(self) -> ControlPlane:
        args = [
            str(BIN / "weir"), "controlplane", "-w", str(self.workspace),
            "--grpc-port", str(self.grpc_port), "--http-port", str(self.http_port),
        ]  # fmt: skip
        for flag, value in self.flags.items():
            name = f"--{flag.replace('_', '-')}"
            if isinstance(value, bool):  # a switch: --auth / --no-auth
                args.append(name if value else f"--no-{flag.replace('_', '-')}")
            else:
                args += [name, str(value)]
        self.process = Process(args, self.env, r"WEIR_CONTROLPLANE_READY")
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()

    def close(self) -> None:
        self.stop()
        self.api.http.close()


class WebhookReceiver(ThreadingHTTPServer):
    """A webhook on a real port: records the JSON body of every POST and answers 204."""

    daemon_threads = True

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        received = self.bodies

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()


@pytest.fixture
def e2e_env(tmp_path: Path) -> dict[str, str]:
    control = tmp_path / "control"
    control.mkdir()
    return {
        **os.environ,
        "WEIR_HOME": str(tmp_path / "home"),
        "E2E_CONTROL": str(control),
        "PYTHONUNBUFFERED": "1",
    }


@pytest.fixture
def control_dir(e2e_env: dict[str, str]) -> Path:
    return Path(e2e_env["E2E_CONTROL"])


def write_workspace(path: Path, locations: list[dict[str, str]], more_yaml: str = "") -> Path:
    """A weir.yaml listing `locations`, then `more_yaml` (other top-level sections)."""
    lines = ["locations:"]
    for location in locations:
        first = True
        for key, value in location.items():
            lines.append(f"  {'- ' if first else '  '}{key}: {value}")
            first = False
    path.write_text("\n".join(lines) + "\n" + more_yaml)
    return path


@pytest.fixture
def database(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """The control plane's database URL: None for SQLite under $WEIR_HOME (the default), or
    a fresh PostgreSQL schema when a test is parametrized with `ON_BOTH_DATABASES`."""
    if getattr(request, "param", "sqlite") == "sqlite":
        yield None
        return
    base_url = os.environ.get(POSTGRES_URL_ENV)
    if not base_url:
        pytest.skip(f"{POSTGRES_URL_ENV} is not set; the PostgreSQL variant needs a server")
    schema = f"weir_e2e_{uuid.uuid4().hex[:12]}"
    url = make_url(base_url).set(drivername="postgresql+psycopg")
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
            hide_password=False
        )
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def start_control_plane(
    tmp_path: Path,
    e2e_env: dict[str, str],
    database: str | None,
    request: pytest.FixtureRequest,
):
    started: list[ControlPlane] = []

    def start(locations: list[dict[str, str]], more_yaml: str = "", **flags: Any) -> ControlPlane:
        workspace = write_workspace(tmp_path / "weir.yaml", locations, more_yaml)
        if database is not None:
            flags.setdefault("database_url", database)
        flags.setdefault("auth", False)  # the auth tests turn it on (tests/e2e/security)
        plane = ControlPlane(workspace, tmp_path / "home", e2e_env, **flags).start()
        started.append(plane)
        return plane

    yield start
    for plane in started:
        if request.node.rep_call.failed if hasattr(request.node, "rep_call") else False:
            print(plane.process.log() if plane.process else "")
        plane.close()


@pytest.fixture
def start_codeserver(e2e_env: dict[str, str]) -> Iterator[Callable[..., Process]]:
    started: list[Process] = []

    def start(python_file: Path, port: int = 0) -> Process:
        args = [str(BIN / "weir-codeserver"), "-f", str(python_file), "--port", str(port)]
        process = Process(args, e2e_env, r"WEIR_CODESERVER_READY\s+port=(\d+)")
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report
