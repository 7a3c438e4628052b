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
