"""Deleting old history in batches: rows older than a cutoff that have at least `keep`
newer rows of their own owner (a schedule's or sensor's ticks, an asset's evaluations).

The old rows are found through an index on (deployment_id, age column) and "the keep-th
newer row exists" through the owner's (…, id) index, so a batch costs the rows it looks
at, not the table.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa

from weir_controlplane.storage.engine import Database
from weir_controlplane.storage.records import DeploymentScope


def prune(
    db: Database,
    table: sa.Table,
    scope: DeploymentScope,
    *,
    owner: Sequence[str],
    age: str,
    keep: int,
    older_than: datetime,
    limit: int,
) -> int:
    """Delete up to `limit` rows of the deployment whose `age` column is before
    `older_than` and that have at least `keep` newer rows with the same `owner` columns;
    how many were deleted."""
    newer = table.alias("newer")
    doomed = sa.select(table.c.id).where(
        table.c.deployment_id == scope.deployment_id, table.c[age] < older_than
    )
    if keep > 0:
        kept = (
            sa.select(newer.c.id)
            .where(
                newer.c.deployment_id == table.c.deployment_id,
                *(newer.c[column] == table.c[column] for column in owner),
                newer.c.id > table.c.id,
            )
            .order_by(newer.c.id)
            .limit(1)
            .offset(keep - 1)
        )
        doomed = doomed.where(kept.exists())
    with db.write() as conn:
        ids = list(conn.execute(doomed.limit(limit)).scalars())
        if ids:
            conn.execute(table.delete().where(table.c.id.in_(ids)))
    return len(ids)
