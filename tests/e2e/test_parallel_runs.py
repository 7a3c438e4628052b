"""End to end: the multiprocess executor and the run queue's tag limits, through
`weir controlplane`, a code server and its run workers."""

from __future__ import annotations

from datetime import datetime

from conftest import LOCATIONS, ON_BOTH_DATABASES

PARALLEL = {"name": "parallel", "python_file": str(LOCATIONS / "parallel.py")}
FINANCE_AT_MOST_ONE = """run_queue:
  tag_concurrency_limits:
    - {key: team, value: finance, limit: 1}
"""


def test_a_runs_independent_steps_run_at_the_same_time(start_control_plane, control_dir):
    (control_dir / "left.hold").touch()
    api = start_control_plane([PARALLEL]).api
    run_id = api.launch("left right joined")
    # `right` finishes while `left` is still running: they run side by side.
    api.wait_event(run_id, "STEP_START", "left")
    api.wait_event(run_id, "STEP_SUCCESS", "right")
    assert api.run(run_id)["status"] == "RUN_STATUS_STARTED"
    (control_dir / "left.hold").unlink()

    run = api.wait_status(run_id, "SUCCESS", "FAILURE")
    assert run["status"] == "RUN_STATUS_SUCCESS", api.events(run_id)
    events = api.events(run_id)
    sequences = [int(e["sequence"]) for e in events if e.get("sequence")]
    assert sequences == list(range(1, len(sequences) + 1))
    steps = [(e["eventType"].removeprefix("RUN_EVENT_TYPE_"), e.get("stepKey")) for e in events]
    assert steps.index(("STEP_START", "joined")) > steps.index(("STEP_SUCCESS", "left"))
    assert api("GetAsset", key={"path": ["joined"]})["asset"]["latestMaterialization"]


@ON_BOTH_DATABASES
def test_a_tag_limit_holds_back_its_runs_and_not_the_others(start_control_plane, control_dir):
    (control_dir / "held.hold").touch()
    api = start_control_plane([PARALLEL], more_yaml=FINANCE_AT_MOST_ONE).api
    finance = {"team": "finance"}
    first = api.launch("held", tags=finance)
    api.wait_event(first, "STEP_START", "held")
    second = api.launch("held", tags=finance)
    # Queued after the held-back finance run, an ops run starts and finishes at once.
    other = api.launch("right", tags={"team": "ops"})
    assert api.wait_status(other, "SUCCESS", "FAILURE")["status"] == "RUN_STATUS_SUCCESS"
    assert api.run(second)["status"] == "RUN_STATUS_QUEUED"
    (control_dir / "held.hold").unlink()

    ended = api.wait_status(first, "SUCCESS", "FAILURE")
    started = api.wait_status(second, "SUCCESS", "FAILURE")
    assert started["status"] == "RUN_STATUS_SUCCESS"
    assert _time(started["startTime"]) >= _time(ended["endTime"])


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
