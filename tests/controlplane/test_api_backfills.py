"""Backfills over gRPC and HTTP, driven pass by pass by a BackfillDaemon of the test's own.

The runs it queues are finished by reporting their events, as a worker would, so the
backfill follows real run outcomes and partition status."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import grpc
import pytest
import weir as dg
from api_harness import (
    ApiServer,
    add_location,
    event,
    key,
    materialized,
    md,
    rpc_error,
    sdk_asset,
)
from api_harness import launch as launch_run
from api_harness import snapshot as make_snapshot
from weir_controlplane.backfills.daemon import BACKFILL_TAG, BackfillDaemon, BackfillSettings
from weir_controlplane.storage import DeploymentScope, Run, RunFilter, RunStatus
from weir_protos.v1 import control_plane_pb2 as cp
from weir_protos.v1 import events_pb2 as E

DAYS = dg.DailyPartitionsDefinition("2024-01-01", end_date="2024-01-31")  # 30 days
LONGER_DAYS = dg.DailyPartitionsDefinition("2024-01-01", end_date="2024-02-01")
FIRST, LAST = "2024-01-01", "2024-01-30"


def day(n: int) -> str:
    return f"2024-01-{n:02d}"


@pytest.fixture
def chain(server: ApiServer, scope: DeploymentScope) -> DeploymentScope:
    """raw -> clean (reads the day before too) -> report, all daily; plus an hourly
    asset, a static one and a dynamic one."""
    add_location(
        server.storage,
        scope,
        "etl",
        make_snapshot(
            sdk_asset("raw", DAYS),
            sdk_asset("clean", DAYS, deps={"raw": dg.TimeWindowPartitionMapping(start_offset=-1)}),
            sdk_asset("report", DAYS, deps={"clean": None}),
            sdk_asset("regions", dg.StaticPartitionsDefinition(["eu", "us"])),
            sdk_asset("by_region", DAYS, deps={"regions": dg.IdentityPartitionMapping()}),
            sdk_asset("files", dg.DynamicPartitionsDefinition(name="files")),
            sdk_asset(
                "grid",
                dg.MultiPartitionsDefinition(
                    {
                        "color": dg.StaticPartitionsDefinition(["red", "blue"]),
                        "date": dg.DailyPartitionsDefinition("2024-01-01", end_date="2024-01-03"),
                    }
                ),
            ),
        ),
    )
    return scope


def daemon(server: ApiServer, **settings: Any) -> BackfillDaemon:
    return BackfillDaemon(
        server.storage.backfills,
        server.storage.deployments,
        server.coordinator,
        BackfillSettings(**settings),
    )


def launch(server: ApiServer, scope: DeploymentScope, **fields: Any) -> str:
    request = cp.LaunchBackfillRequest(**fields)
    return server.control_plane().LaunchBackfill(request, metadata=md(scope)).backfill_id


def get(server: ApiServer, scope: DeploymentScope, backfill_id: str) -> Any:
    request = cp.GetBackfillRequest(backfill_id=backfill_id)
    return server.control_plane().GetBackfill(request, metadata=md(scope)).backfill


def backfill_runs(server: ApiServer, scope: DeploymentScope, backfill_id: str) -> list[Run]:
    page = server.storage.runs.list_runs(
        scope, RunFilter(tags={BACKFILL_TAG: backfill_id}), limit=1000
    )
    return list(page.items)


def finish(server: ApiServer, scope: DeploymentScope, run: Run, *, ok: bool = True) -> None:
    """Report the run's events as its worker would: each asset materialized, or failed."""
    events = [event(1, E.RUN_EVENT_TYPE_RUN_STARTED)]
    for asset in run.asset_keys:
        if ok:
            events.append(
                event(
                    len(events) + 1,
                    E.RUN_EVENT_TYPE_ASSET_MATERIALIZATION,
                    step=asset,
                    materialization=materialized(asset, run.partition_key or ""),
                )
            )
        else:
            events.append(
                event(len(events) + 1, E.RUN_EVENT_TYPE_STEP_FAILURE, step=asset, message="boom")
            )
            break
    ending = E.RUN_EVENT_TYPE_RUN_SUCCESS if ok else E.RUN_EVENT_TYPE_RUN_FAILURE
    events.append(event(len(events) + 1, ending))
    server.report(scope, run.run_id, *events)


