"""Tick and evaluation history retention: repeated SKIPPED ticks stored once, and the
indexes that find old history by age.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# Frozen copies of the types in schema.py as of this revision.
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("instigator_ticks") as batch:
        batch.add_column(
            sa.Column("repeat_count", sa.BigInteger, nullable=False, server_default="1")
        )
        batch.add_column(sa.Column("last_tick_time", TIMESTAMP, nullable=True))
    op.create_index(
        "ix_instigator_ticks_deployment_id_ended_at",
        "instigator_ticks",
        ["deployment_id", "ended_at"],
    )
    op.create_index(
        "ix_automation_evaluations_deployment_id_evaluated_at",
        "automation_evaluations",
        ["deployment_id", "evaluated_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_automation_evaluations_deployment_id_evaluated_at", "automation_evaluations")
    op.drop_index("ix_instigator_ticks_deployment_id_ended_at", "instigator_ticks")
    with op.batch_alter_table("instigator_ticks") as batch:
        batch.drop_column("last_tick_time")
        batch.drop_column("repeat_count")
