"""Step attempts of runs whose steps execute on other workers (Celery).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# Frozen copies of the types in schema.py as of this revision.
TIMESTAMP = sa.DateTime(timezone=True)
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "step_attempts",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("launch_key", sa.String(63), nullable=False),
        sa.Column("deployment_id", sa.Integer, nullable=False),
        sa.Column("run_id", sa.String(36), nullable=False),
        sa.Column("step_key", sa.Text, nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("queue", sa.String(255), nullable=True),
        sa.Column("lease_seconds", sa.Float, nullable=False),
        sa.Column("worker_id", sa.String(255), nullable=True),
        sa.Column("token_id", sa.String(32), nullable=True),
        sa.Column("acked_sequence", sa.BigInteger, server_default="0", nullable=False),
        sa.Column("produced", JSON_DOCUMENT, nullable=False),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("heartbeat_at", TIMESTAMP, nullable=True),
        sa.Column("ended_at", TIMESTAMP, nullable=True),
        sa.ForeignKeyConstraint(
            ["deployment_id"],
            ["deployments.id"],
            name="fk_step_attempts_deployment_id_deployments",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.run_id"], name="fk_step_attempts_run_id_runs", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_step_attempts"),
        sa.UniqueConstraint("launch_key", name="uq_step_attempts_launch_key"),
    )
    op.create_index("ix_step_attempts_run_id_step_key", "step_attempts", ["run_id", "step_key"])


def downgrade() -> None:
    op.drop_index("ix_step_attempts_run_id_step_key", table_name="step_attempts")
    op.drop_table("step_attempts")
