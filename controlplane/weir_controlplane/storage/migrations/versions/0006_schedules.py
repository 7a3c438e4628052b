"""Schedules and sensors: their stored state and leases, their ticks, and the index
run-status sensors read run-ending events through.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# Frozen copies of the types in schema.py as of this revision.
TIMESTAMP = sa.DateTime(timezone=True)
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
NAME = sa.String(255)


def upgrade() -> None:
    op.create_table(
        "instigator_states",
        sa.Column("deployment_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("code_location", NAME, nullable=False),
        sa.Column("name", NAME, nullable=False),
        sa.Column("status", sa.String(16)),
        sa.Column("cursor", sa.Text()),
        sa.Column("last_tick_at", TIMESTAMP),
        sa.Column("last_run_key", sa.Text()),
        sa.Column("last_event_id", sa.BigInteger()),
        sa.Column("version", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("lease_owner", sa.String(64)),
        sa.Column("lease_expires_at", TIMESTAMP),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["deployment_id"],
            ["deployments.id"],
            name="fk_instigator_states_deployment_id_deployments",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "deployment_id", "kind", "code_location", "name", name="pk_instigator_states"
        ),
    )
    op.create_table(
        "instigator_ticks",
        sa.Column("id", BIG_ID, nullable=False, autoincrement=True),
        sa.Column("deployment_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("code_location", NAME, nullable=False),
        sa.Column("name", NAME, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("tick_time", TIMESTAMP, nullable=False),
        sa.Column("ended_at", TIMESTAMP, nullable=False),
        sa.Column("run_ids", JSON_DOCUMENT, nullable=False),
        sa.Column("run_keys", JSON_DOCUMENT, nullable=False),
        sa.Column("skip_reason", sa.Text()),
        sa.Column("error", sa.Text()),
        sa.Column("cursor_before", sa.Text()),
        sa.Column("cursor_after", sa.Text()),
        sa.ForeignKeyConstraint(
            ["deployment_id"],
            ["deployments.id"],
            name="fk_instigator_ticks_deployment_id_deployments",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_instigator_ticks"),
        sa.UniqueConstraint(
            "deployment_id",
            "kind",
            "code_location",
            "name",
            "tick_time",
            name="uq_instigator_ticks_tick_time",
        ),
    )
    op.create_index(
        "ix_instigator_ticks_deployment_id_name_id",
        "instigator_ticks",
        ["deployment_id", "name", "code_location", "id"],
    )
    op.create_index(
        "ix_event_log_deployment_id_event_type_id",
        "event_log",
        ["deployment_id", "event_type", "id"],
    )


def downgrade() -> None:
    op.drop_index("ix_event_log_deployment_id_event_type_id", table_name="event_log")
    op.drop_table("instigator_ticks")
    op.drop_table("instigator_states")
