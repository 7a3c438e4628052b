"""The automation daemon over real storage and the real registry and run coordinator (its
queue not started: requested runs stay QUEUED until a test reports their events), and
GetAutomationEvaluations over both transports."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest
from api_harness import ApiServer, add_location, asset, event, key, launch, md, rpc_error, snapshot
from weir import AutomationCondition as AC
from weir_codeserver.wire_automation import automation_condition_message
from weir_controlplane.automation import AutomationDaemon, AutomationSettings
from weir_controlplane.automation.conditions import Evaluation
from weir_controlplane.storage import DeploymentScope, RunFilter
from weir_protos.v1 import automation_pb2, definitions_pb2, events_pb2, partitions_pb2
from weir_protos.v1 import control_plane_pb2 as cp

E = events_pb2


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 1, 0, 30, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float = 60) -> None:
        self.now += timedelta(seconds=seconds)


def with_condition(node: definitions_pb2.AssetNode, condition: AC) -> definitions_pb2.AssetNode:
    node.automation_condition.CopyFrom(automation_condition_message(condition))
    return node


def daemon(server: ApiServer, clock: Clock, owner: str = "replica-1") -> AutomationDaemon:
    return AutomationDaemon(
        server.storage,
        server.storage.automation,
        server.registry,
        server.coordinator,
        AutomationSettings(interval=30),
        clock=clock,
        owner=owner,
    )


def materialize(
    server: ApiServer,
    scope: DeploymentScope,
    run_id: str,
    *names: str,
    partition: str = "",
    data_version: str = "",
) -> None:
    """Report a run's worker materializing `names` and succeeding."""
    events = [event(1, E.RUN_EVENT_TYPE_RUN_STARTED)]
    for name in names:
        events.append(
            event(
                len(events) + 1,
                E.RUN_EVENT_TYPE_ASSET_MATERIALIZATION,
                step=name,
                materialization=E.AssetMaterialization(
                    asset_key=key(name), partition=partition, data_version=data_version
                ),
            )
        )
    events.append(event(len(events) + 1, E.RUN_EVENT_TYPE_RUN_SUCCESS))
    server.report(scope, run_id, *events)


def materialize_partitions(
    server: ApiServer, scope: DeploymentScope, name: str, *partitions: str
) -> None:
    """A launched run of `name` materializing each of `partitions`, one after another."""
    for partition in partitions:
        run = launch(server, scope, name, partition_key=partition)
        materialize(server, scope, run.run_id, name, partition=partition)


def automation_runs(server: ApiServer, scope: DeploymentScope) -> list:
    page = server.storage.runs.list_runs(scope, RunFilter(tags={"weir/automation": "true"}))
    return list(page.items)


@pytest.fixture
def eager_pair(server: ApiServer, scope: DeploymentScope) -> DeploymentScope:
    add_location(
        server.storage,
        scope,
        "etl",
        snapshot(asset("up"), with_condition(asset("down", deps=["up"]), AC.eager())),
    )
    return scope


@pytest.fixture
def second_pair(server: ApiServer) -> DeploymentScope:
    """A second deployment with the same two assets."""
    other = server.storage.deployments.ensure_deployment(f"test-{uuid.uuid4().hex[:12]}")
    add_location(
        server.storage,
        other,
        "etl",
        snapshot(asset("up"), with_condition(asset("down", deps=["up"]), AC.eager())),
    )
    return other


def test_eager_requests_the_downstream_once_per_upstream_materialization(
    server: ApiServer, eager_pair: DeploymentScope
) -> None:
    scope, clock = eager_pair, Clock()
    automation = daemon(server, clock)
    first = automation.tick(scope)
    assert first is not None and first.evaluated == 1 and first.run_ids == []
    # Not due again until the interval has passed.
    assert automation.tick(scope) is None

    up = launch(server, scope, "up")
    materialize(server, scope, up.run_id, "up")
    clock.advance()
    report = automation.tick(scope)
    assert report is not None and len(report.run_ids) == 1
    (run,) = automation_runs(server, scope)
    assert run.run_id == report.run_ids[0]
    assert run.asset_keys == ("down",) and run.code_location == "etl"
    assert run.tags["weir/automation"] == "true"

    # Queued, then done: neither requests it again, nor does a restarted daemon.
    clock.advance()
    assert daemon(server, clock, owner="replica-2").tick(scope).run_ids == []  # type: ignore[union-attr]
    materialize(server, scope, run.run_id, "down")
    for _ in range(3):
        clock.advance()
        assert automation.tick(scope).run_ids == []  # type: ignore[union-attr]
    assert len(automation_runs(server, scope)) == 1

    again = launch(server, scope, "up")
    materialize(server, scope, again.run_id, "up")
    clock.advance()
    assert len(automation.tick(scope).run_ids) == 1  # type: ignore[union-attr]


