"""The one SQL construct that differs by database: INSERT ... ON CONFLICT."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as postgresql_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect


def insert(dialect: str, table: sa.Table) -> postgresql_dialect.Insert | sqlite_dialect.Insert:
    """An INSERT supporting `on_conflict_do_nothing` / `on_conflict_do_update`.

    Both dialects' constructs take the same arguments, so callers write one statement.
    """
    if dialect == "postgresql":
        return postgresql_dialect.insert(table)
    if dialect == "sqlite":
        return sqlite_dialect.insert(table)
    raise ValueError(f"unsupported database dialect {dialect!r}")
