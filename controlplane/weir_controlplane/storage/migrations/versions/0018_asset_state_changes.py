"""Asset state versions stamped by the transaction that changed them, indexed, so a reader
reads only the assets changed since its last read.

Existing rows are stamped 0: a reader's first read takes every row anyway.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

_INDEX = "ix_asset_state_versions_deployment_id_changed"


def upgrade() -> None:
    op.add_column(
        "asset_state_versions",
        sa.Column("changed", sa.BigInteger, nullable=False, server_default="0"),
    )
    op.create_index(_INDEX, "asset_state_versions", ["deployment_id", "changed"])


def downgrade() -> None:
    op.drop_index(_INDEX, table_name="asset_state_versions")
    with op.batch_alter_table("asset_state_versions") as batch:
        batch.drop_column("changed")
