"""Asset health, freshness state, status changes, materialization metadata, check history.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

# Frozen copies of the types in schema.py as of this revision.
TIMESTAMP = sa.DateTime(timezone=True)
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _deployment_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["deployment_id"],
        ["deployments.id"],
        name=f"fk_{table}_deployment_id_deployments",
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "asset_health",
        sa.Column("deployment_id", sa.Integer, nullable=False),
        sa.Column("asset_key", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("materialization", sa.String(16), nullable=False),
        sa.Column("materialization_reason", sa.Text, nullable=False),
        sa.Column("partitions", sa.String(16), nullable=False),
        sa.Column("partitions_reason", sa.Text, nullable=False),
        sa.Column("checks", sa.String(16), nullable=False),
        sa.Column("checks_reason", sa.Text, nullable=False),
        sa.Column("freshness", sa.String(16), nullable=False),
        sa.Column("freshness_reason", sa.Text, nullable=False),
        sa.Column("changed_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        _deployment_fk("asset_health"),
        sa.PrimaryKeyConstraint("deployment_id", "asset_key", name="pk_asset_health"),
    )
    op.create_index(
        "ix_asset_health_deployment_id_status_asset_key",
        "asset_health",
        ["deployment_id", "status", "asset_key"],
    )
    op.create_table(
        "asset_freshness",
        sa.Column("deployment_id", sa.Integer, nullable=False),
        sa.Column("asset_key", sa.Text, nullable=False),
        sa.Column("policy", sa.LargeBinary, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("due_at", TIMESTAMP, nullable=True),
        sa.Column("evaluated_at", TIMESTAMP, nullable=True),
        _deployment_fk("asset_freshness"),
        sa.PrimaryKeyConstraint("deployment_id", "asset_key", name="pk_asset_freshness"),
    )
    op.create_index(
        "ix_asset_freshness_deployment_id_due_at",
        "asset_freshness",
        ["deployment_id", "due_at"],
        postgresql_where=sa.text("due_at IS NOT NULL"),
        sqlite_where=sa.text("due_at IS NOT NULL"),
    )
    op.create_table(
        "asset_status_changes",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("deployment_id", sa.Integer, nullable=False),
        sa.Column("asset_key", sa.Text, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("previous", sa.String(16), nullable=False),
        sa.Column("current", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        _deployment_fk("asset_status_changes"),
        sa.PrimaryKeyConstraint("id", name="pk_asset_status_changes"),
    )
    op.create_index(
        "ix_asset_status_changes_deployment_id_id", "asset_status_changes", ["deployment_id", "id"]
    )
    op.create_index(
        "ix_asset_status_changes_deployment_id_asset_key_id",
        "asset_status_changes",
        ["deployment_id", "asset_key", "id"],
    )
    op.create_table(
        "materialization_metadata",
        sa.Column("deployment_id", sa.Integer, nullable=False),
        sa.Column("event_id", sa.BigInteger, nullable=False),
        sa.Column("asset_key", sa.Text, nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("value_type", sa.String(16), nullable=False),
        sa.Column("text_value", sa.Text, nullable=True),
        sa.Column("number_value", sa.Float, nullable=True),
        _deployment_fk("materialization_metadata"),
        sa.PrimaryKeyConstraint("event_id", "key", name="pk_materialization_metadata"),
    )
    op.create_index(
        "ix_materialization_metadata_asset_key",
        "materialization_metadata",
        ["deployment_id", "asset_key", "key", "event_id"],
    )
    op.create_index(
        "ix_materialization_metadata_key",
        "materialization_metadata",
        ["deployment_id", "key", "asset_key"],
    )
    op.create_index(
        "ix_event_log_check",
        "event_log",
        ["deployment_id", "asset_key", "check_name", "id"],
        postgresql_where=sa.text("check_name IS NOT NULL"),
        sqlite_where=sa.text("check_name IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_event_log_check", table_name="event_log")
    op.drop_table("materialization_metadata")
    op.drop_table("asset_status_changes")
    op.drop_table("asset_freshness")
    op.drop_table("asset_health")
