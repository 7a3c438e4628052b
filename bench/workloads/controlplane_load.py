"""A code location of 10,000 layered assets (bench/workloads/_layered.py) loaded by the
running system, listed, and reloaded unchanged.

`load` (a fresh system per run):
- Weir: from starting `weir controlplane -w weir.yaml` (one `python_file` location, SQLite
  in a temporary WEIR_HOME) to its WEIR_CONTROLPLANE_READY line, with the location LOADED;
  then every asset over HTTP (`ListAssets`, pages of 1,000).
- Dagster: from starting a Python process that does what dagster-webserver does at start-up
  (build a WorkspaceProcessContext on a python_file target: start `dagster api grpc` on the
  file and fetch its snapshot; SQLite in a temporary DAGSTER_HOME) to the location being
  loaded; then the `assetNodes` GraphQL query over every asset, executed in that process
  (dagster-webserver has no 1.13.28 release on the package index, so there is no HTTP hop).

`reload` (one system per measuring process, loaded untimed): Weir's
`ReloadCodeLocation` of the unchanged location over HTTP; Dagster's
`reloadRepositoryLocation` mutation, which restarts the code server and loads the code
again.
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from bench.spec import Target
from bench.workloads._layered import location_source

TITLE = "code location loaded by the control plane"
TIMED = (
    "load: server start to location loaded (phase), then every asset listed (phase); "
    "reload: reload of the unchanged location"
)
IMPLEMENTATIONS = ("weir", "dagster")
PARAMS = [{"measure": "load", "assets": 10_000}, {"measure": "reload", "assets": 10_000}]
QUICK_PARAMS = [{"measure": "load", "assets": 1_000}, {"measure": "reload", "assets": 1_000}]
WARMUP_PARAMS = None
REPEAT = 3
ORDER = 61

LOAD_TIMEOUT_S = 600
PAGE = 1_000
PHASE_READY = "start → loaded"
PHASE_LIST = "every asset listed"


# What dagster-webserver does at start-up, then one catalog query.
_DAGSTER_SERVER = """
import sys, time
from dagster import DagsterInstance
from dagster._core.workspace.context import WorkspaceProcessContext
from dagster._core.workspace.load_target import PythonFileTarget
from dagster_graphql.test.utils import execute_dagster_graphql

target = PythonFileTarget(
    python_file=sys.argv[1], attribute=None, working_directory=None, location_name="bench"
)
context = WorkspaceProcessContext(DagsterInstance.get(), target)
request = context.create_request_context()
location = request.get_code_location("bench")
assets = sum(len(r.get_asset_node_snaps()) for r in location.get_repositories().values())
print(f"LOADED assets={{assets}}", flush=True)
result = execute_dagster_graphql(request, {query!r})
if result.errors:
    raise SystemExit(str(result.errors))
