"""End to end: code locations as the control plane keeps them: reload re-reads the code,
the workspace decides which exist, health checks notice a location that went away."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from conftest import LOCATIONS, Api, free_port, write_workspace

ADDED_ASSET = """

@dg.asset(group_name="e2e")
def added() -> int:
    return 7


defs = dg.Definitions(
    assets=[raw, slow, after_slow, fragile, chatty, added], asset_checks=[raw_not_empty]
)
"""

LONELY = """
import weir as dg


@dg.asset
def lonely() -> int:
    return 1


defs = dg.Definitions(assets=[lonely])
"""


def locations(api: Api) -> dict[str, dict[str, Any]]:
    return {loc["name"]: loc for loc in api("ListCodeLocations").get("codeLocations", [])}


def asset_keys(api: Api) -> set[str]:
    return {"/".join(a["key"]["path"]) for a in api("ListAssets").get("assets", [])}


def wait_location(
    api: Api, name: str, done: Callable[[dict[str, Any]], bool], timeout: float = 60
) -> list[dict[str, Any]]:
    """Poll the location until `done` holds; every distinct state seen on the way."""
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = locations(api)[name]
        if not seen or (state["status"], state.get("address")) != (
            seen[-1]["status"],
            seen[-1].get("address"),
        ):
            seen.append(state)
        if done(state):
            return seen
        time.sleep(0.02)
    raise AssertionError(f"code location {name} never got there; seen: {seen}")


def status_is(status: str) -> Callable[[dict[str, Any]], bool]:
    return lambda state: state["status"] == f"CODE_LOCATION_STATUS_{status}"


def codeserver_pid(parent: int) -> int:
    """The code server the control plane `parent` started (its direct child)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            cmdline = (entry / "cmdline").read_bytes()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if int(fields[1]) == parent and b"weir_codeserver" in cmdline:
            return int(entry.name)
    raise AssertionError(f"no code server below pid {parent}")


def test_reload_restarts_a_started_location_and_the_run_in_flight_keeps_its_worker(
    start_control_plane, control_dir, tmp_path
):
    defs = tmp_path / "pipeline.py"
    defs.write_text((LOCATIONS / "pipeline.py").read_text())
    (control_dir / "slow.hold").touch()
    plane = start_control_plane([{"name": "pipeline", "python_file": str(defs)}])
    api = plane.api
    before = locations(api)["pipeline"]
    assert "added" not in asset_keys(api)
    run_id = api.launch("raw slow")
    api.wait_event(run_id, "STEP_START", "slow")

    with defs.open("a") as file:
        file.write(ADDED_ASSET)
    reloaded = api("ReloadCodeLocation", name="pipeline")["codeLocation"]

    assert reloaded["status"] == "CODE_LOCATION_STATUS_LOADED"
    assert reloaded["contentHash"] != before["contentHash"]
    assert reloaded["address"] != before["address"], "a new server process"
    assert reloaded["assetCount"] == before["assetCount"] + 1
    assert "added" in asset_keys(api)
    # The run started before the reload finishes on the old server's worker.
    (control_dir / "slow.hold").unlink()
    assert api.wait_status(run_id, "SUCCESS", "FAILURE")["status"] == "RUN_STATUS_SUCCESS"
    # ... and the new code runs on the new server.
    added = api.launch("added")
    assert api.wait_status(added, "SUCCESS", "FAILURE")["status"] == "RUN_STATUS_SUCCESS"


