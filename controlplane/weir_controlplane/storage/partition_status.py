"""Partition status per asset: materialized, failed and in-progress index sets.

Each partitioned asset has one row holding three `IndexRanges` over the index space of
its partitions definition: materialized and failed (the latest outcome, as in
asset_latest) and in progress (partitions of started runs that target the asset).
Event ingest updates the row in the same transaction as the events (`apply_events`),
so a status read is one row, never a scan of the log.

Storage does not read partitions definitions; the caller's `PartitionIndex` (the API,
from the code locations' snapshots) says how an asset numbers its keys. A row records
the fingerprint of the definition it was built under; when the definition changes, or
ingest could not index (its code location was not loaded), the row is rebuilt from
asset_latest and the runs in progress.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from weir_partitions import IndexRanges

from weir_controlplane.storage.derived import (
    StoredEvent,
    latest_partition_outcomes,
    upsert_latest_failures,
)
from weir_controlplane.storage.dialects import insert
from weir_controlplane.storage.dynamic_partitions import ordinals_in
from weir_controlplane.storage.engine import Database
from weir_controlplane.storage.records import DeploymentScope, EventType, RunStatus
from weir_controlplane.storage.schema import (
    asset_partition_status,
    run_assets,
    run_tags,
    runs,
)

# A run over a range of partitions names its ends in these tags (runs/partition_range.py);
# its partition_key is None.
RANGE_START_TAG = "weir/partition_range_start"
RANGE_END_TAG = "weir/partition_range_end"

# Runs whose partitions show as in progress: their workers have started.
_STARTED_STATUSES = (RunStatus.STARTED.value, RunStatus.CANCELING.value)
_TERMINAL_EVENTS = frozenset(
    {EventType.RUN_SUCCESS.value, EventType.RUN_FAILURE.value, EventType.RUN_CANCELED.value}
)
_STALE = ""  # the fingerprint of a row that must be rebuilt before it is read


@dataclass(frozen=True)
class IndexedPartitions:
    """How one asset numbers its partition keys.

    `index_many` maps keys to indexes (leaving out keys the definition does not have);
    for a dynamic definition it is None and the keys' ordinals in `dynamic_partitions`
    are their indexes. `fingerprint` changes whenever the numbering could.
    """

    fingerprint: str
    index_many: Callable[[Collection[str]], dict[str, int]] | None = None
    dynamic_name: str | None = None


class PartitionIndex(Protocol):
    def partitions_of(
        self, scope: DeploymentScope, code_location: str, asset_key: str
    ) -> IndexedPartitions | None:
        """How `asset_key` of `code_location` is partitioned; None when it is not
        partitioned or its definition is not at hand."""
        ...

    def assets_of_step(
        self, scope: DeploymentScope, code_location: str, step_key: str
    ) -> list[str]:
        """The assets the step `step_key` computes (empty when not known)."""
        ...


@dataclass(frozen=True)
class PartitionStatus:
    materialized: IndexRanges
    failed: IndexRanges
    in_progress: IndexRanges


@dataclass(frozen=True)
class RunInfo:
    """What ingest knows of the run whose events it stores."""

    run_id: str
    code_location: str
    partition_key: str | None


class PartitionStatusStorage:
    """Reads an asset's partition status, rebuilding it first when it is stale."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def get(
        self, scope: DeploymentScope, asset_key: str, partitions: IndexedPartitions
    ) -> PartitionStatus:
        with self._db.read() as conn:
            row = _select_row(conn, scope, asset_key, lock=False)
        if row is not None and row.space_fingerprint == partitions.fingerprint:
            return _status_of(row)
        with self._db.write() as conn:
            row = _select_row(conn, scope, asset_key, lock=True)
            if row is not None and row.space_fingerprint == partitions.fingerprint:
                return _status_of(row)
            status = _rebuilt(conn, scope, asset_key, partitions)
            _store(conn, self._db.dialect, scope, asset_key, partitions.fingerprint, status)
            return status


