"""Partition status per asset: materialized, failed and in-progress index sets.

Each partitioned asset has one row holding three `IndexRanges` over the index space of
its partitions definition: materialized and failed (the latest outcome, as in
asset_latest) and in progress (partitions of started runs that target the asset).
Event ingest updates the row in the same transaction as the events (`apply_events`),
so a status read is one row, never a scan of the log.

Storage does not read partitions definitions; the caller's `PartitionIndex` (the API,
from the code locations' snapshots) says how an asset numbers its keys. A row records
the fingerprint of the definition it was built under and how that numbered its keys
(`weir_partitions.numbering_of`). When the definition changes without renumbering (a
time window's end moved, its start moved by whole windows, static keys appended) the
stored ranges are shifted over (`carry_over`) and only keys the old numbering lacked
are looked up in asset_latest; on a real renumbering, or when ingest could not index
(its code location was not loaded), the row is rebuilt from asset_latest and the runs
in progress.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from weir_partitions import CarryOver, IndexRanges

from weir_controlplane.storage.derived import (
    StoredEvent,
    asset_failure,
    latest_partition_outcomes,
    upsert_latest_failures,
)
from weir_controlplane.storage.dialects import insert
from weir_controlplane.storage.dynamic_partitions import keys_with_ordinals, ordinals_in
from weir_controlplane.storage.engine import Database
from weir_controlplane.storage.records import DeploymentScope, EventType, RunStatus
from weir_controlplane.storage.run_failures import record_run_failure
from weir_controlplane.storage.schema import (
    asset_latest,
    asset_partition_status,
    event_log,
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
_KEY_SEPARATOR = "\x1f"  # ASCII unit separator: joins keys read in one string
_NUMBERING_SEPARATOR = " "  # between a row's fingerprint and its numbering
# Keys the old numbering lacked are looked up by key up to this many; beyond, the
# whole history is renumbered (one aggregated query, as a rebuild).
_MAX_EXPOSED_KEYS = 100_000
_KEYS_PER_QUERY = 1_000


@dataclass(frozen=True)
class IndexedPartitions:
    """How one asset numbers its partition keys.

    `index_many` gives each key's index (None for a key the definition does not have),
    `index_ranges` the set of them (both in bulk), `keys_between(first, last)` the keys
    from one to the other. For a dynamic definition they are None and the keys' ordinals
    in `dynamic_partitions` are their indexes. `fingerprint` changes whenever the
    numbering could; `numbering` describes the numbering of now, `carry_over` maps a
    status stored under an older one (None: renumbered), and `keys_slice(offset, limit)`
    lists keys by index (all three None where no numbering is carried over).
    """

    fingerprint: str
    index_many: Callable[[Sequence[str]], list[int | None]] | None = None
    index_ranges: Callable[[Sequence[str]], IndexRanges] | None = None
    keys_between: Callable[[str, str], list[str]] | None = None
    dynamic_name: str | None = None
    numbering: Callable[[], str | None] | None = None
    carry_over: Callable[[str], CarryOver | None] | None = None
    keys_slice: Callable[[int, int], list[str]] | None = None


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
        if row is not None and _fingerprint_of(row) == partitions.fingerprint:
            return _status_of(row)
        with self._db.write() as conn:
            row = _select_row(conn, scope, asset_key, lock=True)
            if row is not None and _fingerprint_of(row) == partitions.fingerprint:
                return _status_of(row)
            status = _renumbered(conn, scope, asset_key, partitions, row)
            _store(conn, self._db.dialect, scope, asset_key, partitions, status)
            return status


def apply_events(
    conn: Connection,
    dialect: str,
    scope: DeploymentScope,
    run: RunInfo,
    stored: Sequence[StoredEvent],
    index: PartitionIndex | None,
) -> list[StoredEvent]:
    """Update the partition status of every asset `stored` changes, inside ingest's
    transaction (after asset_latest, which a rebuild reads). Returns the asset failures
    derived from failed steps and from a failed run (recorded in asset_latest too)."""
    step_failures = []
    if index is not None:
        step_failures = _record_step_failures(conn, dialect, scope, run, stored, index)
        # After the step failures: an asset this run failed already keeps that reason.
        step_failures += record_run_failure(conn, dialect, scope, run, stored, index)
        stored = [*stored, *step_failures]
    changes = _changes_by_asset(conn, run, stored)
    for asset_key in sorted(changes):  # one lock order for concurrent batches
        partitions = index.partitions_of(scope, run.code_location, asset_key) if index else None
        row = _select_row(conn, scope, asset_key, lock=True)
        if row is None and partitions is not None:
            # A row to lock first, so that concurrent first batches apply in turn.
            conn.execute(_placeholder(dialect, scope, asset_key))
            row = _select_row(conn, scope, asset_key, lock=True)
        if partitions is None:
            if row is not None and _fingerprint_of(row) != _STALE:
                conn.execute(
                    _row_of(scope, asset_key).values(space_fingerprint=_STALE)
                )  # what this batch changed is in asset_latest: the next read rebuilds
            continue
        if row is None or _fingerprint_of(row) != partitions.fingerprint:
            status = _renumbered(conn, scope, asset_key, partitions, row)
        else:
            status = _status_of(row)
        status = _applied(conn, scope, asset_key, status, partitions, changes[asset_key], run)
        _store(conn, dialect, scope, asset_key, partitions, status)
    return step_failures


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
    """A failed step of a run of one partition failed its assets' partition; of a run
    over a range of partitions, every partition of the range the run did not materialize;
    of a run of no partition, its unpartitioned assets. asset_latest records it as their
    latest outcome, as an ASSET_FAILED_TO_MATERIALIZE event would. Returns those
    failures as such events."""
    failures = [item for item in stored if item.event.event_type == EventType.STEP_FAILURE]
    if not failures:
        return []
    planned = set(
        conn.execute(
            sa.select(run_assets.c.asset_key).where(run_assets.c.run_id == run.run_id)
        ).scalars()
    )
    span = None if run.partition_key else _range_of(conn, run.run_id)
    derived_failures = [
        asset_failure(item, asset_key, partition)
        for item in failures
        if item.event.step_key
        for asset_key in index.assets_of_step(scope, run.code_location, item.event.step_key)
        if asset_key in planned
        for partition in _failed_partitions(conn, scope, run, index, asset_key, span, stored)
    ]
    if derived_failures:
        upsert_latest_failures(conn, dialect, scope.deployment_id, run.run_id, derived_failures)
    return derived_failures


def _failed_partitions(
    conn: Connection,
    scope: DeploymentScope,
    run: RunInfo,
    index: PartitionIndex,
    asset_key: str,
    span: tuple[str, str] | None,
    stored: Sequence[StoredEvent],
) -> list[str | None]:
    """The partitions of `asset_key` a failed step of `run` failed (None: unpartitioned)."""
    if run.partition_key:
        return [run.partition_key]
    partitions = index.partitions_of(scope, run.code_location, asset_key)
    if partitions is None:
        if span is None:
            return [None]  # an unpartitioned asset
        return []  # a range of keys the snapshot cannot list now: the next read rebuilds
    if span is None:
        return []
    keys = _keys_between(conn, scope, partitions, *span)
    done = _materialized_by(conn, run.run_id, asset_key) | {
        item.event.partition
        for item in stored
        if item.event.event_type == EventType.ASSET_MATERIALIZATION
        and item.event.asset_key == asset_key
    }
    return [key for key in keys if key not in done]


def _keys_between(
    conn: Connection, scope: DeploymentScope, partitions: IndexedPartitions, first: str, last: str
) -> list[str]:
    """The keys from `first` to `last` in the asset's numbering."""
    if partitions.dynamic_name is None:
        assert partitions.keys_between is not None
        return partitions.keys_between(first, last)
    ends = ordinals_in(conn, scope, partitions.dynamic_name, (first, last))
    if first not in ends or last not in ends:
        return []
    return keys_with_ordinals(conn, scope, partitions.dynamic_name, ends[first], ends[last])


