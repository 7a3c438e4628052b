"""Partition status, partition keys and dynamic partitions over gRPC and HTTP.

Status follows the runs' events as ingest stores them: a started run shows its partition
in progress, a materialization or a failed step settles it, and a changed definition
renumbers what was recorded by key."""

from __future__ import annotations

from typing import Any

import grpc
import pytest
import sqlalchemy as sa
import weir as dg
from api_harness import (
    ApiServer,
    add_location,
    asset,
    event,
    key,
    launch,
    materialized,
    md,
    rpc_error,
    snapshot,
)
from weir_codeserver.wire_partitions import partitions_def_message
from weir_controlplane.storage import DeploymentScope
from weir_controlplane.storage.schema import asset_partition_status
from weir_partitions import IndexRanges
from weir_protos.v1 import control_plane_pb2 as cp
from weir_protos.v1 import events_pb2 as E

MATERIALIZED = cp.PARTITION_STATE_MATERIALIZED
MISSING = cp.PARTITION_STATE_MISSING
FAILED = cp.PARTITION_STATE_FAILED
IN_PROGRESS = cp.PARTITION_STATE_IN_PROGRESS

SERVICE = "/weir.v1.ControlPlaneService"


def partitioned(name: str, definition: Any) -> Any:
    node = asset(name)
    node.partitions_def.CopyFrom(partitions_def_message(definition))
    return node


def location_nodes(regions: list[str] | None = None) -> list[Any]:
    return [
        asset("regions", partitions=regions or ["eu", "us", "apac", "latam"]),
        partitioned(
            "hourly",
            dg.HourlyPartitionsDefinition("2000-01-01-00:00", end_date="2010-01-01-00:00"),
        ),
        partitioned("files", dg.DynamicPartitionsDefinition(name="files")),
        partitioned(
            "by_region",
            dg.MultiPartitionsDefinition(
                {
                    "color": dg.StaticPartitionsDefinition(["red", "blue"]),
                    "date": dg.DailyPartitionsDefinition("2024-01-01", end_date="2024-01-04"),
                }
            ),
        ),
        partitioned(
            "files_by_day",
            dg.MultiPartitionsDefinition(
                {
                    "date": dg.DailyPartitionsDefinition("2024-01-01", end_date="2024-01-04"),
                    "file": dg.DynamicPartitionsDefinition(name="files"),
                }
            ),
        ),
        partitioned(
            "day_pairs",
            dg.MultiPartitionsDefinition(
                {
                    "start": dg.DailyPartitionsDefinition("2024-01-01", end_date="2024-01-03"),
                    "stop": dg.DailyPartitionsDefinition("2024-01-01", end_date="2024-01-03"),
                }
            ),
        ),
        asset("plain"),
    ]


@pytest.fixture
def parts(server: ApiServer, scope: DeploymentScope) -> DeploymentScope:
    add_location(server.storage, scope, "parts", snapshot(*location_nodes()))
    return scope


def status(server: ApiServer, scope: DeploymentScope, name: str, buckets: int = 0) -> Any:
    request = cp.GetPartitionStatusRequest(key=key(name), max_buckets=buckets)
    return server.control_plane().GetPartitionStatus(request, metadata=md(scope))


def ranges(reply: Any) -> list[tuple[int, int, int, str, str]]:
    return [(r.start, r.end, r.state, r.start_key, r.end_key) for r in reply.ranges]


def run_partition(
    server: ApiServer, scope: DeploymentScope, name: str, partition: str, *, outcome: str
) -> str:
    """Launch and report a run of one partition: "success", "failure" or "started"."""
    run = launch(server, scope, name, partition_key=partition)
    step = name.replace("/", "__")
    events = [event(1, E.RUN_EVENT_TYPE_RUN_STARTED)]
    if outcome == "success":
        events += [
            event(
                2,
                E.RUN_EVENT_TYPE_ASSET_MATERIALIZATION,
                step=step,
                materialization=materialized(name, partition),
            ),
            event(3, E.RUN_EVENT_TYPE_RUN_SUCCESS),
        ]
    elif outcome == "failure":
        events += [
            event(2, E.RUN_EVENT_TYPE_STEP_FAILURE, step=step, message="ValueError: boom"),
            event(3, E.RUN_EVENT_TYPE_RUN_FAILURE, message="step failed"),
        ]
    server.report(scope, run.run_id, *events)
    return run.run_id


