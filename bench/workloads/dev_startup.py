"""`weir dev -f defs.py` from exec to its ready line, and the idle memory of what it runs.

Each timed run starts `weir dev` on a layered location (bench/workloads/_layered.py) with
free ports and its own WEIR_HOME: `database=new` on a new SQLite file (created at head),
`database=existing` on one an earlier start left at head. The timed block ends at the
WEIR_CONTROLPLANE_READY line, the location LOADED. Then, `SETTLE_S` later, the resident
set of every process of the tree is read from /proc: the control plane, its code server,
the code server's zygote and the zygote's children (idle spare workers); the median of
each over the runs is noted ("idle RSS MB"), and the tree's total. RSS counts the pages a
forked child shares with its parent in both, so the proportional set size (PSS, each
shared page split among its sharers) is noted too: what the tree costs the machine.
The CPU seconds the control plane and its code server used up to the ready line are
noted beside the wall time: on a loaded machine they move less than it does.
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.spec import Target
from bench.workloads._layered import location_source

TITLE = "weir dev ready"
TIMED = "`weir dev -f defs.py` from exec to its ready line (location loaded)"
IMPLEMENTATIONS = ("weir",)
NO_EQUIVALENT = "not compared"
PARAMS = [
    {"assets": 101, "database": "new"},
    {"assets": 101, "database": "existing"},
    {"assets": 10_000, "database": "new"},
]
QUICK_PARAMS = [{"assets": 101, "database": "new"}]
WARMUP_PARAMS = {"assets": 1, "database": "new"}  # bytecode caches; not what a user waits for
REPEAT = 5
ORDER = 60

SETTLE_S = 2.0
READY_TIMEOUT_S = 300
_ROLES = ("control plane", "code server", "zygote", "spare workers")
_memory: dict[str, dict[str, list[float]]] = {"RSS": {}, "PSS": {}}
_cpu: dict[str, list[float]] = {}


def target(params):
    if params["assets"] > 1_000:
        return Target(max_seconds=None, min_speedup=None)
    return Target(max_seconds=1.0, min_speedup=None)


def run(bench):
    from bench.workloads._servers import ServerProcess

    assets = bench.params["assets"]
    directory = Path(tempfile.mkdtemp(prefix="weir-bench-dev-"))
    defs = directory / f"layered_{assets}.py"
    defs.write_text(location_source(assets))
    env = {**os.environ, "WEIR_HOME": str(directory / "home"), "PYTHONUNBUFFERED": "1"}
    command = [str(Path(sys.executable).parent / "weir"), "dev", "-f", str(defs),
               "--http-port", "0", "--grpc-port", "0"]  # fmt: skip
    if bench.params["database"] == "existing":
        _start(ServerProcess, command, env, directory).stop()
    with bench.timed():
        server = _start(ServerProcess, command, env, directory)
    try:
        for role, seconds in _tree_cpu_seconds(server.process.pid).items():
            _cpu.setdefault(role, []).append(seconds)
        bench.note(
            "CPU s to ready",
            {role: round(statistics.median(values), 2) for role, values in _cpu.items()},
        )
        time.sleep(SETTLE_S)
        for measure, seen in _memory.items():
            for role, mb in _tree_mb(server.process.pid, measure).items():
                seen.setdefault(role, []).append(mb)
            medians = {role: round(statistics.median(values)) for role, values in seen.items()}
            medians["total"] = sum(medians.values())
            bench.note(f"idle {measure} MB", medians)
    finally:
        server.stop()
        shutil.rmtree(directory, ignore_errors=True)


def _start(server_class, command, env, directory):
    server = server_class(command, log=directory / "dev.log", env=env)
    server.wait_for(r"WEIR_CONTROLPLANE_READY", READY_TIMEOUT_S)
    return server


def _tree_mb(root: int, measure: str) -> dict[str, float]:
    """RSS or PSS by role: `root`, its children, theirs, and everything deeper."""
    totals = dict.fromkeys(_ROLES, 0.0)
    for role, pids in _tree(root).items():
        totals[role] += sum(_resident_mb(pid, measure) for pid in pids)
    return totals


def _tree_cpu_seconds(root: int) -> dict[str, float]:
    """User and system CPU seconds of the control plane and of its code servers."""
    tree = _tree(root)
    return {role: sum(map(_cpu_seconds, tree[role])) for role in _ROLES[:2]}


def _tree(root: int) -> dict[str, set[int]]:
    """The pids of each role by depth below `root` (the deepest role takes the rest)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found: dict[str, set[int]] = {role: set() for role in _ROLES}
    level, depth = {root}, 0
    while level:
        found[_ROLES[min(depth, len(_ROLES) - 1)]] |= level
        level = {pid for pid, parent in parents.items() if parent in level}
        depth += 1
    return found


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def _resident_mb(pid: int, measure: str) -> float:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith(f"{measure.capitalize()}:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0
