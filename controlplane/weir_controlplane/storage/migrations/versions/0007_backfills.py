"""Backfills and their planned runs.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# Frozen copies of the types in schema.py as of this revision.
TIMESTAMP = sa.DateTime(timezone=True)
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "backfills",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("backfill_id", sa.String(36), nullable=False),
        sa.Column("deployment_id", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("code_location", sa.String(255), nullable=False),
        sa.Column("selection", sa.Text, nullable=False),
        sa.Column("tags", JSON_DOCUMENT, nullable=False),
        sa.Column("targets", JSON_DOCUMENT, nullable=False),
        sa.Column("run_count", sa.Integer, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.Column("ended_at", TIMESTAMP, nullable=True),
        sa.Column("lease_owner", sa.String(36), nullable=True),
        sa.Column("lease_until", TIMESTAMP, nullable=True),
        sa.ForeignKeyConstraint(
            ["deployment_id"],
            ["deployments.id"],
            name="fk_backfills_deployment_id_deployments",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_backfills"),
        sa.UniqueConstraint("backfill_id", name="uq_backfills_backfill_id"),
    )
    op.create_index("ix_backfills_deployment_id_id", "backfills", ["deployment_id", "id"])
    op.create_index(
        "ix_backfills_deployment_id_status_id", "backfills", ["deployment_id", "status", "id"]
    )
    op.create_table(
        "backfill_runs",
        sa.Column("backfill_id", sa.String(36), nullable=False),
        sa.Column("deployment_id", sa.Integer, nullable=False),
        sa.Column("ordinal", sa.Integer, nullable=False),
        sa.Column("asset_keys", JSON_DOCUMENT, nullable=False),
        sa.Column("partition_keys", JSON_DOCUMENT, nullable=False),
        sa.Column("waits_for", JSON_DOCUMENT, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("run_id", sa.String(36), nullable=True),
        sa.ForeignKeyConstraint(
            ["backfill_id"],
            ["backfills.backfill_id"],
            name="fk_backfill_runs_backfill_id_backfills",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["deployment_id"],
            ["deployments.id"],
            name="fk_backfill_runs_deployment_id_deployments",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("backfill_id", "ordinal", name="pk_backfill_runs"),
    )
    op.create_index(
        "ix_backfill_runs_backfill_id_state_ordinal",
        "backfill_runs",
        ["backfill_id", "state", "ordinal"],
    )


def downgrade() -> None:
    op.drop_table("backfill_runs")
    op.drop_table("backfills")