def test_status_counts_and_ranges_follow_materializations_failures_and_started_runs(
    server: ApiServer, parts: DeploymentScope
) -> None:
    empty = status(server, parts, "regions")
    assert (empty.counts.total, empty.counts.missing) == (4, 4)
    assert ranges(empty) == [(0, 4, MISSING, "eu", "latam")]

    run_partition(server, parts, "regions", "eu", outcome="success")
    run_partition(server, parts, "regions", "us", outcome="success")
    run_partition(server, parts, "regions", "apac", outcome="failure")
    started = run_partition(server, parts, "regions", "latam", outcome="started")
    reply = status(server, parts, "regions")
    counts = reply.counts
    assert (counts.materialized, counts.failed, counts.in_progress, counts.missing) == (2, 1, 1, 0)
    assert ranges(reply) == [
        (0, 2, MATERIALIZED, "eu", "us"),
        (2, 3, FAILED, "apac", "apac"),
        (3, 4, IN_PROGRESS, "latam", "latam"),
    ]

    # Ending the started run without a materialization leaves the partition missing.
    server.report(parts, started, event(2, E.RUN_EVENT_TYPE_RUN_CANCELED))
    assert ranges(status(server, parts, "regions"))[-1] == (3, 4, MISSING, "latam", "latam")
    # A later success replaces the failure.
    run_partition(server, parts, "regions", "apac", outcome="success")
    assert ranges(status(server, parts, "regions"))[0] == (0, 3, MATERIALIZED, "eu", "apac")


def test_a_run_over_a_materialized_partition_shows_in_progress_then_its_outcome_again(
    server: ApiServer, parts: DeploymentScope
) -> None:
    run_partition(server, parts, "regions", "eu", outcome="success")
    again = run_partition(server, parts, "regions", "eu", outcome="started")
    assert ranges(status(server, parts, "regions"))[0] == (0, 1, IN_PROGRESS, "eu", "eu")
    server.report(parts, again, event(2, E.RUN_EVENT_TYPE_RUN_CANCELED))
    assert ranges(status(server, parts, "regions"))[0] == (0, 1, MATERIALIZED, "eu", "eu")


def test_a_changed_definition_renumbers_the_recorded_status_by_key(
    server: ApiServer, parts: DeploymentScope
) -> None:
    run_partition(server, parts, "regions", "us", outcome="success")
    add_location(server.storage, parts, "parts", snapshot(*location_nodes(["latam", "us", "eu"])))
    reply = status(server, parts, "regions")
    assert reply.counts.total == 3 and reply.counts.materialized == 1
    assert ranges(reply)[1] == (1, 2, MATERIALIZED, "us", "us")


def test_hourly_status_merges_runs_into_buckets_and_keeps_exact_counts(
    server: ApiServer, parts: DeploymentScope
) -> None:
    for partition in ("2000-01-01-00:00", "2000-01-01-01:00", "2005-06-01-12:00"):
        run_partition(server, parts, "hourly", partition, outcome="success")
    run_partition(server, parts, "hourly", "2009-12-31-23:00", outcome="failure")
    exact = status(server, parts, "hourly")
    total = 87_672  # hours of 2000-2009
    assert exact.counts.total == total and not exact.merged
    assert (exact.counts.materialized, exact.counts.failed) == (3, 1)
    assert ranges(exact)[0] == (0, 2, MATERIALIZED, "2000-01-01-00:00", "2000-01-01-01:00")
    assert ranges(exact)[-1] == (total - 1, total, FAILED, "2009-12-31-23:00", "2009-12-31-23:00")

    bar = status(server, parts, "hourly", buckets=4)
    assert bar.merged and bar.counts == exact.counts
    # Four buckets: the one failure stays visible in the last; single materialized
    # hours are sub-pixel among missing ones.
    assert [(r.state, r.start_key) for r in bar.ranges] == [
        (MISSING, "2000-01-01-00:00"),
        (FAILED, "2007-07-02-18:00"),
    ]
    assert bar.ranges[-1].end == total


