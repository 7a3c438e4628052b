"""Keeping derived state current from newly stored events, inside the ingest transaction.

Each function takes only events that were new in this transaction (a re-delivered
event changes nothing) and issues one upsert per table, one row per key (on PostgreSQL
one statement for all of them): many events for the same asset partition collapse to
the latest before touching the database.
"Latest" means highest event id, i.e. the order the control plane stored them in.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from weir_controlplane.storage.dialects import insert_rows, row_parameters
from weir_controlplane.storage.records import DeploymentScope, EventType, NewEvent, RunStatus
from weir_controlplane.storage.schema import (
    NO_PARTITION,
    asset_check_latest,
    asset_latest,
    asset_summary,
    dynamic_partitions,
    metadata,
)

_TERMINAL_BY_EVENT = {
    EventType.RUN_SUCCESS.value: RunStatus.SUCCESS,
    EventType.RUN_FAILURE.value: RunStatus.FAILURE,
    EventType.RUN_CANCELED.value: RunStatus.CANCELED,
}


@dataclass(frozen=True)
class StoredEvent:
    """An event as it was just written, with the id the database gave it."""

    event_id: int
    event: NewEvent


def apply_asset_events(
    conn: Connection, dialect: str, deployment_id: int, run_id: str, stored: Sequence[StoredEvent]
) -> None:
    by_type: dict[str, list[StoredEvent]] = {}
    for item in stored:
        by_type.setdefault(item.event.event_type, []).append(item)
    materializations = by_type.get(EventType.ASSET_MATERIALIZATION.value, [])
    if materializations:
        _upsert_latest_materializations(conn, dialect, deployment_id, run_id, materializations)
        _upsert_asset_summaries(conn, dialect, deployment_id, run_id, materializations)
    failures = by_type.get(EventType.ASSET_FAILED_TO_MATERIALIZE.value, [])
    if failures:
        upsert_latest_failures(conn, dialect, deployment_id, run_id, failures)
    checks = by_type.get(EventType.ASSET_CHECK_EVALUATION.value, [])
    if checks:
        _upsert_check_results(conn, dialect, deployment_id, run_id, checks)


def run_changes(
    status: RunStatus, started_at: datetime | None, stored: Iterable[StoredEvent]
) -> dict[str, Any]:
    """Column values the run's lifecycle events imply, given its current state.

    Events apply in sequence order. A terminal status is final: a late RUN_STARTED
    or a second terminal event (say, the worker's RUN_SUCCESS after the run monitor
    already failed the run) does not change it.
    """
    changes: dict[str, Any] = {}
    lifecycle = [
        item.event
        for item in stored
        if item.event.event_type == EventType.RUN_STARTED
        or item.event.event_type in _TERMINAL_BY_EVENT
    ]
    lifecycle.sort(key=lambda event: event.sequence if event.sequence is not None else 0)
    for event in lifecycle:
        if event.event_type == EventType.RUN_STARTED:
            if started_at is None:
                started_at = changes["started_at"] = event.timestamp
            if status in (RunStatus.QUEUED, RunStatus.STARTING):
                status = changes["status"] = RunStatus.STARTED
        elif not status.is_terminal:
            status = changes["status"] = _TERMINAL_BY_EVENT[event.event_type]
            changes["ended_at"] = event.timestamp
            if status is RunStatus.FAILURE:
                changes["failure_reason"] = event.message
            elif status is RunStatus.SUCCESS:
                changes["failure_reason"] = None  # a cancel that came too late says nothing
    if "status" in changes:
        changes["status"] = changes["status"].value
    return changes


def _latest_per_key(
    stored: Iterable[StoredEvent], key: Callable[[NewEvent], Any]
) -> list[tuple[Any, StoredEvent]]:
    """The highest-id event per key, sorted by key so concurrent upserts lock in one order."""
    latest: dict[Any, StoredEvent] = {}
    for item in stored:
        k = key(item.event)
        if k not in latest or latest[k].event_id < item.event_id:
            latest[k] = item
    return sorted(latest.items(), key=lambda pair: pair[0])


def _partition(event: NewEvent) -> str:
    return event.partition if event.partition is not None else NO_PARTITION


def _upsert_latest_materializations(
    conn: Connection, dialect: str, deployment_id: int, run_id: str, stored: Sequence[StoredEvent]
) -> None:
    rows = [
        {
            "deployment_id": deployment_id,
            "asset_key": asset_key,
            "partition": partition,
            "materialization_event_id": item.event_id,
            "materialization_run_id": run_id,
            "materialized_at": item.event.timestamp,
        }
        for (asset_key, partition), item in _latest_per_key(
            stored, lambda event: (event.asset_key, _partition(event))
        )
    ]
    _upsert_if_newer(
        conn,
        dialect,
        asset_latest,
        rows,
        "materialization_event_id",
        ("materialization_run_id", "materialized_at"),
    )


def asset_failure(item: StoredEvent, asset_key: str, partition: str | None) -> StoredEvent:
    """`item` (a failed step or run) as the ASSET_FAILED_TO_MATERIALIZE of one asset it
    failed, under the same event id."""
    return StoredEvent(
        item.event_id,
        replace(
            item.event,
            event_type=EventType.ASSET_FAILED_TO_MATERIALIZE.value,
            asset_key=asset_key,
            partition=partition,
        ),
    )


def upsert_latest_failures(
    conn: Connection, dialect: str, deployment_id: int, run_id: str, stored: Sequence[StoredEvent]
) -> None:
    rows = [
        {
            "deployment_id": deployment_id,
            "asset_key": asset_key,
            "partition": partition,
            "failure_event_id": item.event_id,
            "failure_run_id": run_id,
            "failed_at": item.event.timestamp,
        }
        for (asset_key, partition), item in _latest_per_key(
            stored, lambda event: (event.asset_key, _partition(event))
        )
    ]
    _upsert_if_newer(
        conn, dialect, asset_latest, rows, "failure_event_id", ("failure_run_id", "failed_at")
    )


def _upsert_check_results(
    conn: Connection, dialect: str, deployment_id: int, run_id: str, stored: Sequence[StoredEvent]
) -> None:
    rows = [
        {
            "deployment_id": deployment_id,
            "asset_key": asset_key,
            "check_name": check_name,
            "partition": partition,
            "event_id": item.event_id,
            "run_id": run_id,
            "passed": bool(item.event.check_passed),
            "severity": item.event.check_severity,
            "evaluated_at": item.event.timestamp,
        }
        for (asset_key, check_name, partition), item in _latest_per_key(
            stored, lambda event: (event.asset_key, event.check_name, _partition(event))
        )
    ]
    _upsert_if_newer(
        conn,
        dialect,
        asset_check_latest,
        rows,
        "event_id",
        ("run_id", "passed", "severity", "evaluated_at"),
    )


def _upsert_asset_summaries(
    conn: Connection, dialect: str, deployment_id: int, run_id: str, stored: Sequence[StoredEvent]
) -> None:
    counts = Counter(item.event.asset_key for item in stored)
    rows = [
        {
            "deployment_id": deployment_id,
            "asset_key": asset_key,
            "materialization_event_id": item.event_id,
            "materialization_run_id": run_id,
            "materialized_at": item.event.timestamp,
            "materialization_count": counts[asset_key],
        }
        for asset_key, item in _latest_per_key(stored, lambda event: event.asset_key)
    ]
    names = tuple(rows[0])
    conn.execute(
        _summary_upsert(dialect, names), row_parameters(dialect, names, rows, _SUMMARY_SHARED)
    )


def _upsert_if_newer(
    conn: Connection,
    dialect: str,
    table: sa.Table,
    rows: Sequence[Mapping[str, Any]],
    id_column: str,
    other_columns: tuple[str, ...],
) -> None:
    """Insert rows, or overwrite the named columns where this event id is newer.

    The id comparison keeps concurrent ingest of two runs from regressing a row.
    """
    names = tuple(rows[0])
    shared = _shared(names)
    conn.execute(
        _newer_upsert(dialect, table.name, id_column, other_columns, names),
        row_parameters(dialect, names, rows, shared),
    )


# Upsert statements are built once per database: constructing ON CONFLICT clauses
# costs more Python time than executing them.

# The columns every row of one batch's upsert has the same value in: the deployment and
# the run whose events they are.
_RUN_COLUMNS = frozenset({"deployment_id", "run_id", "materialization_run_id", "failure_run_id"})
_SUMMARY_SHARED = ("deployment_id", "materialization_run_id")


def _shared(names: Sequence[str]) -> tuple[str, ...]:
    return tuple(name for name in names if name in _RUN_COLUMNS)


@functools.cache
def _newer_upsert(
    dialect: str,
    table_name: str,
    id_column: str,
    other_columns: tuple[str, ...],
    names: tuple[str, ...],
) -> sa.Executable:
    table = metadata.tables[table_name]
    statement = insert_rows(dialect, table, names, _shared(names))
    current = table.c[id_column]
    return statement.on_conflict_do_update(
        index_elements=[c.name for c in table.primary_key],
        set_={name: statement.excluded[name] for name in (id_column, *other_columns)},
        where=sa.or_(current.is_(None), current < statement.excluded[id_column]),
    )


@functools.cache
def _summary_upsert(dialect: str, names: tuple[str, ...]) -> sa.Executable:
    statement = insert_rows(dialect, asset_summary, names, _SUMMARY_SHARED)
    excluded = statement.excluded
    newer = excluded.materialization_event_id > asset_summary.c.materialization_event_id
    return statement.on_conflict_do_update(
        index_elements=[c.name for c in asset_summary.primary_key],
        set_={
            "materialization_count": asset_summary.c.materialization_count
            + excluded.materialization_count,
            **{
                name: sa.case((newer, excluded[name]), else_=asset_summary.c[name])
                for name in (
                    "materialization_event_id",
                    "materialization_run_id",
                    "materialized_at",
                )
            },
        },
    )


def _latest_is_failure() -> sa.ColumnElement[bool]:
    materialization = asset_latest.c.materialization_event_id
    failure = asset_latest.c.failure_event_id
    return sa.and_(
        failure.is_not(None), sa.or_(materialization.is_(None), failure > materialization)
    )


def _of_asset(scope: DeploymentScope, asset_key: str) -> tuple[sa.ColumnElement[bool], ...]:
    return (
        asset_latest.c.deployment_id == scope.deployment_id,
        asset_latest.c.asset_key == asset_key,
        asset_latest.c.partition != NO_PARTITION,
    )


def latest_partition_outcomes(
    scope: DeploymentScope, asset_key: str, dynamic_name: str | None = None
) -> sa.Select[str, bool]:
    """The asset's partitions, each with whether its latest outcome is a failure (a
    failure after its latest materialization, if any), from asset_latest: (partition,
    failed). With `dynamic_name`, a partition is its key's ordinal (as text) among the
    keys present in that dynamic partitions definition; other keys are left out."""
    failed = _latest_is_failure().label("failed")
    if dynamic_name is None:
        return sa.select(asset_latest.c.partition, failed).where(*_of_asset(scope, asset_key))
    keys = dynamic_partitions
    return (
        sa.select(sa.cast(keys.c.ordinal, sa.Text).label("partition"), failed)
        .join(
            keys,
            (keys.c.deployment_id == asset_latest.c.deployment_id)
            & (keys.c.partitions_def_name == dynamic_name)
            & (keys.c.partition_key == asset_latest.c.partition),
        )
        .where(*_of_asset(scope, asset_key), keys.c.deleted_at.is_(None))
    )
