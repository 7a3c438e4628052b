"""Faults: kill -9 (or SIGTERM) a real process at each point of a run, then check that
every event the worker reported is stored exactly once (sequences 1..N, no gap, no
repeat), that every run ends in a true state with a reason, and that queued runs still
run. On SQLite and on PostgreSQL (WEIR_TEST_POSTGRES_URL).

Points: the run worker mid-step; the code server mid-run; the control plane mid-run
(kill -9 and SIGTERM), mid-ingest and mid-launch. PostgreSQL restarted mid-run is in
test_database_restart.py, on a cluster of its own (the shared server stays up).
"""

from __future__ import annotations

import os
import signal
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

E2E_LOCATIONS = Path(__file__).parent.parent / "locations"
RESTART_TIMEOUT = 20.0  # heartbeat timeout: a restart within it must lose nothing


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'faults.db'}"
        return
    base = os.environ.get("WEIR_TEST_POSTGRES_URL")
    if not base:
        pytest.skip("WEIR_TEST_POSTGRES_URL is not set; PostgreSQL fault tests need a server")
    schema = f"weir_faults_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(
        make_url(base).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(base).set(drivername="postgresql+psycopg")
    try:
        yield url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
            hide_password=False
        )
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def plane(start_control_plane: Callable[..., Any], database_url: str) -> Callable[..., Any]:
    """A control plane managing the e2e pipeline location (its code server is its child)."""

    def start(**flags: Any) -> Any:
        location = {"name": "pipeline", "python_file": str(E2E_LOCATIONS / "pipeline.py")}
        flags.setdefault("heartbeat_interval", 0.5)
        flags.setdefault("heartbeat_timeout", RESTART_TIMEOUT)
        return start_control_plane([location], database_url=database_url, **flags)

    return start


def assert_stored_once_and_ended(api: Any, run_id: str) -> list[dict[str, Any]]:
    """The run's worker events are 1..N exactly once, and the last one ends the run."""
    events = api.events(run_id)
    sequences = [int(e["sequence"]) for e in events if e.get("sequence")]
    assert sequences == list(range(1, len(sequences) + 1)), sequences
    ending = [e for e in events if e.get("sequence")][-1]["eventType"]
    assert ending in {
        "RUN_EVENT_TYPE_RUN_SUCCESS",
        "RUN_EVENT_TYPE_RUN_FAILURE",
        "RUN_EVENT_TYPE_RUN_CANCELED",
    }
    return events


def wait_for_file(path: Path, timeout: float = 30) -> Path:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.02)
    return path


def children_of(pid: int) -> list[int]:
    return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def kill_control_plane(plane: Any, signum: int) -> None:
    assert plane.process is not None
    code_servers = children_of(plane.process.proc.pid)
    os.kill(plane.process.proc.pid, signum)
    plane.process.proc.wait(30)
    plane.process.kill()  # closes its output pipe
    # The code server it started exits too (the run worker does not).
    deadline = time.monotonic() + 15
    while any(alive(pid) for pid in code_servers):
        assert time.monotonic() < deadline, "the code server outlived its control plane"
        time.sleep(0.05)


def test_a_killed_worker_fails_its_run_at_once_and_a_killed_code_server_does_not(
    plane, control_dir
):
    (control_dir / "slow.hold").touch()
    control = plane(max_concurrent_runs=1)
    api = control.api
    first = api.launch("raw slow")
    api.wait_event(first, "STEP_START", "slow")
    queued = api.launch("raw")
    assert api.run(queued)["status"] == "RUN_STATUS_QUEUED"
    worker = int(wait_for_file(control_dir / "slow.pid").read_text())

    killed_at = time.monotonic()
    os.kill(worker, signal.SIGKILL)

    run = api.wait_status(first, "FAILURE", "SUCCESS", timeout=30)
    assert time.monotonic() - killed_at < RESTART_TIMEOUT / 2  # not a heartbeat timeout later
    assert run["status"] == "RUN_STATUS_FAILURE"
    assert "killed by signal 9" in run["failureReason"]
    assert_stored_once_and_ended(api, first)
    assert api.wait_status(queued, "SUCCESS", "FAILURE")["status"] == "RUN_STATUS_SUCCESS"

    # The code server dies mid-run: its worker is a process of its own and finishes.
    (control_dir / "slow.pid").unlink()
    survivor = api.launch("raw slow after_slow")
    api.wait_event(survivor, "STEP_START", "slow")
    wait_for_file(control_dir / "slow.pid")
    (code_server,) = children_of(control.process.proc.pid)
    os.kill(code_server, signal.SIGKILL)
    (control_dir / "slow.hold").unlink()

    run = api.wait_status(survivor, "SUCCESS", "FAILURE", timeout=60)
    assert run["status"] == "RUN_STATUS_SUCCESS", run
    events = assert_stored_once_and_ended(api, survivor)
    assert sum(e["eventType"].endswith("ASSET_MATERIALIZATION") for e in events) == 3


