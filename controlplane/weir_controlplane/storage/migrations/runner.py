"""Bringing a Weir database to the newest schema: Alembic only when there is history to walk.

Alembic is imported inside the functions that use it: a control plane opening a database
already at head (or a new, empty one) never loads it (see `version_stamp.py`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from weir_controlplane.storage.engine import Database
from weir_controlplane.storage.migrations.version_stamp import (
    create_at_head,
    is_empty,
    newest_revision,
    stamped_revision,
)
from weir_controlplane.storage.schema import metadata

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).parent

# Several control-plane replicas may start at once against one PostgreSQL; the first
# to take this lock migrates and the others then find the schema at head.
_MIGRATION_LOCK_KEY = 0x57E1_0001


def alembic_config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """Alembic's head, read from the revision scripts (`newest_revision()` without Alembic)."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "the migrations directory has no revisions"
    return head


def upgrade_to_head(engine: Engine) -> None:
    """Bring the database's schema to the newest revision, in one transaction.

    A database stamped at head is left as it is and a new, empty one is created from
    `schema.py` and stamped, both without Alembic; any other is migrated by Alembic.

    Example: `upgrade_to_head(create_engine("sqlite:///weir.db"))`.
    """
    with Database(engine).write() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_MIGRATION_LOCK_KEY)))
        stamped = stamped_revision(conn)
        if stamped == newest_revision():
            return
        if stamped is None and is_empty(conn):
            create_at_head(conn)
            return
        migrate(conn)


def migrate(conn: Connection) -> None:
    """Walk the Alembic history from wherever the database is (none: the first migration)."""
    from alembic import command

    command.upgrade(alembic_config(conn), "head")


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def schema_differences(engine: Engine) -> list[Any]:
    """What `alembic check` would report: how the database differs from `schema.py`."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))
