"""Asset state revisions: a per-deployment counter of recorded asset state changes.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "asset_state_revisions",
        sa.Column(
            "deployment_id",
            sa.Integer,
            sa.ForeignKey(
                "deployments.id",
                ondelete="CASCADE",
                name="fk_asset_state_revisions_deployment_id_deployments",
            ),
            nullable=False,
        ),
        sa.Column("revision", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("deployment_id", name="pk_asset_state_revisions"),
    )


def downgrade() -> None:
    op.drop_table("asset_state_revisions")
