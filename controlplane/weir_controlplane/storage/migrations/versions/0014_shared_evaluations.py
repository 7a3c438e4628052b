"""Automation evaluations shared by the assets of a tick in the same situation: one stored
tree, and per asset only the dependencies that differ.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

# Frozen copies of the types in schema.py as of this revision.
TIMESTAMP = sa.DateTime(timezone=True)
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "automation_shared_evaluations",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("deployment_id", sa.Integer, nullable=False),
        sa.Column("evaluated_at", TIMESTAMP, nullable=False),
        sa.Column("body", sa.LargeBinary, nullable=False),
        sa.Column("dependency_paths", JSON_DOCUMENT, nullable=False),
        sa.ForeignKeyConstraint(
            ["deployment_id"],
            ["deployments.id"],
            name="fk_automation_shared_evaluations_deployment_id_deployments",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_automation_shared_evaluations"),
    )
    op.create_index(
        "ix_automation_shared_evaluations_deployment_id_evaluated_at",
        "automation_shared_evaluations",
        ["deployment_id", "evaluated_at"],
    )
    with op.batch_alter_table("automation_evaluations") as batch:
        batch.add_column(sa.Column("shared_id", sa.BigInteger, nullable=True))
        batch.add_column(sa.Column("dependencies", sa.Text, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("automation_evaluations") as batch:
        batch.drop_column("dependencies")
        batch.drop_column("shared_id")
    op.drop_index(
        "ix_automation_shared_evaluations_deployment_id_evaluated_at",
        "automation_shared_evaluations",
    )
    op.drop_table("automation_shared_evaluations")
