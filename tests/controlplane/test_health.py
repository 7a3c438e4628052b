"""Asset health, freshness and check history: kept by ingest and the freshness daemon over
real storage, read through the API (GetAssetHealth, GetDeploymentHealth, ListAssets'
health and metadata filters, ListCheckEvaluations, ListMaterializations by metadata key)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from api_harness import (
    ApiServer,
    add_location,
    asset,
    event,
    key,
    launch,
    md,
    rpc_error,
    snapshot,
    weir,
)
from google.protobuf.timestamp_pb2 import Timestamp
from weir import AutomationCondition as AC
from weir_codeserver.wire_automation import automation_condition_message
from weir_controlplane.automation import AutomationDaemon, AutomationSettings
from weir_controlplane.daemons import FreshnessDaemon
from weir_controlplane.storage import ChangeKind, DeploymentScope, RunFilter
from weir_controlplane.storage import freshness as freshness_storage
from weir_protos.v1 import automation_pb2, common_pb2, definitions_pb2, events_pb2, health_pb2
from weir_protos.v1 import control_plane_pb2 as cp

E = events_pb2
H = health_pb2
T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def stamp(moment: datetime) -> Timestamp:
    value = Timestamp()
    value.FromDatetime(moment)
    return value


def time_window(node: definitions_pb2.AssetNode, fail: int, warn: int | None = None) -> None:
    node.freshness_policy.time_window.fail_window.FromTimedelta(timedelta(seconds=fail))
    if warn is not None:
        node.freshness_policy.time_window.warn_window.FromTimedelta(timedelta(seconds=warn))


def text(label: str, value: str) -> common_pb2.MetadataEntry:
    return common_pb2.MetadataEntry(label=label, value=common_pb2.MetadataValue(text=value))


def number(label: str, value: int) -> common_pb2.MetadataEntry:
    return common_pb2.MetadataEntry(label=label, value=common_pb2.MetadataValue(int=value))


class Run:
    """A launched run whose worker events a test reports one by one."""

    def __init__(self, server: ApiServer, scope: DeploymentScope, *names: str, **fields: object):
        self.server, self.scope = server, scope
        self.run_id = launch(server, scope, *names, **fields).run_id
        self.sequence = 0
        self.emit(E.RUN_EVENT_TYPE_RUN_STARTED)

    def emit(self, event_type: int, at: datetime = T0, **payload: object) -> None:
        self.sequence += 1
        message = event(self.sequence, event_type, **payload)
        message.timestamp.CopyFrom(stamp(at))
        self.server.report(self.scope, self.run_id, message)

    def materialize(self, name: str, at: datetime = T0, partition: str = "", **fields: object):
        self.emit(
            E.RUN_EVENT_TYPE_ASSET_MATERIALIZATION,
            at,
            materialization=E.AssetMaterialization(
                asset_key=key(name), partition=partition, **fields
            ),
        )

    def fail(self, name: str) -> None:
        """The asset's step fails (of the run's partition, if it has one)."""
        self.emit(
            E.RUN_EVENT_TYPE_STEP_FAILURE,
            step=name,
            step_failure=E.StepFailure(error=common_pb2.Error(message="boom"), attempt=1),
        )

    def check(self, name: str, check: str, passed: bool, *, warn: bool = False, **fields: object):
        severity = E.ASSET_CHECK_SEVERITY_WARN if warn else E.ASSET_CHECK_SEVERITY_ERROR
        self.emit(
            E.RUN_EVENT_TYPE_ASSET_CHECK_EVALUATION,
            check_evaluation=E.AssetCheckEvaluation(
                asset_key=key(name), check_name=check, passed=passed, severity=severity, **fields
            ),
        )

    def succeed(self) -> None:
        self.emit(E.RUN_EVENT_TYPE_RUN_SUCCESS)


def health(server: ApiServer, scope: DeploymentScope, name: str) -> health_pb2.AssetHealth:
    return (
        server.control_plane()
        .GetAssetHealth(cp.GetAssetHealthRequest(key=key(name)), metadata=md(scope))
        .health
    )


def names(reply: cp.ListAssetsResponse) -> list[str]:
    return ["/".join(a.key.path) for a in reply.assets]


@pytest.fixture
def shop(server: ApiServer, scope: DeploymentScope) -> DeploymentScope:
    fresh = asset("orders", checks=["not_null", "row_count"])
    time_window(fresh, fail=3600, warn=1800)
    never = asset("archive")
    time_window(never, fail=3600)
    add_location(
        server.storage,
        scope,
        "shop",
        snapshot(
            fresh,
            never,
            asset("plain"),
            asset("daily", partitions=["a", "b"]),
        ),
    )
    return scope


def freshness(server: ApiServer) -> FreshnessDaemon:
    return FreshnessDaemon(server.storage, server.registry)


# --- health from events ----------------------------------------------------------------


def test_a_materialized_asset_is_healthy_and_a_failed_one_degraded_until_it_succeeds(
    server: ApiServer, shop: DeploymentScope
) -> None:
    assert health(server, shop, "plain").status == H.HEALTH_UNKNOWN
    run = Run(server, shop, "plain")
    run.materialize("plain")
    run.succeed()
    found = health(server, shop, "plain")
    assert found.status == H.HEALTH_HEALTHY
    assert found.materialization.status == H.HEALTH_HEALTHY
    assert found.checks.status == H.HEALTH_NOT_APPLICABLE

    failing = Run(server, shop, "plain")
    failing.fail("plain")
    found = health(server, shop, "plain")
    assert found.status == H.HEALTH_DEGRADED
    assert failing.run_id in found.materialization.reason

    again = Run(server, shop, "plain")
    again.materialize("plain")
    assert health(server, shop, "plain").status == H.HEALTH_HEALTHY
    changes = [
        (c.previous, c.current)
        for c in server.storage.health.changes(shop, asset_key="plain")
        if c.kind is ChangeKind.HEALTH
    ]
    assert changes == [("UNKNOWN", "HEALTHY"), ("HEALTHY", "DEGRADED"), ("DEGRADED", "HEALTHY")]


def test_a_failing_error_check_degrades_and_a_failing_warn_check_warns(
    server: ApiServer, shop: DeploymentScope
) -> None:
    run = Run(server, shop, "orders")
    run.materialize("orders")
    run.check("orders", "not_null", True)
    run.check("orders", "row_count", False, warn=True)
    found = health(server, shop, "orders")
    assert found.status == H.HEALTH_WARNING
    assert found.checks.reason == "WARN check failing: row_count"
    run.check("orders", "not_null", False, description="3 nulls in id")
    found = health(server, shop, "orders")
    assert found.status == H.HEALTH_DEGRADED
    assert found.checks.status == H.HEALTH_DEGRADED
    assert "not_null" in found.checks.reason
    # ListAssets carries the same health.
    listed = server.control_plane().ListAssets(
        cp.ListAssetsRequest(selection="orders"), metadata=md(shop)
    )
    assert listed.assets[0].health.status == H.HEALTH_DEGRADED


def test_a_failing_partition_degrades_its_asset(server: ApiServer, shop: DeploymentScope) -> None:
    run = Run(server, shop, "daily", partition_key="a")
    run.materialize("daily", partition="a")
    assert health(server, shop, "daily").partitions.status == H.HEALTH_HEALTHY
    other = Run(server, shop, "daily", partition_key="b")
    other.fail("daily")
    found = health(server, shop, "daily")
    assert found.status == H.HEALTH_DEGRADED
    assert found.partitions.reason == "1 of 2 partitions failed"
    assert found.materialization.status == H.HEALTH_HEALTHY


def test_a_run_that_fails_before_any_asset_event_degrades_what_it_planned(
    server: ApiServer, shop: DeploymentScope
) -> None:
    built = Run(server, shop, "plain")
    built.materialize("plain")
    built.succeed()
    # The worker fails the run before reporting anything of its assets.
    broken = Run(server, shop, "plain", "archive")
    broken.emit(E.RUN_EVENT_TYPE_RUN_FAILURE, message="could not import the code location")
    for name in ("plain", "archive"):
        found = health(server, shop, name)
        assert found.status == H.HEALTH_DEGRADED, name
        assert broken.run_id in found.materialization.reason
    listed = server.control_plane().ListAssets(
        cp.ListAssetsRequest(health=[H.HEALTH_DEGRADED]), metadata=md(shop)
    )
    assert sorted(names(listed)) == ["archive", "plain"]
    # An asset outside the run's plan is untouched.
    assert health(server, shop, "orders").status == H.HEALTH_UNKNOWN


def test_a_run_failed_as_lost_degrades_its_assets_but_not_what_it_built_or_a_newer_success(
    server: ApiServer, shop: DeploymentScope
) -> None:
    lost = Run(server, shop, "plain", "orders", "archive")
    lost.materialize("orders")
    newer = Run(server, shop, "archive")
    newer.materialize("archive")
    newer.succeed()
    # The run monitor fails the silent run: no asset event of "plain" ever came.
    server.storage.runs.heartbeat(shop, lost.run_id, now=datetime.now(UTC) - timedelta(minutes=5))
    server.coordinator.fail_lost_runs(shop)
    found = health(server, shop, "plain")
    assert found.status == H.HEALTH_DEGRADED
    assert lost.run_id in found.materialization.reason
    assert health(server, shop, "orders").status == H.HEALTH_HEALTHY  # built by the run
    assert health(server, shop, "archive").status == H.HEALTH_HEALTHY  # a newer run built it
    changes = server.storage.health.changes(shop, asset_key="plain")
    assert [(c.previous, c.current) for c in changes if c.kind is ChangeKind.HEALTH] == [
        ("UNKNOWN", "DEGRADED")
    ]


def test_a_failed_run_of_one_partition_fails_only_that_partition(
    server: ApiServer, shop: DeploymentScope
) -> None:
    Run(server, shop, "daily", partition_key="a").materialize("daily", partition="a")
    broken = Run(server, shop, "daily", partition_key="b")
    broken.emit(E.RUN_EVENT_TYPE_RUN_FAILURE, message="launch failed")
    found = health(server, shop, "daily")
    assert found.status == H.HEALTH_DEGRADED
    assert found.partitions.reason == "1 of 2 partitions failed"
    assert found.materialization.status == H.HEALTH_HEALTHY


# --- freshness -------------------------------------------------------------------------


def test_freshness_passes_then_warns_then_fails_as_the_windows_close(
    server: ApiServer, shop: DeploymentScope
) -> None:
    daemon = freshness(server)
    first = daemon.tick(shop, T0)
    assert first.synced == 2  # orders and archive have policies
    assert first.evaluated == 2
    assert health(server, shop, "orders").freshness_state.state == H.FRESHNESS_FAIL
    assert health(server, shop, "orders").status == H.HEALTH_UNKNOWN  # never built

    run = Run(server, shop, "orders")
    run.materialize("orders", at=T0)
    run.succeed()
    assert daemon.tick(shop, T0 + timedelta(seconds=1)).evaluated == 1  # woken, not scanned
    found = health(server, shop, "orders")
    assert found.status == H.HEALTH_HEALTHY
    assert found.freshness_state.state == H.FRESHNESS_PASS
    assert found.freshness_state.next_evaluate_time.ToDatetime(tzinfo=UTC) == T0 + timedelta(
        minutes=30
    )
    # Nothing is due before the warn window closes: the pass reads the index, evaluates none.
    assert daemon.tick(shop, T0 + timedelta(minutes=29)).evaluated == 0

    daemon.tick(shop, T0 + timedelta(minutes=31))
    found = health(server, shop, "orders")
    assert found.freshness_state.state == H.FRESHNESS_WARN
    assert found.status == H.HEALTH_WARNING
    daemon.tick(shop, T0 + timedelta(minutes=61))
    found = health(server, shop, "orders")
    assert found.freshness_state.state == H.FRESHNESS_FAIL
    assert found.status == H.HEALTH_DEGRADED
    assert "more than the fail window" in found.freshness.reason
    moves = [
        (c.previous, c.current)
        for c in server.storage.health.changes(shop, asset_key="orders")
        if c.kind is ChangeKind.FRESHNESS
    ]
    assert moves == [("UNKNOWN", "FAIL"), ("FAIL", "PASS"), ("PASS", "WARN"), ("WARN", "FAIL")]
    # Failed for good: only a materialization can change it, so nothing is due.
    assert daemon.tick(shop, T0 + timedelta(days=3)).evaluated == 0


def test_health_and_freshness_are_read_at_one_moment(
    server: ApiServer, shop: DeploymentScope, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A freshness pass that commits while GetAssetHealth reads shows in neither part of
    the answer or in both: never the new freshness beside the health from before it."""
    daemon = freshness(server)
    run = Run(server, shop, "orders")
    run.materialize("orders", at=T0)
    run.succeed()
    daemon.tick(shop, T0 + timedelta(seconds=1))
    read_health = freshness_storage.stored_health

    def health_then_a_committed_pass(*args: object, **kwargs: object) -> object:
        found = read_health(*args, **kwargs)  # type: ignore[arg-type]
        # The pass that finds orders stale commits between the reader's two statements.
        stale = threading.Thread(target=daemon.tick, args=(shop, T0 + timedelta(minutes=61)))
        stale.start()
        stale.join()
        return found

    monkeypatch.setattr(freshness_storage, "stored_health", health_then_a_committed_pass)
    before = health(server, shop, "orders")
    assert (before.status, before.freshness_state.state) == (
        H.HEALTH_HEALTHY,
        H.FRESHNESS_PASS,
    )
    monkeypatch.undo()
    after = health(server, shop, "orders")
    assert (after.status, after.freshness_state.state) == (H.HEALTH_DEGRADED, H.FRESHNESS_FAIL)