def test_a_run_that_materialized_both_does_not_trigger_the_downstream(
    server: ApiServer, eager_pair: DeploymentScope
) -> None:
    scope, clock = eager_pair, Clock()
    automation = daemon(server, clock)
    automation.tick(scope)
    both = launch(server, scope, "up", "down")
    materialize(server, scope, both.run_id, "up", "down")
    clock.advance()
    assert automation.tick(scope).run_ids == []  # type: ignore[union-attr]


def test_one_replica_evaluates_a_tick_while_it_holds_the_lease(
    server: ApiServer, eager_pair: DeploymentScope
) -> None:
    scope, clock = eager_pair, Clock()
    storage = server.storage.automation
    interval, lease = timedelta(seconds=30), timedelta(seconds=120)
    claim = storage.claim_tick(scope, owner="a", now=clock.now, interval=interval, lease=lease)
    assert claim is not None
    assert (
        storage.claim_tick(scope, owner="b", now=clock.now, interval=interval, lease=lease) is None
    )
    assert daemon(server, clock, owner="b").tick(scope) is None
    # "a" dies mid-tick: once its lease expires, "b" takes the same tick over.
    clock.advance(121)
    taken = storage.claim_tick(scope, owner="b", now=clock.now, interval=interval, lease=lease)
    assert taken is not None and taken.tick_number == claim.tick_number
    # "a" wakes and finishes late: its result is refused, "b"'s is kept.
    assert not storage.finish_tick(
        scope, "a", claim, now=clock.now, event_cursor=0, carry={}, states={}, evaluations=[]
    )
    assert storage.finish_tick(
        scope, "b", taken, now=clock.now, event_cursor=0, carry={}, states={}, evaluations=[]
    )


def test_a_retried_tick_finds_the_runs_it_already_submitted(
    server: ApiServer, scope: DeploymentScope
) -> None:
    # A condition with no memory of what it requested: only the tick's run tag keeps a
    # retry from launching again.
    condition = AC.any_deps_match(AC.newly_updated())
    add_location(
        server.storage,
        scope,
        "etl",
        snapshot(asset("up"), with_condition(asset("down", deps=["up"]), condition)),
    )
    clock = Clock()
    automation = daemon(server, clock)
    automation.tick(scope)
    up = launch(server, scope, "up")
    materialize(server, scope, up.run_id, "up")
    clock.advance()
    # The replica submits the tick's run and dies before storing the tick's outcome.
    stored = server.storage.automation.finish_tick
    server.storage.automation.finish_tick = lambda *a, **k: False  # type: ignore[method-assign]
    try:
        first = automation.tick(scope)
    finally:
        server.storage.automation.finish_tick = stored  # type: ignore[method-assign]
    assert first is not None and len(first.run_ids) == 1
    materialize(server, scope, first.run_ids[0], "down")  # and the run is done meanwhile
    # Another replica retries the same tick once the lease expired: the same run.
    clock.advance(200)
    retried = daemon(server, clock, owner="replica-2").tick(scope)
    assert retried is not None and retried.tick_number == first.tick_number
    assert retried.run_ids == first.run_ids
    assert len(automation_runs(server, scope)) == 1


