"""PostgreSQL restarted mid-run, on a cluster of the test's own (the shared server stays
up for every other test): a fast shutdown while a step runs, then kill -9 of the
postmaster while a run's events stream in. The control plane answers UNAVAILABLE while
its database is down, the run worker keeps its events until they are taken, and once
the database is back every event is stored exactly once and every run ends SUCCESS.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from private_postgres import PrivatePostgres, find_bindir, private_postgres
from test_faults import E2E_LOCATIONS, RESTART_TIMEOUT, assert_stored_once_and_ended, wait_for_file

OUTAGE = 2.0  # seconds the database stays down, well within the heartbeat timeout


@pytest.fixture
def cluster() -> Iterator[PrivatePostgres]:
    bindir = find_bindir()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    with private_postgres(bindir) as started:
        yield started


def wait_unavailable(api: Any, run_id: str, timeout: float = 30) -> dict[str, Any]:
    """Poll GetRun until the control plane says its database is gone: a retryable 503."""
    deadline = time.monotonic() + timeout
    while True:
        reply = api.raw("GetRun", {"runId": run_id})
        if reply.status_code != 200:
            assert reply.status_code == 503, reply.text
            body: dict[str, Any] = reply.json()
            assert body["code"] == "unavailable", body
            return body
        assert time.monotonic() < deadline, "the control plane never noticed its database left"
        time.sleep(0.02)


def test_a_postgres_restart_mid_run_loses_nothing(
    start_control_plane: Callable[..., Any], cluster: PrivatePostgres, control_dir
):
    (control_dir / "slow.hold").touch()
    location = {"name": "pipeline", "python_file": str(E2E_LOCATIONS / "pipeline.py")}
    control = start_control_plane(
        [location],
        database_url=cluster.url,
        max_concurrent_runs=2,
        heartbeat_interval=0.5,
        heartbeat_timeout=RESTART_TIMEOUT,
    )
    api = control.api
    held = api.launch("raw slow after_slow")
    api.wait_event(held, "STEP_START", "slow")
    wait_for_file(control_dir / "slow.pid")

    # A fast shutdown mid-step; the step ends while the database is down.
    cluster.stop()
    wait_unavailable(api, held)
    (control_dir / "slow.hold").unlink()
    time.sleep(OUTAGE)  # the outage itself: the worker's events wait in its reporter
    cluster.start()

    run = api.wait_status(held, "SUCCESS", "FAILURE", timeout=60)
    assert run["status"] == "RUN_STATUS_SUCCESS", run
    events = assert_stored_once_and_ended(api, held)
    steps = {e.get("stepKey") for e in events if e["eventType"].endswith("STEP_SUCCESS")}
    assert {"raw", "slow", "after_slow"} <= steps

    # kill -9 of the postmaster while a run's log lines stream in.
    chatty = api.launch("chatty")
    (control_dir / "slow.hold").touch()
    blocker = api.launch("raw slow")  # holds the second slot so the next run queues
    queued = api.launch("raw")
    wait_for_file(control_dir / "chatty.pid")
    deadline = time.monotonic() + 30
    while len(api("GetRunEvents", runId=chatty, limit=200).get("events", [])) < 200:
        assert time.monotonic() < deadline, "the chatty run's events never started arriving"
        time.sleep(0.02)
    cluster.kill()
    wait_unavailable(api, chatty)
    time.sleep(OUTAGE)
    cluster.start()

    run = api.wait_status(chatty, "SUCCESS", "FAILURE", timeout=60)
    assert run["status"] == "RUN_STATUS_SUCCESS", run
    events = assert_stored_once_and_ended(api, chatty)
    lines = [e.get("message", "") for e in events if e["eventType"] == "RUN_EVENT_TYPE_LOG"]
    lines = [line for line in lines if line.startswith("line ")]
    assert sorted(lines, key=lambda m: int(m.split()[1])) == [f"line {n}" for n in range(3000)]

    (control_dir / "slow.hold").unlink()
    for run_id in (blocker, queued):
        run = api.wait_status(run_id, "SUCCESS", "FAILURE", timeout=60)
        assert run["status"] == "RUN_STATUS_SUCCESS", run
        assert_stored_once_and_ended(api, run_id)
