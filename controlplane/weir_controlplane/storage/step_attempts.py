"""Step attempts: steps of a run that execute on other workers (Celery), one row per attempt.

The run's worker commits an attempt before launching it (so a relaunch after a crash
reuses its launch key), the step's worker claims it once (QUEUED -> RUNNING) and reports
its events; the attempt's status follows from those events, never from the engine. A
claimed attempt whose worker stops heartbeating past its lease is LOST when next read,
and so is one left unclaimed past its queued timeout on a queue no worker served: no
attempt on that queue was claimed, beat or reported within the timeout (workers busy
with long steps beat, so a backlog behind them waits).
Every write of an attempt takes its run's row lock, as run ingest does, so a claim, an
event batch and a cancel of one run apply in turn.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from weir_controlplane.storage import derived
from weir_controlplane.storage.derived import StoredEvent
from weir_controlplane.storage.engine import Database
from weir_controlplane.storage.errors import (
    AlreadyExistsError,
    NotFoundError,
    RunNotFoundError,
    StorageError,
)
from weir_controlplane.storage.events import (
    EventIngest,
    _check_planned,
    _event_row,
    _lock_run,
    _validate,
)
from weir_controlplane.storage.records import DeploymentScope, EventType, NewEvent, RunStatus
from weir_controlplane.storage.schema import event_log, runs, step_attempts


class AttemptStatus(enum.StrEnum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    SUCCESS = "SUCCESS"
    FAILURE = "FAILURE"
    LOST = "LOST"
    SUPERSEDED = "SUPERSEDED"
    CANCELED = "CANCELED"


class Refusal(enum.StrEnum):
    ALREADY_CLAIMED = "ALREADY_CLAIMED"
    SUPERSEDED = "SUPERSEDED"
    RUN_ENDED = "RUN_ENDED"
    ATTEMPT_ENDED = "ATTEMPT_ENDED"


# A step's worker seeing its run in one of these stops: canceled, or ended without it.
_STOP_STATUSES = frozenset(
    {RunStatus.CANCELING, RunStatus.CANCELED, RunStatus.FAILURE, RunStatus.SUCCESS}
)


class AttemptNotFoundError(NotFoundError):
    def __init__(self, run_id: str, launch_key: str) -> None:
        super().__init__(f"run {run_id!r} has no step attempt {launch_key!r}")
        self.run_id, self.launch_key = run_id, launch_key


class AttemptNotCurrentError(StorageError):
    """The attempt is not RUNNING (lost, superseded, ended): its worker must stop."""

    def __init__(self, launch_key: str, status: str) -> None:
        super().__init__(f"step attempt {launch_key!r} is {status}; its worker must stop")
        self.launch_key, self.status = launch_key, status


@dataclass(frozen=True)
class NewAttempt:
    step_key: str
    attempt: int
    launch_key: str
    queue: str | None
    lease_seconds: float
    token_id: str | None = None
    queued_timeout_seconds: float | None = None  # None: it may wait unclaimed forever


@dataclass(frozen=True)
class Attempt:
    launch_key: str
    run_id: str
    step_key: str
    attempt: int
    status: AttemptStatus
    worker_id: str | None
    token_id: str | None
    produced: tuple[str, ...]
    reason: str | None


@dataclass(frozen=True)
class Claim:
    claimed: bool
    refusal: Refusal | None = None
    message: str = ""


class StepAttemptStorage:
    """Example::

    attempts.register(scope, run_id, [NewAttempt("a", 1, "weir-…-1", None, 60.0)])
    attempts.claim(scope, run_id, "weir-…-1", "w1@host").claimed  # True, once
    """

    def __init__(self, db: Database, events: EventIngest) -> None:
        self._db = db
        self._events = events

    def register(self, scope: DeploymentScope, run_id: str, new: Sequence[NewAttempt]) -> None:
        """Commit attempts before they are launched; an attempt registered again keeps its
        state and takes the new token. Earlier attempts of the same steps are superseded."""
        now = datetime.now(UTC)
        with self._db.write() as conn:
            _lock_run(conn, scope, run_id)
            for attempt in new:
                existing = conn.execute(
                    sa.select(step_attempts.c.id, step_attempts.c.run_id).where(
                        step_attempts.c.launch_key == attempt.launch_key
                    )
                ).first()
                if existing is not None and existing.run_id != run_id:
                    raise AlreadyExistsError(
                        f"launch key {attempt.launch_key!r} belongs to another run"
                    )
                if existing is not None:
                    conn.execute(
                        step_attempts.update()
                        .where(step_attempts.c.id == existing.id)
                        .values(token_id=attempt.token_id)
                    )
                    continue
                conn.execute(
                    step_attempts.update()
                    .where(
                        step_attempts.c.run_id == run_id,
                        step_attempts.c.step_key == attempt.step_key,
                        step_attempts.c.attempt < attempt.attempt,
                        step_attempts.c.status.in_([AttemptStatus.QUEUED, AttemptStatus.RUNNING]),
                    )
                    .values(status=AttemptStatus.SUPERSEDED, ended_at=now)
                )
                conn.execute(
                    step_attempts.insert().values(
                        launch_key=attempt.launch_key,
                        deployment_id=scope.deployment_id,
                        run_id=run_id,
                        step_key=attempt.step_key,
                        attempt=attempt.attempt,
                        status=AttemptStatus.QUEUED,
                        queue=attempt.queue,
                        lease_seconds=attempt.lease_seconds,
                        queued_timeout_seconds=attempt.queued_timeout_seconds,
                        token_id=attempt.token_id,
                        produced=[],
                        created_at=now,
                    )
                )

    def get(
        self, scope: DeploymentScope, run_id: str, launch_keys: Sequence[str]
    ) -> tuple[list[Attempt], RunStatus]:
        """The attempts (in the order asked; unknown keys left out), marking as LOST the
        claimed ones whose lease ran out and the queued ones whose queue no worker served
        within their queued timeout; and the run's status. A read, the common case: it
        writes only when a lease or a queued timeout has run out."""
        now = datetime.now(UTC)
        with self._db.read() as conn:
            status, rows = self._read(conn, scope, run_id, launch_keys)
            unserved = _unserved(conn, scope, rows, now)
        if unserved or any(_expired(row, now) for row in rows):
            with self._db.write() as conn:
                _lock_run(conn, scope, run_id)
                status, rows = self._read(conn, scope, run_id, launch_keys)
                for row in rows:
                    if _expired(row, now):
                        reason = (
                            f"worker {row.worker_id} of step {row.step_key} (attempt "
                            f"{row.attempt}) sent no heartbeat for {row.lease_seconds:g} s"
                        )
                        _end(conn, row.id, AttemptStatus.LOST, now, reason)
                for row in rows:  # still queued: a claim in between would have won
                    if row.launch_key in unserved and row.status == AttemptStatus.QUEUED:
                        reason = (
                            f"no worker served queue {row.queue!r}: step {row.step_key} "
                            f"(attempt {row.attempt}) waited {row.queued_timeout_seconds:g} s "
                            "unclaimed"
                        )
                        _end(conn, row.id, AttemptStatus.LOST, now, reason)
                status, rows = self._read(conn, scope, run_id, launch_keys)
        found = {row.launch_key: _attempt(row) for row in rows}
        return [found[k] for k in launch_keys if k in found], status

    def _read(
        self, conn: Connection, scope: DeploymentScope, run_id: str, launch_keys: Sequence[str]
    ) -> tuple[RunStatus, list[Any]]:
        status = conn.execute(
            sa.select(runs.c.status).where(
                runs.c.deployment_id == scope.deployment_id, runs.c.run_id == run_id
            )
        ).scalar_one_or_none()
        if status is None:
            raise RunNotFoundError(run_id)
        rows = conn.execute(
            sa.select(step_attempts).where(
                step_attempts.c.run_id == run_id,
                step_attempts.c.deployment_id == scope.deployment_id,
                step_attempts.c.launch_key.in_(list(launch_keys)),
            )
        ).all()
        return RunStatus(status), list(rows)

    def find(self, scope: DeploymentScope, run_id: str, launch_key: str) -> Attempt:
        with self._db.read() as conn:
            row = _row(conn, scope, run_id, launch_key)
        return _attempt(row)

    def claim(self, scope: DeploymentScope, run_id: str, launch_key: str, worker_id: str) -> Claim:
        now = datetime.now(UTC)
        with self._db.write() as conn:
            run = _lock_run(conn, scope, run_id)
            row = _row(conn, scope, run_id, launch_key)
            status = AttemptStatus(row.status)
            if status is AttemptStatus.QUEUED and RunStatus(run.status) in _STOP_STATUSES:
                _end(conn, row.id, AttemptStatus.CANCELED, now, "the run was canceled")
                return Claim(False, Refusal.RUN_ENDED, f"run {run_id} is {run.status}")
            if status is AttemptStatus.QUEUED:
                conn.execute(
                    step_attempts.update()
                    .where(step_attempts.c.id == row.id)
                    .values(status=AttemptStatus.RUNNING, worker_id=worker_id, heartbeat_at=now)
                )
                return Claim(True)
            if status is AttemptStatus.RUNNING:
                return Claim(
                    False, Refusal.ALREADY_CLAIMED, f"{launch_key} is running on {row.worker_id}"
                )
            if status is AttemptStatus.SUPERSEDED:
                return Claim(False, Refusal.SUPERSEDED, f"{launch_key} was superseded")
            if status is AttemptStatus.CANCELED:
                return Claim(False, Refusal.RUN_ENDED, f"{launch_key} was canceled")
            return Claim(False, Refusal.ATTEMPT_ENDED, f"{launch_key} has ended ({status})")

    def heartbeat(self, scope: DeploymentScope, run_id: str, launch_key: str) -> bool:
        """Renew a RUNNING attempt's lease; True when it should stop (run canceled)."""
        now = datetime.now(UTC)
        with self._db.write() as conn:
            row = _row(conn, scope, run_id, launch_key)
            if row.status != AttemptStatus.RUNNING:
                raise AttemptNotCurrentError(launch_key, row.status)
            conn.execute(
                step_attempts.update().where(step_attempts.c.id == row.id).values(heartbeat_at=now)
            )
            status = conn.execute(sa.select(runs.c.status).where(runs.c.run_id == run_id))
            return RunStatus(status.scalar_one()) in _STOP_STATUSES

    def store_events(
        self, scope: DeploymentScope, run_id: str, launch_key: str, events: Sequence[NewEvent]
    ) -> tuple[int, bool]:
        """Store a RUNNING attempt's batch once, however often sent (numbered within the
        attempt, stored without a run sequence); returns its ack and whether to stop."""
        now = datetime.now(UTC)
        by_sequence: dict[int, NewEvent] = {}
        for event in events:
            if event.sequence is None or event.sequence < 1:
                raise ValueError("step events are numbered from 1")
            _validate(event)
            by_sequence.setdefault(event.sequence, event)
        with self._db.write() as conn:
            run = _lock_run(conn, scope, run_id)
            row = _row(conn, scope, run_id, launch_key)
            if row.status != AttemptStatus.RUNNING:
                raise AttemptNotCurrentError(launch_key, row.status)
            ack = int(row.acked_sequence)
            fresh: list[NewEvent] = []
            while ack + 1 in by_sequence:
                ack += 1
                fresh.append(by_sequence[ack])
            _check_planned(conn, run_id, fresh)
            values: dict[str, Any] = {"acked_sequence": ack, "heartbeat_at": now}
            if fresh and not RunStatus(run.status).is_terminal:
                stored = self._insert(conn, scope, run_id, fresh)
                derived.apply_asset_events(
                    conn, self._db.dialect, scope.deployment_id, run_id, stored
                )
                self._events._apply_partition_status(conn, scope, run_id, run, stored)
                values |= _outcome(row, fresh, now)
            conn.execute(step_attempts.update().where(step_attempts.c.id == row.id).values(values))
        return ack, RunStatus(run.status) in _STOP_STATUSES

    def _insert(
        self, conn: Connection, scope: DeploymentScope, run_id: str, events: list[NewEvent]
    ) -> list[StoredEvent]:
        rows = []
        for event in events:
            record = _event_row(scope, run_id, event)
            record["sequence"] = None  # the run's sequence is its own worker's
            rows.append(record)
        ids = conn.execute(
            event_log.insert().returning(event_log.c.id, sort_by_parameter_order=True), rows
        ).scalars()
        return [StoredEvent(event_id, event) for event_id, event in zip(ids, events, strict=True)]


