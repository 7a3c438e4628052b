"""LaunchRun checks the partition key against the snapshot before queueing, over gRPC and
HTTP: time windows (with DST), custom cron, multi-dimensional and dynamic partitions.

The snapshot is what a Python code location sends: SDK definitions converted by the code
server, so the control plane reads exactly what the SDK wrote."""

from __future__ import annotations

from typing import Any

import grpc
import httpx
import pytest
import weir as dg
from api_harness import (
    ApiServer,
    add_location,
    asset,
    launch,
    md,
    rpc_error,
    serving,
    snapshot,
)
from weir_codeserver.wire_partitions import partitions_def_message
from weir_controlplane.storage import DeploymentScope, Storage
from weir_protos.v1 import control_plane_pb2 as cp
from weir_protos.v1 import partitions_pb2, runs_pb2

DEFINITIONS: dict[str, Any] = {
    "daily": dg.DailyPartitionsDefinition("2024-01-01", end_date="2024-03-01"),
    "hourly_ny": dg.HourlyPartitionsDefinition(
        "2024-11-02-00:00", end_date="2024-11-05-00:00", timezone="America/New_York"
    ),
    "second_monday": dg.TimeWindowPartitionsDefinition(
        start="2024-01-01", fmt="%Y-%m-%d", cron_schedule="0 0 * * 1#2", end="2025-01-01"
    ),
    "growing": dg.DailyPartitionsDefinition("2024-01-01", end_offset=1),
    "by_region": dg.MultiPartitionsDefinition(
        {
            "date": dg.DailyPartitionsDefinition("2024-01-01", end_date="2024-02-01"),
            "region": dg.StaticPartitionsDefinition(["eu", "us"]),
        }
    ),
    "files": dg.DynamicPartitionsDefinition(name="files"),
    "files_by_day": dg.MultiPartitionsDefinition(
        {
            "date": dg.DailyPartitionsDefinition("2024-01-01", end_date="2024-02-01"),
            "file": dg.DynamicPartitionsDefinition(name="files"),
        }
    ),
}


def partitioned(name: str, definition: partitions_pb2.PartitionsDefinition) -> Any:
    node = asset(name)
    node.partitions_def.CopyFrom(definition)
    return node


@pytest.fixture(scope="module")
def server(storage: Storage) -> Any:
    with serving(storage) as api_server:
        yield api_server


@pytest.fixture
def located(server: ApiServer, scope: DeploymentScope) -> DeploymentScope:
    nodes = [partitioned(name, partitions_def_message(d)) for name, d in DEFINITIONS.items()]
    broken = partitions_pb2.PartitionsDefinition()
    broken.time_window.cron_schedule = "every day"  # as a hand-written location might send
    broken.time_window.fmt = "%Y-%m-%d"
    broken.time_window.start.FromSeconds(1704067200)
    add_location(server.storage, scope, "parts", snapshot(*nodes, partitioned("broken", broken)))
    server.storage.dynamic_partitions.add(scope, "files", ["report.csv"])
    return scope


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("daily", "2024-02-29"),
        ("hourly_ny", "2024-11-03-01:00"),
        ("hourly_ny", "2024-11-03-01:00-0500"),  # the repeated hour's second instance
        ("second_monday", "2024-03-11"),
        ("growing", "2024-01-01"),
        ("by_region", "2024-01-31|us"),
        ("files", "report.csv"),
        ("files_by_day", "2024-01-02|report.csv"),
    ],
)
def test_a_key_the_code_location_has_is_queued(
    server: ApiServer, located: DeploymentScope, name: str, key: str
) -> None:
    run = launch(server, located, name, partition_key=key)
    assert run.status == runs_pb2.RUN_STATUS_QUEUED
    assert run.partition_key == key


@pytest.mark.parametrize(
    ("name", "key", "needles"),
    [
        ("daily", "2024-02-30", ["does not match the format '%Y-%m-%d'", "'2024-01-01'"]),
        ("daily", "2023-12-31", ["comes before the first partition", "'2024-02-29'"]),
        ("daily", "2024-03-01", ["comes after the last partition", "'2024-01-01' to '2024-02-29'"]),
        ("daily", "2024-1-2", ["does not match the format"]),
        # Windows start on the hour: 02:30 starts none.
        ("hourly_ny", "2024-11-03-02:30", ["not the start of a window", "'2024-11-02-00:00'"]),
        (
            "second_monday",
            "2024-03-04",
            ["not the start of a window of the schedule '0 0 * * 1#2'"],
        ),
        ("by_region", "2024-01-31|mars", ["dimension 'region' has no key 'mars'", "'eu', 'us'"]),
        ("by_region", "2024-01-31", ["keys join one key per dimension (date, region)"]),
        ("files_by_day", "2024-02-01|report.csv", ["dimension 'date'", "comes after the last"]),
        ("files", "", ["set partitionKey"]),
        (
            "files",
            "summary.csv",
            ["not one of the keys of dynamic partitions 'files'", "'report.csv'"],
        ),
        ("files_by_day", "2024-01-02|summary.csv", ["dimension 'file' has no key 'summary.csv'"]),
    ],
)
def test_an_unknown_key_is_invalid_naming_the_key_the_asset_and_valid_keys(
    server: ApiServer, located: DeploymentScope, name: str, key: str, needles: list[str]
) -> None:
    error = rpc_error(lambda: launch(server, located, name, partition_key=key))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    details = error.details()
    if key:
        assert f"{key!r} is not a partition of asset {name!r}" in details
    for needle in needles:
        assert needle in details, details
    listed = server.control_plane().ListRuns(cp.ListRunsRequest(), metadata=md(located))
    assert list(listed.runs) == []  # nothing was queued


def test_keys_of_a_window_in_progress_count_only_with_end_offset(
    server: ApiServer, located: DeploymentScope
) -> None:
    today = dg.DailyPartitionsDefinition("2024-01-01", end_offset=1).get_last_partition_key()
    assert launch(server, located, "growing", partition_key=today).partition_key == today
    error = rpc_error(lambda: launch(server, located, "daily", partition_key=today))
    assert "comes after the last partition" in error.details()


def test_a_definition_the_engine_cannot_read_is_a_failed_precondition(
    server: ApiServer, located: DeploymentScope
) -> None:
    error = rpc_error(lambda: launch(server, located, "broken", partition_key="2024-01-01"))
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "asset 'broken'" in error.details() and "'every day'" in error.details()


def test_over_http_an_unknown_key_is_a_400_naming_it(
    server: ApiServer, located: DeploymentScope
) -> None:
    body = {"assetKeys": [{"path": ["daily"]}], "partitionKey": "2024-02-30"}
    with httpx.Client(base_url=server.http_url, trust_env=False, timeout=30) as http:
        reply = http.post(
            "/weir.v1.ControlPlaneService/LaunchRun",
            json=body,
            headers={"x-weir-deployment": located.name},
        )
    assert reply.status_code == 400
    payload = reply.json()
    assert payload["code"] == "invalid_argument"
    assert "'2024-02-30' is not a partition of asset 'daily'" in payload["message"]
    assert "'2024-01-01' to '2024-02-29'" in payload["message"]


def test_a_partition_range_is_not_accepted_yet(server: ApiServer, located: DeploymentScope) -> None:
    window = partitions_pb2.PartitionKeyRange(start="2024-01-01", end="2024-01-03")
    error = rpc_error(lambda: launch(server, located, "daily", partition_range=window))
    assert error.code() == grpc.StatusCode.UNIMPLEMENTED
    assert "partitionKey" in error.details()
