"""A one-asset run launched through the running system, timed until its step starts and
until it succeeds.

Weir: `weir controlplane` (SQLite in a temporary WEIR_HOME) serving a workspace with one
`python_file` location; each run is `POST /weir.v1.ControlPlaneService/LaunchRun`, then
`WatchRun` over HTTP (Connect streaming) until the STEP_START event and the run's SUCCESS
arrive at the client.

Dagster: what `dagster dev` runs, on SQLite storage in a temporary DAGSTER_HOME with the
default instance settings: a code server (`dagster api grpc -f defs.py`) and the daemon
(`dagster-daemon run`, whose run queue dequeues launched runs), and the `launchRun`
GraphQL mutation executed with dagster-graphql against a workspace on that code server,
as dagster-webserver would execute it (dagster-webserver has no 1.13.28 release on the
package index, so there is no HTTP hop). STEP_START and RUN_SUCCESS are detected by
polling the run's event log every 10 ms.

The servers start once per measuring process and serve every run; an untimed warm-up run
goes first. Runs are launched 0.5 s apart, one at a time.
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench.spec import Target

TITLE = "LaunchRun of one asset, end to end"
TIMED = (
    "LaunchRun over the API until the client sees STEP_START, then RUN_SUCCESS "
    "(Weir: HTTP + WatchRun; Dagster: launchRun GraphQL mutation, daemon run queue, "
    "event log polled every 10 ms)"
)
IMPLEMENTATIONS = ("weir", "dagster")
PARAMS = [{"assets": 1}]
QUICK_PARAMS = [{"assets": 1}]
WARMUP_PARAMS = {"assets": 1}
REPEAT = 20
ORDER = 62

PHASE_STEP = "LaunchRun → STEP_START"
PHASE_SUCCESS = "STEP_START → RUN_SUCCESS"
POLL_SECONDS = 0.01
RUN_TIMEOUT_S = 120
_BETWEEN_RUNS_S = 0.5
_DEFS = """import {module} as dg


@dg.asset
def one():
    return 1


