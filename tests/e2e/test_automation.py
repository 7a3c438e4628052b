"""End to end: the control plane's automation evaluator materializes an `eager()` asset
after its upstream is materialized, once per upstream materialization."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from conftest import LOCATIONS, ON_BOTH_DATABASES, Api


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
