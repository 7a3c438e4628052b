"""Control-plane replica membership; which replica launches each run; runs failed as lost.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# Frozen copies of the types in schema.py as of this revision.
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "control_plane_replicas",
        sa.Column("replica_id", sa.String(36), nullable=False),
        sa.Column("reporting_address", sa.String(255), nullable=False),
        sa.Column("http_address", sa.String(255), nullable=False),
        sa.Column("hostname", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("started_at", TIMESTAMP, nullable=False),
        sa.Column("last_beat_at", TIMESTAMP, nullable=False),
        sa.Column("lease_until", TIMESTAMP, nullable=False),
        sa.Column("stopped_at", TIMESTAMP, nullable=True),
        sa.Column("taken_over_by", sa.String(36), nullable=True),
        sa.Column("taken_over_at", TIMESTAMP, nullable=True),
        sa.PrimaryKeyConstraint("replica_id", name="pk_control_plane_replicas"),
    )
    op.create_index(
        "ix_control_plane_replicas_lease_until", "control_plane_replicas", ["lease_until"]
    )
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("launched_by", sa.String(36), nullable=True))
        batch.add_column(
            sa.Column("worker_lost", sa.Boolean, nullable=False, server_default=sa.false())
        )
    op.create_index("ix_runs_launched_by_status", "runs", ["launched_by", "status"])


def downgrade() -> None:
    op.drop_index("ix_runs_launched_by_status", table_name="runs")
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("worker_lost")
        batch.drop_column("launched_by")
    op.drop_index("ix_control_plane_replicas_lease_until", table_name="control_plane_replicas")
    op.drop_table("control_plane_replicas")