def test_a_location_removed_from_the_workspace_is_gone_after_a_restart_but_its_runs_stay(
    start_control_plane, tmp_path
):
    lonely = tmp_path / "lonely.py"
    lonely.write_text(LONELY)
    pipeline = {"name": "pipeline", "python_file": str(LOCATIONS / "pipeline.py")}
    plane = start_control_plane([pipeline, {"name": "lonely", "python_file": str(lonely)}])
    api = plane.api
    run_id = api.launch("lonely")
    assert api.wait_status(run_id, "SUCCESS", "FAILURE")["status"] == "RUN_STATUS_SUCCESS"
    ambiguous = api.raw("LaunchRun", {"selection": "*"})
    assert ambiguous.status_code == 400 and "lonely, pipeline" in ambiguous.json()["message"]

    plane.stop()
    write_workspace(plane.workspace, [pipeline])
    plane.start()

    assert set(locations(api)) == {"pipeline"}
    assert "lonely" not in asset_keys(api)
    refused = api.raw("LaunchRun", {"selection": "lonely"})
    assert refused.status_code == 400 and "lonely" in refused.json()["message"]
    everything = api.launch("*")
    assert api.run(everything)["codeLocation"] == "pipeline"
    # The removed location's history is still there.
    old = api.run(run_id)
    assert old["status"] == "RUN_STATUS_SUCCESS" and old["codeLocation"] == "lonely"
    assert any(e["eventType"] == "RUN_EVENT_TYPE_ASSET_MATERIALIZATION" for e in api.events(run_id))


def test_a_killed_location_is_unreachable_then_restarted_and_loaded(start_control_plane):
    plane = start_control_plane(
        [{"name": "pipeline", "python_file": str(LOCATIONS / "pipeline.py")}]
    )
    api = plane.api
    assert plane.process is not None
    first = locations(api)["pipeline"]
    os.kill(codeserver_pid(plane.process.proc.pid), signal.SIGKILL)

    # Nobody calls the location: the health watcher alone notices, and starts it again.
    seen = wait_location(
        api, "pipeline", lambda s: status_is("LOADED")(s) and s["address"] != first["address"]
    )
    unreachable = [s for s in seen if status_is("UNREACHABLE")(s)]
    assert unreachable, f"never shown UNREACHABLE: {seen}"
    assert "exited" in unreachable[0]["error"]["message"]
    run_id = api.launch("raw")
    assert api.wait_status(run_id, "SUCCESS", "FAILURE")["status"] == "RUN_STATUS_SUCCESS"


def test_a_hung_location_is_restarted(start_control_plane):
    plane = start_control_plane(
        [{"name": "pipeline", "python_file": str(LOCATIONS / "pipeline.py")}]
    )
    api = plane.api
    assert plane.process is not None
    pid = codeserver_pid(plane.process.proc.pid)
    os.kill(pid, signal.SIGSTOP)  # alive, but answers nothing
    try:
        seen = wait_location(
            api, "pipeline", lambda s: status_is("LOADED")(s) and codeserver_pid_changed(plane, pid)
        )
    finally:
        if _alive(pid):
            os.kill(pid, signal.SIGCONT)
    unreachable = [s for s in seen if status_is("UNREACHABLE")(s)]
    assert unreachable and "stopped answering health checks" in unreachable[0]["error"]["message"]


def codeserver_pid_changed(plane: Any, old: int) -> bool:
    try:
        return codeserver_pid(plane.process.proc.pid) != old
    except AssertionError:
        return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_an_external_location_that_goes_away_is_unreachable_until_it_answers_again(
    start_control_plane, start_codeserver
):
    port = free_port()
    server = start_codeserver(LOCATIONS / "pipeline.py", port=port)
    api = start_control_plane([{"name": "pipeline", "address": f"127.0.0.1:{port}"}]).api
    assert status_is("LOADED")(locations(api)["pipeline"])

    server.stop()
    wait_location(api, "pipeline", status_is("UNREACHABLE"), timeout=30)
    start_codeserver(LOCATIONS / "pipeline.py", port=port)
    wait_location(api, "pipeline", status_is("LOADED"), timeout=30)
    run_id = api.launch("raw")
    assert api.wait_status(run_id, "SUCCESS", "FAILURE")["status"] == "RUN_STATUS_SUCCESS"


def test_a_load_error_keeps_its_class_and_stack(start_control_plane):
    api = start_control_plane([{"name": "broken", "python_file": str(LOCATIONS / "broken.py")}]).api
    error = locations(api)["broken"]["error"]
    assert "does_not_exist" in error["message"]
    assert error["className"].endswith("Error")
    assert "broken.py" in error["stack"]