def test_a_changed_policy_is_evaluated_again_and_a_removed_one_drops_out(
    server: ApiServer, shop: DeploymentScope
) -> None:
    daemon = freshness(server)
    daemon.tick(shop, T0)
    assert health(server, shop, "archive").freshness_state.state == H.FRESHNESS_FAIL
    run = Run(server, shop, "archive")
    run.materialize("archive", at=T0)
    daemon.tick(shop, T0 + timedelta(minutes=90))
    assert health(server, shop, "archive").freshness_state.state == H.FRESHNESS_FAIL
    # A longer window in new code: evaluated again at once, and fresh under it.
    longer = asset("archive")
    time_window(longer, fail=7200)
    add_location(server.storage, shop, "shop", snapshot(longer))
    assert daemon.tick(shop, T0 + timedelta(minutes=91)).synced == 2  # changed, orders gone
    found = health(server, shop, "archive")
    assert found.freshness_state.state == H.FRESHNESS_PASS
    assert found.freshness_state.policy.time_window.fail_window.seconds == 7200
    add_location(server.storage, shop, "shop", snapshot(asset("archive")))
    assert daemon.tick(shop, T0 + timedelta(minutes=92)).synced == 1
    found = health(server, shop, "archive")
    assert found.freshness_state.state == H.FRESHNESS_NOT_APPLICABLE
    assert found.freshness.status == H.HEALTH_NOT_APPLICABLE


