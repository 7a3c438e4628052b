"""The asset state revision: every committed change moves it, and concurrent ingest of one
deployment on PostgreSQL does not queue behind it."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from held_writes import held_write
from sqlalchemy.engine import Connection
from weir_controlplane.storage import (
    DeploymentScope,
    EventType,
    NewEvent,
    NewRun,
    Storage,
    asset_revisions,
)


def _materialize(storage: Storage, scope: DeploymentScope, asset_key: str) -> None:
    run_id = storage.runs.create_run(
        scope, NewRun(code_location="etl", asset_keys=(asset_key,))
    ).run_id
    event = NewEvent(
        sequence=1,
        event_type=EventType.ASSET_MATERIALIZATION.value,
        timestamp=datetime.now(UTC),
        asset_key=asset_key,
    )
    storage.events.store_batch(scope, run_id, [event])


def test_every_committed_change_moves_the_revision_and_a_rolled_back_one_does_not(
    storage: Storage, scope: DeploymentScope
) -> None:
    seen = [storage.asset_revisions.current(scope)]
    for name in ("orders", "revenue", "orders"):
        _materialize(storage, scope, name)
        seen.append(storage.asset_revisions.current(scope))
    assert len(set(seen)) == len(seen), seen

    assert storage.asset_revisions.of_assets(scope, ["orders", "revenue"]) == {
        "orders": 2,
        "revenue": 1,
    }
    with pytest.raises(RuntimeError), storage.database.write() as conn:
        asset_revisions.bump(conn, storage.database.dialect, scope.deployment_id, ["orders"])
        raise RuntimeError("rolled back")
    assert storage.asset_revisions.current(scope) == seen[-1]
    assert storage.asset_revisions.of_assets(scope, ["orders"]) == {"orders": 2}


@pytest.mark.postgres
def test_concurrent_ingest_of_one_deployment_does_not_wait_for_the_others_commit(
    postgres_storage: Storage,
) -> None:
    # PostgreSQL only: SQLite takes one writer at a time.
    storage = postgres_storage
    scope = storage.deployments.ensure_deployment("concurrent")
    before = storage.asset_revisions.current(scope)

    def bump_another_asset(conn: Connection) -> None:
        # Another run's ingest transaction: it changed another asset, not committed yet.
        asset_revisions.bump(conn, "postgresql", scope.deployment_id, ["revenue"])

    with ThreadPoolExecutor(1) as pool, held_write(storage, bump_another_asset):
        ingest = pool.submit(_materialize, storage, scope, "orders")
        ingest.result(timeout=10)  # one slot bumping behind the other would hang here
        assert storage.asset_revisions.current(scope) == before + 1
    assert storage.asset_revisions.current(scope) == before + 2


def test_another_replica_sees_each_change_after_it_has_read_the_revisions_once(
    storage: Storage, scope: DeploymentScope, database_url: str
) -> None:
    # A second control plane on the same database follows the changes on its own.
    replica = Storage.open(database_url)
    try:
        _materialize(storage, scope, "orders")
        assert replica.asset_revisions.of_assets(scope, ["orders", "revenue"]) == {"orders": 1}
        _materialize(storage, scope, "revenue")
        _materialize(storage, scope, "revenue")
        assert replica.asset_revisions.of_assets(scope, ["orders", "revenue"]) == {
            "orders": 1,
            "revenue": 2,
        }
        _materialize(replica, scope, "orders")
        assert storage.asset_revisions.of_assets(scope, ["orders", "revenue"]) == {
            "orders": 2,
            "revenue": 2,
        }
    finally:
        replica.close()


@pytest.mark.postgres
def test_a_change_stamped_before_a_read_but_committed_after_it_is_not_missed(
    postgres_storage: Storage,
) -> None:
    # Stamps are not in commit order: this transaction stamps first and commits last.
    storage = postgres_storage
    scope = storage.deployments.ensure_deployment("late-commit")

    def late_change(conn: Connection) -> None:
        asset_revisions.bump(conn, "postgresql", scope.deployment_id, ["revenue"])

    with held_write(storage, late_change):
        _materialize(storage, scope, "orders")  # stamped after, committed first
        assert storage.asset_revisions.of_assets(scope, ["orders", "revenue"]) == {"orders": 1}
    assert storage.asset_revisions.of_assets(scope, ["orders", "revenue"]) == {
        "orders": 1,
        "revenue": 1,
    }


def test_a_forgotten_deployment_is_read_afresh(storage: Storage, scope: DeploymentScope) -> None:
    # What a deleted deployment's id may get next on SQLite: revisions from 0 again, and
    # stamps that have caught up with the old horizon.
    _materialize(storage, scope, "orders")
    assert storage.asset_revisions.of_assets(scope, ["orders"]) == {"orders": 1}
    with storage.database.write() as conn:
        conn.execute(
            asset_revisions.asset_state_versions.delete().where(
                asset_revisions.asset_state_versions.c.deployment_id == scope.deployment_id
            )
        )
    for _ in range(3):
        _materialize(storage, scope, "revenue")
    storage.asset_revisions.forget(scope)
    assert storage.asset_revisions.of_assets(scope, ["orders", "revenue"]) == {"revenue": 3}
