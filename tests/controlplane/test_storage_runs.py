"""Runs: creation, lookup, filtered pagination, the queue's claim, heartbeats, UTC."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from weir_controlplane.storage import (
    DeploymentScope,
    DuplicateRunError,
    InvalidCursorError,
    NaiveDatetimeError,
    NewRun,
    Run,
    RunFilter,
    RunNotFoundError,
    RunStatus,
    Storage,
    TagConcurrencyLimit,
    locks,
)

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _create(storage: Storage, scope: DeploymentScope, **fields: Any) -> Run:
    return storage.runs.create_run(scope, NewRun(**{"code_location": "etl", **fields}))


def test_created_run_reads_back_queued_with_everything_it_was_given(
    storage: Storage, scope: DeploymentScope
) -> None:
    created = storage.runs.create_run(
        scope,
        NewRun(
            code_location="etl",
            selection="orders+",
            asset_keys=("orders", "revenue"),
            partition_key="2026-03-01",
            tags={"weir/run_key": "k1", "team": "data"},
            run_config={"ops": {"orders": {"config": {"limit": 10}}}},
        ),
        now=T0,
    )
    run = storage.runs.get_run(scope, created.run_id)
    assert uuid.UUID(run.run_id)
    assert run.status is RunStatus.QUEUED
    assert run.selection == "orders+"
    assert run.asset_keys == ("orders", "revenue")
    assert run.partition_key == "2026-03-01"
    assert run.tags == {"weir/run_key": "k1", "team": "data"}
    assert run.run_config == {"ops": {"orders": {"config": {"limit": 10}}}}
    assert run.created_at == T0 and run.created_at.tzinfo is not None
    assert run.started_at is None and run.ended_at is None
    assert run.last_event_sequence == 0


def test_unknown_run_is_not_found(storage: Storage, scope: DeploymentScope) -> None:
    with pytest.raises(RunNotFoundError, match="no-such-run"):
        storage.runs.get_run(scope, "no-such-run")


def test_reusing_a_run_id_is_refused(storage: Storage, scope: DeploymentScope) -> None:
    run = _create(storage, scope)
    with pytest.raises(DuplicateRunError):
        _create(storage, scope, run_id=run.run_id)


def test_list_runs_pages_newest_first_without_gaps_or_repeats(
    storage: Storage, scope: DeploymentScope
) -> None:
    created = [_create(storage, scope).run_id for _ in range(7)]
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        page = storage.runs.list_runs(scope, cursor=cursor, limit=3)
        seen.extend(run.run_id for run in page.items)
        pages += 1
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == list(reversed(created))
    assert pages == 3


def test_list_runs_filters(storage: Storage, scope: DeploymentScope) -> None:
    old = _create(storage, scope, tags={"team": "a"}, asset_keys=("x",))
    storage.runs.claim_queued(scope, max_in_progress=1)
    other_location = _create(storage, scope, code_location="ml", tags={"team": "a"})
    queued_b = _create(storage, scope, tags={"team": "b", "env": "prod"}, asset_keys=("y",))

    def ids(run_filter: RunFilter) -> set[str]:
        return {run.run_id for run in storage.runs.list_runs(scope, run_filter).items}

    assert ids(RunFilter(statuses=frozenset({RunStatus.STARTING}))) == {old.run_id}
    assert ids(RunFilter(code_location="ml")) == {other_location.run_id}
    assert ids(RunFilter(tags={"team": "a"})) == {old.run_id, other_location.run_id}
    assert ids(RunFilter(tags={"team": "b", "env": "prod"})) == {queued_b.run_id}
    assert ids(RunFilter(tags={"team": "b", "env": "dev"})) == set()
    assert ids(RunFilter(asset_key="y")) == {queued_b.run_id}
    assert ids(RunFilter(created_after=queued_b.created_at - timedelta(microseconds=1))) == {
        queued_b.run_id
    }
    assert old.run_id in ids(RunFilter(created_before=other_location.created_at))
    assert queued_b.run_id not in ids(RunFilter(created_before=queued_b.created_at))


def test_bad_cursor_is_a_clear_error(storage: Storage, scope: DeploymentScope) -> None:
    with pytest.raises(InvalidCursorError, match="next_cursor"):
        storage.runs.list_runs(scope, cursor="not-a-cursor")


def test_queue_claims_the_oldest_runs_up_to_the_limit(
    storage: Storage, scope: DeploymentScope
) -> None:
    first, second, third = (_create(storage, scope) for _ in range(3))
    claimed = storage.runs.claim_queued(scope, max_in_progress=2)
    assert [run.run_id for run in claimed] == [first.run_id, second.run_id]
    assert {run.status for run in claimed} == {RunStatus.STARTING}
    assert storage.runs.get_run(scope, first.run_id).status is RunStatus.STARTING
    # Both slots are held (a CANCELING run still holds one): nothing more until one frees.
    _move(storage, scope, first, RunStatus.STARTING, RunStatus.CANCELING)
    assert storage.runs.claim_queued(scope, max_in_progress=2) == []
    _move(storage, scope, first, RunStatus.CANCELING, RunStatus.CANCELED)
    assert [run.run_id for run in storage.runs.claim_queued(scope, max_in_progress=2)] == [
        third.run_id
    ]
    assert storage.runs.claim_queued(scope, max_in_progress=5) == []


def test_replicas_racing_to_claim_never_exceed_the_limit(
    database_url: str, storage: Storage, scope: DeploymentScope
) -> None:
    queued = [_create(storage, scope).run_id for _ in range(12)]
    replicas = [Storage.open(database_url, migrate=False) for _ in range(6)]
    barrier = threading.Barrier(len(replicas))
    claimed: list[str] = []
    lock = threading.Lock()

    def claim(replica: Storage) -> None:
        barrier.wait()
        for _ in range(3):
            runs = replica.runs.claim_queued(scope, max_in_progress=4)
            with lock:
                claimed.extend(run.run_id for run in runs)

    threads = [threading.Thread(target=claim, args=(replica,)) for replica in replicas]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        for replica in replicas:
            replica.close()
    # Four slots: the four oldest runs, each claimed by exactly one replica.
    assert sorted(claimed) == sorted(queued[:4])


def test_a_queue_pass_with_nothing_queued_waits_for_no_writer(
    database_url: str, storage: Storage, scope: DeploymentScope
) -> None:
    # Every run's end wakes a queue pass; with nothing queued it must not queue up behind
    # the writers (ingest) holding SQLite's write lock or the deployment's queue lock.
    storage.runs.claim_queued(scope, max_in_progress=1)  # nothing queued yet
    _create(storage, scope, status=RunStatus.STARTED)
    other = Storage.open(database_url, migrate=False)
    passes: list[list[Run]] = []
    try:
        with other.database.write() as conn:
            locks.lock_run_queue(conn, scope)
            claim = threading.Thread(
                target=lambda: passes.append(storage.runs.claim_queued(scope, max_in_progress=5))
            )
            claim.start()
            claim.join(5)
            assert passes == [[]], "the pass waited for the other transaction"
    finally:
        claim.join()
        other.close()
    queued = _create(storage, scope)
    assert [run.run_id for run in storage.runs.claim_queued(scope, max_in_progress=5)] == [
        queued.run_id
    ]


def _claimed_ids(storage: Storage, scope: DeploymentScope, **limits: Any) -> list[str]:
    return [run.run_id for run in storage.runs.claim_queued(scope, **limits)]


def test_a_tag_limit_holds_back_only_the_runs_it_names(
    storage: Storage, scope: DeploymentScope
) -> None:
    finance = {"team": "finance"}
    f1, f2, f3, f4 = (_create(storage, scope, tags=finance) for _ in range(4))
    ops = _create(storage, scope, tags={"team": "ops"})
    untagged = _create(storage, scope)
    limits = {"max_in_progress": 10, "tag_limits": [TagConcurrencyLimit("team", 2, "finance")]}
    # f3 and f4 wait for finance's two slots; the runs queued behind them do not.
    expected = [f1.run_id, f2.run_id, ops.run_id, untagged.run_id]
    assert _claimed_ids(storage, scope, **limits) == expected
    assert _claimed_ids(storage, scope, **limits) == []
    _move(storage, scope, f1, RunStatus.STARTING, RunStatus.CANCELED)
    assert _claimed_ids(storage, scope, **limits) == [f3.run_id]
    # The deployment's own limit still counts every run.
    _move(storage, scope, f2, RunStatus.STARTING, RunStatus.CANCELED)
    assert _claimed_ids(storage, scope, max_in_progress=3, tag_limits=limits["tag_limits"]) == []
    assert _claimed_ids(storage, scope, **limits) == [f4.run_id]


def test_a_tag_limit_without_a_value_counts_every_value_together_or_each_apart(
    storage: Storage, scope: DeploymentScope
) -> None:
    runs = [_create(storage, scope, tags={"db": name}) for name in ("a", "a", "b", "b", "c")]
    per_value = [TagConcurrencyLimit("db", 1, per_unique_value=True)]
    assert _claimed_ids(storage, scope, max_in_progress=10, tag_limits=per_value) == [
        runs[0].run_id,
        runs[2].run_id,
        runs[4].run_id,
    ]
    together = [TagConcurrencyLimit("db", 4)]
    assert _claimed_ids(storage, scope, max_in_progress=10, tag_limits=together) == [runs[1].run_id]
    assert _claimed_ids(storage, scope, max_in_progress=10, tag_limits=together) == []


def test_a_zero_tag_limit_holds_its_runs_and_lets_the_rest_through(
    storage: Storage, scope: DeploymentScope
) -> None:
    held = [_create(storage, scope, tags={"paused": "yes"}) for _ in range(30)]
    free = _create(storage, scope)
    limits = [TagConcurrencyLimit("paused", 0, "yes")]
    assert _claimed_ids(storage, scope, max_in_progress=2, tag_limits=limits) == [free.run_id]
    assert storage.runs.get_run(scope, held[0].run_id).status is RunStatus.QUEUED


def test_replicas_racing_to_claim_never_exceed_a_tag_limit(
    database_url: str, storage: Storage, scope: DeploymentScope
) -> None:
    finance = [_create(storage, scope, tags={"team": "finance"}).run_id for _ in range(8)]
    others = [_create(storage, scope, tags={"team": "ops"}).run_id for _ in range(4)]
    replicas = [Storage.open(database_url, migrate=False) for _ in range(6)]
    barrier = threading.Barrier(len(replicas))
    claimed: list[str] = []
    lock = threading.Lock()
    limits = [TagConcurrencyLimit("team", 2, "finance")]

    def claim(replica: Storage) -> None:
        barrier.wait()
        for _ in range(3):
            runs = replica.runs.claim_queued(scope, max_in_progress=10, tag_limits=limits)
            with lock:
                claimed.extend(run.run_id for run in runs)

    threads = [threading.Thread(target=claim, args=(replica,)) for replica in replicas]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        for replica in replicas:
            replica.close()
    # Finance's two oldest and every other run, each claimed by exactly one replica.
    assert sorted(claimed) == sorted(finance[:2] + others)


def _move(
    storage: Storage, scope: DeploymentScope, run: Run, from_status: RunStatus, to: RunStatus
) -> None:
    assert storage.runs.transition(scope, run.run_id, from_statuses={from_status}, to=to)


def test_transition_only_from_the_expected_statuses(
    storage: Storage, scope: DeploymentScope
) -> None:
    run = _create(storage, scope)
    assert not storage.runs.transition(
        scope, run.run_id, from_statuses={RunStatus.STARTED}, to=RunStatus.CANCELING
    )
    assert storage.runs.transition(
        scope,
        run.run_id,
        from_statuses={RunStatus.QUEUED},
        to=RunStatus.FAILURE,
        failure_reason="code location 'etl' is unreachable",
        now=T0,
    )
    failed = storage.runs.get_run(scope, run.run_id)
    assert failed.status is RunStatus.FAILURE
    assert failed.failure_reason == "code location 'etl' is unreachable"
    assert failed.ended_at == T0


def test_heartbeats_keep_a_run_off_the_stale_list(storage: Storage, scope: DeploymentScope) -> None:
    alive, silent, never_heard = (_create(storage, scope) for _ in range(3))
    storage.runs.claim_queued(scope, max_in_progress=3, now=T0)
    status = storage.runs.heartbeat(
        scope,
        alive.run_id,
        now=T0 + timedelta(minutes=5),
        worker_address="10.0.0.7:4266",
        worker_pid=4242,
    )
    assert status is RunStatus.STARTING
    storage.runs.heartbeat(scope, silent.run_id, now=T0 + timedelta(seconds=30))

    stale = storage.runs.stale_runs(scope, heartbeat_before=T0 + timedelta(minutes=2))
    assert {run.run_id for run in stale} == {silent.run_id, never_heard.run_id}
    beating = storage.runs.get_run(scope, alive.run_id)
    assert (beating.worker_address, beating.worker_pid) == ("10.0.0.7:4266", 4242)
    assert beating.last_heartbeat_at == T0 + timedelta(minutes=5)


def test_heartbeat_for_an_unknown_run_is_not_found(
    storage: Storage, scope: DeploymentScope
) -> None:
    with pytest.raises(RunNotFoundError):
        storage.runs.heartbeat(scope, "no-such-run")


def test_timestamps_come_back_utc_aware_whatever_zone_went_in(
    storage: Storage, scope: DeploymentScope
) -> None:
    tokyo = datetime(2026, 3, 1, 21, 0, 0, 123456, tzinfo=timezone(timedelta(hours=9)))
    run = storage.runs.create_run(scope, NewRun(code_location="etl"), now=tokyo)
    assert run.created_at == tokyo
    assert run.created_at.utcoffset() == timedelta(0)
    assert run.created_at == datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)


def test_naive_timestamps_are_refused(storage: Storage, scope: DeploymentScope) -> None:
    with pytest.raises(NaiveDatetimeError, match="timezone-aware"):
        storage.runs.create_run(scope, NewRun(code_location="etl"), now=datetime(2026, 3, 1))


def test_a_claim_with_tag_limits_reads_through_indexes_only(tmp_path: Path) -> None:
    """Every statement of the claim is looked up through an index: none walks the runs or
    the tags of a deployment's history (SQLite's plan, with no statistics gathered)."""
    storage = Storage.open(f"sqlite:///{tmp_path / 'plans.db'}")
    scope = storage.deployments.ensure_deployment("plans")
    for n in range(50):
        _create(storage, scope, tags={"team": "finance" if n % 2 else "ops", "db": str(n % 3)})
    storage.runs.claim_queued(scope, max_in_progress=4)  # some runs in progress
    statements: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append((statement, parameters))

    limits = [
        TagConcurrencyLimit("team", 1, "finance"),
        TagConcurrencyLimit("db", 2, per_unique_value=True),
    ]
    sa.event.listen(storage.database.engine, "before_cursor_execute", record)
    try:
        assert storage.runs.claim_queued(scope, max_in_progress=8, tag_limits=limits)
    finally:
        sa.event.remove(storage.database.engine, "before_cursor_execute", record)
    with storage.database.engine.connect() as conn:
        plans = [
            row[3]
            for statement, parameters in statements
            for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
        ]
    storage.close()
    assert any("run_tags" in step for step in plans), "the claim never read tags"
    scans = [step for step in plans if step.startswith("SCAN")]
    walks = [step for step in plans if "ix_run_tags_deployment_id_key_value" in step]
    assert scans == [] and walks == [], plans