# --- API -------------------------------------------------------------------------------


def test_list_assets_by_health_and_the_deployment_summary(
    server: ApiServer, shop: DeploymentScope
) -> None:
    stub = server.control_plane()
    ok = Run(server, shop, "plain")
    ok.materialize("plain")
    bad = Run(server, shop, "orders")
    bad.fail("orders")

    def listed(*statuses: int) -> list[str]:
        return names(stub.ListAssets(cp.ListAssetsRequest(health=statuses), metadata=md(shop)))

    assert listed(H.HEALTH_HEALTHY) == ["plain"]
    assert listed(H.HEALTH_DEGRADED) == ["orders"]
    assert listed(H.HEALTH_UNKNOWN) == ["archive", "daily"]
    assert listed(H.HEALTH_HEALTHY, H.HEALTH_DEGRADED) == ["orders", "plain"]
    summary = stub.GetDeploymentHealth(cp.GetDeploymentHealthRequest(), metadata=md(shop))
    counts = {c.status: c.count for c in summary.health}
    assert summary.asset_count == 4
    assert counts == {
        H.HEALTH_HEALTHY: 1,
        H.HEALTH_WARNING: 0,
        H.HEALTH_DEGRADED: 1,
        H.HEALTH_UNKNOWN: 2,
    }
    fresh = {c.state: c.count for c in summary.freshness}
    assert fresh[H.FRESHNESS_NOT_APPLICABLE] == 2 and fresh[H.FRESHNESS_UNKNOWN] == 2

    error = rpc_error(lambda: stub.ListAssets(cp.ListAssetsRequest(health=[42]), metadata=md(shop)))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "not an asset health status" in (error.details() or "")


