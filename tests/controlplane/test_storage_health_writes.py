"""How ingest writes asset health: a new asset's row goes in once with its final values,
and two transactions creating the same asset's row at once both take effect."""

from __future__ import annotations

import time
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from held_writes import held_write
from sqlalchemy.engine import Connection
from weir_controlplane.storage import (
    ChangeKind,
    DeploymentScope,
    EventType,
    IngestResult,
    NewEvent,
    NewRun,
    Storage,
    health,
)
from weir_controlplane.storage.health import HealthStatus


def _run(storage: Storage, scope: DeploymentScope, *asset_keys: str) -> str:
    return storage.runs.create_run(scope, NewRun(code_location="etl", asset_keys=asset_keys)).run_id


def _materializations(*asset_keys: str, first: int = 1) -> list[NewEvent]:
    return [
        NewEvent(
            sequence=sequence,
            event_type=EventType.ASSET_MATERIALIZATION.value,
            timestamp=datetime.now(UTC),
            asset_key=asset_key,
        )
        for sequence, asset_key in enumerate(asset_keys, start=first)
    ]


def _health_changes(storage: Storage, scope: DeploymentScope) -> list[tuple[str, str, str]]:
    return [
        (change.asset_key, change.previous, change.current)
        for change in storage.health.changes(scope)
        if change.kind is ChangeKind.HEALTH
    ]


def test_a_batch_of_new_and_known_assets_stores_each_health_once_with_its_change(
    storage: Storage, scope: DeploymentScope
) -> None:
    run_id = _run(storage, scope, "a", "b", "c")
    storage.events.store_batch(scope, run_id, _materializations("b"))
    failed = NewEvent(
        sequence=5,
        event_type=EventType.ASSET_FAILED_TO_MATERIALIZE.value,
        timestamp=datetime.now(UTC),
        asset_key="b",
    )
    # "a" and "c" are new, "b" known; "b" fails after materializing again.
    storage.events.store_batch(scope, run_id, [*_materializations("a", "b", "c", first=2), failed])

    stored = storage.health.get(scope, ["a", "b", "c"])
    assert {key: row.status for key, row in stored.items()} == {
        "a": HealthStatus.HEALTHY,
        "b": HealthStatus.DEGRADED,
        "c": HealthStatus.HEALTHY,
    }
    assert stored["a"].materialization.reason == "materialized"
    assert stored["a"].changed_at is not None
    assert _health_changes(storage, scope) == [
        ("b", "UNKNOWN", "HEALTHY"),
        ("a", "UNKNOWN", "HEALTHY"),
        ("b", "HEALTHY", "DEGRADED"),
        ("c", "UNKNOWN", "HEALTHY"),
    ]


@pytest.mark.postgres
def test_an_asset_whose_row_another_transaction_creates_meanwhile_is_still_updated(
    postgres_storage: Storage,
) -> None:
    # Two writers' transactions are never open at once on SQLite.
    storage, scope = postgres_storage, postgres_storage.deployments.ensure_deployment("first")
    run_id = _run(storage, scope, "orders")

    def create_row_first(conn: Connection) -> None:
        # Another transaction writes the asset's first health row (UNKNOWN: it has no
        # outcome yet) and holds it uncommitted while the run's ingest looks for the row.
        health.apply_asset_state(
            conn, "postgresql", scope.deployment_id, ["orders"], datetime.now(UTC)
        )

    with ThreadPoolExecutor(1) as pool:
        with held_write(storage, create_row_first):
            batch = _materializations("orders")
            ingest = pool.submit(storage.events.store_batch, scope, run_id, batch)
            _wait_for_a_lock_wait(storage, ingest)
        assert ingest.result(timeout=10).inserted == 1

    stored = storage.health.get(scope, ["orders"])["orders"]
    assert (stored.status, stored.materialization.reason) == (HealthStatus.HEALTHY, "materialized")
    assert _health_changes(storage, scope) == [("orders", "UNKNOWN", "HEALTHY")]


def _wait_for_a_lock_wait(storage: Storage, ingest: Future[IngestResult]) -> None:
    """Until some session of this database waits for a row lock: the ingest, blocked on
    the row the other transaction inserted."""
    query = sa.text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
    deadline = time.monotonic() + 10
    with storage.database.engine.connect() as conn:
        while not conn.execute(query).scalar_one():
            assert time.monotonic() < deadline, "the ingest never waited for the other's row"
            assert not ingest.done(), "the ingest finished without waiting"
            time.sleep(0.01)
            conn.rollback()