def run_to_end(
    server: ApiServer,
    scope: DeploymentScope,
    backfill_id: str,
    driver: BackfillDaemon,
    fail: set[tuple[str, str]] = frozenset(),  # type: ignore[assignment]
) -> list[Run]:
    """Drive the backfill, finishing every run it queues, until it ends; its runs."""
    for _ in range(500):
        driver.drive(scope, backfill_id)
        queued = [
            run
            for run in backfill_runs(server, scope, backfill_id)
            if run.status is RunStatus.QUEUED
        ]
        if not queued and get(server, scope, backfill_id).end_time.seconds:
            return backfill_runs(server, scope, backfill_id)
        for run in queued:
            failing = any((asset, run.partition_key) in fail for asset in run.asset_keys)
            finish(server, scope, run, ok=not failing)
    raise AssertionError("the backfill did not end")


def progress(reply: Any) -> dict[str, Any]:
    return {"/".join(a.key.path): a for a in reply.assets}


def test_a_backfill_materializes_every_partition_once_in_dependency_order(
    server: ApiServer, chain: DeploymentScope
) -> None:
    backfill_id = launch(
        server,
        chain,
        selection="raw*",
        partition_range={"start": FIRST, "end": LAST},
        tags={"team": "data"},
    )
    planned = get(server, chain, backfill_id)
    assert planned.status == cp.BACKFILL_STATUS_REQUESTED
    assert planned.run_count == 60  # raw per day; clean and report together per day
    counts = progress(planned)["clean"].counts
    assert (counts.total, counts.requested) == (30, 30)

    driver = daemon(server, max_queued=7)
    driver.drive(chain, backfill_id)
    first = backfill_runs(server, chain, backfill_id)
    # Only the runs with nothing to wait for, and no more than max_queued of them.
    assert len(first) == 7
    assert {run.asset_keys for run in first} == {("raw",)}
    assert all(run.tags["team"] == "data" for run in first)
    driver.drive(chain, backfill_id)
    assert len(backfill_runs(server, chain, backfill_id)) == 7  # nothing launched twice

    runs = run_to_end(server, chain, backfill_id, driver)
    done = get(server, chain, backfill_id)
    assert done.status == cp.BACKFILL_STATUS_COMPLETED
    assert (done.runs_succeeded, done.runs_failed, done.runs_skipped) == (60, 0, 0)
    made = Counter((asset, run.partition_key) for run in runs for asset in run.asset_keys)
    expected = {(a, day(d)) for a in ("raw", "clean", "report") for d in range(1, 31)}
    assert set(made) == expected and set(made.values()) == {1}
    # Each clean run came after raw's runs of its day and the day before.
    created = {(run.asset_keys[0], run.partition_key): run.created_at for run in runs}
    for d in range(2, 31):
        assert created[("clean", day(d))] > created[("raw", day(d - 1))]
    reply = progress(done)["report"]
    assert [(r.start, r.end, r.state, r.start_key, r.end_key) for r in reply.ranges] == [
        (0, 30, cp.BACKFILL_PARTITION_STATE_MATERIALIZED, FIRST, LAST)
    ]


