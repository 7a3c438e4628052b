"""Migrations: an empty database upgrades to head, and head matches schema.py exactly."""

from __future__ import annotations

import threading

import sqlalchemy as sa
from weir_controlplane.storage import DEFAULT_DEPLOYMENT, Storage, create_engine, upgrade_to_head
from weir_controlplane.storage.migrations import (
    current_revision,
    head_revision,
    schema_differences,
)
from weir_controlplane.storage.schema import metadata


def test_empty_database_upgrades_to_head_with_every_table(empty_database_url: str) -> None:
    engine = create_engine(empty_database_url)
    try:
        assert current_revision(engine) is None
        upgrade_to_head(engine)
        assert current_revision(engine) == head_revision()
        tables = set(sa.inspect(engine).get_table_names())
        assert set(metadata.tables) <= tables
    finally:
        engine.dispose()


def test_migrated_schema_matches_metadata(empty_database_url: str) -> None:
    """What `alembic check` asserts: autogenerate finds nothing to add or change."""
    engine = create_engine(empty_database_url)
    try:
        upgrade_to_head(engine)
        assert schema_differences(engine) == []
    finally:
        engine.dispose()


def test_upgrade_is_a_no_op_at_head_and_default_deployment_exists(
    empty_database_url: str,
) -> None:
    first = Storage.open(empty_database_url)
    first.close()
    second = Storage.open(empty_database_url)
    try:
        assert second.deployments.list_deployments() == [DEFAULT_DEPLOYMENT]
        assert second.deployments.get_scope().name == DEFAULT_DEPLOYMENT
        # The seeded ids must not block new deployments (PostgreSQL sequences).
        staging = second.deployments.ensure_deployment("staging")
        assert staging.deployment_id != second.deployments.get_scope().deployment_id
    finally:
        second.close()


def test_replicas_starting_together_migrate_once(empty_database_url: str) -> None:
    engines = [create_engine(empty_database_url) for _ in range(3)]
    barrier = threading.Barrier(len(engines))
    errors: list[BaseException] = []

    def start(engine: sa.Engine) -> None:
        barrier.wait()
        try:
            upgrade_to_head(engine)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=start, args=(engine,)) for engine in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert errors == []
        assert current_revision(engines[0]) == head_revision()
        assert Storage.from_engine(engines[0]).deployments.list_deployments() == ["prod"]
    finally:
        for engine in engines:
            engine.dispose()
