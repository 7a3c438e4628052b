"""End to end: the control plane's automation evaluator materializes an `eager()` asset
after its upstream is materialized, once per upstream materialization."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import pytest
from conftest import LOCATIONS, ON_BOTH_DATABASES, Api, ControlPlane


def evaluations(api: Api, key: str) -> list[dict[str, Any]]:
    reply = api("GetAutomationEvaluations", key={"path": [key]})
    return reply.get("evaluations", [])


def automation_runs(api: Api) -> list[dict[str, Any]]:
    return api("ListRuns", tags={"weir/automation": "true"}).get("runs", [])


def wait_until(what: str, found: Callable[[], Any], timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = found()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@ON_BOTH_DATABASES
def test_eager_materializes_the_downstream_once_per_upstream_materialization(
    start_control_plane,
):
    location = {"name": "auto", "python_file": str(LOCATIONS / "automation.py")}
    api = start_control_plane([location], automation_interval=0.3).api
    # The first evaluation takes stock; only what changes after it counts.
    wait_until("the first evaluation of down", lambda: evaluations(api, "down"))
    assert automation_runs(api) == []

    up_run = api.launch("up")
    assert api.wait_status(up_run, "SUCCESS", "FAILURE")["status"] == "RUN_STATUS_SUCCESS"
    (run,) = wait_until("an automation run", lambda: automation_runs(api))
    assert [k["path"] for k in run["assetKeys"]] == [["down"]]
    done = api.wait_status(run["runId"], "SUCCESS", "FAILURE")
    assert done["status"] == "RUN_STATUS_SUCCESS", api.events(run["runId"])
    asset = api("GetAsset", key={"path": ["down"]})["asset"]
    assert asset["latestMaterialization"]["runId"] == run["runId"]
    requesting = next(e for e in evaluations(api, "down") if e.get("runIds"))
    assert requesting["runIds"] == [run["runId"]]
    assert requesting["condition"]["label"] == "eager"

    # Two more outcomes get recorded after the run (its materialization is newly
    # updated, then no longer): by then ticks have passed, and no run was requested.
    last = int(requesting["tickNumber"])
    wait_until(
        "two evaluations after the run",
        lambda: len([e for e in evaluations(api, "down") if int(e["tickNumber"]) > last]) >= 2,
    )
    assert len(automation_runs(api)) == 1

    again = api.launch("up")
    api.wait_status(again, "SUCCESS", "FAILURE")
    runs = wait_until(
        "a second automation run", lambda: automation_runs(api)[1:] and automation_runs(api)
    )
    assert len(runs) == 2


def _requested_by(plane: ControlPlane) -> set[str]:
    """The automation runs this control plane's ticks requested, from its log."""
    assert plane.process is not None
    return set(re.findall(r"automation tick \d+ of \S+ requested runs (\S+)", plane.process.log()))


def _materialize_up_once(api: Api, runs_before: int) -> dict[str, Any]:
    """Materialize `up`; the one automation run of `down` it leads to, finished."""
    up_run = api.launch("up")
    assert api.wait_status(up_run, "SUCCESS", "FAILURE")["status"] == "RUN_STATUS_SUCCESS"
    runs = wait_until(
        "the automation run",
        lambda: len(automation_runs(api)) > runs_before and automation_runs(api),
    )
    newest = runs[0]
    done = api.wait_status(newest["runId"], "SUCCESS", "FAILURE")
    assert done["status"] == "RUN_STATUS_SUCCESS", api.events(newest["runId"])
    # Until a tick has seen the request handled (newly requested, then down updated), an
    # update of up would be handled by it too, as since_last_handled() says: wait.
    asked = int(
        next(e for e in evaluations(api, "down") if newest["runId"] in e.get("runIds", []))[
            "tickNumber"
        ]
    )

    def handled() -> bool:
        return len([e for e in evaluations(api, "down") if int(e["tickNumber"]) > asked]) >= 2

    wait_until("the request handled", handled)
    return newest


@pytest.mark.postgres
@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
def test_two_control_planes_on_postgres_evaluate_each_automation_tick_once(start_control_plane):
    """Two replicas tick one deployment's automation; one is killed with SIGKILL and the
    other carries on within a short lease. No tick is evaluated twice (each stored
    evaluation has its own tick number) and no run requested twice (one automation run
    per materialization of `up`, each with its own request tag)."""
    location = {"name": "auto", "python_file": str(LOCATIONS / "automation.py")}
    flags = {"automation_interval": 0.2, "daemon_lease": 1, "verbose": True}
    first = start_control_plane([location], **flags)
    second = start_control_plane([location], **flags)
    api = first.api
    wait_until("the first evaluation of down", lambda: evaluations(api, "down"))

    rounds = 0
    while not (_requested_by(first) and _requested_by(second)):
        assert rounds < 15, "one replica evaluated every tick that requested a run"
        _materialize_up_once(api, rounds)
        rounds += 1
    assert second.process is not None
    second.process.kill()  # no clean shutdown: a lease it held simply expires
    for _ in range(3):
        began = time.monotonic()
        _materialize_up_once(api, rounds)
        rounds += 1
        # The survivor takes over within the lease and its own interval, not minutes.
        assert time.monotonic() - began < 30

    runs = automation_runs(api)
    assert len(runs) == rounds  # one per materialization of up: none launched twice
    requests = [run["tags"]["weir/automation_request"] for run in runs]
    assert len(set(requests)) == rounds
    assert {run["runId"] for run in runs[:3]} <= _requested_by(first)
    ticks = [int(e["tickNumber"]) for e in evaluations(api, "down")]
    assert len(ticks) == len(set(ticks))  # no tick stored twice