def test_a_failed_partition_fails_only_its_downstream_and_from_failure_reruns_them(
    server: ApiServer, chain: DeploymentScope
) -> None:
    backfill_id = launch(
        server,
        chain,
        selection="raw*",
        partition_range={"start": FIRST, "end": LAST},
    )
    run_to_end(server, chain, backfill_id, daemon(server), fail={("raw", day(10))})
    reply = get(server, chain, backfill_id)
    assert reply.status == cp.BACKFILL_STATUS_FAILED
    assert (reply.runs_failed, reply.runs_skipped, reply.runs_succeeded) == (1, 2, 57)
    clean = progress(reply)["clean"]
    assert (clean.counts.materialized, clean.counts.skipped) == (28, 2)
    assert [
        (r.start_key, r.end_key)
        for r in clean.ranges
        if r.state == cp.BACKFILL_PARTITION_STATE_SKIPPED
    ] == [(day(10), day(11))]
    assert progress(reply)["raw"].counts.failed == 1

    # From failure: the failed raw day and the two skipped days downstream, nothing else.
    again, runs = rerun_month_from_failure(server, chain)
    assert runs == [
        (("clean", "report"), day(10)),
        (("clean", "report"), day(11)),
        (("raw",), day(10)),
    ]
    assert get(server, chain, again).status == cp.BACKFILL_STATUS_COMPLETED


def rerun_month_from_failure(
    server: ApiServer, scope: DeploymentScope
) -> tuple[str, list[tuple[tuple[str, ...], str | None]]]:
    """Backfill raw* from failure over the whole month; its id and (assets, key) per run."""
    backfill_id = launch(
        server,
        scope,
        selection="raw*",
        partition_range={"start": FIRST, "end": LAST},
        from_failure=True,
    )
    runs = run_to_end(server, scope, backfill_id, daemon(server))
    return backfill_id, sorted((run.asset_keys, run.partition_key) for run in runs)


def test_from_failure_leaves_out_partitions_that_never_ran_upstream_of_no_failure(
    server: ApiServer, chain: DeploymentScope
) -> None:
    first = launch(server, chain, selection="raw*", partition_range={"start": FIRST, "end": day(5)})
    run_to_end(server, chain, first, daemon(server), fail={("raw", day(3))})
    # Days 6 to 30 never ran; from failure over the whole month re-runs day 3 only.
    assert rerun_month_from_failure(server, chain)[1] == [
        (("clean", "report"), day(3)),
        (("clean", "report"), day(4)),
        (("raw",), day(3)),
    ]


def test_from_failure_includes_a_failed_unpartitioned_asset_and_what_reads_it(
    server: ApiServer, chain: DeploymentScope
) -> None:
    add_location(
        server.storage,
        chain,
        "lookups",
        make_snapshot(
            sdk_asset("lookup"),
            sdk_asset("enriched", DAYS, deps={"lookup": None}),
            sdk_asset("steady"),
        ),
    )
    for name, ok in (("lookup", False), ("steady", True)):
        run = server.storage.runs.get_run(chain, launch_run(server, chain, name).run_id)
        finish(server, chain, run, ok=ok)
    request = {"selection": "lookup* steady", "partition_range": {"start": FIRST, "end": day(2)}}
    backfill_id = launch(server, chain, **request, from_failure=True)
    runs = run_to_end(server, chain, backfill_id, daemon(server))
    assert sorted((run.asset_keys, run.partition_key or "") for run in runs) == [
        (("enriched",), day(1)),
        (("enriched",), day(2)),
        (("lookup",), ""),
    ]
    # Now nothing failed: from failure has nothing to do and says so.
    error = rpc_error(lambda: launch(server, chain, **request, from_failure=True))
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "nothing to backfill" in (error.details() or "")