def apply_events(
    conn: Connection,
    dialect: str,
    scope: DeploymentScope,
    run: RunInfo,
    stored: Sequence[StoredEvent],
    index: PartitionIndex | None,
) -> None:
    """Update the partition status of every asset `stored` changes, inside ingest's
    transaction (after asset_latest, which a rebuild reads)."""
    if index is not None:
        stored = [*stored, *_record_step_failures(conn, dialect, scope, run, stored, index)]
    changes = _changes_by_asset(conn, run, stored)
    for asset_key in sorted(changes):  # one lock order for concurrent batches
        partitions = index.partitions_of(scope, run.code_location, asset_key) if index else None
        row = _select_row(conn, scope, asset_key, lock=True)
        if row is None and partitions is not None:
            # A row to lock first, so that concurrent first batches apply in turn.
            conn.execute(_placeholder(dialect, scope, asset_key))
            row = _select_row(conn, scope, asset_key, lock=True)
        if partitions is None:
            if row is not None and row.space_fingerprint != _STALE:
                conn.execute(
                    _row_of(scope, asset_key).values(space_fingerprint=_STALE)
                )  # what this batch changed is in asset_latest: the next read rebuilds
            continue
        if row is None or row.space_fingerprint != partitions.fingerprint:
            status = _rebuilt(conn, scope, asset_key, partitions)
        else:
            status = _status_of(row)
        status = _applied(conn, scope, asset_key, status, partitions, changes[asset_key], run)
        _store(conn, dialect, scope, asset_key, partitions.fingerprint, status)


# A change to one asset's status: ("materialized" | "failed" | "started" | "ended", key),
# or a run edge over a range of keys: ("started" | "ended", (first, last)).
_Change = tuple[str, str | tuple[str, str]]


def _record_step_failures(
    conn: Connection,
    dialect: str,
    scope: DeploymentScope,
    run: RunInfo,
    stored: Sequence[StoredEvent],
    index: PartitionIndex,
) -> list[StoredEvent]:
    """A failed step of a run of one partition failed its assets' partition, and of a
    run of no partition its unpartitioned assets: asset_latest records it as their latest
    outcome, as an ASSET_FAILED_TO_MATERIALIZE event would. Returns those failures as
    such events."""
    failures = [item for item in stored if item.event.event_type == EventType.STEP_FAILURE]
    if not failures:
        return []
    planned = set(
        conn.execute(
            sa.select(run_assets.c.asset_key).where(run_assets.c.run_id == run.run_id)
        ).scalars()
    )
    derived_failures = [
        StoredEvent(
            item.event_id,
            replace(
                item.event,
                event_type=EventType.ASSET_FAILED_TO_MATERIALIZE.value,
                asset_key=asset_key,
                partition=run.partition_key,
            ),
        )
        for item in failures
        if item.event.step_key
        for asset_key in index.assets_of_step(scope, run.code_location, item.event.step_key)
        if asset_key in planned
        and (run.partition_key or index.partitions_of(scope, run.code_location, asset_key) is None)
    ]
    if derived_failures:
        upsert_latest_failures(conn, dialect, scope.deployment_id, run.run_id, derived_failures)
    return derived_failures


def _changes_by_asset(
    conn: Connection, run: RunInfo, stored: Sequence[StoredEvent]
) -> dict[str, list[_Change]]:
    changes: dict[str, list[_Change]] = defaultdict(list)
    run_edge: str | None = None
    for item in sorted(stored, key=lambda s: s.event_id):
        event = item.event
        if event.event_type == EventType.ASSET_MATERIALIZATION and event.partition:
            changes[event.asset_key or ""].append(("materialized", event.partition))
        elif event.event_type == EventType.ASSET_FAILED_TO_MATERIALIZE and event.partition:
            changes[event.asset_key or ""].append(("failed", event.partition))
        elif event.event_type == EventType.RUN_STARTED:
            run_edge = "started"
        elif event.event_type in _TERMINAL_EVENTS:
            run_edge = "ended" if run_edge is None else None  # started and ended in one batch
    if run_edge is None:
        return changes
    target: str | tuple[str, str] | None = run.partition_key or _range_of(conn, run.run_id)
    if target is not None:
        planned = conn.execute(
            sa.select(run_assets.c.asset_key).where(run_assets.c.run_id == run.run_id)
        ).scalars()
        for asset_key in planned:
            changes[asset_key].append((run_edge, target))
    return changes