def test_a_control_plane_killed_mid_run_and_mid_ingest_loses_nothing(plane, control_dir):
    (control_dir / "slow.hold").touch()
    control = plane(max_concurrent_runs=2)
    api = control.api
    held = api.launch("raw slow after_slow")
    api.wait_event(held, "STEP_START", "slow")
    chatty = api.launch("chatty")
    queued = api.launch("raw")
    worker = int(wait_for_file(control_dir / "slow.pid").read_text())
    wait_for_file(control_dir / "chatty.pid")
    deadline = time.monotonic() + 30
    while len(api("GetRunEvents", runId=chatty, limit=200).get("events", [])) < 200:
        assert time.monotonic() < deadline, "the chatty run's events never started arriving"
        time.sleep(0.02)

    kill_control_plane(control, signal.SIGKILL)  # chatty's batches are in flight
    assert alive(worker), "the run worker died with its control plane"
    (control_dir / "slow.hold").unlink()  # the run goes on; its events wait in the worker
    control.start()

    run = api.wait_status(held, "SUCCESS", "FAILURE", timeout=60)
    assert run["status"] == "RUN_STATUS_SUCCESS", run
    events = assert_stored_once_and_ended(api, held)
    steps = {e.get("stepKey") for e in events if e["eventType"].endswith("STEP_SUCCESS")}
    assert {"raw", "slow", "after_slow"} <= steps

    run = api.wait_status(chatty, "SUCCESS", "FAILURE", timeout=60)
    assert run["status"] == "RUN_STATUS_SUCCESS", run
    events = assert_stored_once_and_ended(api, chatty)
    lines = [e.get("message", "") for e in events if e["eventType"] == "RUN_EVENT_TYPE_LOG"]
    lines = [line for line in lines if line.startswith("line ")]
    assert sorted(lines, key=lambda m: int(m.split()[1])) == [f"line {n}" for n in range(3000)]
    assert api.wait_status(queued, "SUCCESS", "FAILURE")["status"] == "RUN_STATUS_SUCCESS"


def test_a_control_plane_stopped_mid_run_leaves_the_run_to_finish(plane, control_dir):
    """SIGTERM: the control plane stops its code server with its whole process group; the
    run worker is not in it."""
    (control_dir / "slow.hold").touch()
    control = plane(max_concurrent_runs=1)
    api = control.api
    run_id = api.launch("raw slow after_slow")
    api.wait_event(run_id, "STEP_START", "slow")
    queued = api.launch("raw")
    worker = int(wait_for_file(control_dir / "slow.pid").read_text())

    kill_control_plane(control, signal.SIGTERM)
    assert alive(worker), "the run worker was stopped with its control plane"
    (control_dir / "slow.hold").unlink()
    control.start()

    run = api.wait_status(run_id, "SUCCESS", "FAILURE", timeout=60)
    assert run["status"] == "RUN_STATUS_SUCCESS", run
    assert_stored_once_and_ended(api, run_id)
    assert api.wait_status(queued, "SUCCESS", "FAILURE")["status"] == "RUN_STATUS_SUCCESS"


def test_a_control_plane_killed_mid_launch_ends_every_run_with_a_reason(plane, control_dir):
    control = plane(heartbeat_timeout=4)
    api = control.api
    launched = [api.launch("raw") for _ in range(3)]

    kill_control_plane(control, signal.SIGKILL)  # some runs queued, some being launched
    control.start()

    for run_id in launched:
        run = api.wait_status(run_id, "SUCCESS", "FAILURE", "CANCELED", timeout=60)
        if run["status"] != "RUN_STATUS_SUCCESS":
            assert run.get("failureReason"), run
        if any(e.get("sequence") for e in api.events(run_id)):
            assert_stored_once_and_ended(api, run_id)
    after = api.launch("raw")
    assert api.wait_status(after, "SUCCESS", "FAILURE")["status"] == "RUN_STATUS_SUCCESS"