def test_cancel_stops_launching_and_cancels_queued_runs_then_resume_finishes(
    server: ApiServer, chain: DeploymentScope
) -> None:
    backfill_id = launch(server, chain, selection="raw", partition_keys=[day(1), day(2), day(3)])
    driver = daemon(server, max_queued=2)
    driver.drive(chain, backfill_id)
    assert len(backfill_runs(server, chain, backfill_id)) == 2
    request = cp.CancelBackfillRequest(backfill_id=backfill_id)
    canceling = server.control_plane().CancelBackfill(request, metadata=md(chain)).backfill
    assert canceling.status == cp.BACKFILL_STATUS_CANCELING
    driver.drive(chain, backfill_id)
    runs = backfill_runs(server, chain, backfill_id)
    assert len(runs) == 2 and {run.status for run in runs} == {RunStatus.CANCELED}
    driver.drive(chain, backfill_id)
    assert get(server, chain, backfill_id).status == cp.BACKFILL_STATUS_CANCELED

    resume = cp.ResumeBackfillRequest(backfill_id=backfill_id)
    resumed = server.control_plane().ResumeBackfill(resume, metadata=md(chain)).backfill
    assert resumed.status == cp.BACKFILL_STATUS_RUNNING
    runs = run_to_end(server, chain, backfill_id, driver)
    succeeded = sorted(run.partition_key for run in runs if run.status is RunStatus.SUCCESS)
    assert succeeded == [day(1), day(2), day(3)]
    assert len(runs) == 5  # two canceled, then three new runs
    # Resuming a completed backfill is refused, naming its status.
    error = rpc_error(lambda: server.control_plane().ResumeBackfill(resume, metadata=md(chain)))
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "COMPLETED" in error.details()


def test_a_replica_that_died_mid_launch_is_taken_over_without_a_lost_or_doubled_run(
    server: ApiServer, chain: DeploymentScope
) -> None:
    backfill_id = launch(
        server, chain, selection="raw", partition_range={"start": FIRST, "end": day(6)}
    )
    first = daemon(server, max_queued=3, lease_seconds=0.2)
    first.run_pass()
    assert len(backfill_runs(server, chain, backfill_id)) == 3
    # Another replica finds the lease held and launches nothing.
    other = daemon(server, max_queued=3, lease_seconds=0.2)
    other.run_pass()
    assert len(backfill_runs(server, chain, backfill_id)) == 3
    # The first replica queues the next run, then dies before recording that it did.
    planned = server.storage.backfills.planned_runs(chain, backfill_id)
    from weir_controlplane.backfills.daemon import backfill_run_id

    nxt = planned[3]
    server.coordinator.submit(
        chain,
        location="etl",
        asset_keys=nxt.asset_keys,
        partition_key=nxt.partition_keys[0],
        tags={BACKFILL_TAG: backfill_id},
        run_id=backfill_run_id(backfill_id, nxt),
    )
    time.sleep(0.3)  # its lease runs out
    runs = run_to_end(server, chain, backfill_id, other)
    assert sorted(run.partition_key for run in runs) == [day(d) for d in range(1, 7)]
    assert get(server, chain, backfill_id).status == cp.BACKFILL_STATUS_COMPLETED


def test_multi_and_dynamic_partitions_and_mapped_definitions(
    server: ApiServer, chain: DeploymentScope
) -> None:
    # regions (static) -> by_region (daily) through an identity mapping cannot apply.
    error = rpc_error(lambda: launch(server, chain, selection="regions+", all_partitions=True))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "'by_region'" in error.details() and "'regions'" in error.details()
    assert server.storage.backfills.list_backfills(chain).items == ()

    # A multi-partitioned asset: one run per combination of keys.
    grid = launch(server, chain, selection="grid", all_partitions=True)
    runs = run_to_end(server, chain, grid, daemon(server))
    assert len({run.partition_key for run in runs}) == len(runs) == 4
    assert progress(get(server, chain, grid))["grid"].counts.materialized == 4

    # Dynamic keys added, then backfilled.
    add = cp.AddDynamicPartitionsRequest(
        partitions_def_name="files", partition_keys=["a.csv", "b.csv"]
    )
    server.control_plane().AddDynamicPartitions(add, metadata=md(chain))
    backfill_id = launch(server, chain, selection="files", all_partitions=True)
    runs = run_to_end(server, chain, backfill_id, daemon(server))
    assert sorted(run.partition_key for run in runs) == ["a.csv", "b.csv"]


