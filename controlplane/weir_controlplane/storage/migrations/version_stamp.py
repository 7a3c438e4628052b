"""The schema version stamp, read and written without Alembic.

Alembic takes a few hundred milliseconds to import and to load the revision scripts, and
walking fifteen migrations on a new SQLite file takes a second more: a control plane
opening a database already at head, or a new empty one, needs neither. `runner.py` asks
here first and runs Alembic only for a database part-way through the history.

The head is the newest revision script's number: revisions are numbered `NNNN` and their
files named `NNNN_slug.py` (`python -m weir_controlplane.storage.migrations revision`
makes both), one linear history. A test holds this to Alembic's own head.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from weir_controlplane.storage.schema import deployments, metadata, organizations

VERSIONS_DIR = Path(__file__).parent / "versions"
_REVISION_FILE = re.compile(r"^(\d{4})_\w+\.py$")

# Alembic's own version table, as `alembic upgrade` creates it.
_version_table = sa.Table(
    "alembic_version",
    sa.MetaData(),
    sa.Column("version_num", sa.String(32), nullable=False),
    sa.PrimaryKeyConstraint("version_num", name="alembic_version_pkc"),
)


@cache
def newest_revision() -> str:
    """The revision a database at head is stamped with, e.g. "0015"."""
    numbers = [
        match.group(1)
        for path in VERSIONS_DIR.iterdir()
        if (match := _REVISION_FILE.match(path.name))
    ]
    assert numbers, f"no revision scripts in {VERSIONS_DIR}"
    return max(numbers)


def stamped_revision(conn: Connection) -> str | None:
    """The revision the database says it is at; None when it was never migrated."""
    if not sa.inspect(conn).has_table(_version_table.name):
        return None
    return conn.execute(sa.select(_version_table.c.version_num)).scalar_one_or_none()


def is_empty(conn: Connection) -> bool:
    """No table of ours yet: a database made for us, or a new SQLite file."""
    existing = set(sa.inspect(conn).get_table_names())
    return not existing & (set(metadata.tables) | {_version_table.name})


def create_at_head(conn: Connection) -> None:
    """Create every table from `schema.py`, seed what the first migration seeds (the
    default organization and the "prod" deployment) and stamp the database at head.

    What this creates is the migrated schema: tests/controlplane/test_storage_migrations.py
    compares the two, table by table, on SQLite and PostgreSQL.
    """
    metadata.create_all(conn)
    now = datetime.now(UTC)
    conn.execute(sa.insert(organizations).values(id=1, name="default", created_at=now))
    conn.execute(
        sa.insert(deployments).values(id=1, organization_id=1, name="prod", created_at=now)
    )
    if conn.dialect.name == "postgresql":
        # Explicit ids do not advance PostgreSQL's sequences.
        for table in (organizations, deployments):
            sequence = sa.func.pg_get_serial_sequence(table.name, "id")
            conn.execute(sa.select(sa.func.setval(sequence, 1)))
    _version_table.create(conn)
    conn.execute(sa.insert(_version_table).values(version_num=newest_revision()))