def test_check_history_lists_evaluations_newest_first_with_descriptions(
    server: ApiServer, shop: DeploymentScope
) -> None:
    stub = server.control_plane()
    run = Run(server, shop, "orders")
    run.check("orders", "not_null", True, description="no nulls")
    run.check("orders", "row_count", True)
    run.check(
        "orders", "not_null", False, description="3 nulls in id", metadata=[number("nulls", 3)]
    )

    def history(**fields: object) -> cp.ListCheckEvaluationsResponse:
        request = cp.ListCheckEvaluationsRequest(asset_key=key("orders"), **fields)
        return stub.ListCheckEvaluations(request, metadata=md(shop))

    reply = history(check_name="not_null")
    assert [(e.evaluation.passed, e.evaluation.description) for e in reply.evaluations] == [
        (False, "3 nulls in id"),
        (True, "no nulls"),
    ]
    assert reply.evaluations[0].evaluation.metadata[0].value.int == 3
    assert reply.evaluations[0].run_id == run.run_id
    first = history(check_name="not_null", limit=1)
    assert first.next_cursor
    second = history(check_name="not_null", limit=1, cursor=first.next_cursor)
    assert [e.evaluation.description for e in second.evaluations] == ["no nulls"]
    assert not second.next_cursor

    missing = rpc_error(lambda: history())
    assert missing.code() == grpc.StatusCode.INVALID_ARGUMENT
    unknown = rpc_error(lambda: history(check_name="nope"))
    assert unknown.code() == grpc.StatusCode.NOT_FOUND
    assert "not_null" in (unknown.details() or "")