def keys_of(server: ApiServer, scope: DeploymentScope, name: str) -> list[str]:
    request = cp.GetPartitionKeysRequest(key=key(name))
    return list(server.control_plane().GetPartitionKeys(request, metadata=md(scope)).partition_keys)


def test_multi_partitions_are_numbered_with_the_time_window_first(
    server: ApiServer, parts: DeploymentScope
) -> None:
    assert keys_of(server, parts, "by_region") == [
        f"{color}|{day}"
        for day in ("2024-01-01", "2024-01-02", "2024-01-03")
        for color in ("red", "blue")
    ]
    run_partition(server, parts, "by_region", "blue|2024-01-02", outcome="success")
    run_partition(server, parts, "by_region", "red|2024-01-03", outcome="failure")
    assert ranges(status(server, parts, "by_region")) == [
        (0, 3, MISSING, "red|2024-01-01", "red|2024-01-02"),
        (3, 4, MATERIALIZED, "blue|2024-01-02", "blue|2024-01-02"),
        (4, 5, FAILED, "red|2024-01-03", "red|2024-01-03"),
        (5, 6, MISSING, "blue|2024-01-03", "blue|2024-01-03"),
    ]


def test_multi_partitions_with_a_dynamic_dimension_are_numbered_by_the_stored_keys(
    server: ApiServer, parts: DeploymentScope
) -> None:
    def add(*keys: str) -> None:
        request = cp.AddDynamicPartitionsRequest(partitions_def_name="files", partition_keys=keys)
        server.control_plane().AddDynamicPartitions(request, metadata=md(parts))

    assert keys_of(server, parts, "files_by_day") == []
    add("b.csv", "a.csv")
    assert keys_of(server, parts, "files_by_day")[:3] == [
        "2024-01-01|b.csv",  # the dynamic keys in the order they were added
        "2024-01-01|a.csv",
        "2024-01-02|b.csv",
    ]
    run_partition(server, parts, "files_by_day", "2024-01-01|a.csv", outcome="success")
    run_partition(server, parts, "files_by_day", "2024-01-02|b.csv", outcome="started")
    reply = status(server, parts, "files_by_day")
    assert reply.counts.total == 6
    assert ranges(reply) == [
        (0, 1, MISSING, "2024-01-01|b.csv", "2024-01-01|b.csv"),
        (1, 2, MATERIALIZED, "2024-01-01|a.csv", "2024-01-01|a.csv"),
        (2, 3, IN_PROGRESS, "2024-01-02|b.csv", "2024-01-02|b.csv"),
        (3, 6, MISSING, "2024-01-02|a.csv", "2024-01-03|a.csv"),
    ]
    # A new file renumbers the grid; the status follows the keys.
    add("c.csv")
    reply = status(server, parts, "files_by_day")
    assert reply.counts.total == 9
    assert [(r.state, r.start_key) for r in reply.ranges if r.state != MISSING] == [
        (MATERIALIZED, "2024-01-01|a.csv"),
        (IN_PROGRESS, "2024-01-02|b.csv"),
    ]


def test_ingest_numbers_multi_partitions_with_a_dynamic_dimension_itself(
    server: ApiServer, parts: DeploymentScope
) -> None:
    request = cp.AddDynamicPartitionsRequest(
        partitions_def_name="files", partition_keys=["b.csv", "a.csv"]
    )
    server.control_plane().AddDynamicPartitions(request, metadata=md(parts))
    run_partition(server, parts, "files_by_day", "2024-01-01|a.csv", outcome="success")
    run_partition(server, parts, "files_by_day", "2024-01-02|a.csv", outcome="failure")
    # Before any read: ingest kept the stored status current, under the read's numbering.
    with server.storage.database.read() as conn:
        row = conn.execute(
            sa.select(asset_partition_status).where(
                asset_partition_status.c.asset_key == "files_by_day",
                asset_partition_status.c.deployment_id == parts.deployment_id,
            )
        ).one()
    assert row.space_fingerprint != ""  # not left stale for the next read to rebuild
    assert IndexRanges.from_bytes(row.materialized).runs() == [(1, 2)]
    assert IndexRanges.from_bytes(row.failed).runs() == [(3, 4)]
    reply = status(server, parts, "files_by_day")
    assert [(r.start, r.end, r.state) for r in reply.ranges if r.state != MISSING] == [
        (1, 2, MATERIALIZED),
        (3, 4, FAILED),
    ]
    with server.storage.database.read() as conn:
        again = conn.execute(
            sa.select(asset_partition_status.c.updated_at).where(
                asset_partition_status.c.asset_key == "files_by_day",
                asset_partition_status.c.deployment_id == parts.deployment_id,
            )
        ).scalar_one()
    assert again == row.updated_at  # the read used the stored row as it was