@pytest.mark.parametrize(
    ("fields", "code", "words"),
    [
        (
            {"selection": "raw", "partition_keys": ["1999-01-01"]},
            "INVALID_ARGUMENT",
            ["'1999-01-01'", "'raw'"],
        ),
        (
            {"selection": "raw", "partition_range": {"start": LAST, "end": FIRST}},
            "INVALID_ARGUMENT",
            ["reversed", "swap"],
        ),
        (
            {"selection": "raw", "partition_range": {"start": FIRST, "end": "2024-03-01"}},
            "INVALID_ARGUMENT",
            ["outside", "'2024-03-01'"],
        ),
        ({"selection": "raw"}, "INVALID_ARGUMENT", ["exactly one of"]),
        (
            {"selection": "raw", "all_partitions": True, "partition_keys": [FIRST]},
            "INVALID_ARGUMENT",
            ["exactly one of"],
        ),
        (
            {"selection": "nothing_here", "all_partitions": True},
            "INVALID_ARGUMENT",
            ["nothing_here"],
        ),
        (
            {"selection": "files", "partition_keys": ["x.csv"]},
            "INVALID_ARGUMENT",
            ["AddDynamicPartitions"],
        ),
    ],
)
def test_bad_requests_are_refused_over_http_naming_the_fix_and_store_nothing(
    server: ApiServer, chain: DeploymentScope, fields: dict[str, Any], code: str, words: list[str]
) -> None:
    with server.http(chain.name) as http:
        reply = http.post("/weir.v1.ControlPlaneService/LaunchBackfill", json=_camel(fields))
        assert reply.status_code == 400, reply.text
        body = reply.json()
        assert body["code"] == code.lower()
        for word in words:
            assert word in body["message"], body["message"]
        listed = http.post("/weir.v1.ControlPlaneService/ListBackfills", json={})
        assert listed.json().get("backfills", []) == []


def test_get_list_and_unknown_ids_over_http(server: ApiServer, chain: DeploymentScope) -> None:
    backfill_id = launch(server, chain, selection="raw", partition_keys=[day(1)])
    with server.http(chain.name) as http:
        got = http.post(
            "/weir.v1.ControlPlaneService/GetBackfill", json={"backfillId": backfill_id}
        )
        assert got.status_code == 200
        assert got.json()["backfill"]["status"] == "BACKFILL_STATUS_REQUESTED"
        listed = http.post("/weir.v1.ControlPlaneService/ListBackfills", json={})
        assert [b["backfillId"] for b in listed.json()["backfills"]] == [backfill_id]
        missing = http.post("/weir.v1.ControlPlaneService/GetBackfill", json={"backfillId": "nope"})
        assert missing.status_code == 404
        assert "'nope'" in missing.json()["message"]


def _camel(fields: dict[str, Any]) -> dict[str, Any]:
    def camel(name: str) -> str:
        head, *rest = name.split("_")
        return head + "".join(part.title() for part in rest)

    return {camel(k): v for k, v in fields.items()}


