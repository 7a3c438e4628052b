"""End to end: partition keys and mappings through real processes. A key the asset does
not have is refused at launch, naming it, the asset and the valid keys; a rolling window
reads the partitions the mapping names, in the run worker."""

from __future__ import annotations

from conftest import LOCATIONS


def rolling_location() -> dict[str, str]:
    return {"name": "rolling", "python_file": str(LOCATIONS / "rolling.py")}


def test_an_unknown_partition_key_is_a_400_at_launch_and_nothing_is_queued(start_control_plane):
    api = start_control_plane([rolling_location()]).api
    reply = api.raw("LaunchRun", {"selection": "daily", "partitionKey": "1999-01-01"})
    assert reply.status_code == 400
    error = reply.json()
    assert error["code"] == "invalid_argument"
    message = error["message"]
    assert "'1999-01-01' is not a partition of asset 'daily'" in message
    assert "comes before the first partition" in message
    assert "'2024-01-01' to '2024-01-31'" in message
    assert "unavailable" not in message
    assert api("ListRuns").get("runs", []) == []


def test_a_rolling_window_reads_the_day_before_and_the_day(start_control_plane):
    api = start_control_plane([rolling_location()]).api
    for day in ("2024-01-09", "2024-01-10"):
        run_id = api.launch("daily", partitionKey=day)
        assert api.wait_status(run_id, "SUCCESS", "FAILURE")["status"] == "RUN_STATUS_SUCCESS"
    run_id = api.launch("two_days", partitionKey="2024-01-10")
    run = api.wait_status(run_id, "SUCCESS", "FAILURE")
    assert run["status"] == "RUN_STATUS_SUCCESS", run.get("failureReason")
    [materialization] = [e["materialization"] for e in api.events(run_id) if "materialization" in e]
    read = {m["label"]: m["value"] for m in materialization["metadata"]}["read"]
    assert read == {"text": "2024-01-09, 2024-01-10"}
