"""The control plane's database schema: one MetaData for SQLite and PostgreSQL.

Every table holding tenant data carries `deployment_id`. `event_log` is append-only;
`runs` status columns and the `asset_*` tables are derived from it and written in the
same transaction as the events that change them, so no read ever scans the log.

A change here needs a new migration in `migrations/versions/`; the test suite
compares this metadata against the migrated database.
"""

from __future__ import annotations

import sqlalchemy as sa

from weir_controlplane.storage.types import BigIntegerPK, JSONDocument, UTCDateTime

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

RUN_ID = sa.String(36)
NAME = sa.String(255)


def _deployment_fk() -> sa.Column[int]:
    return sa.Column(
        "deployment_id",
        sa.Integer,
        sa.ForeignKey("deployments.id", ondelete="CASCADE"),
        nullable=False,
    )


def _run_fk() -> sa.Column[str]:
    return sa.Column("run_id", RUN_ID, sa.ForeignKey("runs.run_id", ondelete="CASCADE"))


# --- tenancy --------------------------------------------------------------------------

organizations = sa.Table(
    "organizations",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", NAME, nullable=False, unique=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

deployments = sa.Table(
    "deployments",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column(
        "organization_id",
        sa.Integer,
        sa.ForeignKey("organizations.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("name", NAME, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    # A branch deployment's base; deleting the base leaves the branch standing.
    sa.Column(
        "base_deployment_id",
        sa.Integer,
        sa.ForeignKey("deployments.id", ondelete="SET NULL"),
    ),
    # When a branch deployment and all its rows are deleted; NULL keeps it.
    sa.Column("expires_at", UTCDateTime),
    sa.UniqueConstraint("organization_id", "name"),
    sa.Index(
        "ix_deployments_expires_at",
        "expires_at",
        sqlite_where=sa.text("expires_at IS NOT NULL"),
        postgresql_where=sa.text("expires_at IS NOT NULL"),
    ),
)

# --- access ---------------------------------------------------------------------------

# Bearer tokens. Only the SHA-256 of a secret is kept: secrets are 256 random bits, so a
# fast hash is as strong as a slow one and lets every request look its token up.
api_tokens = sa.Table(
    "api_tokens",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column(
        "organization_id",
        sa.Integer,
        sa.ForeignKey("organizations.id", ondelete="CASCADE"),
        nullable=False,
    ),
    # The deployment it was created in; NULL for an organization admin token.
    sa.Column("deployment_id", sa.Integer, sa.ForeignKey("deployments.id", ondelete="CASCADE")),
    # "user", "agent" or "run".
    sa.Column("kind", sa.String(8), nullable=False),
    sa.Column("name", NAME, nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("secret_hash", sa.String(64), nullable=False, unique=True),
    # A run token's run: the token dies with the run's end, and its row with the run's.
    _run_fk(),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("expires_at", UTCDateTime),
    sa.Column("revoked_at", UTCDateTime),
    sa.Column("last_used_at", UTCDateTime),
    sa.Index(
        "ix_api_tokens_organization_id_deployment_id_created_at",
        "organization_id",
        "deployment_id",
        "created_at",
    ),
)

# A role granted to a token in a deployment (NULL: organization-wide), optionally
# narrowed to code locations (NULL: all of the deployment's).
role_bindings = sa.Table(
    "role_bindings",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column(
        "token_id",
        sa.String(32),
        sa.ForeignKey("api_tokens.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("deployment_id", sa.Integer, sa.ForeignKey("deployments.id", ondelete="CASCADE")),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("code_locations", JSONDocument),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("token_id", "deployment_id"),
    sa.Index("ix_role_bindings_deployment_id", "deployment_id"),
)

# Every mutation through the API. Not tenant data in the deletable sense: the entries of
# a deleted deployment stay (deployment_id has no foreign key), so its deletion is on record.
audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", BigIntegerPK, primary_key=True, autoincrement=True),
    sa.Column(
        "organization_id",
        sa.Integer,
        sa.ForeignKey("organizations.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("deployment_id", sa.Integer),
    sa.Column("deployment_name", NAME),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("actor", sa.String(32), nullable=False),
    sa.Column("actor_name", NAME, nullable=False),
    sa.Column("method", NAME, nullable=False),
    sa.Column("target", sa.Text, nullable=False),
    sa.Column("outcome", sa.String(32), nullable=False),
    sa.Column("client_address", NAME, nullable=False),
    sa.Column("request_id", sa.String(64), nullable=False),
    sa.Index(
        "ix_audit_log_organization_id_deployment_id_id", "organization_id", "deployment_id", "id"
    ),
    sa.Index("ix_audit_log_organization_id_actor_id", "organization_id", "actor", "id"),
    sa.Index("ix_audit_log_organization_id_method_id", "organization_id", "method", "id"),
)

# --- code locations -------------------------------------------------------------------

code_locations = sa.Table(
    "code_locations",
    metadata,
    _deployment_fk(),
    sa.Column("name", NAME, nullable=False),
    sa.Column("address", NAME),
    sa.Column("command", sa.Text),
    # "workspace" (the workspace file lists it) or "api" (added with CreateCodeLocation).
    sa.Column("source", sa.String(16), nullable=False, server_default="workspace"),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("error_message", sa.Text),
    sa.Column("snapshot_hash", sa.String(128)),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.PrimaryKeyConstraint("deployment_id", "name"),
)

# Definitions snapshots by content hash: a reload that returns a known hash stores nothing.
snapshots = sa.Table(
    "snapshots",
    metadata,
    _deployment_fk(),
    sa.Column("snapshot_hash", sa.String(128), nullable=False),
    sa.Column("body", sa.LargeBinary, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.PrimaryKeyConstraint("deployment_id", "snapshot_hash"),
)

# --- runs -----------------------------------------------------------------------------

runs = sa.Table(
    "runs",
    metadata,
    sa.Column("id", BigIntegerPK, primary_key=True, autoincrement=True),
    sa.Column("run_id", RUN_ID, nullable=False, unique=True),
    _deployment_fk(),
    sa.Column("code_location", NAME, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("selection", sa.Text, nullable=False),
    sa.Column("partition_key", sa.Text),
    sa.Column("run_config", JSONDocument, nullable=False),
    sa.Column("failure_reason", sa.Text),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("started_at", UTCDateTime),
    sa.Column("ended_at", UTCDateTime),
    sa.Column("last_heartbeat_at", UTCDateTime),
    sa.Column("worker_address", NAME),
    sa.Column("worker_pid", sa.Integer),
    # Highest sequence up to which every event is stored (the ingest ack), and the
    # highest stored at all. Ingest stores nothing past a gap, so they differ only in a
    # database written before it refused gaps.
    sa.Column("last_event_sequence", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("max_event_sequence", sa.BigInteger, nullable=False, server_default="0"),
    # The control-plane replica that claimed the run from the queue and launches it; a
    # live replica adopts the runs of one whose membership lease expired.
    sa.Column("launched_by", RUN_ID),
    # Set when the run monitor failed the run for a silent worker: the worker's complete
    # record, if it turns up later, still decides the outcome (storage/events.py).
    sa.Column("worker_lost", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Index("ix_runs_deployment_id_id", "deployment_id", "id"),
    sa.Index("ix_runs_deployment_id_status_id", "deployment_id", "status", "id"),
    sa.Index("ix_runs_deployment_id_code_location_id", "deployment_id", "code_location", "id"),
    sa.Index("ix_runs_launched_by_status", "launched_by", "status"),
)

# Run keys and other idempotency lookups are tag lookups: (deployment, key, value) → run.
run_tags = sa.Table(
    "run_tags",
    metadata,
    _run_fk(),
    _deployment_fk(),
    sa.Column("key", NAME, nullable=False),
    sa.Column("value", sa.Text, nullable=False),
    sa.PrimaryKeyConstraint("run_id", "key"),
    sa.Index("ix_run_tags_deployment_id_key_value", "deployment_id", "key", "value", "run_id"),
)

run_assets = sa.Table(
    "run_assets",
    metadata,
    _run_fk(),
    _deployment_fk(),
    sa.Column("asset_key", sa.Text, nullable=False),
    sa.PrimaryKeyConstraint("run_id", "asset_key"),
    sa.Index("ix_run_assets_deployment_id_asset_key", "deployment_id", "asset_key", "run_id"),
)

# --- schedules and sensors ------------------------------------------------------------

# One row per schedule or sensor ("kind") the daemons have seen, by code location and
# name. `status` NULL follows the code's default_status; a stored one overrides it. The
# lease (owner, expiry) is the claim of the replica evaluating its tick; `version` grows
# with every stored tick, so a replica that read an older row cannot claim it.
instigator_states = sa.Table(
    "instigator_states",
    metadata,
    _deployment_fk(),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("code_location", NAME, nullable=False),
    sa.Column("name", NAME, nullable=False),
    sa.Column("status", sa.String(16)),
    sa.Column("cursor", sa.Text),
    # Sensors: when the last tick was evaluated. Schedules: the last cron time handled.
    sa.Column("last_tick_at", UTCDateTime),
    sa.Column("last_run_key", sa.Text),
    # Asset and run-status sensors: the event_log id up to which events were passed on.
    sa.Column("last_event_id", sa.BigInteger),
    sa.Column("version", sa.Integer, nullable=False, server_default="0"),
    sa.Column("lease_owner", sa.String(64)),
    sa.Column("lease_expires_at", UTCDateTime),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.PrimaryKeyConstraint("deployment_id", "kind", "code_location", "name"),
)

# Every tick's outcome. The unique tick time keeps a schedule from ticking twice for one
# cron time, whichever replica or restart gets there.
instigator_ticks = sa.Table(
    "instigator_ticks",
    metadata,
    sa.Column("id", BigIntegerPK, primary_key=True, autoincrement=True),
    _deployment_fk(),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("code_location", NAME, nullable=False),
    sa.Column("name", NAME, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("tick_time", UTCDateTime, nullable=False),
    sa.Column("ended_at", UTCDateTime, nullable=False),
    sa.Column("run_ids", JSONDocument, nullable=False),
    sa.Column("run_keys", JSONDocument, nullable=False),
    sa.Column("skip_reason", sa.Text),
    sa.Column("error", sa.Text),
    sa.Column("cursor_before", sa.Text),
    sa.Column("cursor_after", sa.Text),
    # A sensor's consecutive identical SKIPPED ticks are one row: how many it stands for,
    # and when the last of them was evaluated (tick_time is the first's; ended_at the
    # last's, which is what retention ages it by).
    sa.Column("repeat_count", sa.BigInteger, nullable=False, server_default="1"),
    sa.Column("last_tick_time", UTCDateTime),
    sa.UniqueConstraint(
        "deployment_id",
        "kind",
        "code_location",
        "name",
        "tick_time",
        name="uq_instigator_ticks_tick_time",
    ),
    sa.Index(
        "ix_instigator_ticks_deployment_id_name_id", "deployment_id", "name", "code_location", "id"
    ),
    # Retention finds the old ticks by age.
    sa.Index("ix_instigator_ticks_deployment_id_ended_at", "deployment_id", "ended_at"),
)

# --- events ---------------------------------------------------------------------------

event_log = sa.Table(
    "event_log",
    metadata,
    # The global, monotonic cursor of every event feed.
    sa.Column("id", BigIntegerPK, primary_key=True, autoincrement=True),
    sa.Column("deployment_id", sa.Integer, nullable=False),
    sa.Column("run_id", RUN_ID, sa.ForeignKey("runs.run_id", ondelete="CASCADE"), nullable=False),
    # NULL for events the control plane records itself; NULLs never collide in UNIQUE.
    sa.Column("sequence", sa.BigInteger),
    sa.Column("event_type", sa.String(64), nullable=False),
    sa.Column("timestamp", UTCDateTime, nullable=False),
    sa.Column("step_key", sa.Text),
    sa.Column("asset_key", sa.Text),
    sa.Column("partition", sa.Text),
    sa.Column("check_name", NAME),
    sa.Column("message", sa.Text),
    sa.Column("payload", sa.LargeBinary),
    sa.UniqueConstraint("run_id", "sequence"),
    sa.Index("ix_event_log_run_id_id", "run_id", "id"),
    # Run-status sensors read run-ending events by type, after an event id.
    sa.Index("ix_event_log_deployment_id_event_type_id", "deployment_id", "event_type", "id"),
    sa.Index(
        "ix_event_log_asset",
        "deployment_id",
        "asset_key",
        "event_type",
        "id",
        postgresql_where=sa.text("asset_key IS NOT NULL"),
        sqlite_where=sa.text("asset_key IS NOT NULL"),
    ),
    sa.Index(
        "ix_event_log_asset_partition",
        "deployment_id",
        "asset_key",
        "event_type",
        "partition",
        "id",
        postgresql_where=sa.text("partition IS NOT NULL"),
        sqlite_where=sa.text("partition IS NOT NULL"),
    ),
    # A check's evaluation history, newest first (ListCheckEvaluations).
    sa.Index(
        "ix_event_log_check",
        "deployment_id",
        "asset_key",
        "check_name",
        "id",
        postgresql_where=sa.text("check_name IS NOT NULL"),
        sqlite_where=sa.text("check_name IS NOT NULL"),
    ),
)

# --- derived asset state --------------------------------------------------------------

# Latest outcome per asset partition ('' for an unpartitioned asset).
asset_latest = sa.Table(
    "asset_latest",
    metadata,
    _deployment_fk(),
    sa.Column("asset_key", sa.Text, nullable=False),
    sa.Column("partition", sa.Text, nullable=False),
    sa.Column("materialization_event_id", sa.BigInteger),
    sa.Column("materialization_run_id", RUN_ID),
    sa.Column("materialized_at", UTCDateTime),
    sa.Column("failure_event_id", sa.BigInteger),
    sa.Column("failure_run_id", RUN_ID),
    sa.Column("failed_at", UTCDateTime),
    sa.PrimaryKeyConstraint("deployment_id", "asset_key", "partition"),
)

# One row per asset: its latest materialization over all partitions, and how many.
asset_summary = sa.Table(
    "asset_summary",
    metadata,
    _deployment_fk(),
    sa.Column("asset_key", sa.Text, nullable=False),
    sa.Column("materialization_event_id", sa.BigInteger, nullable=False),
    sa.Column("materialization_run_id", RUN_ID, nullable=False),
    sa.Column("materialized_at", UTCDateTime, nullable=False),
    sa.Column("materialization_count", sa.BigInteger, nullable=False),
    sa.PrimaryKeyConstraint("deployment_id", "asset_key"),
)

asset_check_latest = sa.Table(
    "asset_check_latest",
    metadata,
    _deployment_fk(),
    sa.Column("asset_key", sa.Text, nullable=False),
    sa.Column("check_name", NAME, nullable=False),
    sa.Column("partition", sa.Text, nullable=False),
    sa.Column("event_id", sa.BigInteger, nullable=False),
    sa.Column("run_id", RUN_ID, nullable=False),
    sa.Column("passed", sa.Boolean(create_constraint=False), nullable=False),
    sa.Column("severity", sa.String(32)),
    sa.Column("evaluated_at", UTCDateTime, nullable=False),
    sa.PrimaryKeyConstraint("deployment_id", "asset_key", "check_name", "partition"),
)

# --- partitions -----------------------------------------------------------------------

# Per partitioned asset: which partitions are materialized, failed (latest outcome) and
# in a started run, as `weir_partitions.IndexRanges` blobs over the index space of the
# partitions definition named by `space_fingerprint`. Derived from asset_latest and the
# runs, so a definition change rebuilds it from them.
asset_partition_status = sa.Table(
    "asset_partition_status",
    metadata,
    _deployment_fk(),
    sa.Column("asset_key", sa.Text, nullable=False),
    sa.Column("space_fingerprint", sa.String(128), nullable=False),
    sa.Column("materialized", sa.LargeBinary, nullable=False),
    sa.Column("failed", sa.LargeBinary, nullable=False),
    sa.Column("in_progress", sa.LargeBinary, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.PrimaryKeyConstraint("deployment_id", "asset_key"),
)

# Keys of dynamic partitions definitions. `ordinal` numbers a definition's keys in the
# order they were first added and is the key's partition index; a deleted key keeps its
# row (deleted_at set) so that adding it again restores its index and its status.
dynamic_partitions = sa.Table(
    "dynamic_partitions",
    metadata,
    _deployment_fk(),
    sa.Column("partitions_def_name", NAME, nullable=False),
    sa.Column("partition_key", sa.Text, nullable=False),
    sa.Column("ordinal", sa.BigInteger, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("deleted_at", UTCDateTime),
    sa.PrimaryKeyConstraint("deployment_id", "partitions_def_name", "partition_key"),
    sa.UniqueConstraint("deployment_id", "partitions_def_name", "ordinal"),
)

# --- backfills ------------------------------------------------------------------------

# A backfill and its plan's targets. `lease_owner` / `lease_until` are the row lease of
# the daemon (one replica) driving it.
backfills = sa.Table(
    "backfills",
    metadata,
    sa.Column("id", BigIntegerPK, primary_key=True, autoincrement=True),
    sa.Column("backfill_id", sa.String(36), nullable=False, unique=True),
    _deployment_fk(),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("code_location", NAME, nullable=False),
    sa.Column("selection", sa.Text, nullable=False),
    sa.Column("tags", JSONDocument, nullable=False),
    # [[asset key, [partition keys in the definition's order]], ...]: every selected
    # asset in dependency order.
    sa.Column("targets", JSONDocument, nullable=False),
    sa.Column("run_count", sa.Integer, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("ended_at", UTCDateTime),
    sa.Column("lease_owner", sa.String(36)),
    sa.Column("lease_until", UTCDateTime),
    sa.Index("ix_backfills_deployment_id_id", "deployment_id", "id"),
    sa.Index("ix_backfills_deployment_id_status_id", "deployment_id", "status", "id"),
)

# The planned runs of a backfill, by ordinal in the plan (dependency order). `waits_for`
# lists the ordinals a run waits for; `run_id` links it to the run launched for its
# `attempt` (a deterministic id, so a launch repeated after a crash is refused, not doubled).
backfill_runs = sa.Table(
    "backfill_runs",
    metadata,
    sa.Column(
        "backfill_id",
        sa.String(36),
        sa.ForeignKey("backfills.backfill_id", ondelete="CASCADE"),
        nullable=False,
    ),
    _deployment_fk(),
    sa.Column("ordinal", sa.Integer, nullable=False),
    sa.Column("asset_keys", JSONDocument, nullable=False),
    sa.Column("partition_keys", JSONDocument, nullable=False),
    sa.Column("waits_for", JSONDocument, nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("attempt", sa.Integer, nullable=False),
    sa.Column("run_id", RUN_ID),
    sa.PrimaryKeyConstraint("backfill_id", "ordinal"),
    sa.Index("ix_backfill_runs_backfill_id_state_ordinal", "backfill_id", "state", "ordinal"),
)

# An unpartitioned asset's partition column holds '' so that it can be part of the key.
NO_PARTITION = ""

# --- automation -----------------------------------------------------------------------

# Per deployment: the automation evaluator's tick counter and cursor, and the lease a
# replica holds while it evaluates a tick (so two never evaluate the same one).
automation_ticks = sa.Table(
    "automation_ticks",
    metadata,
    _deployment_fk(),
    sa.Column("tick_number", sa.BigInteger, nullable=False),
    # The highest materialization event id the last finished tick saw: "newly updated"
    # means a materialization past it.
    sa.Column("event_cursor", sa.BigInteger, nullable=False),
    sa.Column("evaluated_at", UTCDateTime),
    # What the next tick compares with: the assets the last one saw change, those it
    # requested, the partitions then in progress, the graph's content hash.
    sa.Column("carry", JSONDocument),
    sa.Column("lease_owner", sa.String(64)),
    sa.Column("lease_expires_at", UTCDateTime),
    sa.PrimaryKeyConstraint("deployment_id"),
)

# Per asset: what the evaluator remembers between ticks (the true partitions of its
# `since` and `newly_true` nodes, what it requested, the condition's hash).
automation_asset_state = sa.Table(
    "automation_asset_state",
    metadata,
    _deployment_fk(),
    sa.Column("asset_key", sa.Text, nullable=False),
    sa.Column("state", JSONDocument, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.PrimaryKeyConstraint("deployment_id", "asset_key"),
)

# One evaluated tree shared by the assets of a tick that were in the same situation
# (automation/alike.py): `body` is a weir.v1.AutomationConditionEvaluation naming the
# first asset's dependencies, at the index paths in `dependency_paths`.
automation_shared_evaluations = sa.Table(
    "automation_shared_evaluations",
    metadata,
    sa.Column("id", BigIntegerPK, primary_key=True, autoincrement=True),
    _deployment_fk(),
    sa.Column("evaluated_at", UTCDateTime, nullable=False),
    sa.Column("body", sa.LargeBinary, nullable=False),
    sa.Column("dependency_paths", JSONDocument, nullable=False),
    # Retention finds the old ones by age; the evaluations naming one are of its tick, so
    # found through their own age index (no index on shared_id to update on every row).
    sa.Index(
        "ix_automation_shared_evaluations_deployment_id_evaluated_at",
        "deployment_id",
        "evaluated_at",
    ),
)

# The evaluation history of each asset: a row when an evaluation's outcome differs from
# the asset's previous one. `body` is a weir.v1.AutomationConditionEvaluation, or empty
# when `shared_id` names the shared tree it is, with this asset's `dependencies` (one
# per dependency path of that tree, joined by newlines: plain text, no JSON to encode
# per row) in place of the first asset's.
automation_evaluations = sa.Table(
    "automation_evaluations",
    metadata,
    sa.Column("id", BigIntegerPK, primary_key=True, autoincrement=True),
    _deployment_fk(),
    sa.Column("asset_key", sa.Text, nullable=False),
    sa.Column("tick_number", sa.BigInteger, nullable=False),
    sa.Column("evaluated_at", UTCDateTime, nullable=False),
    sa.Column("requested_count", sa.BigInteger, nullable=False),
    sa.Column("requested_partitions", JSONDocument, nullable=False),
    sa.Column("run_ids", JSONDocument, nullable=False),
    sa.Column("error", sa.Text),
    sa.Column("body", sa.LargeBinary, nullable=False),
    sa.Column("shared_id", sa.BigInteger),
    sa.Column("dependencies", sa.Text),
    sa.Index(
        "ix_automation_evaluations_deployment_id_asset_key_id", "deployment_id", "asset_key", "id"
    ),
    # Retention finds the old evaluations by age.
    sa.Index(
        "ix_automation_evaluations_deployment_id_evaluated_at", "deployment_id", "evaluated_at"
    ),
)


# --- high availability ----------------------------------------------------------------

# Control-plane replicas sharing this database. Each renews `lease_until` every beat; a
# replica whose lease ran out is dead, and the one live replica that sets `taken_over_by`
# (a conditional UPDATE) adopts the runs it was launching. Not tenant data.
control_plane_replicas = sa.Table(
    "control_plane_replicas",
    metadata,
    sa.Column("replica_id", RUN_ID, primary_key=True),
    sa.Column("reporting_address", NAME, nullable=False),
    sa.Column("http_address", NAME, nullable=False),
    sa.Column("hostname", NAME, nullable=False),
    sa.Column("pid", sa.Integer, nullable=False),
    sa.Column("started_at", UTCDateTime, nullable=False),
    sa.Column("last_beat_at", UTCDateTime, nullable=False),
    sa.Column("lease_until", UTCDateTime, nullable=False),
    sa.Column("stopped_at", UTCDateTime),
    sa.Column("taken_over_by", RUN_ID),
    sa.Column("taken_over_at", UTCDateTime),
    sa.Index("ix_control_plane_replicas_lease_until", "lease_until"),
)


# --- step attempts --------------------------------------------------------------------

# One row per attempt of a step that executes outside its run's worker (Celery), committed
# before the attempt is launched. `launch_key` is the engine's task id. `status` is
# derived from the attempt's own events (SUCCESS/FAILURE), its claim (RUNNING) and its
# lease (LOST); `acked_sequence` makes its event batches idempotent. `token_id` is the
# attempt-scoped token its worker reports with.
step_attempts = sa.Table(
    "step_attempts",
    metadata,
    sa.Column("id", BigIntegerPK, primary_key=True, autoincrement=True),
    sa.Column("launch_key", sa.String(63), nullable=False, unique=True),
    _deployment_fk(),
    sa.Column("run_id", RUN_ID, sa.ForeignKey("runs.run_id", ondelete="CASCADE"), nullable=False),
    sa.Column("step_key", sa.Text, nullable=False),
    sa.Column("attempt", sa.Integer, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("queue", NAME),
    sa.Column("lease_seconds", sa.Float, nullable=False),
    # How long it may stay QUEUED while no worker of its queue shows life (None: forever).
    sa.Column("queued_timeout_seconds", sa.Float),
    sa.Column("worker_id", NAME),
    sa.Column("token_id", sa.String(32)),
    sa.Column("acked_sequence", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("produced", JSONDocument, nullable=False),
    sa.Column("reason", sa.Text),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("heartbeat_at", UTCDateTime),
    sa.Column("ended_at", UTCDateTime),
    sa.Index("ix_step_attempts_run_id_step_key", "run_id", "step_key"),
    # Whether any worker of a queue claimed, beat or reported lately (the queued timeout).
    sa.Index(
        "ix_step_attempts_deployment_id_queue_heartbeat_at",
        "deployment_id",
        "queue",
        "heartbeat_at",
    ),
)


# --- alerts ---------------------------------------------------------------------------

# What to tell whom: the event kinds a policy fires on, optional filters (code locations,
# run tags that must all match), and the webhook its alerts are posted to.
alert_policies = sa.Table(
    "alert_policies",
    metadata,
    sa.Column("id", BigIntegerPK, primary_key=True, autoincrement=True),
    sa.Column("policy_id", sa.String(36), nullable=False, unique=True),
    _deployment_fk(),
    sa.Column("name", NAME, nullable=False),
    sa.Column("kinds", JSONDocument, nullable=False),
    sa.Column("code_locations", JSONDocument, nullable=False),
    sa.Column("run_tags", JSONDocument, nullable=False),
    # May hold a secret (a Slack webhook's path is its credential): never logged in full.
    sa.Column("webhook_url", sa.Text, nullable=False),
    sa.Column("body_format", sa.String(16), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("deployment_id", "name"),
)

# The delivery queue and its log: one row per (alert event, policy), PENDING until the
# delivery worker posts it (DELIVERED) or gives up after its last attempt (FAILED).
# `next_attempt_at` is when it is due; a worker that claims a row pushes it past the
# attempt's timeout, so another replica takes it over only if this one died.
alert_deliveries = sa.Table(
    "alert_deliveries",
    metadata,
    sa.Column("id", BigIntegerPK, primary_key=True, autoincrement=True),
    _deployment_fk(),
    sa.Column(
        "policy_id",
        sa.String(36),
        sa.ForeignKey("alert_policies.policy_id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("event", JSONDocument, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_attempt_at", UTCDateTime, nullable=False),
    sa.Column("last_error", sa.Text),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("ended_at", UTCDateTime),
    sa.Index(
        "ix_alert_deliveries_deployment_id_status_next_attempt_at",
        "deployment_id",
        "status",
        "next_attempt_at",
    ),
    sa.Index("ix_alert_deliveries_deployment_id_id", "deployment_id", "id"),
    # The delivery log by status ("what failed"), newest first.
    sa.Index("ix_alert_deliveries_deployment_id_status_id", "deployment_id", "status", "id"),
    sa.Index("ix_alert_deliveries_policy_id_id", "policy_id", "id"),
)

# Each POST of a delivery: when, how long, and what came back.
alert_delivery_attempts = sa.Table(
    "alert_delivery_attempts",
    metadata,
    sa.Column(
        "delivery_id",
        BigIntegerPK,
        sa.ForeignKey("alert_deliveries.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("attempt", sa.Integer, nullable=False),
    sa.Column("started_at", UTCDateTime, nullable=False),
    sa.Column("duration_ms", sa.Integer, nullable=False),
    sa.Column("status_code", sa.Integer),
    sa.Column("error", sa.Text),
    sa.PrimaryKeyConstraint("delivery_id", "attempt"),
)

# --- health and freshness -------------------------------------------------------------

# One row per asset with recorded state: its health and each component's status and
# reason (storage/health.py), written in the transaction of the event that changed it.
# An asset without a row has never been materialized, failed or checked: UNKNOWN.
asset_health = sa.Table(
    "asset_health",
    metadata,
    _deployment_fk(),
    sa.Column("asset_key", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("materialization", sa.String(16), nullable=False),
    sa.Column("materialization_reason", sa.Text, nullable=False),
    sa.Column("partitions", sa.String(16), nullable=False),
    sa.Column("partitions_reason", sa.Text, nullable=False),
    sa.Column("checks", sa.String(16), nullable=False),
    sa.Column("checks_reason", sa.Text, nullable=False),
    sa.Column("freshness", sa.String(16), nullable=False),
    sa.Column("freshness_reason", sa.Text, nullable=False),
    # When `status` last changed.
    sa.Column("changed_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.PrimaryKeyConstraint("deployment_id", "asset_key"),
    sa.Index(
        "ix_asset_health_deployment_id_status_asset_key", "deployment_id", "status", "asset_key"
    ),
)

# Per asset with a freshness policy: the policy (a serialized weir.v1.FreshnessPolicy),
# its last evaluated state, and when it must next be evaluated. `due_at` is the freshness
# daemon's due-time index: ingest sets it to the materialization's time, an evaluation to
# the instant the state would next change (NULL: only a materialization can change it).
asset_freshness = sa.Table(
    "asset_freshness",
    metadata,
    _deployment_fk(),
    sa.Column("asset_key", sa.Text, nullable=False),
    sa.Column("policy", sa.LargeBinary, nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("due_at", UTCDateTime),
    sa.Column("evaluated_at", UTCDateTime),
    sa.PrimaryKeyConstraint("deployment_id", "asset_key"),
    sa.Index(
        "ix_asset_freshness_deployment_id_due_at",
        "deployment_id",
        "due_at",
        postgresql_where=sa.text("due_at IS NOT NULL"),
        sqlite_where=sa.text("due_at IS NOT NULL"),
    ),
)

# Per deployment: a counter bumped by every transaction that changes recorded asset state
# the asset reads show (latest materialization, check results, health, freshness), so the
# API reuses a built reply exactly while nothing in it has changed (api/reply_cache.py).
# The counter is the sum over a few slots, so concurrent writers bump different rows
# (storage/asset_revisions.py).
asset_state_revisions = sa.Table(
    "asset_state_revisions",
    metadata,
    _deployment_fk(),
    sa.Column("slot", sa.Integer, nullable=False),
    sa.Column("revision", sa.BigInteger, nullable=False),
    sa.PrimaryKeyConstraint("deployment_id", "slot"),
)

# Per asset: how many times its recorded state changed, so a reader rebuilds only the
# assets whose revision moved (api/asset_fragments.py). `changed` stamps the transaction
# of the last change (PostgreSQL: its transaction id; SQLite: one more than the
# deployment's highest), so a reader reads only the rows changed since its last read
# (storage/asset_revisions.py).
asset_state_versions = sa.Table(
    "asset_state_versions",
    metadata,
    _deployment_fk(),
    sa.Column("asset_key", sa.Text, nullable=False),
    sa.Column("revision", sa.BigInteger, nullable=False),
    sa.Column("changed", sa.BigInteger, nullable=False, server_default="0"),
    sa.PrimaryKeyConstraint("deployment_id", "asset_key"),
    sa.Index("ix_asset_state_versions_deployment_id_changed", "deployment_id", "changed"),
)

# Every change of an asset's health or freshness state, in the order detected: the feed
# alerting and history read (by id, per deployment or per asset).
asset_status_changes = sa.Table(
    "asset_status_changes",
    metadata,
    sa.Column("id", BigIntegerPK, primary_key=True, autoincrement=True),
    _deployment_fk(),
    sa.Column("asset_key", sa.Text, nullable=False),
    # "health" or "freshness".
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("previous", sa.String(16), nullable=False),
    sa.Column("current", sa.String(16), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Index("ix_asset_status_changes_deployment_id_id", "deployment_id", "id"),
    sa.Index(
        "ix_asset_status_changes_deployment_id_asset_key_id", "deployment_id", "asset_key", "id"
    ),
)

# Runtime metadata of materializations, one row per entry, typed: text values (text, url,
# path, json, md…) in `text_value`, numbers and booleans in `number_value`. Searchable by
# key per asset (ListMaterializations) and per deployment (ListAssets).
materialization_metadata = sa.Table(
    "materialization_metadata",
    metadata,
    _deployment_fk(),
    sa.Column("event_id", sa.BigInteger, nullable=False),
    sa.Column("asset_key", sa.Text, nullable=False),
    sa.Column("key", NAME, nullable=False),
    sa.Column("value_type", sa.String(16), nullable=False),
    sa.Column("text_value", sa.Text),
    sa.Column("number_value", sa.Float),
    sa.PrimaryKeyConstraint("event_id", "key"),
    sa.Index(
        "ix_materialization_metadata_asset_key",
        "deployment_id",
        "asset_key",
        "key",
        "event_id",
    ),
    sa.Index(
        "ix_materialization_metadata_key",
        "deployment_id",
        "key",
        "asset_key",
    ),
)