def test_on_cron_by_an_injected_clock(server: ApiServer, scope: DeploymentScope) -> None:
    add_location(
        server.storage,
        scope,
        "etl",
        snapshot(
            asset("up"), with_condition(asset("hourly", deps=["up"]), AC.on_cron("0 * * * *"))
        ),
    )
    clock = Clock()  # 00:30
    automation = daemon(server, clock)
    automation.tick(scope)
    up = launch(server, scope, "up")
    materialize(server, scope, up.run_id, "up")  # before the 01:00 tick: does not count
    clock.advance(40 * 60)  # 01:10
    assert automation.tick(scope).run_ids == []  # type: ignore[union-attr]
    again = launch(server, scope, "up")
    materialize(server, scope, again.run_id, "up")
    clock.advance()
    assert len(automation.tick(scope).run_ids) == 1  # type: ignore[union-attr]
    clock.advance()
    assert automation.tick(scope).run_ids == []  # type: ignore[union-attr]


def test_partitioned_eager_requests_one_run_per_partition(
    server: ApiServer, scope: DeploymentScope
) -> None:
    def static(node: definitions_pb2.AssetNode) -> definitions_pb2.AssetNode:
        node.partitions_def.static.CopyFrom(
            partitions_pb2.StaticPartitionsDefinition(keys=["eu", "us", "asia"])
        )
        return node

    add_location(
        server.storage,
        scope,
        "etl",
        snapshot(
            static(asset("up")),
            static(with_condition(asset("down", deps=["up"]), AC.eager())),
        ),
    )
    clock = Clock()
    automation = daemon(server, clock)
    automation.tick(scope)
    materialize_partitions(server, scope, "up", "eu", "us")
    clock.advance()
    report = automation.tick(scope)
    assert report is not None and len(report.run_ids) == 2
    runs = automation_runs(server, scope)
    assert sorted(r.partition_key for r in runs) == ["eu", "us"]
    evaluations = server.control_plane().GetAutomationEvaluations(
        cp.GetAutomationEvaluationsRequest(key=key("down")), metadata=md(scope)
    )
    newest = evaluations.evaluations[0]
    assert newest.requested_count == 2 and list(newest.requested_partition_keys) == ["eu", "us"]
    assert sorted(newest.run_ids) == sorted(report.run_ids)
    assert newest.condition.candidate_count == 3 and newest.condition.true_count == 2


def _multi(node: definitions_pb2.AssetNode, second: str) -> definitions_pb2.AssetNode:
    """Partitioned by region (static) and, as `second` says, by customer (dynamic) or by
    day (a second time window beside the month)."""
    dimensions = node.partitions_def.multi.dimensions  # in name order, as the SDK sends
    if second == "customer":
        dimensions.add(name="customer").partitions_def.dynamic.name = "customers"
    else:
        for name, cron, fmt in (("day", "0 0 * * *", "%Y-%m-%d"), ("month", "0 0 1 * *", "%Y-%m")):
            window = dimensions.add(name=name).partitions_def.time_window
            window.cron_schedule, window.fmt, window.timezone = cron, fmt, "UTC"
            window.start.FromDatetime(datetime(2026, 1, 1, tzinfo=UTC))
    dimensions.add(name="region").partitions_def.static.keys.extend(["eu", "us"])
    return node


def test_multi_partitioned_eager_evaluates_each_multi_key(
    server: ApiServer, scope: DeploymentScope
) -> None:
    """Over a dynamic dimension's stored keys (those added later included), per multi key:
    only the partitions whose upstream partition updated are requested."""
    add_location(
        server.storage,
        scope,
        "etl",
        snapshot(
            _multi(asset("up"), "customer"),
            _multi(with_condition(asset("down", deps=["up"]), AC.eager()), "customer"),
        ),
    )
    server.storage.dynamic_partitions.add(scope, "customers", ["acme", "globex"])
    clock = Clock()
    automation = daemon(server, clock)
    first = automation.tick(scope)
    assert first is not None and first.run_ids == []
    down = server.control_plane().GetAutomationEvaluations(
        cp.GetAutomationEvaluationsRequest(key=key("down")), metadata=md(scope)
    )
    assert down.evaluations[0].error == "" and down.evaluations[0].condition.candidate_count == 4

    server.storage.dynamic_partitions.add(scope, "customers", ["initech"])
    materialize_partitions(server, scope, "up", "acme|eu", "initech|us")
    clock.advance()
    report = automation.tick(scope)
    assert report is not None and len(report.run_ids) == 2
    assert sorted(r.partition_key for r in automation_runs(server, scope)) == [
        "acme|eu",
        "initech|us",
    ]