def _range_of(conn: Connection, run_id: str) -> tuple[str, str] | None:
    """The (first, last) keys of a run over a range of partitions; None for other runs."""
    rows = conn.execute(
        sa.select(run_tags.c.key, run_tags.c.value).where(
            run_tags.c.run_id == run_id, run_tags.c.key.in_((RANGE_START_TAG, RANGE_END_TAG))
        )
    )
    ends = {row.key: row.value for row in rows}
    if RANGE_START_TAG not in ends or RANGE_END_TAG not in ends:
        return None
    return ends[RANGE_START_TAG], ends[RANGE_END_TAG]


def _applied(
    conn: Connection,
    scope: DeploymentScope,
    asset_key: str,
    status: PartitionStatus,
    partitions: IndexedPartitions,
    changes: Iterable[_Change],
    run: RunInfo,
) -> PartitionStatus:
    changes = list(changes)
    indexes = _indexes(conn, scope, partitions, {k for _, target in changes for k in _keys(target)})
    # Per index the last outcome, applied as one set operation each: a batch of a
    # thousand materializations costs one union, not a thousand.
    outcome: dict[int, str] = {}
    started = ended = IndexRanges.empty()
    for what, target in changes:
        span = _span(indexes, target)
        if not span:
            continue  # keys the definition no longer has: nothing to show
        if what in ("materialized", "failed"):
            outcome.update((i, what) for i in span)
        elif what == "started":
            started, ended = started | span, ended - span
        else:
            started, ended = started - span, ended | span
    succeeded = IndexRanges.of(i for i, what in outcome.items() if what == "materialized")
    newly_failed = IndexRanges.of(i for i, what in outcome.items() if what == "failed")
    if ended:  # what other started runs still work on stays in progress
        ended = ended - _started_indexes(conn, scope, asset_key, partitions, but=run.run_id)
    return PartitionStatus(
        (status.materialized | succeeded) - newly_failed,
        (status.failed | newly_failed) - succeeded,
        (status.in_progress | started) - ended,
    )


def _keys(target: str | tuple[str, str]) -> tuple[str, ...]:
    return (target,) if isinstance(target, str) else target


def _span(indexes: Mapping[str, int], target: str | tuple[str, str]) -> IndexRanges:
    """The indexes of one key, or of a range of keys from its first to its last."""
    first, last = (
        indexes.get(key) for key in ((target, target) if isinstance(target, str) else target)
    )
    if first is None or last is None or last < first:
        return IndexRanges.empty()
    return IndexRanges.span(first, last + 1)


def _rebuilt(
    conn: Connection,
    scope: DeploymentScope,
    asset_key: str,
    partitions: IndexedPartitions,
) -> PartitionStatus:
    """The status from asset_latest and the started runs, under `partitions`' numbering."""
    rows = conn.execute(latest_partition_outcomes(scope, asset_key)).all()
    # Ingest applies its own run's start or end after this (that run's status in the
    # database changes later in the same transaction).
    indexes = _indexes(conn, scope, partitions, {row.partition for row in rows})
    materialized: list[int] = []
    failed: list[int] = []
    for row in rows:
        index = indexes.get(row.partition)
        if index is None:
            continue
        failure, success = row.failure_event_id, row.materialization_event_id
        is_failed = failure is not None and (success is None or failure > success)
        (failed if is_failed else materialized).append(index)
    return PartitionStatus(
        IndexRanges.of(materialized),
        IndexRanges.of(failed),
        _started_indexes(conn, scope, asset_key, partitions),
    )


