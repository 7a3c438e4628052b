"""Alert policies, the alert delivery queue and its attempts.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

# Frozen copies of the types in schema.py as of this revision.
TIMESTAMP = sa.DateTime(timezone=True)
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "alert_policies",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("policy_id", sa.String(36), nullable=False),
        sa.Column("deployment_id", sa.Integer, nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("kinds", JSON_DOCUMENT, nullable=False),
        sa.Column("code_locations", JSON_DOCUMENT, nullable=False),
        sa.Column("run_tags", JSON_DOCUMENT, nullable=False),
        sa.Column("webhook_url", sa.Text, nullable=False),
        sa.Column("body_format", sa.String(16), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["deployment_id"],
            ["deployments.id"],
            name="fk_alert_policies_deployment_id_deployments",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_alert_policies"),
        sa.UniqueConstraint("policy_id", name="uq_alert_policies_policy_id"),
        sa.UniqueConstraint("deployment_id", "name", name="uq_alert_policies_deployment_id_name"),
    )
    op.create_table(
        "alert_deliveries",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("deployment_id", sa.Integer, nullable=False),
        sa.Column("policy_id", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("event", JSON_DOCUMENT, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", TIMESTAMP, nullable=False),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.Column("ended_at", TIMESTAMP, nullable=True),
        sa.ForeignKeyConstraint(
            ["deployment_id"],
            ["deployments.id"],
            name="fk_alert_deliveries_deployment_id_deployments",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["policy_id"],
            ["alert_policies.policy_id"],
            name="fk_alert_deliveries_policy_id_alert_policies",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_alert_deliveries"),
    )
    op.create_index(
        "ix_alert_deliveries_deployment_id_status_next_attempt_at",
        "alert_deliveries",
        ["deployment_id", "status", "next_attempt_at"],
    )
    op.create_index(
        "ix_alert_deliveries_deployment_id_id", "alert_deliveries", ["deployment_id", "id"]
    )
    op.create_index(
        "ix_alert_deliveries_deployment_id_status_id",
        "alert_deliveries",
        ["deployment_id", "status", "id"],
    )
    op.create_index("ix_alert_deliveries_policy_id_id", "alert_deliveries", ["policy_id", "id"])
    op.create_table(
        "alert_delivery_attempts",
        sa.Column("delivery_id", BIG_ID, nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("started_at", TIMESTAMP, nullable=False),
        sa.Column("duration_ms", sa.Integer, nullable=False),
        sa.Column("status_code", sa.Integer, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["alert_deliveries.id"],
            name="fk_alert_delivery_attempts_delivery_id_alert_deliveries",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("delivery_id", "attempt", name="pk_alert_delivery_attempts"),
    )


def downgrade() -> None:
    op.drop_table("alert_delivery_attempts")
    op.drop_table("alert_deliveries")
    op.drop_table("alert_policies")