def test_multi_partitioned_with_two_time_windows_evaluates_the_keys_of_now(
    server: ApiServer, scope: DeploymentScope
) -> None:
    add_location(
        server.storage,
        scope,
        "etl",
        snapshot(
            _multi(with_condition(asset("lone"), AC.in_latest_time_window() & AC.missing()), "day")
        ),
    )
    report = daemon(server, Clock()).tick(scope)  # 2026-03-01 00:30
    assert report is not None
    [evaluation] = (
        server.control_plane()
        .GetAutomationEvaluations(
            cp.GetAutomationEvaluationsRequest(key=key("lone")), metadata=md(scope)
        )
        .evaluations
    )
    assert evaluation.error == ""
    # 59 days (Jan 1 to Feb 28) x 2 months (Jan, Feb) x 2 regions, all missing; the
    # latest window is that of the first time dimension, the day.
    assert evaluation.condition.candidate_count == 59 * 2 * 2
    assert sorted(evaluation.requested_partition_keys) == [
        f"2026-02-28|{month}|{region}"
        for month in ("2026-01", "2026-02")
        for region in ("eu", "us")
    ]


def test_time_partitioned_eager_requests_the_latest_window_only(
    server: ApiServer, scope: DeploymentScope
) -> None:
    def daily(node: definitions_pb2.AssetNode) -> definitions_pb2.AssetNode:
        window = node.partitions_def.time_window
        window.cron_schedule, window.fmt, window.timezone = "0 0 * * *", "%Y-%m-%d", "UTC"
        window.start.FromDatetime(datetime(2026, 2, 25, tzinfo=UTC))
        return node

    add_location(
        server.storage,
        scope,
        "etl",
        snapshot(daily(asset("up")), daily(with_condition(asset("down", deps=["up"]), AC.eager()))),
    )
    clock = Clock()  # 2026-03-01 00:30: the latest window is 2026-02-28
    automation = daemon(server, clock)
    automation.tick(scope)
    materialize_partitions(server, scope, "up", "2026-02-27", "2026-02-28")
    clock.advance()
    report = automation.tick(scope)
    assert report is not None and len(report.run_ids) == 1
    assert [r.partition_key for r in automation_runs(server, scope)] == ["2026-02-28"]


def test_data_version_changed_reads_the_materializations_data_version(
    server: ApiServer, scope: DeploymentScope
) -> None:
    condition = AC.any_deps_match(AC.data_version_changed())
    add_location(
        server.storage,
        scope,
        "etl",
        snapshot(asset("up"), with_condition(asset("down", deps=["up"]), condition)),
    )
    clock = Clock()
    automation = daemon(server, clock)
    automation.tick(scope)

    def requests_after_up(version: str) -> list[str]:
        up = launch(server, scope, "up")
        materialize(server, scope, up.run_id, "up", data_version=version)
        clock.advance()
        report = automation.tick(scope)
        assert report is not None
        for run_id in report.run_ids:
            materialize(server, scope, run_id, "down")
        return report.run_ids

    assert len(requests_after_up("v1")) == 1
    assert requests_after_up("v1") == []  # materialized again, same data
    assert len(requests_after_up("v2")) == 1


