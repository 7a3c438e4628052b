"""The event log: idempotent batched ingest, and reading a run's events by cursor.

A batch is one transaction: insert the new events, update the derived tables from
exactly those, advance the run's acknowledged sequence. A retried batch stores
nothing twice and changes nothing.

A run's events take effect in sequence order. Only the events that continue the run's
stored prefix (1..ack) without a gap are stored; anything past a gap waits in the
worker's retry buffer until the reply's ack tells it to resend. So a terminal event ends
the run only once every event before it is stored, and nothing after the event that
ended a run is stored at all: not its materializations, not its status.

One exception, so that a late truth is still the truth: a run the run monitor failed
because its worker fell silent (`runs.worker_lost`) keeps taking its worker's events. If
they turn out to be a complete record (every sequence from 1, stored in order) ending in
RUN_SUCCESS, the run becomes SUCCESS, and an ENGINE event recorded with it says that the
run was recovered and why it had been failed; a record ending otherwise leaves FAILURE.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from weir_controlplane.storage import (
    alert_triggers,
    cursors,
    derived,
    health,
    metadata,
    partition_status,
)
from weir_controlplane.storage.derived import StoredEvent
from weir_controlplane.storage.dialects import append_rows, in_named_list, insert
from weir_controlplane.storage.engine import Database
from weir_controlplane.storage.errors import (
    InvalidEventError,
    RunNotFoundError,
    UnplannedAssetError,
)
from weir_controlplane.storage.freshness import mark_due
from weir_controlplane.storage.partition_status import PartitionIndex, RunInfo
from weir_controlplane.storage.records import (
    DeploymentScope,
    EventPage,
    EventRecord,
    EventType,
    IngestResult,
    NewEvent,
    RunStatus,
)
from weir_controlplane.storage.schema import event_log, run_assets, runs

MAX_EVENT_TYPE_LENGTH = 64
MAX_PAGE_SIZE = 10_000

_ASSET_EVENT_TYPES = frozenset(
    {EventType.ASSET_MATERIALIZATION.value, EventType.ASSET_FAILED_TO_MATERIALIZE.value}
)
_HEALTH_EVENT_TYPES = _ASSET_EVENT_TYPES | {EventType.ASSET_CHECK_EVALUATION.value}
_TERMINAL_EVENT_TYPES = frozenset(
    {EventType.RUN_SUCCESS.value, EventType.RUN_FAILURE.value, EventType.RUN_CANCELED.value}
)


class EventIngest:
    """Writes run events and everything derived from them.

    Example::

        result = storage.events.store_batch(scope, run_id, [
            NewEvent(sequence=1, event_type="RUN_STARTED", timestamp=now),
            NewEvent(sequence=2, event_type="ASSET_MATERIALIZATION", timestamp=now,
                     asset_key="orders", payload=event_proto.SerializeToString()),
        ])
        result.acknowledged_sequence  # 2: the worker may drop events 1..2
    """

    def __init__(self, db: Database) -> None:
        self._db = db
        self._partition_index: PartitionIndex | None = None
        self._materialization_listeners: list[Callable[[], None]] = []

    def on_materialization(self, listener: Callable[[], None]) -> None:
        """Call `listener` (quickly: set an event, never touch storage) after a batch that
        stored a materialization commits. The freshness daemon wakes this way."""
        self._materialization_listeners.append(listener)

    def index_partitions_with(self, index: PartitionIndex) -> None:
        """Keep partition status current with `index` (the snapshots' partitions
        definitions); without one, status is rebuilt from asset_latest when read."""
        self._partition_index = index

    def store_batch(
        self, scope: DeploymentScope, run_id: str, events: Sequence[NewEvent]
    ) -> IngestResult:
        """Store a worker's batch of events for one run, once, however often it is sent.

        Raises UnplannedAssetError, storing nothing, when an event names an asset the
        run was not launched to materialize. Events after the one that ended the run
        are not stored; `IngestResult.refused` counts them.
        """
        batch = _deduplicated(events)
        materialized = False
        with self._db.write() as conn:
            run = _lock_run(conn, scope, run_id)
            _check_planned(conn, run_id, batch)
            ack = run.last_event_sequence
            # Everything at or below the ack is stored already: the common retry costs
            # no insert at all. Past a gap nothing is stored yet.
            fresh = _continuing(batch, ack)
            status = RunStatus(run.status)
            recovering = status is RunStatus.FAILURE and run.worker_lost
            if status.is_terminal and not recovering:
                refused, fresh = len(fresh), []
            else:
                kept = _through_first_terminal(fresh)
                refused, fresh = len(fresh) - len(kept), kept
            stored = self._insert_new(
                conn, scope, run_id, fresh, had_gap=run.max_event_sequence > ack
            )
            new_ack, max_sequence = _advance_ack(
                conn, run_id, ack, run.max_event_sequence, len(fresh)
            )
            if stored:
                derived.apply_asset_events(
                    conn, self._db.dialect, scope.deployment_id, run_id, stored
                )
                with_failures = self._apply_partition_status(conn, scope, run_id, run, stored)
                materialized = self._apply_asset_health(conn, scope, with_failures)
            changes = derived.run_changes(status, run.started_at, stored) if stored else {}
            if recovering and stored:
                changes |= self._recovered(conn, scope, run_id, run, stored)
            if stored:
                _raise_alerts(conn, scope, run_id, run.code_location, stored, changes)
            if stored or new_ack != ack:
                changes |= {
                    "last_event_sequence": new_ack,
                    "max_event_sequence": max_sequence,
                    "updated_at": datetime.now(UTC),
                }
                conn.execute(_UPDATE_RUN, {"b_id": run.id, **changes})
            final = RunStatus(changes.get("status", status.value))
        if materialized:
            self._materialized()
        return IngestResult(
            inserted=len(stored),
            acknowledged_sequence=new_ack,
            refused=refused,
            status=final,
            recoverable=recovering and changes.get("worker_lost", True),
        )

    def _recovered(
        self,
        conn: Connection,
        scope: DeploymentScope,
        run_id: str,
        run: Row[Any, Any, Any, Any, Any, Any, Any, Any, Any],
        stored: Sequence[StoredEvent],
    ) -> dict[str, Any]:
        """The changes to a run failed as lost once its worker's record arrives: SUCCESS
        (with the recovery event) if it ends in RUN_SUCCESS; just FAILURE, no longer
        open to recovery, if it ends in another terminal event."""
        last = stored[-1].event
        if last.event_type not in _TERMINAL_EVENT_TYPES:
            return {}
        if last.event_type != EventType.RUN_SUCCESS.value:
            return {"worker_lost": False}
        note = NewEvent(
            sequence=None,
            event_type=EventType.ENGINE.value,
            timestamp=datetime.now(UTC),
            message=(
                f"Recovered: the run worker delivered its complete record (events 1 to "
                f"{last.sequence}) ending in RUN_SUCCESS after the run had been failed: "
                f"{run.failure_reason}"
            ),
        )
        conn.execute(event_log.insert().values(_event_row(scope, run_id, note)))
        return {
            "status": RunStatus.SUCCESS.value,
            "ended_at": last.timestamp,
            "failure_reason": None,
            "worker_lost": False,
        }

    def record(self, scope: DeploymentScope, run_id: str, event: NewEvent) -> EventRecord:
        """Append an event the control plane itself decided on, outside the worker's sequence.

        The run monitor records RUN_FAILURE with the reason this way; its effect on the
        run's status is the same as the worker's own event would have.
        """
        if event.sequence is not None:
            raise InvalidEventError("events recorded by the control plane carry no sequence")
        _validate(event)
        with self._db.write() as conn:
            run = _lock_run(conn, scope, run_id)
            event_id = conn.execute(_RECORD_EVENT, _event_row(scope, run_id, event)).scalar_one()
            stored = [StoredEvent(event_id, event)]
            derived.apply_asset_events(conn, self._db.dialect, scope.deployment_id, run_id, stored)
            with_failures = self._apply_partition_status(conn, scope, run_id, run, stored)
            materialized = self._apply_asset_health(conn, scope, with_failures)
            changes = derived.run_changes(RunStatus(run.status), run.started_at, stored)
            _raise_alerts(conn, scope, run_id, run.code_location, stored, changes)
            if changes:
                changes["updated_at"] = datetime.now(UTC)
                conn.execute(_UPDATE_RUN, {"b_id": run.id, **changes})
            row = conn.execute(_SELECT_EVENT, {"b_id": event_id}).one()
        if materialized:
            self._materialized()
        return event_record(row)

    def _apply_partition_status(
        self,
        conn: Connection,
        scope: DeploymentScope,
        run_id: str,
        run: Row[Any, Any, Any, Any, Any, Any, Any, Any, Any],
        stored: Sequence[StoredEvent],
    ) -> list[StoredEvent]:
        """Returns `stored` with the asset failures derived from failed steps."""
        info = RunInfo(run_id, run.code_location, run.partition_key)
        derived_failures = partition_status.apply_events(
            conn, self._db.dialect, scope, info, stored, self._partition_index
        )
        return [*stored, *derived_failures]

    def _apply_asset_health(
        self, conn: Connection, scope: DeploymentScope, stored: Sequence[StoredEvent]
    ) -> bool:
        """Health, freshness due times and searchable metadata of the assets the new
        events touched, in this transaction; whether any was materialized."""
        touched: set[str] = set()
        # Freshness is due from the earliest materialization time (never later than now,
        # whatever a worker's clock says).
        now = due = datetime.now(UTC)
        materialized: set[str] = set()
        for item in stored:
            event = item.event
            if event.asset_key is None or event.event_type not in _HEALTH_EVENT_TYPES:
                continue
            touched.add(event.asset_key)
            if event.event_type == EventType.ASSET_MATERIALIZATION:
                materialized.add(event.asset_key)
                due = min(due, event.timestamp)
        if not touched:
            return False
        if materialized:
            # asset_freshness rows before asset_health rows, the order the freshness daemon
            # locks them in too: the two never deadlock on PostgreSQL.
            mark_due(conn, scope.deployment_id, materialized, due)
            metadata.insert_metadata(conn, scope.deployment_id, stored)
        health.apply_asset_state(conn, self._db.dialect, scope.deployment_id, touched, now)
        return bool(materialized)

    def _materialized(self) -> None:
        for listener in self._materialization_listeners:
            listener()

    def _insert_new(
        self,
        conn: Connection,
        scope: DeploymentScope,
        run_id: str,
        events: Sequence[NewEvent],
        *,
        had_gap: bool,
    ) -> list[StoredEvent]:
        """Insert `events` (the sequences right after the ack, under the run's lock) and
        return those that were new, with their ids.

        COPY on PostgreSQL (a fixed-text executemany on SQLite), then one range read for
        the ids: a multi-row INSERT ... RETURNING is new text for each batch length, which
        psycopg re-parses in Python and the server re-plans.
        """
        if not events:
            return []
        first, last = events[0].sequence, events[-1].sequence
        assert first is not None and last is not None
        # Only a log written before gaps were refused holds rows past the ack; they were
        # stored before, not now.
        earlier = (
            set(
                conn.execute(
                    _SEQUENCES_IN_RANGE, {"run_id": run_id, "first": first, "last": last}
                ).scalars()
            )
            if had_gap
            else set()
        )
        rows = [_event_row(scope, run_id, event) for event in events]
        if had_gap:
            conn.execute(_insert_events(self._db.dialect), rows)
        else:
            append_rows(conn, event_log, rows)  # under the run's lock: no row is there yet
        found = conn.execute(_IDS_IN_RANGE, {"run_id": run_id, "first": first, "last": last})
        ids = {
            sequence: event_id
            for event_id, sequence in found.all()  # one fetch, not one per row
            if sequence not in earlier
        }
        return [
            StoredEvent(ids[event.sequence], event) for event in events if event.sequence in ids
        ]


class EventLog:
    """Reads a run's events in the order they were stored."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def latest_cursor(self, scope: DeploymentScope, run_id: str) -> str | None:
        """The cursor after the run's newest stored event; None when it has none."""
        query = sa.select(sa.func.max(event_log.c.id)).where(
            event_log.c.run_id == run_id, event_log.c.deployment_id == scope.deployment_id
        )
        with self._db.read() as conn:
            newest = conn.execute(query).scalar()
        return None if newest is None else cursors.encode(newest)

    def get_run_events(
        self,
        scope: DeploymentScope,
        run_id: str,
        *,
        after_cursor: str | None = None,
        limit: int = 1000,
        event_types: Collection[str] = (),
        step_key: str | None = None,
    ) -> EventPage:
        """Events stored after `after_cursor`, oldest first; only those of `event_types`
        and `step_key` when given (filtered in the query, so a page is never empty for
        want of matches while more exist).

        To follow a live run, call again with the returned `cursor`: event ids only
        grow, so a late-arriving event is never skipped. An unknown run has no events.
        """
        limit = max(1, min(limit, MAX_PAGE_SIZE))
        after = cursors.decode(after_cursor)
        query = sa.select(event_log).where(
            event_log.c.run_id == run_id, event_log.c.deployment_id == scope.deployment_id
        )
        if event_types:
            query = query.where(event_log.c.event_type.in_(sorted(event_types)))
        if step_key is not None:
            query = query.where(event_log.c.step_key == step_key)
        if after is not None:
            query = query.where(event_log.c.id > after)
        query = query.order_by(event_log.c.id).limit(limit + 1)
        with self._db.read() as conn:
            rows = conn.execute(query).all()
        items = tuple(event_record(row) for row in rows[:limit])
        cursor = cursors.encode(items[-1].event_id) if items else after_cursor
        return EventPage(items=items, cursor=cursor, has_more=len(rows) > limit)


def _raise_alerts(
    conn: Connection,
    scope: DeploymentScope,
    run_id: str,
    code_location: str,
    stored: Sequence[StoredEvent],
    changes: dict[str, Any],
) -> None:
    alert_triggers.run_events(
        conn,
        scope.deployment_id,
        run_id,
        code_location,
        stored,
        failed=changes.get("status") == RunStatus.FAILURE.value,
        failure_reason=changes.get("failure_reason"),
    )


def event_record(row: Row[Any]) -> EventRecord:
    return EventRecord(
        event_id=row.id,
        run_id=row.run_id,
        sequence=row.sequence,
        event_type=row.event_type,
        timestamp=row.timestamp,
        step_key=row.step_key,
        asset_key=row.asset_key,
        partition=row.partition,
        check_name=row.check_name,
        message=row.message,
        payload=row.payload,
    )


def _event_row(scope: DeploymentScope, run_id: str, event: NewEvent) -> dict[str, Any]:
    return {
        "deployment_id": scope.deployment_id,
        "run_id": run_id,
        "sequence": event.sequence,
        "event_type": event.event_type,
        "timestamp": event.timestamp,
        "step_key": event.step_key,
        "asset_key": event.asset_key,
        "partition": event.partition,
        "check_name": event.check_name,
        "message": event.message,
        "payload": event.payload,
    }


def _lock_run(
    conn: Connection, scope: DeploymentScope, run_id: str
) -> Row[Any, Any, Any, Any, Any, Any, Any, Any, Any]:
    """The run's row, locked for this transaction so batches of one run apply in turn."""
    row = conn.execute(
        _SELECT_RUN_FOR_UPDATE, {"deployment_id": scope.deployment_id, "run_id": run_id}
    ).first()
    if row is None:
        raise RunNotFoundError(run_id)
    return row


# Hot-path statements are built once; building them costs more than running them.
_SELECT_RUN_FOR_UPDATE = (
    sa.select(
        runs.c.id,
        runs.c.status,
        runs.c.started_at,
        runs.c.last_event_sequence,
        runs.c.max_event_sequence,
        runs.c.code_location,
        runs.c.partition_key,
        runs.c.worker_lost,
        runs.c.failure_reason,
    )
    .where(
        runs.c.deployment_id == sa.bindparam("deployment_id"),
        runs.c.run_id == sa.bindparam("run_id"),
    )
    .with_for_update()
)


# The run's row by its primary key; the columns to set come with the parameters.
_UPDATE_RUN = runs.update().where(runs.c.id == sa.bindparam("b_id"))
_RECORD_EVENT = event_log.insert().returning(event_log.c.id)
_SELECT_EVENT = sa.select(event_log).where(event_log.c.id == sa.bindparam("b_id"))
_IN_RANGE = (
    event_log.c.run_id == sa.bindparam("run_id"),
    event_log.c.sequence.between(sa.bindparam("first"), sa.bindparam("last")),
)
_IDS_IN_RANGE = sa.select(event_log.c.id, event_log.c.sequence).where(*_IN_RANGE)
_SEQUENCES_IN_RANGE = sa.select(event_log.c.sequence).where(*_IN_RANGE)


@functools.cache
def _insert_events(dialect: str) -> sa.Executable:
    return insert(dialect, event_log).on_conflict_do_nothing(index_elements=["run_id", "sequence"])


def _deduplicated(events: Iterable[NewEvent]) -> list[NewEvent]:
    """Validate a worker batch, keep the first event for each sequence, sort by sequence."""
    by_sequence: dict[int, NewEvent] = {}
    for event in events:
        if event.sequence is None or event.sequence < 1:
            raise InvalidEventError(
                f"event sequence must be an integer from 1 up, got {event.sequence!r}"
            )
        _validate(event)
        by_sequence.setdefault(event.sequence, event)
    return [by_sequence[sequence] for sequence in sorted(by_sequence)]


def _validate(event: NewEvent) -> None:
    if not event.event_type or len(event.event_type) > MAX_EVENT_TYPE_LENGTH:
        raise InvalidEventError(
            f"event type must be 1 to {MAX_EVENT_TYPE_LENGTH} characters, got {event.event_type!r}"
        )
    if event.event_type in _ASSET_EVENT_TYPES and not event.asset_key:
        raise InvalidEventError(f"{event.event_type} event {event.sequence} names no asset_key")
    if event.event_type == EventType.ASSET_CHECK_EVALUATION and (
        not event.asset_key or not event.check_name or event.check_passed is None
    ):
        raise InvalidEventError(
            f"ASSET_CHECK_EVALUATION event {event.sequence} needs asset_key, check_name "
            "and check_passed"
        )


def _continuing(batch: Sequence[NewEvent], ack: int) -> list[NewEvent]:
    """The events of `batch` (sorted by sequence) that extend the prefix 1..ack unbroken."""
    fresh: list[NewEvent] = []
    for event in batch:
        assert event.sequence is not None
        if event.sequence <= ack:
            continue
        if event.sequence != ack + len(fresh) + 1:
            break
        fresh.append(event)
    return fresh


def _through_first_terminal(events: Sequence[NewEvent]) -> list[NewEvent]:
    for index, event in enumerate(events):
        if event.event_type in _TERMINAL_EVENT_TYPES:
            return list(events[: index + 1])
    return list(events)


def _check_planned(conn: Connection, run_id: str, batch: Sequence[NewEvent]) -> None:
    """Refuse a batch naming an asset outside the run's plan: it would create or move an
    asset that this run was never launched to touch."""
    named = sorted({event.asset_key for event in batch if event.asset_key is not None})
    if not named:
        return
    query = _planned_of(conn.dialect.name)
    planned = set(conn.execute(query, {"b_run_id": run_id, "b_keys": named}).scalars())
    unplanned = [key for key in named if key not in planned]
    if unplanned:
        first = next(event for event in batch if event.asset_key == unplanned[0])
        raise UnplannedAssetError(run_id, unplanned, first.event_type, first.sequence)


@functools.cache
def _planned_of(dialect: str) -> sa.Select[tuple[str]]:
    """Which of the keys `b_keys` the run `b_run_id` plans."""
    return sa.select(run_assets.c.asset_key).where(
        run_assets.c.run_id == sa.bindparam("b_run_id"),
        in_named_list(dialect, run_assets.c.asset_key, "b_keys"),
    )


def _advance_ack(
    conn: Connection, run_id: str, ack: int, max_sequence: int, stored: int
) -> tuple[int, int]:
    """The new (contiguous ack, highest stored sequence) after storing `stored` events
    right after `ack`.

    Only a database written before gaps were refused can hold events past the ack; then
    we look at the log, and only past it.
    """
    had_gap = max_sequence > ack
    ack += stored
    max_sequence = max(max_sequence, ack)
    if had_gap and ack < max_sequence:
        stored_after = conn.execute(
            sa.select(event_log.c.sequence)
            .where(event_log.c.run_id == run_id, event_log.c.sequence > ack)
            .order_by(event_log.c.sequence)
        ).scalars()
        for sequence in stored_after:
            if sequence != ack + 1:
                break
            ack = sequence
    return ack, max_sequence
