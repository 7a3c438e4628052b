"""Initial schema: tenancy, code locations, runs, the event log and derived asset state.

Also creates the default organization and its `prod` deployment.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql
from sqlalchemy.schema import SchemaItem

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Frozen copies of the types in schema.py as of this revision.
TIMESTAMP = sa.DateTime(timezone=True)
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _deployment_id(table: str) -> list[SchemaItem]:
    return [
        sa.Column("deployment_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["deployment_id"],
            ["deployments.id"],
            name=f"fk_{table}_deployment_id_deployments",
            ondelete="CASCADE",
        ),
    ]


def _run_id(table: str) -> list[SchemaItem]:
    return [
        sa.Column("run_id", sa.String(36), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.run_id"], name=f"fk_{table}_run_id_runs", ondelete="CASCADE"
        ),
    ]


def upgrade() -> None:
    organizations = op.create_table(
        "organizations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_organizations"),
        sa.UniqueConstraint("name", name="uq_organizations_name"),
    )
    deployments = op.create_table(
        "deployments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name="fk_deployments_organization_id_organizations",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_deployments"),
        sa.UniqueConstraint("organization_id", "name", name="uq_deployments_organization_id_name"),
    )

    op.create_table(
        "code_locations",
        *_deployment_id("code_locations"),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("address", sa.String(255), nullable=True),
        sa.Column("command", sa.Text(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("snapshot_hash", sa.String(128), nullable=True),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("deployment_id", "name", name="pk_code_locations"),
    )
    op.create_table(
        "snapshots",
        *_deployment_id("snapshots"),
        sa.Column("snapshot_hash", sa.String(128), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("deployment_id", "snapshot_hash", name="pk_snapshots"),
    )

    op.create_table(
        "runs",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(36), nullable=False),
        *_deployment_id("runs"),
        sa.Column("code_location", sa.String(255), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("selection", sa.Text(), nullable=False),
        sa.Column("partition_key", sa.Text(), nullable=True),
        sa.Column("run_config", JSON_DOCUMENT, nullable=False),
        sa.Column("failure_reason", sa.Text(), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.Column("started_at", TIMESTAMP, nullable=True),
        sa.Column("ended_at", TIMESTAMP, nullable=True),
        sa.Column("last_heartbeat_at", TIMESTAMP, nullable=True),
        sa.Column("worker_address", sa.String(255), nullable=True),
        sa.Column("worker_pid", sa.Integer(), nullable=True),
        sa.Column("last_event_sequence", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("max_event_sequence", sa.BigInteger(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_runs"),
        sa.UniqueConstraint("run_id", name="uq_runs_run_id"),
    )
    op.create_index("ix_runs_deployment_id_id", "runs", ["deployment_id", "id"])
    op.create_index("ix_runs_deployment_id_status_id", "runs", ["deployment_id", "status", "id"])
    op.create_index(
        "ix_runs_deployment_id_code_location_id", "runs", ["deployment_id", "code_location", "id"]
    )

    op.create_table(
        "run_tags",
        *_run_id("run_tags"),
        *_deployment_id("run_tags"),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("run_id", "key", name="pk_run_tags"),
    )
    op.create_index(
        "ix_run_tags_deployment_id_key_value",
        "run_tags",
        ["deployment_id", "key", "value", "run_id"],
    )
    op.create_table(
        "run_assets",
        *_run_id("run_assets"),
        *_deployment_id("run_assets"),
        sa.Column("asset_key", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("run_id", "asset_key", name="pk_run_assets"),
    )
    op.create_index(
        "ix_run_assets_deployment_id_asset_key",
        "run_assets",
        ["deployment_id", "asset_key", "run_id"],
    )

    op.create_table(
        "event_log",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("deployment_id", sa.Integer(), nullable=False),
        *_run_id("event_log"),
        sa.Column("sequence", sa.BigInteger(), nullable=True),
        sa.Column("event_type", sa.String(64), nullable=False),
        sa.Column("timestamp", TIMESTAMP, nullable=False),
        sa.Column("step_key", sa.Text(), nullable=True),
        sa.Column("asset_key", sa.Text(), nullable=True),
        sa.Column("partition", sa.Text(), nullable=True),
        sa.Column("check_name", sa.String(255), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("payload", sa.LargeBinary(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_event_log"),
        sa.UniqueConstraint("run_id", "sequence", name="uq_event_log_run_id_sequence"),
    )
    op.create_index("ix_event_log_run_id_id", "event_log", ["run_id", "id"])
    op.create_index(
        "ix_event_log_asset",
        "event_log",
        ["deployment_id", "asset_key", "event_type", "id"],
        postgresql_where=sa.text("asset_key IS NOT NULL"),
        sqlite_where=sa.text("asset_key IS NOT NULL"),
    )
    op.create_index(
        "ix_event_log_asset_partition",
        "event_log",
        ["deployment_id", "asset_key", "event_type", "partition", "id"],
        postgresql_where=sa.text("partition IS NOT NULL"),
        sqlite_where=sa.text("partition IS NOT NULL"),
    )

    op.create_table(
        "asset_latest",
        *_deployment_id("asset_latest"),
        sa.Column("asset_key", sa.Text(), nullable=False),
        sa.Column("partition", sa.Text(), nullable=False),
        sa.Column("materialization_event_id", sa.BigInteger(), nullable=True),
        sa.Column("materialization_run_id", sa.String(36), nullable=True),
        sa.Column("materialized_at", TIMESTAMP, nullable=True),
        sa.Column("failure_event_id", sa.BigInteger(), nullable=True),
        sa.Column("failure_run_id", sa.String(36), nullable=True),
        sa.Column("failed_at", TIMESTAMP, nullable=True),
        sa.PrimaryKeyConstraint("deployment_id", "asset_key", "partition", name="pk_asset_latest"),
    )
    op.create_table(
        "asset_summary",
        *_deployment_id("asset_summary"),
        sa.Column("asset_key", sa.Text(), nullable=False),
        sa.Column("materialization_event_id", sa.BigInteger(), nullable=False),
        sa.Column("materialization_run_id", sa.String(36), nullable=False),
        sa.Column("materialized_at", TIMESTAMP, nullable=False),
        sa.Column("materialization_count", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("deployment_id", "asset_key", name="pk_asset_summary"),
    )
    op.create_table(
        "asset_check_latest",
        *_deployment_id("asset_check_latest"),
        sa.Column("asset_key", sa.Text(), nullable=False),
        sa.Column("check_name", sa.String(255), nullable=False),
        sa.Column("partition", sa.Text(), nullable=False),
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("run_id", sa.String(36), nullable=False),
        sa.Column("passed", sa.Boolean(create_constraint=False), nullable=False),
        sa.Column("severity", sa.String(32), nullable=True),
        sa.Column("evaluated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint(
            "deployment_id", "asset_key", "check_name", "partition", name="pk_asset_check_latest"
        ),
    )

    now = datetime.now(UTC)
    op.bulk_insert(organizations, [{"id": 1, "name": "default", "created_at": now}])
    op.bulk_insert(
        deployments, [{"id": 1, "organization_id": 1, "name": "prod", "created_at": now}]
    )
    if op.get_bind().dialect.name == "postgresql":
        # Explicit ids above do not advance PostgreSQL's sequences.
        for table in (organizations, deployments):
            sequence = sa.func.pg_get_serial_sequence(table.name, "id")
            highest = sa.select(sa.func.max(table.c.id)).scalar_subquery()
            op.execute(sa.select(sa.func.setval(sequence, highest)))


def downgrade() -> None:
    for table in (
        "asset_check_latest",
        "asset_summary",
        "asset_latest",
        "event_log",
        "run_assets",
        "run_tags",
        "runs",
        "snapshots",
        "code_locations",
        "deployments",
        "organizations",
    ):
        op.drop_table(table)