def test_get_automation_evaluations_over_both_transports(
    server: ApiServer, eager_pair: DeploymentScope
) -> None:
    scope, clock = eager_pair, Clock()
    automation = daemon(server, clock)
    automation.tick(scope)
    up = launch(server, scope, "up")
    materialize(server, scope, up.run_id, "up")
    clock.advance()
    report = automation.tick(scope)
    assert report is not None
    for _ in range(2):  # requested, then no longer newly: the outcome changes each time
        clock.advance()
        assert automation.tick(scope).stored_evaluations == 1  # type: ignore[union-attr]
    clock.advance()
    quiet = automation.tick(scope)  # unchanged since: not stored again
    assert quiet is not None and quiet.stored_evaluations == 0

    stub = server.control_plane()
    reply = stub.GetAutomationEvaluations(
        cp.GetAutomationEvaluationsRequest(key=key("down")), metadata=md(scope)
    )
    ticks = [e.tick_number for e in reply.evaluations]
    assert ticks == sorted(ticks, reverse=True) and len(ticks) == 4
    requesting = reply.evaluations[2]
    assert requesting.requested_count == 1 and list(requesting.run_ids) == report.run_ids
    assert requesting.condition.label == "eager" and requesting.condition.true_count == 1
    since = requesting.condition.children[1]
    deps_updated = since.children[0].children[1]
    assert deps_updated.label == "any_deps_updated" and deps_updated.true_count == 1
    assert list(deps_updated.children[0].dependency.path) == ["up"]

    first_page = stub.GetAutomationEvaluations(
        cp.GetAutomationEvaluationsRequest(key=key("down"), limit=2),
        metadata=md(scope),
    )
    rest = stub.GetAutomationEvaluations(
        cp.GetAutomationEvaluationsRequest(key=key("down"), limit=2, cursor=first_page.next_cursor),
        metadata=md(scope),
    )
    assert [e.evaluation_id for e in (*first_page.evaluations, *rest.evaluations)] == [
        e.evaluation_id for e in reply.evaluations
    ]
    assert rest.next_cursor == ""

    with server.http(scope.name) as http:
        answer = http.post(
            "/weir.v1.ControlPlaneService/GetAutomationEvaluations",
            json={"key": {"path": ["down"]}, "limit": 1},
        )
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["evaluations"][0]["tickNumber"] == str(ticks[0]) and body["nextCursor"]
        missing = http.post(
            "/weir.v1.ControlPlaneService/GetAutomationEvaluations",
            json={"key": {"path": ["nope"]}},
        )
        assert missing.status_code == 404 and "'nope'" in missing.json()["message"]

    error = rpc_error(
        lambda: stub.GetAutomationEvaluations(
            cp.GetAutomationEvaluationsRequest(), metadata=md(scope)
        )
    )
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and "key" in (error.details() or "")
    error = rpc_error(
        lambda: stub.GetAutomationEvaluations(
            cp.GetAutomationEvaluationsRequest(key=key("down"), cursor="x!"),
            metadata=md(scope),
        )
    )
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_eager_through_a_time_window_mapping_waits_for_every_partition_it_reads(
    server: ApiServer, scope: DeploymentScope
) -> None:
    def daily(node: definitions_pb2.AssetNode) -> definitions_pb2.AssetNode:
        window = node.partitions_def.time_window
        window.cron_schedule, window.fmt, window.timezone = "0 0 * * *", "%Y-%m-%d", "UTC"
        window.start.FromDatetime(datetime(2026, 2, 25, tzinfo=UTC))
        return node

    down = daily(with_condition(asset("down", deps=["up"]), AC.eager()))
    down.deps[0].partition_mapping.time_window.start_offset = -1  # day D reads D-1 and D
    add_location(server.storage, scope, "etl", snapshot(daily(asset("up")), down))
    clock = Clock()  # 2026-03-01 00:30: the latest window is 2026-02-28
    automation = daemon(server, clock)
    automation.tick(scope)
    run = launch(server, scope, "up", partition_key="2026-02-28")
    materialize(server, scope, run.run_id, "up", partition="2026-02-28")
    clock.advance()
    automation.tick(scope)
    assert automation_runs(server, scope) == []  # 2026-02-27, which it reads too, is missing
    run = launch(server, scope, "up", partition_key="2026-02-27")
    materialize(server, scope, run.run_id, "up", partition="2026-02-27")
    clock.advance()
    report = automation.tick(scope)
    assert report is not None and len(report.run_ids) == 1
    assert [r.partition_key for r in automation_runs(server, scope)] == ["2026-02-28"]
    reply = server.control_plane().GetAutomationEvaluations(
        cp.GetAutomationEvaluationsRequest(key=key("down")), metadata=md(scope)
    )
    assert all(not evaluation.error for evaluation in reply.evaluations)


def test_an_unevaluable_condition_is_recorded_as_the_evaluations_error(
    server: ApiServer, scope: DeploymentScope
) -> None:
    node = asset("odd")
    node.automation_condition.node_type = "moon_is_full"
    add_location(server.storage, scope, "etl", snapshot(node))
    report = daemon(server, Clock()).tick(scope)
    assert report is not None and report.run_ids == []
    reply = server.control_plane().GetAutomationEvaluations(
        cp.GetAutomationEvaluationsRequest(key=key("odd")), metadata=md(scope)
    )
    assert "'moon_is_full'" in reply.evaluations[0].error