def _outcome(row: Any, fresh: list[NewEvent], now: datetime) -> dict[str, Any]:
    produced = list(row.produced)
    values: dict[str, Any] = {}
    for event in fresh:
        if event.event_type == EventType.ASSET_MATERIALIZATION and event.asset_key:
            produced.append(event.asset_key)
        elif event.event_type == "STEP_SUCCESS":
            values |= {"status": AttemptStatus.SUCCESS, "ended_at": now}
        elif event.event_type == EventType.STEP_FAILURE:
            values |= {"status": AttemptStatus.FAILURE, "ended_at": now, "reason": event.message}
    if produced != list(row.produced):
        values["produced"] = produced
    return values


def _row(conn: Connection, scope: DeploymentScope, run_id: str, launch_key: str) -> Any:
    row = conn.execute(
        sa.select(step_attempts).where(
            step_attempts.c.launch_key == launch_key,
            step_attempts.c.deployment_id == scope.deployment_id,
            step_attempts.c.run_id == run_id,
        )
    ).first()
    if row is None:
        raise AttemptNotFoundError(run_id, launch_key)
    return row


def _end(conn: Connection, row_id: int, status: AttemptStatus, now: datetime, reason: str) -> None:
    conn.execute(
        step_attempts.update()
        .where(step_attempts.c.id == row_id)
        .values(status=status, ended_at=now, reason=reason)
    )