def test_assets_and_materializations_found_by_metadata_key(
    server: ApiServer, shop: DeploymentScope
) -> None:
    stub = server.control_plane()
    run = Run(server, shop, "orders", "plain")
    run.materialize("orders", metadata=[number("row_count", 10), text("path", "/x")])
    run.materialize("orders", metadata=[text("path", "/y")])
    run.materialize("plain")

    def with_key(name: str) -> list[str]:
        request = cp.ListAssetsRequest(metadata_key=name)
        return names(stub.ListAssets(request, metadata=md(shop)))

    assert with_key("row_count") == ["orders"]
    assert with_key("nothing") == []
    request = cp.ListMaterializationsRequest(key=key("orders"), metadata_key="row_count")
    found = stub.ListMaterializations(request, metadata=md(shop)).materializations
    assert [m.materialization.metadata[0].value.int for m in found] == [10]
    request = cp.ListMaterializationsRequest(key=key("orders"), metadata_key="path")
    assert len(stub.ListMaterializations(request, metadata=md(shop)).materializations) == 2
    too_long = rpc_error(
        lambda: stub.ListAssets(cp.ListAssetsRequest(metadata_key="k" * 300), metadata=md(shop))
    )
    assert too_long.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_definition_metadata_finds_assets_too(server: ApiServer, scope: DeploymentScope) -> None:
    node = asset("documented")
    node.metadata.append(text("owner_doc", "https://wiki"))
    add_location(server.storage, scope, "docs", snapshot(node, asset("bare")))
    reply = server.control_plane().ListAssets(
        cp.ListAssetsRequest(metadata_key="owner_doc"), metadata=md(scope)
    )
    assert names(reply) == ["documented"]


def test_get_asset_health_of_an_unknown_asset_is_not_found(
    server: ApiServer, shop: DeploymentScope
) -> None:
    error = rpc_error(
        lambda: server.control_plane().GetAssetHealth(
            cp.GetAssetHealthRequest(key=key("ghost")), metadata=md(shop)
        )
    )
    assert error.code() == grpc.StatusCode.NOT_FOUND
    empty = rpc_error(
        lambda: server.control_plane().GetAssetHealth(cp.GetAssetHealthRequest(), metadata=md(shop))
    )
    assert empty.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "key must be an asset key" in (empty.details() or "")