def test_quiet_ticks_evaluate_nothing_until_an_upstream_changes(
    server: ApiServer, eager_pair: DeploymentScope, second_pair: DeploymentScope
) -> None:
    clock = Clock()
    automation = daemon(server, clock)

    def evaluated(scope: DeploymentScope) -> int:
        clock.advance()
        report = automation.tick(scope)
        assert report is not None
        return report.evaluated

    # Two deployments ticking in turn: each keeps its own memories in the process.
    for scope in (eager_pair, second_pair):
        # Takes stock; then, with nothing passing (no first evaluation, no update, no
        # request), settles at once: the third tick evaluates nothing.
        assert [evaluated(scope) for _ in range(3)] == [1, 1, 0]
    for _ in range(2):
        assert evaluated(eager_pair) == 0 and evaluated(second_pair) == 0
    up = launch(server, eager_pair, "up")  # queued: up is in progress
    assert evaluated(eager_pair) == 1 and evaluated(second_pair) == 0
    materialize(server, eager_pair, up.run_id, "up")
    clock.advance()
    report = automation.tick(eager_pair)
    assert report is not None and report.evaluated == 1 and len(report.run_ids) == 1
    # A new process (or another replica's tick in between) reads the memories back.
    clock.advance()
    assert daemon(server, clock, owner="replica-2").tick(second_pair).evaluated == 0  # type: ignore[union-attr]


def test_identically_situated_assets_are_evaluated_once_and_keep_their_own_dependencies(
    server: ApiServer, scope: DeploymentScope, monkeypatch: pytest.MonkeyPatch
) -> None:
    from weir_controlplane.automation import daemon as daemon_module

    names = ["u1", "u2", "u3"]
    add_location(
        server.storage,
        scope,
        "etl",
        snapshot(
            *(asset(name) for name in names),
            *(with_condition(asset(f"d{n[1]}", deps=[n]), AC.eager()) for n in names),
        ),
    )
    calls: list[str] = []
    real = daemon_module.evaluate

    def counted(key: str, *args: Any, **kwargs: Any) -> Evaluation:
        calls.append(key)
        return real(key, *args, **kwargs)

    monkeypatch.setattr(daemon_module, "evaluate", counted)
    clock = Clock()
    automation = daemon(server, clock)
    first = automation.tick(scope)
    assert first is not None and first.evaluated == 3 and first.stored_evaluations == 3
    assert calls == ["d1"]  # d2 and d3 are in the same situation: copies of d1's evaluation

    up = launch(server, scope, "u2")
    materialize(server, scope, up.run_id, "u2")
    for _ in range(2):  # let the stored memories be read back too
        clock.advance()
        report = automation.tick(scope)
    (run,) = automation_runs(server, scope)
    assert report is not None and run.asset_keys == ("d2",)  # only u2's downstream
    stub = server.control_plane()
    for name in ("d1", "d3"):
        reply = stub.GetAutomationEvaluations(
            cp.GetAutomationEvaluationsRequest(key=key(name)), metadata=md(scope)
        )
        deps_updated = reply.evaluations[-1].condition.children[1].children[0].children[1]
        assert list(deps_updated.children[0].dependency.path) == [f"u{name[1]}"]


def test_backfill_in_progress_is_true_while_a_backfill_run_of_the_partition_is_unended(
    server: ApiServer, scope: DeploymentScope
) -> None:
    condition = automation_pb2.AutomationConditionNode(node_type="backfill_in_progress")
    node = asset("a")
    node.automation_condition.CopyFrom(condition)
    add_location(server.storage, scope, "etl", snapshot(node))
    clock = Clock()
    automation = daemon(server, clock)

    def true_count() -> int:
        clock.advance()
        automation.tick(scope)
        newest = server.storage.automation.list_evaluations(scope, "a", limit=1).items[0]
        assert newest.error is None
        message = automation_pb2.AutomationConditionEvaluation.FromString(newest.body)
        return message.true_count

    assert true_count() == 0
    launch(server, scope, "a")  # a run of its own: in progress, but not a backfill's
    assert true_count() == 0
    server.coordinator.submit(
        scope, location="etl", asset_keys=["a"], tags={"weir/backfill": "b1"}, selection_text="a"
    )
    assert true_count() == 1


