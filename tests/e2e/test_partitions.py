"""End to end: partition status after partitioned runs, and dynamic partitions added
through the API then launched, with a real control plane, code location and workers."""

from __future__ import annotations

from conftest import LOCATIONS, ON_BOTH_DATABASES


def partitioned_location() -> dict[str, str]:
    return {"name": "partitioned", "python_file": str(LOCATIONS / "partitioned.py")}


@ON_BOTH_DATABASES
def test_status_shows_what_partitioned_runs_did(start_control_plane, control_dir):
    (control_dir / "2024-01-05.fail").touch()
    api = start_control_plane([partitioned_location()]).api
    for day in ("2024-01-01", "2024-01-02", "2024-01-03", "2024-01-05"):
        run_id = api.launch("daily_sales", partitionKey=day)
        api.wait_status(run_id, "SUCCESS", "FAILURE")

    status = api("GetPartitionStatus", key={"path": ["daily_sales"]})
    assert status["counts"] == {"total": "10", "materialized": "3", "failed": "1", "missing": "6"}
    assert [
        (r["state"].removeprefix("PARTITION_STATE_"), r["startKey"], r["endKey"])
        for r in status["ranges"]
    ] == [
        ("MATERIALIZED", "2024-01-01", "2024-01-03"),
        ("MISSING", "2024-01-04", "2024-01-04"),
        ("FAILED", "2024-01-05", "2024-01-05"),
        ("MISSING", "2024-01-06", "2024-01-10"),
    ]
    # Fixed, the failed day materializes and the status says so.
    (control_dir / "2024-01-05.fail").unlink()
    api.wait_status(api.launch("daily_sales", partitionKey="2024-01-05"), "SUCCESS")
    counts = api("GetPartitionStatus", key={"path": ["daily_sales"]})["counts"]
    assert (counts["materialized"], counts.get("failed", "0")) == ("4", "0")


def test_dynamic_partitions_added_through_the_api_are_launched(start_control_plane):
    api = start_control_plane([partitioned_location()]).api
    refused = api.raw("LaunchRun", {"selection": "file_rows", "partitionKey": "a.csv"})
    assert refused.status_code == 400
    assert "AddDynamicPartitions" in refused.json()["message"]

    added = api("AddDynamicPartitions", partitionsDefName="files", partitionKeys=["a.csv", "b.csv"])
    assert added["addedPartitionKeys"] == ["a.csv", "b.csv"]
    run_id = api.launch("file_rows", partitionKey="b.csv")
    assert api.wait_status(run_id, "SUCCESS", "FAILURE")["status"] == "RUN_STATUS_SUCCESS"

    status = api("GetPartitionStatus", key={"path": ["file_rows"]})
    assert status["counts"] == {"total": "2", "materialized": "1", "missing": "1"}
    assert status["ranges"][1]["startKey"] == "b.csv"
    listed = api("ListMaterializations", key={"path": ["file_rows"]}, partitionKey="b.csv")
    assert [m["partitionKey"] for m in listed["materializations"]] == ["b.csv"]
    assert api("ListDynamicPartitions", partitionsDefName="files")["partitionKeys"] == [
        "a.csv",
        "b.csv",
    ]
