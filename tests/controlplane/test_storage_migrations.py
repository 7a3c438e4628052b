"""Migrations: an empty database upgrades to head, and head matches schema.py exactly."""

from __future__ import annotations

import subprocess
import sys
import threading

import sqlalchemy as sa
from alembic import command
from weir_controlplane.storage import DEFAULT_DEPLOYMENT, Storage, create_engine, upgrade_to_head
from weir_controlplane.storage.engine import Database
from weir_controlplane.storage.migrations import (
    alembic_config,
    current_revision,
    head_revision,
    schema_differences,
)
from weir_controlplane.storage.migrations.runner import migrate
from weir_controlplane.storage.migrations.version_stamp import newest_revision
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


def _schema_of(engine: sa.Engine) -> dict[str, object]:
    """Every table as the database describes it: columns (by name: SQLite appends the
    columns a migration adds), keys, indexes with their WHERE, constraints."""
    inspector = sa.inspect(engine)

    def indexes(table: str) -> list[tuple[object, ...]]:
        found = []
        for index in inspector.get_indexes(table):
            options = index.get("dialect_options", {})
            where = options.get("sqlite_where", options.get("postgresql_where"))
            found.append((index["name"], tuple(index["column_names"]), index["unique"], str(where)))
        return sorted(found, key=str)

    def columns(table: str) -> dict[str, tuple[object, ...]]:
        return {
            column["name"]: (
                str(column["type"]),
                column["nullable"],
                str(column.get("default")),
                column.get("autoincrement"),
            )
            for column in inspector.get_columns(table)
        }

    return {
        table: {
            "columns": columns(table),
            "pk": inspector.get_pk_constraint(table),
            "fks": sorted(map(str, inspector.get_foreign_keys(table))),
            "uniques": sorted(map(str, inspector.get_unique_constraints(table))),
            "checks": sorted(map(str, inspector.get_check_constraints(table))),
            "indexes": indexes(table),
        }
        for table in sorted(inspector.get_table_names())
    }


def _seeded_rows(engine: sa.Engine) -> list[object]:
    with engine.connect() as conn:
        return [
            conn.execute(sa.text("SELECT id, name FROM organizations")).all(),
            conn.execute(sa.text("SELECT id, organization_id, name FROM deployments")).all(),
            conn.execute(sa.text("SELECT version_num FROM alembic_version")).all(),
        ]


def test_a_new_database_is_created_as_the_migrations_would_make_it(
    two_empty_database_urls: tuple[str, str],
) -> None:
    """A new database skips the migrations: schema.py creates it, stamped at head. What it
    gets must be what walking the history gives, on both databases."""
    migrated_url, created_url = two_empty_database_urls
    migrated, created = create_engine(migrated_url), create_engine(created_url)
    try:
        with Database(migrated).write() as conn:
            migrate(conn)  # Alembic, revision by revision
        upgrade_to_head(created)
        assert current_revision(created) == head_revision()
        assert schema_differences(created) == []
        assert _schema_of(created) == _schema_of(migrated)
        assert _seeded_rows(created) == _seeded_rows(migrated)
        # The seeded ids do not block new rows (PostgreSQL sequences).
        storage = Storage.from_engine(created)
        assert storage.deployments.ensure_deployment("staging").deployment_id == 2
    finally:
        migrated.dispose()
        created.dispose()


def test_the_newest_revision_script_is_alembics_head() -> None:
    assert newest_revision() == head_revision()


_OPEN_TWICE = """
import sys
from weir_controlplane.storage import Storage
for _ in range(2):  # a new database, then one already at head
    Storage.open(sys.argv[1]).close()
    assert "alembic" not in sys.modules, "Alembic was loaded"
"""


def test_opening_a_new_or_current_database_does_not_load_alembic(
    empty_database_url: str,
) -> None:
    subprocess.run([sys.executable, "-c", _OPEN_TWICE, empty_database_url], check=True, timeout=60)


def test_a_database_part_way_through_the_history_is_migrated_to_head(
    empty_database_url: str,
) -> None:
    engine = create_engine(empty_database_url)
    try:
        with Database(engine).write() as conn:
            from alembic import command
            from weir_controlplane.storage.migrations import alembic_config

            command.upgrade(alembic_config(conn), "0010")
        upgrade_to_head(engine)
        assert current_revision(engine) == head_revision()
        assert schema_differences(engine) == []
    finally:
        engine.dispose()


def test_asset_state_revisions_carry_over_into_slots(empty_database_url: str) -> None:
    """0017 splits each deployment's revision into slots: a reply kept under the old
    revision must not match again after the upgrade, so the revision keeps its value."""
    engine = create_engine(empty_database_url)
    try:
        with Database(engine).write() as conn:
            command.upgrade(alembic_config(conn), "0016")
            deployment_id = conn.execute(
                sa.text("SELECT id FROM deployments WHERE name = :name"),
                {"name": DEFAULT_DEPLOYMENT},
            ).scalar_one()
            conn.execute(
                sa.text(
                    "INSERT INTO asset_state_revisions (deployment_id, revision) VALUES (:d, 41)"
                ),
                {"d": deployment_id},
            )
        upgrade_to_head(engine)
        storage = Storage.from_engine(engine)
        scope = storage.deployments.get_scope(DEFAULT_DEPLOYMENT)
        assert storage.asset_revisions.current(scope) == 41
    finally:
        engine.dispose()
