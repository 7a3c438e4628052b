"""Asset state versions: how many times each asset's recorded state changed.

Existing assets start with no row (revision 0): what a process keeps of them is built
after the upgrade, from the state as it is then.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "asset_state_versions",
        sa.Column(
            "deployment_id",
            sa.Integer,
            sa.ForeignKey(
                "deployments.id",
                ondelete="CASCADE",
                name="fk_asset_state_versions_deployment_id_deployments",
            ),
            nullable=False,
        ),
        sa.Column("asset_key", sa.Text, nullable=False),
        sa.Column("revision", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("deployment_id", "asset_key", name="pk_asset_state_versions"),
    )


def downgrade() -> None:
    op.drop_table("asset_state_versions")
