"""Alembic environment: always runs on a connection handed in by `runner.py`."""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext

from weir_controlplane.storage.schema import metadata
from weir_controlplane.storage.types import UTCDateTime

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "Weir migrations run on a connection passed in by "
        "weir_controlplane.storage.migrations.upgrade_to_head(engine)"
    )


def _render_item(type_: str, obj: Any, _autogen_context: AutogenContext) -> str | Literal[False]:
    """Write our column types as plain SQLAlchemy ones, so migrations import nothing of ours."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


context.configure(
    connection=connection,
    target_metadata=metadata,
    # SQLite alters most columns only by copying the table; batch mode does that.
    render_as_batch=connection.dialect.name == "sqlite",
    render_item=_render_item,
    compare_type=True,
)
context.run_migrations()
