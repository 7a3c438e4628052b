"""The `weir` command's own cost: `weir --help`, and `weir runs list` against a running
control plane, each a fresh process from exec to exit.

The control plane (`weir controlplane`, SQLite in a temporary WEIR_HOME, no code
locations) starts once per measuring process; the timed block is the CLI process alone,
start-up included, since a person at a terminal waits for all of it. The CPU time the
process used (user + system, from the child's rusage) is noted beside the wall time.
"""

from __future__ import annotations

import atexit
import os
import resource
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.spec import Target

TITLE = "weir CLI command"
TIMED = "one `weir ...` process from exec to exit (start-up and imports included)"
IMPLEMENTATIONS = ("weir",)
NO_EQUIVALENT = "not compared: Dagster's CLI does other work"
PARAMS = [{"command": "--help"}, {"command": "runs list"}]
QUICK_PARAMS = PARAMS
WARMUP_PARAMS = {"command": "--help"}  # writes bytecode caches; not what a user waits for
REPEAT = 10
ORDER = 70

_url: str | None = None


def target(params):
    return Target(max_seconds=0.15, min_speedup=None)


def run(bench):
    weir = str(Path(sys.executable).parent / "weir")
    args = [weir, *bench.params["command"].split()]
    if bench.params["command"] != "--help":
        args += ["--url", _control_plane_url()]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with bench.timed():
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    bench.note("cpu_seconds_last_run", round(cpu, 4))


def _control_plane_url() -> str:
    global _url
    if _url is None:
        from bench.workloads._servers import ServerProcess

        directory = Path(tempfile.mkdtemp(prefix="weir-bench-cli-"))
        atexit.register(shutil.rmtree, directory, ignore_errors=True)
        env = {**os.environ, "WEIR_HOME": str(directory / "home"), "PYTHONUNBUFFERED": "1"}
        weir = Path(sys.executable).parent / "weir"
        server = ServerProcess(
            [str(weir), "controlplane", "--no-auth", "--grpc-port", "0", "--http-port", "0"],
            log=directory / "controlplane.log",
            env=env,
        )
        ready = server.wait_for(r"WEIR_CONTROLPLANE_READY grpc=(\d+) http=(\d+)", 120)
        _url = f"http://127.0.0.1:{ready.group(2)}"  # the server stops at exit
    return _url
