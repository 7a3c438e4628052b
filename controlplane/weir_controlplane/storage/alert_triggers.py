"""The alert events that storage writes raise, built where the change is stored.

Each function runs on the caller's connection, inside the transaction that stores the
triggering change, and queues its alerts with `alerts.publish`: a run that failed, a
failed check evaluation, a code location whose code stopped loading, a schedule or
sensor tick that failed after one that did not. They do nothing unless something failed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy.engine import Connection

from weir_controlplane.storage.alerts import AlertEvent, AlertKind, publish, run_tags_of
from weir_controlplane.storage.derived import StoredEvent
from weir_controlplane.storage.records import EventType


def run_events(
    conn: Connection,
    deployment_id: int,
    run_id: str,
    code_location: str,
    stored: Sequence[StoredEvent],
    *,
    failed: bool,
    failure_reason: str | None,
) -> None:
    """Alerts for a batch of a run's new events: its failed checks, and the run itself
    when the batch `failed` it."""
    events = [
        AlertEvent(
            kind=AlertKind.CHECK_FAILED,
            summary=f"Check {item.event.check_name} of {item.event.asset_key} failed",
            occurred_at=item.event.timestamp,
            code_location=code_location,
            run_id=run_id,
            asset_key=item.event.asset_key or "",
            check_name=item.event.check_name or "",
            message=item.event.message or "",
            details={"severity": item.event.check_severity or "ERROR"},
        )
        for item in stored
        if item.event.event_type == EventType.ASSET_CHECK_EVALUATION
        and item.event.check_passed is False
    ]
    if failed:
        ended = next(
            (
                item.event.timestamp
                for item in stored
                if item.event.event_type == EventType.RUN_FAILURE
            ),
            datetime.now(UTC),
        )
        events.append(run_failed(conn, run_id, code_location, failure_reason, ended))
    publish(conn, deployment_id, events)


def run_failed(
    conn: Connection,
    run_id: str,
    code_location: str,
    failure_reason: str | None,
    occurred_at: datetime,
) -> AlertEvent:
    return AlertEvent(
        kind=AlertKind.RUN_FAILED,
        summary=f"Run {run_id} in {code_location} failed",
        occurred_at=occurred_at,
        code_location=code_location,
        run_id=run_id,
        message=failure_reason or "",
        tags=run_tags_of(conn, run_id),
    )


def code_location_load_error(
    conn: Connection, deployment_id: int, name: str, message: str, occurred_at: datetime
) -> None:
    publish(
        conn,
        deployment_id,
        [
            AlertEvent(
                kind=AlertKind.CODE_LOCATION_LOAD_ERROR,
                summary=f"Code location {name} failed to load",
                occurred_at=occurred_at,
                code_location=name,
                message=message,
            )
        ],
    )


def tick_failed(
    conn: Connection,
    deployment_id: int,
    *,
    kind: str,
    code_location: str,
    name: str,
    error: str,
    occurred_at: datetime,
) -> None:
    what = kind.lower()
    publish(
        conn,
        deployment_id,
        [
            AlertEvent(
                kind=AlertKind.TICK_FAILED,
                summary=f"A tick of {what} {name} in {code_location} failed",
                occurred_at=occurred_at,
                code_location=code_location,
                instigator=name,
                message=error,
                details={"instigator_kind": kind},
            )
        ],
    )