def _started_indexes(
    conn: Connection,
    scope: DeploymentScope,
    asset_key: str,
    partitions: IndexedPartitions,
    but: str | None = None,
) -> IndexRanges:
    """The partitions the started runs that target `asset_key` (other than `but`) work
    on, one key or a range each; through the status index, so the cost is the runs in
    progress, not the history."""
    start = run_tags.alias("range_start")
    end = run_tags.alias("range_end")
    query = (
        sa.select(runs.c.partition_key, start.c.value, end.c.value)
        .join(run_assets, run_assets.c.run_id == runs.c.run_id)
        .outerjoin(start, (start.c.run_id == runs.c.run_id) & (start.c.key == RANGE_START_TAG))
        .outerjoin(end, (end.c.run_id == runs.c.run_id) & (end.c.key == RANGE_END_TAG))
        .where(
            runs.c.deployment_id == scope.deployment_id,
            runs.c.status.in_(_STARTED_STATUSES),
            run_assets.c.asset_key == asset_key,
        )
    )
    if but is not None:
        query = query.where(runs.c.run_id != but)
    targets: list[str | tuple[str, str]] = []
    for key, first, last in conn.execute(query):
        if key is not None:
            targets.append(key)
        elif first is not None and last is not None:
            targets.append((first, last))
    indexes = _indexes(conn, scope, partitions, {k for target in targets for k in _keys(target)})
    spans = IndexRanges.empty()
    for target in targets:
        spans = spans | _span(indexes, target)
    return spans


def _indexes(
    conn: Connection, scope: DeploymentScope, partitions: IndexedPartitions, keys: Collection[str]
) -> Mapping[str, int]:
    if not keys:
        return {}
    if partitions.dynamic_name is not None:
        return ordinals_in(conn, scope, partitions.dynamic_name, keys)
    assert partitions.index_many is not None
    return partitions.index_many(keys)


def _select_row(conn: Connection, scope: DeploymentScope, asset_key: str, *, lock: bool) -> Any:
    query = sa.select(asset_partition_status).where(
        asset_partition_status.c.deployment_id == scope.deployment_id,
        asset_partition_status.c.asset_key == asset_key,
    )
    return conn.execute(query.with_for_update() if lock else query).first()


def _row_of(scope: DeploymentScope, asset_key: str) -> sa.Update:
    return asset_partition_status.update().where(
        asset_partition_status.c.deployment_id == scope.deployment_id,
        asset_partition_status.c.asset_key == asset_key,
    )


def _status_of(row: Any) -> PartitionStatus:
    return PartitionStatus(
        IndexRanges.from_bytes(row.materialized),
        IndexRanges.from_bytes(row.failed),
        IndexRanges.from_bytes(row.in_progress),
    )


def _placeholder(dialect: str, scope: DeploymentScope, asset_key: str) -> sa.Executable:
    empty = IndexRanges.empty().to_bytes()
    return (
        insert(dialect, asset_partition_status)
        .values(
            deployment_id=scope.deployment_id,
            asset_key=asset_key,
            space_fingerprint=_STALE,
            materialized=empty,
            failed=empty,
            in_progress=empty,
            updated_at=datetime.now(UTC),
        )
        .on_conflict_do_nothing(index_elements=["deployment_id", "asset_key"])
    )


def _store(
    conn: Connection,
    dialect: str,
    scope: DeploymentScope,
    asset_key: str,
    fingerprint: str,
    status: PartitionStatus,
) -> None:
    values = {
        "space_fingerprint": fingerprint,
        "materialized": status.materialized.to_bytes(),
        "failed": status.failed.to_bytes(),
        "in_progress": status.in_progress.to_bytes(),
        "updated_at": datetime.now(UTC),
    }
    statement = insert(dialect, asset_partition_status).values(
        deployment_id=scope.deployment_id, asset_key=asset_key, **values
    )
    conn.execute(
        statement.on_conflict_do_update(index_elements=["deployment_id", "asset_key"], set_=values)
    )