def test_checks_match_reads_the_checks_stored_evaluations(
    server: ApiServer, scope: DeploymentScope
) -> None:
    node = asset("orders", checks=["not_empty", "fresh"])
    Node = automation_pb2.AutomationConditionNode
    node.automation_condition.CopyFrom(
        Node(node_type="any_checks_match", children=[Node(node_type="check_failed")])
    )
    add_location(server.storage, scope, "etl", snapshot(node))
    clock = Clock()
    automation = daemon(server, clock)

    def newest() -> automation_pb2.AutomationConditionEvaluation:
        clock.advance()
        automation.tick(scope)
        record = server.storage.automation.list_evaluations(scope, "orders", limit=1).items[0]
        assert record.error is None
        return automation_pb2.AutomationConditionEvaluation.FromString(record.body)

    assert newest().true_count == 0
    run = launch(server, scope, "orders")
    checked = [
        event(1, E.RUN_EVENT_TYPE_RUN_STARTED),
        *(
            event(
                i + 2,
                E.RUN_EVENT_TYPE_ASSET_CHECK_EVALUATION,
                step="orders",
                check_evaluation=E.AssetCheckEvaluation(
                    asset_key=key("orders"), check_name=name, passed=passed
                ),
            )
            for i, (name, passed) in enumerate([("not_empty", True), ("fresh", False)])
        ),
        event(4, E.RUN_EVENT_TYPE_RUN_SUCCESS),
    ]
    server.report(scope, run.run_id, *checked)
    evaluation = newest()
    assert evaluation.true_count == 1
    assert [(c.check_name, c.true_count) for c in evaluation.children] == [
        ("not_empty", 0),
        ("fresh", 1),
    ]


def test_a_tick_evaluates_with_the_collector_held_off(
    server: ApiServer, eager_pair: DeploymentScope, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gc

    from weir_controlplane.automation import daemon as daemon_module

    seen: list[bool] = []
    real = daemon_module.evaluate

    def observed(key: str, *args: Any, **kwargs: Any) -> Evaluation:
        seen.append(gc.isenabled())
        return real(key, *args, **kwargs)

    monkeypatch.setattr(daemon_module, "evaluate", observed)
    assert gc.isenabled()
    assert daemon(server, Clock()).tick(eager_pair) is not None
    assert seen == [False] and gc.isenabled()


def test_a_cascading_request_reads_each_layers_outcomes_in_one_query(
    server: ApiServer, scope: DeploymentScope, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An update of the sources requests their downstreams, which requests theirs on the
    same tick: the whole graph below is requested in one run, and its outcomes are read a
    layer at a time as requests add candidates, not with a query per asset."""
    layers, width = 4, 5
    nodes = []
    for layer in range(layers):
        for position in range(width):
            deps = [f"a{layer - 1}_{position}"] if layer else []
            nodes.append(with_condition(asset(f"a{layer}_{position}", deps=deps), AC.eager()))
    add_location(server.storage, scope, "etl", snapshot(*nodes))
    everything = [f"a{layer}_{p}" for layer in range(layers) for p in range(width)]
    first = launch(server, scope, *everything)
    materialize(server, scope, first.run_id, *everything)
    clock = Clock()
    automation = daemon(server, clock)
    for _ in range(3):  # takes stock, then settles
        clock.advance()
        automation.tick(scope)

    sources = everything[:width]
    again = launch(server, scope, *sources)
    materialize(server, scope, again.run_id, *sources)
    reads: list[int] = []
    real = server.storage.automation.latest_outcomes

    def counted(*args: Any, **kwargs: Any) -> Any:
        found = real(*args, **kwargs)
        reads.append(len(found))
        return found

    monkeypatch.setattr(server.storage.automation, "latest_outcomes", counted)
    clock.advance()
    report = automation.tick(scope)
    assert report is not None and len(report.run_ids) == 1
    (run,) = [r for r in automation_runs(server, scope) if r.run_id in report.run_ids]
    assert sorted(run.asset_keys) == sorted(everything[width:])  # every layer below
    # The sources and their downstreams first, then each further layer once.
    assert len(reads) <= layers - 1, reads