def test_cron_policies_round_trip_through_the_snapshot_into_health(
    server: ApiServer, scope: DeploymentScope
) -> None:
    node = asset("report")
    node.freshness_policy.cron.CopyFrom(
        automation_pb2.CronFreshnessPolicy(deadline_cron="0 9 * * *", timezone="UTC")
    )
    node.freshness_policy.cron.lower_bound_delta.FromTimedelta(timedelta(hours=2))
    add_location(server.storage, scope, "reports", snapshot(node))
    daemon = freshness(server)
    run = Run(server, scope, "report")
    run.materialize("report", at=T0)  # 08:00, inside 07:00-09:00
    daemon.tick(scope, T0 + timedelta(minutes=5))
    found = health(server, scope, "report")
    assert found.freshness_state.state == H.FRESHNESS_PASS
    assert found.freshness_state.policy.cron.deadline_cron == "0 9 * * *"
    # Due at the next day's deadline, which this materialization does not reach.
    assert found.freshness_state.next_evaluate_time.ToDatetime(tzinfo=UTC) == datetime(
        2026, 3, 3, 9, 0, tzinfo=UTC
    )
    daemon.tick(scope, datetime(2026, 3, 3, 9, 0, 1, tzinfo=UTC))
    assert health(server, scope, "report").freshness_state.state == H.FRESHNESS_FAIL


def test_an_asset_gone_stale_is_requested_by_its_automation_condition(
    server: ApiServer, scope: DeploymentScope
) -> None:
    node = asset("stale")
    time_window(node, fail=3600)
    node.automation_condition.CopyFrom(
        automation_condition_message(AC.freshness_failed() & ~AC.in_progress())
    )
    add_location(server.storage, scope, "etl", snapshot(node))
    run = Run(server, scope, "stale")
    run.materialize("stale", at=T0)
    run.succeed()
    clock = [T0 + timedelta(minutes=10)]
    automation = AutomationDaemon(
        server.storage,
        server.storage.automation,
        server.registry,
        server.coordinator,
        AutomationSettings(interval=30),
        clock=lambda: clock[0],
        owner="replica-1",
    )
    fresh = freshness(server)

    def requested() -> int:
        runs = server.storage.runs.list_runs(scope, RunFilter(tags={"weir/automation": "true"}))
        return len(runs.items)

    fresh.tick(scope, clock[0])
    automation.tick(scope)
    assert requested() == 0  # fresh: nothing to do
    clock[0] = T0 + timedelta(hours=2)
    fresh.tick(scope, clock[0])
    automation.tick(scope)
    assert requested() == 1


def test_selection_language_and_health_filter_combine(
    server: ApiServer, scope: DeploymentScope
) -> None:
    add_location(
        server.storage,
        scope,
        "etl",
        snapshot(
            asset("gold_a", tags={"tier": "gold"}, owners=["team:data"], kinds=["dbt"]),
            asset("gold_b", tags={"tier": "gold"}, group="finance"),
            asset("silver", tags={"tier": "silver"}, owners=["team:data"]),
        ),
    )
    broken = Run(server, scope, "gold_b")
    broken.fail("gold_b")
    stub = server.control_plane()

    def listed(selection: str, *statuses: int) -> list[str]:
        request = cp.ListAssetsRequest(selection=selection, health=statuses)
        return names(stub.ListAssets(request, metadata=md(scope)))

    assert listed("tag:tier=gold") == ["gold_a", "gold_b"]
    assert listed("owner:team:data and kind:dbt") == ["gold_a"]
    assert listed("group:finance or tag:tier=silver") == ["gold_b", "silver"]
    assert listed("tag:tier=gold", H.HEALTH_DEGRADED) == ["gold_b"]
    assert listed("not tag:tier=gold", H.HEALTH_DEGRADED) == []


