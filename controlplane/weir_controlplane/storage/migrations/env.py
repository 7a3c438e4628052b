"""Alembic environment: always runs on a connection handed in by `runner.py`."""

from __future__ import annotations

from alembic import context

from weir_controlplane.storage.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "Weir migrations run on a connection passed in by "
        "weir_controlplane.storage.migrations.upgrade_to_head(engine)"
    )

context.configure(
    connection=connection,
    target_metadata=metadata,
    # SQLite alters most columns only by copying the table; batch mode does that.
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
context.run_migrations()
