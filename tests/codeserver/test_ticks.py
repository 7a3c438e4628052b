"""EvaluateSchedule and EvaluateSensor run the user's functions and return what they ask."""

from __future__ import annotations

from datetime import UTC, datetime

import grpc
import pytest
from codeserver_harness import CODE
from google.protobuf import json_format, timestamp_pb2
from weir_protos.v1 import code_location_pb2, common_pb2, events_pb2, runs_pb2

INSTIGATORS = CODE / "instigators.py"


def _time(text: str) -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(datetime.fromisoformat(text).astimezone(UTC))
    return stamp


def test_schedule_tick_runs_the_function_in_the_schedules_timezone(shared_codeserver):
    server = shared_codeserver(INSTIGATORS)

    reply = server.stub.EvaluateSchedule(
        code_location_pb2.EvaluateScheduleRequest(
            schedule_name="mornings", scheduled_execution_time=_time("2024-03-01T05:00:00+00:00")
        )
    )

    (request,) = reply.run_requests
    assert request.run_key == "2024-03-01 06:00 CET"
    assert request.job_name == "refresh"
    assert dict(request.tags) == {"kind": "daily", "day": "2024-03-01 06:00 CET"}
    assert json_format.MessageToDict(request.run_config) == {"ops": {}}
    assert not reply.HasField("error")


def test_errors_in_user_functions_fail_the_tick_not_the_call(shared_codeserver):
    server = shared_codeserver(INSTIGATORS)

    schedule = server.stub.EvaluateSchedule(
        code_location_pb2.EvaluateScheduleRequest(
            schedule_name="broken_schedule", scheduled_execution_time=_time("2024-03-01T05:00:00Z")
        )
    )
    sensor = server.stub.EvaluateSensor(
        code_location_pb2.EvaluateSensorRequest(sensor_name="broken_sensor")
    )

    assert "schedule exploded" in schedule.error.message
    assert not schedule.run_requests
    assert "sensor exploded" in sensor.error.message


def test_a_sensor_finds_assets_by_tag_through_its_context(shared_codeserver):
    server = shared_codeserver(INSTIGATORS)

    reply = server.stub.EvaluateSensor(
        code_location_pb2.EvaluateSensorRequest(sensor_name="gold_tier")
    )

    assert not reply.HasField("error"), reply.error.message
    (request,) = reply.run_requests
    assert [list(key.path) for key in request.asset_keys] == [["orders"]]


def test_sensor_tick_returns_requests_cursor_and_dynamic_partitions(shared_codeserver):
    server = shared_codeserver(INSTIGATORS)

    first = server.stub.EvaluateSensor(
        code_location_pb2.EvaluateSensorRequest(sensor_name="new_regions")
    )
    second = server.stub.EvaluateSensor(
        code_location_pb2.EvaluateSensorRequest(sensor_name="new_regions", cursor=first.cursor)
    )

    assert (first.cursor, second.cursor) == ("1", "2")
    (request,) = second.run_requests
    assert (request.run_key, request.partition_key, request.job_name) == (
        "r1",
        "region-1",
        "by_region",
    )
    (change,) = second.dynamic_partitions_requests
    assert change.partitions_def_name == "regions"
    assert list(change.add_partition_keys) == ["region-1"]


def test_materializations_a_served_sensor_reports_come_back_in_the_reply(shared_codeserver):
    server = shared_codeserver(INSTIGATORS)

    reply = server.stub.EvaluateSensor(
        code_location_pb2.EvaluateSensorRequest(sensor_name="reports_elsewhere")
    )

    assert not reply.HasField("error")
    orders, regional = reply.asset_materializations
    assert list(orders.asset_key.path) == ["orders"]
    assert orders.description == "loaded by hand"
    assert [(m.label, m.value.int) for m in orders.metadata] == [("rows", 3)]
    assert (list(regional.asset_key.path), regional.partition) == (["regional"], "region-1")


def test_a_check_evaluation_of_a_served_sensor_fails_the_tick_instead_of_being_lost(
    shared_codeserver,
):
    server = shared_codeserver(INSTIGATORS)

    reply = server.stub.EvaluateSensor(
        code_location_pb2.EvaluateSensorRequest(sensor_name="reports_a_check")
    )

    assert "AssetCheckEvaluation" in reply.error.message
    assert not reply.asset_materializations


def test_asset_sensor_receives_the_materializations(shared_codeserver):
    server = shared_codeserver(INSTIGATORS)
    record = events_pb2.MaterializationRecord(
        event_id=42,
        run_id="run-1",
        materialization=events_pb2.AssetMaterialization(
            asset_key=common_pb2.AssetKey(path=["orders"]), partition="p1"
        ),
    )

    reply = server.stub.EvaluateSensor(
        code_location_pb2.EvaluateSensorRequest(
            sensor_name="orders_changed", materializations=[record]
        )
    )

    assert [r.run_key for r in reply.run_requests] == ["orders-42-p1"]
    assert reply.cursor == "42"


def test_run_status_sensor_receives_the_runs(shared_codeserver):
    server = shared_codeserver(INSTIGATORS)
    change = code_location_pb2.RunStatusChange(
        run=runs_pb2.Run(run_id="run-9", status=runs_pb2.RUN_STATUS_FAILURE, job_name="refresh"),
        event=events_pb2.RunEvent(
            run_id="run-9", event_id=7, event_type=events_pb2.RUN_EVENT_TYPE_RUN_FAILURE
        ),
    )

    reply = server.stub.EvaluateSensor(
        code_location_pb2.EvaluateSensorRequest(
            sensor_name="retry_failures", run_status_changes=[change]
        )
    )

    assert [r.run_key for r in reply.run_requests] == ["retry-run-9"]
    assert reply.cursor == "7"


def test_unknown_schedule_or_sensor_is_not_found(shared_codeserver):
    server = shared_codeserver(INSTIGATORS)
    with pytest.raises(grpc.RpcError) as sensor:
        server.stub.EvaluateSensor(code_location_pb2.EvaluateSensorRequest(sensor_name="nope"))
    assert sensor.value.code() == grpc.StatusCode.NOT_FOUND
    assert "new_regions" in sensor.value.details()  # the known ones are listed
    with pytest.raises(grpc.RpcError) as schedule:
        server.stub.EvaluateSchedule(
            code_location_pb2.EvaluateScheduleRequest(schedule_name="nope")
        )
    assert schedule.value.code() == grpc.StatusCode.NOT_FOUND