defs = dg.Definitions(assets=[one])
"""

_system = None


def target(params):
    return Target(max_seconds=None, min_speedup=10.0)


def run(bench):
    global _system
    if _system is None:
        directory = Path(tempfile.mkdtemp(prefix=f"weir-bench-launch-{bench.implementation}-"))
        atexit.register(shutil.rmtree, directory, ignore_errors=True)  # after the servers stop
        defs = directory / "defs.py"
        defs.write_text(_DEFS.format(module=bench.module_name))
        system = _WeirSystem if bench.implementation == "weir" else DagsterSystem
        _system = system(directory, defs)
    else:
        time.sleep(_BETWEEN_RUNS_S)
    _system.launch_one(bench)


class _WeirSystem:
    def __init__(self, directory: Path, defs: Path):
        from bench.workloads._servers import start_weir_controlplane

        self.server, self.url = start_weir_controlplane(directory, defs)

    def launch_one(self, bench, request=None):
        """Launch `request` (LaunchRun's JSON body; the one asset by default) and watch the
        run to its end, timing the two phases."""
        from bench.workloads._servers import connect_stream, post_json

        step_seen, status = False, None
        with bench.timed(PHASE_STEP):
            body = request or {"selection": "one"}
            run_id = post_json(f"{self.url}/LaunchRun", body)["run"]["runId"]
            watch = connect_stream(f"{self.url}/WatchRun", {"runId": run_id}, RUN_TIMEOUT_S)
            for message in watch:
                status = message.get("run", {}).get("status")
                types = {event.get("eventType") for event in message.get("events", [])}
                if "RUN_EVENT_TYPE_STEP_START" in types:
                    step_seen = True
                    break
                if status in _WEIR_FINAL:
                    break
        with bench.timed(PHASE_SUCCESS):
            if status not in _WEIR_FINAL:
                for message in watch:
                    status = message.get("run", {}).get("status")
                    if status in _WEIR_FINAL:
                        break
        watch.close()
        if status != "RUN_STATUS_SUCCESS" or not step_seen:
            raise RuntimeError(
                f"run {run_id} ended {status} (STEP_START seen: {step_seen}); "
                f"control plane log: {self.server.log_path}"
            )


_WEIR_FINAL = {"RUN_STATUS_SUCCESS", "RUN_STATUS_FAILURE", "RUN_STATUS_CANCELED"}

_LAUNCH_MUTATION = """
mutation Launch($executionParams: ExecutionParams!) {
  launchRun(executionParams: $executionParams) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on PythonError { message stack }
    ... on RunConfigValidationInvalid { errors { message } }
  }
}
"""


class DagsterSystem:
    def __init__(self, directory: Path, defs: Path):
        from bench.workloads._servers import ServerProcess, free_port

        home = directory / "home"
        home.mkdir()
        (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
        os.environ["DAGSTER_HOME"] = str(home)  # the GraphQL side's instance, below
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        port = free_port()
        (directory / "workspace.yaml").write_text(
            "load_from:\n  - grpc_server:\n      host: 127.0.0.1\n"
            f"      port: {port}\n      location_name: bench\n"
        )
        bin_dir = Path(sys.executable).parent
        self.code_server = ServerProcess(
            [str(bin_dir / "dagster"), "api", "grpc", "-f", str(defs),
             "-h", "127.0.0.1", "-p", str(port)],
            log=directory / "code_server.log",
            env=env,
            cwd=directory,
            merge_stderr=True,
        )  # fmt: skip
        self.code_server.wait_for(r"Started Dagster code server", 120)
        self.daemon = ServerProcess(
            [str(bin_dir / "dagster-daemon"), "run", "-w", str(directory / "workspace.yaml")],
            log=directory / "daemon.log",
            env=env,
            cwd=directory,
            merge_stderr=True,
        )
        from dagster import DagsterInstance
        from dagster._core.workspace.context import WorkspaceProcessContext
        from dagster._core.workspace.load_target import GrpcServerTarget

        self.instance = DagsterInstance.get()
        self.workspace = WorkspaceProcessContext(
            self.instance,
            GrpcServerTarget(host="127.0.0.1", port=port, socket=None, location_name="bench"),
        )

    def launch_one(self, bench):
        from dagster import DagsterEventType
        from dagster_graphql.test.utils import execute_dagster_graphql

        wanted = {
            DagsterEventType.STEP_START,
            DagsterEventType.RUN_SUCCESS,
            DagsterEventType.RUN_FAILURE,
            DagsterEventType.RUN_CANCELED,
        }
        variables = {
            "executionParams": {
                "selector": {
                    "repositoryLocationName": "bench",
                    "repositoryName": "__repository__",
                    "jobName": "__ASSET_JOB",
                    "assetSelection": [{"path": ["one"]}],
                },
                "runConfigData": {},
            }
        }
        deadline = time.monotonic() + RUN_TIMEOUT_S
        seen: set[DagsterEventType] = set()

        def poll_until(done: Callable[[], bool]) -> None:
            while not done():
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"run {run_id} saw {sorted(e.value for e in seen)} in "
                        f"{RUN_TIMEOUT_S} s; daemon log: {self.daemon.log_path}"
                    )
                time.sleep(POLL_SECONDS)
                for entry in self.instance.all_logs(run_id, of_type=wanted):
                    seen.add(entry.dagster_event.event_type)

        final = {DagsterEventType.RUN_SUCCESS, DagsterEventType.RUN_FAILURE}
        final.add(DagsterEventType.RUN_CANCELED)
        with bench.timed(PHASE_STEP):
            context = self.workspace.create_request_context()
            result = execute_dagster_graphql(context, _LAUNCH_MUTATION, variables)
            launched = (result.data or {}).get("launchRun") or {}
            if launched.get("__typename") != "LaunchRunSuccess":
                raise RuntimeError(f"launchRun failed: {result.errors or launched}")
            run_id = launched["run"]["runId"]
            poll_until(lambda: DagsterEventType.STEP_START in seen or seen & final)
        with bench.timed(PHASE_SUCCESS):
            poll_until(lambda: seen & final)
        if DagsterEventType.RUN_SUCCESS not in seen or DagsterEventType.STEP_START not in seen:
            raise RuntimeError(f"run {run_id} ended with {sorted(e.value for e in seen)}")
        bench.note("dagster_run_timeline_last_run_s", self._timeline(run_id))

    def _timeline(self, run_id):
        """Seconds from the run's first event to each lifecycle event, by Dagster's clock."""
        first = {}
        for entry in self.instance.all_logs(run_id):
            if entry.dagster_event is not None:
                first.setdefault(entry.dagster_event.event_type.name, entry.timestamp)
        start = min(first.values())
        names = ("RUN_ENQUEUED", "RUN_DEQUEUED", "RUN_STARTING", "RUN_START", "STEP_START")
        return {name: round(first[name] - start, 2) for name in names if name in first}