print(f"LISTED assets={{len(result.data['assetNodes'])}}", flush=True)
"""
_ASSET_NODES = "{ assetNodes { id assetKey { path } groupName description opNames } }"
_RELOAD = """
mutation Reload($name: String!) {
  reloadRepositoryLocation(repositoryLocationName: $name) {
    __typename
    ... on WorkspaceLocationEntry {
      locationOrLoadError {
        __typename
        ... on PythonError { message }
      }
    }
    ... on PythonError { message }
  }
}
"""

_reload_system = None


def target(params):
    return Target(max_seconds=None, min_speedup=10.0)


def run(bench):
    directory = _work_dir(bench)
    assets = bench.params["assets"]
    defs = directory / f"layered_{assets}.py"
    if not defs.exists():
        defs.write_text(location_source(assets, bench.module_name))
    weir = bench.implementation == "weir"
    if bench.params["measure"] == "load":
        (_weir_load if weir else _dagster_load)(bench, directory, defs)
    else:
        global _reload_system
        if _reload_system is None:
            _reload_system = (_WeirReload if weir else _DagsterReload)(bench, directory, defs)
        _reload_system.reload(bench)


_directory = None


def _work_dir(bench):
    global _directory
    if _directory is None:
        prefix = f"weir-bench-cpload-{bench.implementation}-"
        _directory = Path(tempfile.mkdtemp(prefix=prefix))
        atexit.register(shutil.rmtree, _directory, ignore_errors=True)  # after servers stop
    return _directory


def _fresh_home(directory: Path, name: str) -> Path:
    home = directory / f"{name}-{time.monotonic_ns()}"
    home.mkdir()
    return home


def _start_weir(bench, directory: Path, defs: Path):
    """`weir controlplane` on the location; returns (server, ListAssets URL base)."""
    from bench.workloads._servers import ServerProcess

    workspace = directory / "weir.yaml"
    workspace.write_text(f"locations:\n  - name: bench\n    python_file: {defs}\n")
    home = _fresh_home(directory, "home")
    env = {**os.environ, "WEIR_HOME": str(home), "PYTHONUNBUFFERED": "1"}
    weir = Path(sys.executable).parent / "weir"
    server = ServerProcess(
        [
            str(weir),
            "controlplane",
            "--no-auth",
            "-w",
            str(workspace),
            "--grpc-port",
            "0",
            "--http-port",
            "0",
        ],
        log=home / "controlplane.log",
        env=env,
    )
    loaded = server.wait_for(r"code location bench: (\w+) \((.*)\)", LOAD_TIMEOUT_S)
    if loaded.group(1) != "LOADED" or loaded.group(2) != f"{bench.params['assets']} assets":
        server.stop()
        raise RuntimeError(f"location bench: {loaded.group(1)} ({loaded.group(2)})")
    ready = server.wait_for(r"WEIR_CONTROLPLANE_READY grpc=(\d+) http=(\d+)", 60)
    return server, f"http://127.0.0.1:{ready.group(2)}/weir.v1.ControlPlaneService"


def _weir_load(bench, directory: Path, defs: Path):
    from bench.workloads._servers import post_json

    with bench.timed(PHASE_READY):
        server, url = _start_weir(bench, directory, defs)
    try:
        listed, cursor, pages = 0, "", 0
        with bench.timed(PHASE_LIST):
            while True:
                started = time.perf_counter()
                page = post_json(f"{url}/ListAssets", {"limit": PAGE, "cursor": cursor})
                if pages == 0:
                    first_page = time.perf_counter() - started
                pages += 1
                listed += len(page.get("assets", []))
                cursor = page.get("nextCursor", "")
                if not cursor:
                    break
        if listed != bench.params["assets"]:
            raise RuntimeError(f"ListAssets listed {listed} of {bench.params['assets']} assets")
        bench.note("first_list_assets_page_ms", round(first_page * 1000, 1))
        bench.note("list_assets_pages", pages)
    finally:
        server.stop()


def _dagster_load(bench, directory: Path, defs: Path):
    from bench.workloads._servers import ServerProcess

    home = _fresh_home(directory, "dagster-home")
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    env = {**os.environ, "DAGSTER_HOME": str(home), "PYTHONUNBUFFERED": "1"}
    script = _DAGSTER_SERVER.format(query=_ASSET_NODES)
    with bench.timed(PHASE_READY):
        server = ServerProcess(
            [sys.executable, "-c", script, str(defs)],
            log=home / "server.log",
            env=env,
            cwd=directory,
        )
        loaded = server.wait_for(r"LOADED assets=(\d+)", LOAD_TIMEOUT_S)
    try:
        if int(loaded.group(1)) != bench.params["assets"]:
            raise RuntimeError(f"Dagster loaded {loaded.group(1)} assets")
        with bench.timed(PHASE_LIST):
            listed = server.wait_for(r"LISTED assets=(\d+)", LOAD_TIMEOUT_S)
        if int(listed.group(1)) != bench.params["assets"]:
            raise RuntimeError(f"assetNodes listed {listed.group(1)} assets")
    finally:
        server.stop()


class _WeirReload:
    def __init__(self, bench, directory: Path, defs: Path):
        self.server, self.url = _start_weir(bench, directory, defs)

    def reload(self, bench):
        from bench.workloads._servers import post_json

        with bench.timed():
            reply = post_json(f"{self.url}/ReloadCodeLocation", {"name": "bench"})
        location = reply.get("codeLocation", {})
        if not str(location.get("status", "")).endswith("LOADED"):
            raise RuntimeError(f"reload left the location {location}")


class _DagsterReload:
    def __init__(self, bench, directory: Path, defs: Path):
        home = _fresh_home(directory, "dagster-home")
        (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
        os.environ["DAGSTER_HOME"] = str(home)
        from dagster import DagsterInstance
        from dagster._core.workspace.context import WorkspaceProcessContext
        from dagster._core.workspace.load_target import PythonFileTarget

        target = PythonFileTarget(
            python_file=str(defs), attribute=None, working_directory=None, location_name="bench"
        )
        self.context = WorkspaceProcessContext(DagsterInstance.get(), target)
        atexit.register(self.context.__exit__, None, None, None)

    def reload(self, bench):
        from dagster_graphql.test.utils import execute_dagster_graphql

        with bench.timed():
            result = execute_dagster_graphql(
                self.context.create_request_context(), _RELOAD, {"name": "bench"}
            )
        entry = (result.data or {}).get("reloadRepositoryLocation") or {}
        loaded = (entry.get("locationOrLoadError") or {}).get("__typename")
        if result.errors or loaded != "RepositoryLocation":
            raise RuntimeError(f"reloadRepositoryLocation: {result.errors or entry}")
