"""End to end: materializations a sensor reports (SensorResult(asset_events=...)) are
recorded by the control plane, outside any launched run, and read like any other."""

from __future__ import annotations

from conftest import LOCATIONS
from test_sensor_daemon import runs_of, ticks, wait_for_ticks, wait_until


def reporting_location() -> dict[str, str]:
    return {"name": "reporting", "python_file": str(LOCATIONS / "reporting_sensors.py")}


def materializations(api, asset: str) -> list[dict]:
    return api("ListMaterializations", key={"path": [asset]}).get("materializations", [])


def skip_reasons(api, sensor: str) -> list[str]:
    return [t.get("skipReason", "") for t in ticks(api, sensor)]


def test_a_sensor_reports_materializations_that_reads_and_asset_sensors_see(
    start_control_plane,
):
    api = start_control_plane([reporting_location()]).api
    wait_until(
        "the reporting tick and a skip after it",
        lambda: (
            [t.get("skipReason") for t in ticks(api, "table_watcher")][:2]
            == ["nothing new in the warehouse", None]
        ),
    )
    [table] = materializations(api, "warehouse_table")
    assert table["materialization"]["metadata"][0]["label"] == "rows"
    assert table["materialization"]["metadata"][0]["value"]["int"] == "42"
    [export] = materializations(api, "regional_export")
    assert export["partitionKey"] == "eu"
    status = api("GetPartitionStatus", key={"path": ["regional_export"]})
    assert status["counts"] == {"total": "2", "materialized": "1", "missing": "1"}
    # No run was launched to compute them: the run holding them is the control plane's.
    holder = api("GetRun", runId=table["runId"])["run"]
    assert holder["status"] == "RUN_STATUS_SUCCESS" and holder["tags"]["weir/runless"] == "true"
    assert holder["tags"]["weir/sensor_name"] == "table_watcher"

    # An asset sensor watching the table fires on the reported materialization.
    fired = wait_until("the asset sensor's run", lambda: runs_of(api, "on_table"))
    assert [key["path"] for key in fired[0]["assetKeys"]] == [["table_report"]]
    done = api.wait_status(fired[0]["runId"], "SUCCESS", "FAILURE")
    assert done["status"] == "RUN_STATUS_SUCCESS"
    # A run-status sensor sees the run the asset sensor launched, not the one holding the
    # reported materializations: nothing ran there.
    seen = f"saw {fired[0]['runId']}"
    wait_until("the run-status sensor's tick", lambda: seen in skip_reasons(api, "on_success"))
    assert f"saw {table['runId']}" not in skip_reasons(api, "on_success")
    # Later ticks skip: the materializations were recorded once.
    wait_for_ticks(api, "table_watcher", 3)
    assert len(materializations(api, "warehouse_table")) == 1


def test_a_reported_unknown_asset_or_partition_fails_the_tick_recording_nothing(
    start_control_plane,
):
    api = start_control_plane([reporting_location()]).api
    [unknown, *_] = wait_for_ticks(api, "unknown_reported", 0)
    assert unknown["status"] == "TICK_STATUS_FAILURE"
    assert "materialization of asset 'nope'" in unknown["error"]["message"]
    [bad, *_] = wait_for_ticks(api, "bad_partition_reported", 0)
    assert bad["status"] == "TICK_STATUS_FAILURE"
    assert "'mars' is not a partition of asset 'regional_export'" in bad["error"]["message"]
    # Nothing of the failed tick is recorded, not even its valid first materialization.
    reported = [
        m for m in materializations(api, "warehouse_table")
        if api("GetRun", runId=m["runId"])["run"]["tags"].get("weir/sensor_name")
        == "bad_partition_reported"
    ]  # fmt: skip
    assert reported == []
