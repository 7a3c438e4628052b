"""Alembic migrations: one linear history for SQLite and PostgreSQL.

Applied programmatically at startup (`upgrade_to_head(engine)`); no alembic.ini. To
write a migration after changing `schema.py`::

    python -m weir_controlplane.storage.migrations revision -m "add ticks table"

which autogenerates against a scratch SQLite database at head; review the result and
run `ruff format` on it.
"""

from __future__ import annotations

from weir_controlplane.storage.migrations.runner import (
    alembic_config,
    current_revision,
    head_revision,
    schema_differences,
    upgrade_to_head,
)

__all__ = [
    "alembic_config",
    "current_revision",
    "head_revision",
    "schema_differences",
    "upgrade_to_head",
]
