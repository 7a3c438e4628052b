"""Code locations remember where they came from: the workspace file or CreateCodeLocation.

On start the control plane removes workspace locations the file no longer lists and keeps
the ones added through the API.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("code_locations") as batch:
        batch.add_column(
            sa.Column("source", sa.String(16), nullable=False, server_default="workspace")
        )


def downgrade() -> None:
    with op.batch_alter_table("code_locations") as batch:
        batch.drop_column("source")
