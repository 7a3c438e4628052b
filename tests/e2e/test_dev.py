"""`weir dev`: one command starts a working system and Ctrl-C / SIGTERM stops all of it."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from conftest import BIN, Api, Process, free_port

QUICKSTART = Path(__file__).resolve().parents[2] / "examples" / "quickstart" / "defs.py"


def _descendants_of(pid: int) -> set[int]:
    """Every live process below `pid`: the code server, its zygote and workers."""
    parent_of = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except (FileNotFoundError, ProcessLookupError):
                continue
            parent_of[int(entry.name)] = int(fields[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parent_of.items() if parent in frontier}
        found |= frontier
    return found


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM])
def test_weir_dev_serves_the_quickstart_and_stops_cleanly(e2e_env, stop_signal):
    http_port = free_port()
    dev = Process(
        [str(BIN / "weir"), "dev", "-f", str(QUICKSTART), "--http-port", str(http_port),
         "--grpc-port", str(free_port())],
        e2e_env,
        r"WEIR_CONTROLPLANE_READY",
    )  # fmt: skip
    api = Api(http_port)
    try:
        assert f"http://127.0.0.1:{http_port}" in dev.log()
        assert "code location defs: LOADED (3 assets)" in dev.log()
        run_id = api.launch("orders+")
        assert api.wait_status(run_id, "SUCCESS", "FAILURE")["status"] == "RUN_STATUS_SUCCESS"
        server_pids = _descendants_of(dev.proc.pid)
        assert server_pids, "the code location runs as a child process"

        os.kill(dev.proc.pid, stop_signal)  # what Ctrl-C or a service manager sends
        assert dev.proc.wait(30) == 0
        deadline = time.monotonic() + 10
        while any(_alive(pid) for pid in server_pids) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not [pid for pid in server_pids if _alive(pid)], "child processes left behind"
    finally:
        api.http.close()
        dev.kill()


def test_code_servers_exit_when_their_control_plane_is_killed(e2e_env):
    dev = Process(
        [str(BIN / "weir"), "dev", "-f", str(QUICKSTART), "--http-port", str(free_port()),
         "--grpc-port", str(free_port())],
        e2e_env,
        r"WEIR_CONTROLPLANE_READY",
    )  # fmt: skip
    try:
        server_pids = _descendants_of(dev.proc.pid)
        assert server_pids
        os.kill(dev.proc.pid, signal.SIGKILL)  # no chance to stop its children itself
        dev.proc.wait(10)
        deadline = time.monotonic() + 15
        while any(_alive(pid) for pid in server_pids) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [pid for pid in server_pids if _alive(pid)], "orphaned code servers"
    finally:
        dev.kill()


def test_weir_dev_explains_a_missing_file(e2e_env, tmp_path):
    result = subprocess.run(
        [str(BIN / "weir"), "dev", "-f", str(tmp_path / "nope.py")],
        env=e2e_env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 1
    assert "nope.py does not exist" in result.stderr
    assert "Traceback" not in result.stderr


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"


def test_weir_dev_with_another_file_forgets_the_previous_one(e2e_env):
    pipeline = Path(__file__).parent / "locations" / "pipeline.py"
    for python_file, expected in ((QUICKSTART, "defs"), (pipeline, "pipeline")):
        http_port = free_port()
        dev = Process(
            [str(BIN / "weir"), "dev", "-f", str(python_file), "--http-port", str(http_port),
             "--grpc-port", str(free_port())],
            e2e_env,
            r"WEIR_CONTROLPLANE_READY",
        )  # fmt: skip
        api = Api(http_port)
        try:
            listed = api("ListCodeLocations")["codeLocations"]
            assert [(loc["name"], loc["status"]) for loc in listed] == [
                (expected, "CODE_LOCATION_STATUS_LOADED")
            ]
        finally:
            api.http.close()
            dev.stop()


def test_a_code_server_behind_a_wrapper_watches_the_pid_it_was_given(e2e_env):
    """WEIR_CODESERVER_PARENT_PID names the control plane, which need not be the parent:
    `sh -c` stands between here."""
    stand_in = subprocess.Popen(["sleep", "300"])  # plays the control plane
    # `; true` keeps sh from exec-ing the server, so sh stays its parent.
    command = f"{BIN / 'weir-codeserver'} -f {QUICKSTART} --port 0; true"
    server = Process(
        ["sh", "-c", command],
        {**e2e_env, "WEIR_CODESERVER_PARENT_PID": str(stand_in.pid)},
        r"WEIR_CODESERVER_READY\s+port=(\d+)",
    )
    try:
        assert server.match is not None
        # The watch has no visible tick; it runs every second, so three pass here.
        time.sleep(3)
        assert server.proc.poll() is None, "exited though the pid it watches is alive"
        stand_in.kill()
        stand_in.wait()
        assert server.proc.wait(15) == 0
        assert "is gone; shutting down" in server.log()
    finally:
        stand_in.kill()
        stand_in.wait()
        server.kill()


def _processes_naming(path: Path) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "cmdline").read_bytes().decode(errors="replace")
            except OSError:
                continue
            if str(path) in command and _alive(int(entry.name)):
                found.append(int(entry.name))
    return found


def test_weir_dev_stops_its_early_started_code_server_when_the_database_fails(e2e_env, tmp_path):
    """The code server starts before storage opens; a database that cannot be reached
    must not leave it running."""
    defs = tmp_path / "early_started_defs.py"
    defs.write_text(QUICKSTART.read_text())
    result = subprocess.run(
        [str(BIN / "weir"), "dev", "-f", str(defs), "--http-port", str(free_port()),
         "--grpc-port", str(free_port()),
         "--database-url", "postgresql://nobody@127.0.0.1:9/none"],
        env=e2e_env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 1
    assert "Cannot reach the database at postgresql" in result.stderr
    assert "Traceback" not in result.stderr
    assert _processes_naming(defs) == [], "the code server outlived `weir dev`"


def test_a_taken_grpc_port_is_refused_not_shared(e2e_env):
    """gRPC would bind a port another server holds (SO_REUSEPORT) and split its clients
    between the two; both the code server and `weir dev` refuse it instead."""
    server = Process(
        [str(BIN / "weir-codeserver"), "-f", str(QUICKSTART), "--port", "0"],
        e2e_env,
        r"WEIR_CODESERVER_READY\s+port=(\d+)",
    )
    try:
        assert server.match is not None
        taken = server.match.group(1)
        second = subprocess.run(
            [str(BIN / "weir-codeserver"), "-f", str(QUICKSTART), "--port", taken],
            env=e2e_env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert second.returncode == 1
        assert f"Cannot listen on 127.0.0.1:{taken}" in second.stderr
        dev = subprocess.run(
            [str(BIN / "weir"), "dev", "-f", str(QUICKSTART), "--grpc-port", taken,
             "--http-port", str(free_port())],
            env=e2e_env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert dev.returncode == 1
        assert f"Cannot listen: cannot listen for gRPC on 127.0.0.1:{taken}" in dev.stderr
        assert "Traceback" not in dev.stderr + second.stderr
    finally:
        server.kill()
