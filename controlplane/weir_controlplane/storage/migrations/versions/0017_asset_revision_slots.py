"""Asset state revisions in slots: concurrent ingest of one deployment bumps different rows.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def _create(*, slotted: bool) -> sa.Table:
    columns: list[sa.Column[int]] = [
        sa.Column(
            "deployment_id",
            sa.Integer,
            sa.ForeignKey(
                "deployments.id",
                ondelete="CASCADE",
                name="fk_asset_state_revisions_deployment_id_deployments",
            ),
            nullable=False,
        )
    ]
    if slotted:
        columns.append(sa.Column("slot", sa.Integer, nullable=False))
    key = ("deployment_id", "slot") if slotted else ("deployment_id",)
    return op.create_table(
        "asset_state_revisions",
        *columns,
        sa.Column("revision", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint(*key, name="pk_asset_state_revisions"),
    )


def _revisions() -> list[tuple[int, int]]:
    """Each deployment's revision (the sum over its slots, if any)."""
    rows = op.get_bind().execute(
        sa.text(
            "SELECT deployment_id, SUM(revision) FROM asset_state_revisions GROUP BY deployment_id"
        )
    )
    return [(int(deployment_id), int(total)) for deployment_id, total in rows]


def upgrade() -> None:
    # The revision carries over: a reply kept under it still matches the state it shows.
    kept = _revisions()
    op.drop_table("asset_state_revisions")
    table = _create(slotted=True)
    if kept:
        op.bulk_insert(table, [{"deployment_id": d, "slot": 0, "revision": r} for d, r in kept])


def downgrade() -> None:
    kept = _revisions()
    op.drop_table("asset_state_revisions")
    table = _create(slotted=False)
    if kept:
        op.bulk_insert(table, [{"deployment_id": d, "revision": r} for d, r in kept])
