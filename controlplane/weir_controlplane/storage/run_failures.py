"""A failed run fails the assets it planned and never built.

A run can fail with no asset event at all: its worker is lost, its launch fails, a step
fails before reporting anything. Its RUN_FAILURE then records, in asset_latest, a failure
of every asset the run planned (of the run's partition, or unpartitioned when it has
none) whose latest outcome does not already say more: one from this run (it materialized
the asset, or failed it with its own event), or one from a run launched after it (a newer
success stands). Ingest applies the result inside the transaction storing the RUN_FAILURE,
so health, partition status and automation see it as they see an
ASSET_FAILED_TO_MATERIALIZE.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from weir_controlplane.storage.derived import StoredEvent, asset_failure, upsert_latest_failures
from weir_controlplane.storage.records import DeploymentScope, EventType
from weir_controlplane.storage.schema import NO_PARTITION, asset_latest, run_assets, runs

if TYPE_CHECKING:
    from weir_controlplane.storage.partition_status import PartitionIndex, RunInfo

# Asset keys per statement: well under every bound-parameter limit.
_CHUNK = 500


def record_run_failure(
    conn: Connection,
    dialect: str,
    scope: DeploymentScope,
    run: RunInfo,
    stored: Sequence[StoredEvent],
    index: PartitionIndex,
) -> list[StoredEvent]:
    """The asset failures a RUN_FAILURE in `stored` implies, recorded in asset_latest and
    returned as ASSET_FAILED_TO_MATERIALIZE events (empty without a RUN_FAILURE)."""
    ends = [item for item in stored if item.event.event_type == EventType.RUN_FAILURE]
    if not ends:
        return []
    end = max(ends, key=lambda item: item.event_id)
    planned = conn.execute(
        sa.select(run_assets.c.asset_key).where(run_assets.c.run_id == run.run_id)
    ).scalars()
    candidates = sorted(
        asset_key
        for asset_key in planned
        if run.partition_key or index.partitions_of(scope, run.code_location, asset_key) is None
    )
    if not candidates:
        return []
    settled = _settled(conn, scope, run, candidates)
    failures = [
        asset_failure(end, asset_key, run.partition_key)
        for asset_key in candidates
        if asset_key not in settled
    ]
    if failures:
        upsert_latest_failures(conn, dialect, scope.deployment_id, run.run_id, failures)
    return failures


def _settled(
    conn: Connection, scope: DeploymentScope, run: RunInfo, asset_keys: Sequence[str]
) -> set[str]:
    """The assets whose latest outcome (of the run's partition) came from this run or
    from a run created after it."""
    launched = sa.select(runs.c.created_at).where(runs.c.run_id == run.run_id).scalar_subquery()
    by_materialization, by_failure = runs.alias("by_materialization"), runs.alias("by_failure")
    latest = asset_latest.c
    query = (
        sa.select(latest.asset_key)
        .select_from(
            asset_latest.outerjoin(
                by_materialization, by_materialization.c.run_id == latest.materialization_run_id
            ).outerjoin(by_failure, by_failure.c.run_id == latest.failure_run_id)
        )
        .where(
            latest.deployment_id == scope.deployment_id,
            latest.partition == (run.partition_key or NO_PARTITION),
            sa.or_(
                latest.materialization_run_id == run.run_id,
                latest.failure_run_id == run.run_id,
                by_materialization.c.created_at > launched,
                by_failure.c.created_at > launched,
            ),
        )
    )
    settled: set[str] = set()
    for start in range(0, len(asset_keys), _CHUNK):
        chunk = asset_keys[start : start + _CHUNK]
        settled.update(conn.execute(query.where(latest.asset_key.in_(chunk))).scalars())
    return settled
