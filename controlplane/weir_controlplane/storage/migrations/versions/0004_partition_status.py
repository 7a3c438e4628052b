"""Partition status per asset (index ranges) and the keys of dynamic partitions.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# A frozen copy of the timestamp type in schema.py as of this revision.
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "asset_partition_status",
        sa.Column("deployment_id", sa.Integer, nullable=False),
        sa.Column("asset_key", sa.Text, nullable=False),
        sa.Column("space_fingerprint", sa.String(128), nullable=False),
        sa.Column("materialized", sa.LargeBinary, nullable=False),
        sa.Column("failed", sa.LargeBinary, nullable=False),
        sa.Column("in_progress", sa.LargeBinary, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["deployment_id"],
            ["deployments.id"],
            name="fk_asset_partition_status_deployment_id_deployments",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("deployment_id", "asset_key", name="pk_asset_partition_status"),
    )
    op.create_table(
        "dynamic_partitions",
        sa.Column("deployment_id", sa.Integer, nullable=False),
        sa.Column("partitions_def_name", sa.String(255), nullable=False),
        sa.Column("partition_key", sa.Text, nullable=False),
        sa.Column("ordinal", sa.BigInteger, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("deleted_at", TIMESTAMP),
        sa.ForeignKeyConstraint(
            ["deployment_id"],
            ["deployments.id"],
            name="fk_dynamic_partitions_deployment_id_deployments",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "deployment_id", "partitions_def_name", "partition_key", name="pk_dynamic_partitions"
        ),
        sa.UniqueConstraint(
            "deployment_id",
            "partitions_def_name",
            "ordinal",
            name="uq_dynamic_partitions_deployment_id_partitions_def_name_ordinal",
        ),
    )


def downgrade() -> None:
    op.drop_table("dynamic_partitions")
    op.drop_table("asset_partition_status")
