"""Asset state reads: latest materializations, history, partitions and check results.

Everything here reads the derived tables (or the event log through an index that
starts with the asset), so the cost follows the keys asked for, never the log's size.
Batch reads take many asset keys and issue one query per few thousand keys.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterator, Sequence
from typing import Any

import sqlalchemy as sa

from weir_controlplane.storage import cursors
from weir_controlplane.storage.derived import latest_partition_outcomes
from weir_controlplane.storage.dialects import in_list
from weir_controlplane.storage.engine import Database
from weir_controlplane.storage.events import event_record
from weir_controlplane.storage.metadata import events_with_key
from weir_controlplane.storage.records import (
    AssetSummary,
    CheckResult,
    DeploymentScope,
    EventRecord,
    EventType,
    Page,
    PartitionCounts,
    PartitionOutcome,
)
from weir_controlplane.storage.schema import (
    NO_PARTITION,
    asset_check_latest,
    asset_latest,
    asset_summary,
    event_log,
)

# Well under SQLite's 32,766 bound parameters per statement.
KEYS_PER_QUERY = 5000
MAX_PAGE_SIZE = 1000


class AssetStorage:
    """Read side of asset state; `EventIngest` keeps it current.

    Example::

        latest = storage.assets.latest_materializations(scope, ["orders", "revenue"])
        latest["orders"].run_id, latest["orders"].payload
    """

    def __init__(self, db: Database) -> None:
        self._db = db

    def summaries(
        self, scope: DeploymentScope, asset_keys: Collection[str] | None = None
    ) -> dict[str, AssetSummary]:
        """Per asset: latest materialization over all partitions and how many there were.

        With `asset_keys` None, every asset of the deployment that was ever materialized.
        """
        query = (
            sa.select(asset_summary.c.materialization_count, event_log)
            .join(event_log, event_log.c.id == asset_summary.c.materialization_event_id)
            .where(asset_summary.c.deployment_id == scope.deployment_id)
        )
        found: dict[str, AssetSummary] = {}
        for rows in self._in_chunks(query, asset_summary.c.asset_key, asset_keys):
            for row in rows:
                found[row.asset_key] = AssetSummary(
                    asset_key=row.asset_key,
                    latest_materialization=event_record(row),
                    materialization_count=row.materialization_count,
                )
        return found

    def latest_materializations(
        self, scope: DeploymentScope, asset_keys: Collection[str]
    ) -> dict[str, EventRecord]:
        """The latest materialization event of each asset, over all its partitions."""
        return {
            key: summary.latest_materialization
            for key, summary in self.summaries(scope, asset_keys).items()
            if summary.latest_materialization is not None
        }

    def latest_materializations_by_partition(
        self,
        scope: DeploymentScope,
        asset_keys: Collection[str],
        *,
        partitions: Collection[str] | None = None,
    ) -> dict[tuple[str, str | None], EventRecord]:
        """The latest materialization per (asset key, partition); None for unpartitioned."""
        query = (
            sa.select(event_log)
            .join(asset_latest, event_log.c.id == asset_latest.c.materialization_event_id)
            .where(asset_latest.c.deployment_id == scope.deployment_id)
        )
        if partitions is not None:
            query = query.where(asset_latest.c.partition.in_(list(partitions)))
        found: dict[tuple[str, str | None], EventRecord] = {}
        for rows in self._in_chunks(query, asset_latest.c.asset_key, asset_keys):
            for row in rows:
                found[(row.asset_key, row.partition)] = event_record(row)
        return found

    def list_materializations(
        self,
        scope: DeploymentScope,
        asset_key: str,
        *,
        partition: str | None = None,
        cursor: str | None = None,
        limit: int = 100,
        metadata_key: str | None = None,
    ) -> Page[EventRecord]:
        """An asset's materializations, newest first, optionally of one partition and
        only those whose metadata has `metadata_key`."""
        limit = max(1, min(limit, MAX_PAGE_SIZE))
        query = sa.select(event_log).where(
            event_log.c.deployment_id == scope.deployment_id,
            event_log.c.asset_key == asset_key,
            event_log.c.event_type == EventType.ASSET_MATERIALIZATION.value,
        )
        if partition is not None:
            query = query.where(event_log.c.partition == partition)
        if metadata_key is not None:
            query = query.where(
                event_log.c.id.in_(events_with_key(scope.deployment_id, asset_key, metadata_key))
            )
        return self._newest_first(query, cursor, limit)

    def list_check_evaluations(
        self,
        scope: DeploymentScope,
        asset_key: str,
        check_name: str,
        *,
        partition: str | None = None,
        cursor: str | None = None,
        limit: int = 100,
    ) -> Page[EventRecord]:
        """A check's evaluations, newest first (through the check's own index)."""
        limit = max(1, min(limit, MAX_PAGE_SIZE))
        query = sa.select(event_log).where(
            event_log.c.deployment_id == scope.deployment_id,
            event_log.c.asset_key == asset_key,
            event_log.c.check_name == check_name,
            event_log.c.event_type == EventType.ASSET_CHECK_EVALUATION.value,
        )
        if partition is not None:
            query = query.where(event_log.c.partition == partition)
        return self._newest_first(query, cursor, limit)

    def _newest_first(
        self, query: sa.Select[Any], cursor: str | None, limit: int
    ) -> Page[EventRecord]:
        before = cursors.decode(cursor)
        if before is not None:
            query = query.where(event_log.c.id < before)
        query = query.order_by(event_log.c.id.desc()).limit(limit + 1)
        with self._db.read() as conn:
            rows = conn.execute(query).all()
        items = tuple(event_record(row) for row in rows[:limit])
        next_cursor = cursors.encode(items[-1].event_id) if len(rows) > limit else None
        return Page(items=items, next_cursor=next_cursor)

    def partition_outcomes(
        self, scope: DeploymentScope, asset_key: str
    ) -> dict[str, PartitionOutcome]:
        """Each partition's latest outcome: materialized, or failed since it last was."""
        with self._db.read() as conn:
            return {
                row.partition: PartitionOutcome.FAILED
                if row.failed
                else PartitionOutcome.MATERIALIZED
                for row in conn.execute(latest_partition_outcomes(scope, asset_key))
            }

    def failed_unpartitioned(self, scope: DeploymentScope, asset_keys: Collection[str]) -> set[str]:
        """The assets of `asset_keys` whose latest unpartitioned outcome is a failure."""
        materialization = asset_latest.c.materialization_event_id
        failure = asset_latest.c.failure_event_id
        query = sa.select(asset_latest.c.asset_key).where(
            asset_latest.c.deployment_id == scope.deployment_id,
            asset_latest.c.partition == NO_PARTITION,
            failure.is_not(None),
            sa.or_(materialization.is_(None), failure > materialization),
        )
        return {
            row.asset_key
            for rows in self._in_chunks(query, asset_latest.c.asset_key, asset_keys)
            for row in rows
        }

    def partition_status_counts(
        self, scope: DeploymentScope, asset_keys: Collection[str]
    ) -> dict[str, PartitionCounts]:
        """Per asset, how many partitions are materialized and how many failed."""
        materialization = asset_latest.c.materialization_event_id
        failure = asset_latest.c.failure_event_id
        is_failed = sa.and_(
            failure.is_not(None), sa.or_(materialization.is_(None), failure > materialization)
        )
        query = (
            sa.select(
                asset_latest.c.asset_key,
                sa.func.sum(sa.case((is_failed, 0), else_=1)).label("materialized"),
                sa.func.sum(sa.case((is_failed, 1), else_=0)).label("failed"),
            )
            .where(
                asset_latest.c.deployment_id == scope.deployment_id,
                asset_latest.c.partition != NO_PARTITION,
            )
            .group_by(asset_latest.c.asset_key)
        )
        counts: dict[str, PartitionCounts] = {}
        for rows in self._in_chunks(query, asset_latest.c.asset_key, asset_keys):
            for row in rows:
                counts[row.asset_key] = PartitionCounts(
                    materialized=int(row.materialized), failed=int(row.failed)
                )
        return counts

    def latest_check_results(
        self, scope: DeploymentScope, asset_keys: Collection[str]
    ) -> dict[str, list[CheckResult]]:
        """Each asset's latest evaluation of each of its checks (per partition)."""
        query = (
            sa.select(asset_check_latest)
            .where(asset_check_latest.c.deployment_id == scope.deployment_id)
            .order_by(asset_check_latest.c.check_name, asset_check_latest.c.partition)
        )
        results: dict[str, list[CheckResult]] = defaultdict(list)
        for rows in self._in_chunks(query, asset_check_latest.c.asset_key, asset_keys):
            for row in rows:
                results[row.asset_key].append(
                    CheckResult(
                        asset_key=row.asset_key,
                        check_name=row.check_name,
                        partition=row.partition or None,
                        passed=row.passed,
                        severity=row.severity,
                        event_id=row.event_id,
                        run_id=row.run_id,
                        timestamp=row.evaluated_at,
                    )
                )
        return dict(results)

    def _in_chunks(
        self,
        query: sa.Select[Any],
        key_column: sa.ColumnElement[str],
        keys: Collection[str] | None,
    ) -> Iterator[Sequence[Any]]:
        """Run `query` restricted to `keys` (all keys when None), a chunk at a time."""
        with self._db.read() as conn:
            if keys is None:
                yield conn.execute(query).all()
                return
            ordered = sorted(set(keys))
            for start in range(0, len(ordered), KEYS_PER_QUERY):
                chunk = ordered[start : start + KEYS_PER_QUERY]
                # One bound list: an expanded IN binds each of thousands of keys anew per
                # call (a sixth of a cold 1,000-asset page's reads).
                matching = in_list(self._db.dialect, key_column, chunk)
                yield conn.execute(query.where(matching)).all()