def test_multi_partitions_of_two_time_windows_are_numbered_by_the_first(
    server: ApiServer, parts: DeploymentScope
) -> None:
    assert keys_of(server, parts, "day_pairs") == [
        "2024-01-01|2024-01-01",
        "2024-01-01|2024-01-02",
        "2024-01-02|2024-01-01",
        "2024-01-02|2024-01-02",
    ]
    run_partition(server, parts, "day_pairs", "2024-01-02|2024-01-01", outcome="failure")
    assert ranges(status(server, parts, "day_pairs")) == [
        (0, 2, MISSING, "2024-01-01|2024-01-01", "2024-01-01|2024-01-02"),
        (2, 3, FAILED, "2024-01-02|2024-01-01", "2024-01-02|2024-01-01"),
        (3, 4, MISSING, "2024-01-02|2024-01-02", "2024-01-02|2024-01-02"),
    ]


def test_partition_keys_page_in_order(server: ApiServer, parts: DeploymentScope) -> None:
    stub = server.control_plane()
    page = stub.GetPartitionKeys(
        cp.GetPartitionKeysRequest(key=key("hourly"), offset=24, limit=2), metadata=md(parts)
    )
    assert list(page.partition_keys) == ["2000-01-02-00:00", "2000-01-02-01:00"]
    assert page.total_count == 87_672
    tail = stub.GetPartitionKeys(
        cp.GetPartitionKeysRequest(key=key("regions"), offset=3, limit=10), metadata=md(parts)
    )
    assert list(tail.partition_keys) == ["latam"] and tail.total_count == 4


def test_dynamic_partitions_are_added_launched_deleted_and_restored(
    server: ApiServer, parts: DeploymentScope
) -> None:
    stub = server.control_plane()
    added = stub.AddDynamicPartitions(
        cp.AddDynamicPartitionsRequest(partitions_def_name="files", partition_keys=["a", "b", "c"]),
        metadata=md(parts),
    )
    assert list(added.added_partition_keys) == ["a", "b", "c"]
    again = stub.AddDynamicPartitions(
        cp.AddDynamicPartitionsRequest(partitions_def_name="files", partition_keys=["c", "d"]),
        metadata=md(parts),
    )
    assert list(again.added_partition_keys) == ["d"]
    listed = stub.ListDynamicPartitions(
        cp.ListDynamicPartitionsRequest(partitions_def_name="files", limit=3), metadata=md(parts)
    )
    assert list(listed.partition_keys) == ["a", "b", "c"] and listed.next_cursor
    rest = stub.ListDynamicPartitions(
        cp.ListDynamicPartitionsRequest(partitions_def_name="files", cursor=listed.next_cursor),
        metadata=md(parts),
    )
    assert list(rest.partition_keys) == ["d"] and not rest.next_cursor

    run_partition(server, parts, "files", "b", outcome="success")
    assert ranges(status(server, parts, "files")) == [
        (0, 1, MISSING, "a", "a"),
        (1, 2, MATERIALIZED, "b", "b"),
        (2, 4, MISSING, "c", "d"),
    ]
    error = rpc_error(lambda: launch(server, parts, "files", partition_key="zzz"))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "not one of the keys of dynamic partitions 'files'" in (error.details() or "")

    deleted = stub.DeleteDynamicPartitions(
        cp.DeleteDynamicPartitionsRequest(partitions_def_name="files", partition_keys=["a", "x"]),
        metadata=md(parts),
    )
    assert list(deleted.deleted_partition_keys) == ["a"]
    assert ranges(status(server, parts, "files"))[0] == (0, 1, MATERIALIZED, "b", "b")
    keys = stub.GetPartitionKeys(cp.GetPartitionKeysRequest(key=key("files")), metadata=md(parts))
    assert list(keys.partition_keys) == ["b", "c", "d"] and keys.total_count == 3
    # Added again, "a" takes its first place back.
    stub.AddDynamicPartitions(
        cp.AddDynamicPartitionsRequest(partitions_def_name="files", partition_keys=["a"]),
        metadata=md(parts),
    )
    assert ranges(status(server, parts, "files"))[1] == (1, 2, MATERIALIZED, "b", "b")


