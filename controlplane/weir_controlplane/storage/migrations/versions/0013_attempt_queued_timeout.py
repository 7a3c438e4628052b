"""Step attempts: a queued timeout, and the index that finds a queue's recent workers.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("step_attempts", sa.Column("queued_timeout_seconds", sa.Float, nullable=True))
    op.create_index(
        "ix_step_attempts_deployment_id_queue_heartbeat_at",
        "step_attempts",
        ["deployment_id", "queue", "heartbeat_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_step_attempts_deployment_id_queue_heartbeat_at", "step_attempts")
    with op.batch_alter_table("step_attempts") as batch:
        batch.drop_column("queued_timeout_seconds")
