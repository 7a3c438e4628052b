"""Transaction-scoped locks for decisions that read before they write.

On SQLite, `Database.write()` already holds the database's single write lock (BEGIN
IMMEDIATE) for the whole transaction, so nothing more is needed. On PostgreSQL a
transaction-level advisory lock, released at commit or rollback, serializes the
deciders without locking any row that readers or other writers need.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from weir_controlplane.storage.records import DeploymentScope

# The first key of PostgreSQL's two-key advisory locks names the purpose; the second is
# the deployment. (The migration runner's one-key lock lives in another key space.)
_RUN_QUEUE = 0x57E1_0002
_DYNAMIC_PARTITIONS = 0x57E1_0003


def lock_run_queue(conn: Connection, scope: DeploymentScope) -> None:
    """Hold the deployment's run-queue lock until `conn`'s transaction ends."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_RUN_QUEUE, scope.deployment_id)))


def lock_dynamic_partitions(conn: Connection, scope: DeploymentScope) -> None:
    """Hold the deployment's dynamic-partitions lock (new keys take the next ordinals)."""
    if conn.dialect.name == "postgresql":
        conn.execute(
            sa.select(sa.func.pg_advisory_xact_lock(_DYNAMIC_PARTITIONS, scope.deployment_id))
        )