def _materialized_by(conn: Connection, run_id: str, asset_key: str) -> set[str]:
    """The partitions of `asset_key` the run materialized in batches stored before."""
    query = sa.select(event_log.c.partition).where(
        event_log.c.run_id == run_id,
        event_log.c.event_type == EventType.ASSET_MATERIALIZATION.value,
        event_log.c.asset_key == asset_key,
    )
    return {partition for partition in conn.execute(query).scalars() if partition}


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
        planned = conn.execute(_PLANNED_ASSETS, {"run_id": run.run_id}).scalars()
        for asset_key in planned:
            changes[asset_key].append((run_edge, target))
    return changes


# Read on every run's start and end: built once (building costs more than running them).
_PLANNED_ASSETS = sa.select(run_assets.c.asset_key).where(
    run_assets.c.run_id == sa.bindparam("run_id")
)
_RANGE_TAGS = sa.select(run_tags.c.key, run_tags.c.value).where(
    run_tags.c.run_id == sa.bindparam("run_id"),
    run_tags.c.key.in_((RANGE_START_TAG, RANGE_END_TAG)),
)


def _range_of(conn: Connection, run_id: str) -> tuple[str, str] | None:
    """The (first, last) keys of a run over a range of partitions; None for other runs."""
    rows = conn.execute(_RANGE_TAGS, {"run_id": run_id})
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