def test_a_step_failing_in_a_run_over_a_range_fails_the_partitions_it_did_not_make(
    server: ApiServer, chain: DeploymentScope
) -> None:
    policy = dg.BackfillPolicy.single_run()
    node = sdk_asset("rollup", DAYS, backfill_policy=policy)
    add_location(server.storage, chain, "rollups", make_snapshot(node))
    backfill_id = launch(
        server, chain, selection="rollup", partition_range={"start": day(3), "end": day(12)}
    )
    daemon(server).drive(chain, backfill_id)
    (run,) = backfill_runs(server, chain, backfill_id)
    made = [
        event(2 + n, E.RUN_EVENT_TYPE_ASSET_MATERIALIZATION, step="rollup",
              materialization=materialized("rollup", day(d)))
        for n, d in enumerate(range(3, 6))
    ]  # fmt: skip
    server.report(chain, run.run_id, event(1, E.RUN_EVENT_TYPE_RUN_STARTED), *made)
    server.report(
        chain,
        run.run_id,
        event(5, E.RUN_EVENT_TYPE_STEP_FAILURE, step="rollup", message="ValueError: boom"),
        event(6, E.RUN_EVENT_TYPE_RUN_FAILURE),
    )
    request = cp.GetPartitionStatusRequest(key=key("rollup"))
    reply = server.control_plane().GetPartitionStatus(request, metadata=md(chain))
    assert [(r.start, r.end, r.state) for r in reply.ranges] == [
        (0, 2, cp.PARTITION_STATE_MISSING),
        (2, 5, cp.PARTITION_STATE_MATERIALIZED),
        (5, 12, cp.PARTITION_STATE_FAILED),
        (12, 30, cp.PARTITION_STATE_MISSING),
    ]
    assert reply.counts.failed == 7
    # The failures are the partitions' latest outcomes: rebuilt, the status is the same.
    add_location(
        server.storage, chain, "rollups",
        make_snapshot(sdk_asset("rollup", LONGER_DAYS, backfill_policy=policy)),
    )  # fmt: skip
    rebuilt = server.control_plane().GetPartitionStatus(request, metadata=md(chain))
    assert [(r.start, r.end, r.state) for r in rebuilt.ranges][1:3] == [
        (2, 5, cp.PARTITION_STATE_MATERIALIZED),
        (5, 12, cp.PARTITION_STATE_FAILED),
    ]
    daemon(server).drive(chain, backfill_id)
    assert get(server, chain, backfill_id).status == cp.BACKFILL_STATUS_FAILED


def test_a_run_over_a_range_shows_its_partitions_in_progress_until_it_ends(
    server: ApiServer, chain: DeploymentScope
) -> None:
    def add_rollup(days: dg.DailyPartitionsDefinition) -> None:
        policy = dg.BackfillPolicy.single_run()
        node = sdk_asset("rollup", days, backfill_policy=policy)
        add_location(server.storage, chain, "rollups", make_snapshot(node))

    add_rollup(DAYS)
    backfill_id = launch(
        server, chain, selection="rollup", partition_range={"start": day(3), "end": day(12)}
    )
    daemon(server).drive(chain, backfill_id)
    (run,) = backfill_runs(server, chain, backfill_id)
    assert run.partition_key is None  # one run over the range

    def rollup_status() -> list[tuple[int, int, int, str, str]]:
        request = cp.GetPartitionStatusRequest(key=key("rollup"))
        reply = server.control_plane().GetPartitionStatus(request, metadata=md(chain))
        return [(r.start, r.end, r.state, r.start_key, r.end_key) for r in reply.ranges]

    server.report(chain, run.run_id, event(1, E.RUN_EVENT_TYPE_RUN_STARTED))
    assert rollup_status() == [
        (0, 2, cp.PARTITION_STATE_MISSING, day(1), day(2)),
        (2, 12, cp.PARTITION_STATE_IN_PROGRESS, day(3), day(12)),
        (12, 30, cp.PARTITION_STATE_MISSING, day(13), LAST),
    ]
    # Rebuilt from the runs in progress under a longer definition, the range still shows.
    add_rollup(dg.DailyPartitionsDefinition("2024-01-01", end_date="2024-02-01"))
    assert rollup_status()[1:] == [
        (2, 12, cp.PARTITION_STATE_IN_PROGRESS, day(3), day(12)),
        (12, 31, cp.PARTITION_STATE_MISSING, day(13), "2024-01-31"),
    ]
    events = [
        event(
            2 + n,
            E.RUN_EVENT_TYPE_ASSET_MATERIALIZATION,
            step="rollup",
            materialization=materialized("rollup", day(d)),
        )
        for n, d in enumerate(range(3, 8))
    ]
    server.report(chain, run.run_id, *events, event(7, E.RUN_EVENT_TYPE_RUN_FAILURE))
    assert rollup_status() == [
        (0, 2, cp.PARTITION_STATE_MISSING, day(1), day(2)),
        (2, 7, cp.PARTITION_STATE_MATERIALIZED, day(3), day(7)),
        (7, 31, cp.PARTITION_STATE_MISSING, day(8), "2024-01-31"),
    ]