def test_ingest_and_freshness_passes_running_at_once_agree(
    server: ApiServer, scope: DeploymentScope
) -> None:
    """Batches and freshness passes over the same assets, concurrently: no deadlock, no
    lost update; every asset ends HEALTHY and fresh."""
    nodes = []
    for index in range(40):
        node = asset(f"a{index:02d}")
        time_window(node, fail=3600)
        nodes.append(node)
    add_location(server.storage, scope, "many", snapshot(*nodes))
    daemon = freshness(server)
    daemon.tick(scope, T0)
    run = Run(server, scope, *(f"a{index:02d}" for index in range(40)))
    stop = threading.Event()
    errors: list[BaseException] = []

    def passes() -> None:
        try:
            while not stop.is_set():
                daemon.tick(scope, T0 + timedelta(seconds=1))
        except BaseException as exc:  # reported by the test below
            errors.append(exc)

    thread = threading.Thread(target=passes)
    thread.start()
    try:
        for index in range(40):
            run.materialize(f"a{index:02d}", at=T0)
    finally:
        stop.set()
        thread.join(30)
    assert not errors
    daemon.tick(scope, T0 + timedelta(seconds=2))
    listed = server.control_plane().ListAssets(cp.ListAssetsRequest(), metadata=md(scope))
    assert {a.health.status for a in listed.assets} == {H.HEALTH_HEALTHY}
    assert {a.health.freshness_state.state for a in listed.assets} == {H.FRESHNESS_PASS}


# --- the CLI ---------------------------------------------------------------------------


def test_weir_health_summarizes_the_deployment_and_lists_what_is_not_healthy(
    server: ApiServer, shop: DeploymentScope, capsys: pytest.CaptureFixture[str]
) -> None:
    run = Run(server, shop, "orders", "plain")
    run.materialize("orders")
    run.check("orders", "not_null", False, description="3 nulls in id")
    run.materialize("plain")
    run.succeed()
    code, out, _ = weir(server, shop, capsys, "health")
    assert code == 0
    lines = out.strip().splitlines()
    assert lines[:3] == [
        "4 assets",
        "health:    1 DEGRADED, 0 WARNING, 2 UNKNOWN, 1 HEALTHY",
        "freshness: 0 FAIL, 0 WARN, 0 PASS, 2 UNKNOWN",
    ]
    assert lines[4].split() == ["KEY", "HEALTH", "WHY"]
    assert lines[5].split()[:2] == ["orders", "DEGRADED"]
    assert lines[5].endswith("ERROR check failing: not_null")
    assert len(lines) == 6  # only the asset that is not healthy

    code, out, _ = weir(server, shop, capsys, "health", "orders")
    assert code == 0
    lines = out.strip().splitlines()
    assert lines[0].startswith("orders: DEGRADED since ")
    components = {line.split()[0]: line.split(None, 2)[1:] for line in lines[2:6]}
    assert components["checks"] == ["DEGRADED", "ERROR check failing: not_null"]
    assert components["materialization"] == ["HEALTHY", "materialized"]
    assert components["partitions"][0] == "NOT_APPLICABLE"
    assert lines[6] == "freshness: UNKNOWN: not evaluated yet"


def test_weir_health_of_an_unknown_asset_or_location_is_one_clear_line(
    server: ApiServer, shop: DeploymentScope, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = weir(server, shop, capsys, "health", "nope")
    assert code == 1
    assert err.startswith("error: asset 'nope' is not defined by any code location")
    assert "Traceback" not in err
    code, _, err = weir(server, shop, capsys, "health", "--location", "elsewhere")
    assert code == 1
    assert "code location 'elsewhere' is not loaded" in err


def test_list_assets_health_view_returns_key_and_health_only(
    server: ApiServer, shop: DeploymentScope
) -> None:
    run = Run(server, shop, "orders")
    run.materialize("orders")
    run.check("orders", "not_null", True)
    stub = server.control_plane()
    full = stub.ListAssets(cp.ListAssetsRequest(selection="orders"), metadata=md(shop)).assets[0]
    view = cp.ListAssetsRequest(selection="orders", view=cp.ASSET_VIEW_HEALTH)
    (slim,) = stub.ListAssets(view, metadata=md(shop)).assets
    assert slim.health == full.health and slim.health.status == H.HEALTH_HEALTHY
    assert slim.key == full.key and slim.code_location == "shop"
    assert not slim.HasField("definition") and not slim.HasField("latest_materialization")
    assert not slim.checks
    bad = rpc_error(
        lambda: stub.ListAssets(cp.ListAssetsRequest(view=7), metadata=md(shop))  # type: ignore[arg-type]
    )
    assert bad.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "view holds 7" in (bad.details() or "")