def test_list_materializations_filters_by_partition_and_names_it(
    server: ApiServer, parts: DeploymentScope
) -> None:
    run_partition(server, parts, "regions", "eu", outcome="success")
    run_partition(server, parts, "regions", "us", outcome="success")
    reply = server.control_plane().ListMaterializations(
        cp.ListMaterializationsRequest(key=key("regions"), partition_key="us"), metadata=md(parts)
    )
    assert [m.partition_key for m in reply.materializations] == ["us"]


@pytest.mark.parametrize(
    ("method", "body", "status_code", "needle"),
    [
        ("GetPartitionStatus", {"key": {"path": ["nope"]}}, 404, "'nope' is not defined"),
        ("GetPartitionStatus", {"key": {"path": ["plain"]}}, 400, "'plain' is not partitioned"),
        ("GetPartitionKeys", {"key": {"path": ["plain"]}}, 400, "not partitioned"),
        ("GetPartitionKeys", {"key": {"path": ["regions"]}, "limit": -1}, 400, "limit"),
        (
            "AddDynamicPartitions",
            {"partitionsDefName": "filez", "partitionKeys": ["a"]},
            404,
            "a dynamic partitions definition named 'filez' (dynamic definitions: 'files')",
        ),
        ("AddDynamicPartitions", {"partitionKeys": ["a"]}, 400, "partitionsDefName is required"),
        (
            "AddDynamicPartitions",
            {"partitionsDefName": "files", "partitionKeys": ["ok", ""]},
            400,
            "partitionKeys[1] is empty",
        ),
        (
            "AddDynamicPartitions",
            {"partitionsDefName": "files", "partitionKeys": ["a|b"]},
            400,
            "contains '|'",
        ),
        ("AddDynamicPartitions", {"partitionsDefName": "files"}, 400, "partitionKeys is empty"),
        ("ListDynamicPartitions", {"partitionsDefName": "nope"}, 404, "named 'nope'"),
        (
            "DeleteDynamicPartitions",
            {"partitionsDefName": "nope", "partitionKeys": ["a"]},
            404,
            "named 'nope'",
        ),
    ],
)
def test_bad_requests_over_http_name_what_to_fix(
    server: ApiServer,
    parts: DeploymentScope,
    method: str,
    body: dict[str, Any],
    status_code: int,
    needle: str,
) -> None:
    with server.http(parts.name) as client:
        reply = client.post(f"{SERVICE}/{method}", json=body)
    assert reply.status_code == status_code, reply.text
    assert needle in reply.json()["message"]


def test_status_over_http_matches_grpc(server: ApiServer, parts: DeploymentScope) -> None:
    run_partition(server, parts, "regions", "us", outcome="success")
    with server.http(parts.name) as client:
        reply = client.post(f"{SERVICE}/GetPartitionStatus", json={"key": {"path": ["regions"]}})
    assert reply.status_code == 200
    body = reply.json()
    assert body["counts"] == {"total": "4", "materialized": "1", "missing": "3"}
    assert body["ranges"][1] == {
        "start": "1",
        "end": "2",
        "state": "PARTITION_STATE_MATERIALIZED",
        "startKey": "us",
        "endKey": "us",
    }