def _renumbered(
    conn: Connection,
    scope: DeploymentScope,
    asset_key: str,
    partitions: IndexedPartitions,
    row: Any,
) -> PartitionStatus:
    """The status under `partitions`' numbering: `row`'s carried over when its numbering
    maps onto it, else rebuilt."""
    carry = None
    if row is not None and partitions.carry_over is not None:
        old = _numbering_of(row)
        carry = None if old is None else partitions.carry_over(old)
    if carry is None or len(carry.exposed) > _MAX_EXPOSED_KEYS:
        return _rebuilt(conn, scope, asset_key, partitions)
    stored = _status_of(row)
    materialized = carry.carried(stored.materialized)
    failed = carry.carried(stored.failed)
    if carry.exposed:
        made, newly_failed = _exposed_outcome_indexes(conn, scope, asset_key, partitions, carry)
        materialized, failed = materialized | made, failed | newly_failed
    # The runs in progress are few: read again under the new numbering, as a rebuild does.
    return PartitionStatus(
        materialized, failed, _started_indexes(conn, scope, asset_key, partitions)
    )


def _exposed_outcome_indexes(
    conn: Connection,
    scope: DeploymentScope,
    asset_key: str,
    partitions: IndexedPartitions,
    carry: CarryOver,
) -> tuple[IndexRanges, IndexRanges]:
    """The latest outcomes of the keys the old numbering lacked (history recorded while
    they were outside the definition, or before it), looked up by key."""
    assert partitions.keys_slice is not None and partitions.index_ranges is not None
    keys = [
        key
        for start, end in carry.exposed.runs()
        for key in partitions.keys_slice(start, end - start)
    ]
    query = latest_partition_outcomes(scope, asset_key)
    made: list[str] = []
    failed: list[str] = []
    for at in range(0, len(keys), _KEYS_PER_QUERY):
        chunk = keys[at : at + _KEYS_PER_QUERY]
        for partition, is_failure in conn.execute(query.where(asset_latest.c.partition.in_(chunk))):
            (failed if is_failure else made).append(partition)
    return partitions.index_ranges(made), partitions.index_ranges(failed)


def _rebuilt(
    conn: Connection,
    scope: DeploymentScope,
    asset_key: str,
    partitions: IndexedPartitions,
) -> PartitionStatus:
    """The status from asset_latest and the started runs, under `partitions`' numbering."""
    materialized, failed = _latest_outcome_indexes(conn, scope, asset_key, partitions)
    # Ingest applies its own run's start or end after this (that run's status in the
    # database changes later in the same transaction).
    return PartitionStatus(
        materialized, failed, _started_indexes(conn, scope, asset_key, partitions)
    )


def _latest_outcome_indexes(
    conn: Connection, scope: DeploymentScope, asset_key: str, partitions: IndexedPartitions
) -> tuple[IndexRanges, IndexRanges]:
    """The indexes of the partitions whose latest outcome is a materialization, and of
    those whose latest outcome is a failure.

    A million partitions fetched a row each cost a million driver tuples and SQLAlchemy
    Rows (seconds). Instead one query has the database join each outcome's keys into one
    string, split in one call, and the keys are numbered in one batch (time windows by
    arithmetic, `weir_partitions.key_index`)."""
    query = latest_partition_outcomes(scope, asset_key, partitions.dynamic_name)
    rows = query.subquery()
    columns: list[sa.ColumnElement[Any]] = []
    for outcome in (sa.not_(rows.c.failed), rows.c.failed):
        columns += [
            sa.func.count(sa.case((outcome, 1))),
            sa.func.aggregate_strings(sa.case((outcome, rows.c.partition)), _KEY_SEPARATOR),
        ]
    made_count, made, failed_count, failed = conn.execute(sa.select(*columns)).one()
    keys = (made.split(_KEY_SEPARATOR) if made_count else [],
            failed.split(_KEY_SEPARATOR) if failed_count else [])  # fmt: skip
    if (len(keys[0]), len(keys[1])) != (made_count, failed_count):
        # A key holds the separator: the keys one row each.
        outcomes = conn.execute(query).all()
        keys = ([r.partition for r in outcomes if not r.failed],
                [r.partition for r in outcomes if r.failed])  # fmt: skip
    if partitions.dynamic_name is not None:
        return IndexRanges.of(map(int, keys[0])), IndexRanges.of(map(int, keys[1]))
    assert partitions.index_ranges is not None
    return partitions.index_ranges(keys[0]), partitions.index_ranges(keys[1])


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
    listed = list(keys)
    found = partitions.index_many(listed)
    return {key: index for key, index in zip(listed, found, strict=True) if index is not None}


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


def _fingerprint_of(row: Any) -> str:
    return str(row.space_fingerprint).split(_NUMBERING_SEPARATOR, 1)[0]


def _numbering_of(row: Any) -> str | None:
    """How the row's status numbered the keys (None for rows stored without it)."""
    parts = str(row.space_fingerprint).split(_NUMBERING_SEPARATOR, 1)
    return parts[1] if len(parts) == 2 and parts[0] != _STALE else None


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
    partitions: IndexedPartitions,
    status: PartitionStatus,
) -> None:
    numbering = partitions.numbering() if partitions.numbering is not None else None
    fingerprint = partitions.fingerprint
    if numbering is not None:
        fingerprint += _NUMBERING_SEPARATOR + numbering
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
