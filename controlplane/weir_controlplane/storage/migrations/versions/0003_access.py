"""Tenancy and access: branch deployments, API tokens, role bindings, the audit log.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# Frozen copies of the types in schema.py as of this revision.
TIMESTAMP = sa.DateTime(timezone=True)
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
EXPIRING = sa.text("expires_at IS NOT NULL")


def upgrade() -> None:
    with op.batch_alter_table("deployments") as batch:
        batch.add_column(sa.Column("base_deployment_id", sa.Integer()))
        batch.add_column(sa.Column("expires_at", TIMESTAMP))
        batch.create_foreign_key(
            "fk_deployments_base_deployment_id_deployments",
            "deployments",
            ["base_deployment_id"],
            ["id"],
            ondelete="SET NULL",
        )
    op.create_index(
        "ix_deployments_expires_at",
        "deployments",
        ["expires_at"],
        sqlite_where=EXPIRING,
        postgresql_where=EXPIRING,
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("deployment_id", sa.Integer()),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("run_id", sa.String(36)),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("expires_at", TIMESTAMP),
        sa.Column("revoked_at", TIMESTAMP),
        sa.Column("last_used_at", TIMESTAMP),
        sa.PrimaryKeyConstraint("id", name="pk_api_tokens"),
        sa.UniqueConstraint("secret_hash", name="uq_api_tokens_secret_hash"),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name="fk_api_tokens_organization_id_organizations",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["deployment_id"],
            ["deployments.id"],
            name="fk_api_tokens_deployment_id_deployments",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.run_id"], name="fk_api_tokens_run_id_runs", ondelete="CASCADE"
        ),
    )
    op.create_index(
        "ix_api_tokens_organization_id_deployment_id_created_at",
        "api_tokens",
        ["organization_id", "deployment_id", "created_at"],
    )
    op.create_table(
        "role_bindings",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("token_id", sa.String(32), nullable=False),
        sa.Column("deployment_id", sa.Integer()),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("code_locations", JSON_DOCUMENT),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_role_bindings"),
        sa.UniqueConstraint(
            "token_id", "deployment_id", name="uq_role_bindings_token_id_deployment_id"
        ),
        sa.ForeignKeyConstraint(
            ["token_id"],
            ["api_tokens.id"],
            name="fk_role_bindings_token_id_api_tokens",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["deployment_id"],
            ["deployments.id"],
            name="fk_role_bindings_deployment_id_deployments",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_role_bindings_deployment_id", "role_bindings", ["deployment_id"])
    op.create_table(
        "audit_log",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("deployment_id", sa.Integer()),
        sa.Column("deployment_name", sa.String(255)),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.Column("actor", sa.String(32), nullable=False),
        sa.Column("actor_name", sa.String(255), nullable=False),
        sa.Column("method", sa.String(255), nullable=False),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("client_address", sa.String(255), nullable=False),
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name="fk_audit_log_organization_id_organizations",
            ondelete="CASCADE",
        ),
    )
    for columns in (("deployment_id", "id"), ("actor", "id"), ("method", "id")):
        op.create_index(
            f"ix_audit_log_organization_id_{'_'.join(columns)}",
            "audit_log",
            ["organization_id", *columns],
        )


def downgrade() -> None:
    op.drop_table("audit_log")
    op.drop_table("role_bindings")
    op.drop_table("api_tokens")
    op.drop_index("ix_deployments_expires_at", table_name="deployments")
    with op.batch_alter_table("deployments") as batch:
        batch.drop_constraint("fk_deployments_base_deployment_id_deployments", type_="foreignkey")
        batch.drop_column("expires_at")
        batch.drop_column("base_deployment_id")
