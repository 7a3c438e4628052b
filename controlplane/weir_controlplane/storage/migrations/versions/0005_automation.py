"""The automation evaluator's ticks, per-asset state and evaluation history.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# Frozen copies of the types in schema.py as of this revision.
TIMESTAMP = sa.DateTime(timezone=True)
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _deployment_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["deployment_id"],
        ["deployments.id"],
        name=f"fk_{table}_deployment_id_deployments",
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "automation_ticks",
        sa.Column("deployment_id", sa.Integer, nullable=False),
        sa.Column("tick_number", sa.BigInteger, nullable=False),
        sa.Column("event_cursor", sa.BigInteger, nullable=False),
        sa.Column("evaluated_at", TIMESTAMP),
        sa.Column("carry", JSON_DOCUMENT),
        sa.Column("lease_owner", sa.String(64)),
        sa.Column("lease_expires_at", TIMESTAMP),
        _deployment_fk("automation_ticks"),
        sa.PrimaryKeyConstraint("deployment_id", name="pk_automation_ticks"),
    )
    op.create_table(
        "automation_asset_state",
        sa.Column("deployment_id", sa.Integer, nullable=False),
        sa.Column("asset_key", sa.Text, nullable=False),
        sa.Column("state", JSON_DOCUMENT, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        _deployment_fk("automation_asset_state"),
        sa.PrimaryKeyConstraint("deployment_id", "asset_key", name="pk_automation_asset_state"),
    )
    op.create_table(
        "automation_evaluations",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("deployment_id", sa.Integer, nullable=False),
        sa.Column("asset_key", sa.Text, nullable=False),
        sa.Column("tick_number", sa.BigInteger, nullable=False),
        sa.Column("evaluated_at", TIMESTAMP, nullable=False),
        sa.Column("requested_count", sa.BigInteger, nullable=False),
        sa.Column("requested_partitions", JSON_DOCUMENT, nullable=False),
        sa.Column("run_ids", JSON_DOCUMENT, nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("body", sa.LargeBinary, nullable=False),
        _deployment_fk("automation_evaluations"),
        sa.PrimaryKeyConstraint("id", name="pk_automation_evaluations"),
    )
    op.create_index(
        "ix_automation_evaluations_deployment_id_asset_key_id",
        "automation_evaluations",
        ["deployment_id", "asset_key", "id"],
    )


def downgrade() -> None:
    op.drop_index("ix_automation_evaluations_deployment_id_asset_key_id", "automation_evaluations")
    op.drop_table("automation_evaluations")
    op.drop_table("automation_asset_state")
    op.drop_table("automation_ticks")