def _expired(row: Any, now: datetime) -> bool:
    beat = row.heartbeat_at
    return (
        row.status == AttemptStatus.RUNNING
        and beat is not None
        and beat + timedelta(seconds=row.lease_seconds) < now
    )


def _unserved(
    conn: Connection, scope: DeploymentScope, rows: Sequence[Any], now: datetime
) -> set[str]:
    """The launch keys of `rows` queued past their timeout on a queue where no attempt
    (of any run) was claimed, beat or reported within that timeout: no worker serves it.
    One indexed query per such queue, and only when an attempt has waited that long."""
    overdue = [
        row
        for row in rows
        if row.status == AttemptStatus.QUEUED
        and row.queued_timeout_seconds
        and row.created_at + timedelta(seconds=row.queued_timeout_seconds) < now
    ]
    served: dict[tuple[str | None, float], bool] = {}
    unserved = set()
    for row in overdue:
        key = (row.queue, row.queued_timeout_seconds)
        if key not in served:
            since = now - timedelta(seconds=row.queued_timeout_seconds)
            served[key] = (
                conn.execute(
                    sa.select(step_attempts.c.id)
                    .where(
                        step_attempts.c.deployment_id == scope.deployment_id,
                        step_attempts.c.queue == row.queue
                        if row.queue is not None
                        else step_attempts.c.queue.is_(None),
                        step_attempts.c.heartbeat_at > since,
                    )
                    .limit(1)
                ).first()
                is not None
            )
        if not served[key]:
            unserved.add(row.launch_key)
    return unserved


def _attempt(row: Any) -> Attempt:
    return Attempt(
        launch_key=row.launch_key,
        run_id=row.run_id,
        step_key=row.step_key,
        attempt=row.attempt,
        status=AttemptStatus(row.status),
        worker_id=row.worker_id,
        token_id=row.token_id,
        produced=tuple(row.produced),
        reason=row.reason,
    )
