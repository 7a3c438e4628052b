"""Running Alembic programmatically against a Weir database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, Engine

from weir_controlplane.storage.engine import Database
from weir_controlplane.storage.schema import metadata

MIGRATIONS_DIR = Path(__file__).parent

# Several control-plane replicas may start at once against one PostgreSQL; the first
# to take this lock migrates and the others then find the schema at head.
_MIGRATION_LOCK_KEY = 0x57E1_0001


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "the migrations directory has no revisions"
    return head


def upgrade_to_head(engine: Engine) -> None:
    """Bring the database's schema to the newest revision, in one transaction.

    Example: `upgrade_to_head(create_engine("sqlite:///weir.db"))`.
    """
    with Database(engine).write() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_MIGRATION_LOCK_KEY)))
        command.upgrade(alembic_config(conn), "head")


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def schema_differences(engine: Engine) -> list[Any]:
    """What `alembic check` would report: how the database differs from `schema.py`."""
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))
