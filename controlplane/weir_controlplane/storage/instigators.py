"""Schedules' and sensors' stored state, their leases, and their tick history.

A daemon pass reads the states of a deployment, claims the ones it will tick (a row
lease with an expiry, taken only if the row is unchanged since it was read), evaluates
them, and stores each tick's outcome together with the new state in one transaction
that also drops the lease. A replica that lost its lease (it stalled past the expiry)
stores nothing; another replica ticks in its place.

Example::

    states = storage.instigators.states(scope, InstigatorKind.SENSOR)
    state = states[("etl", "new_files")]
    if storage.instigators.claim(scope, state, owner="replica-1", ttl=60):
        ...  # evaluate
        storage.instigators.finish(scope, state, "replica-1", tick, cursor="42")
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from weir_controlplane.storage import alert_triggers, cursors, dialects, retention
from weir_controlplane.storage.engine import Database
from weir_controlplane.storage.records import DeploymentScope, Page
from weir_controlplane.storage.schema import instigator_states, instigator_ticks

MAX_PAGE_SIZE = 1000


class InstigatorKind(enum.StrEnum):
    SCHEDULE = "schedule"
    SENSOR = "sensor"


class InstigatorStatus(enum.StrEnum):
    RUNNING = "RUNNING"
    STOPPED = "STOPPED"


class TickStatus(enum.StrEnum):
    SUCCESS = "SUCCESS"
    SKIPPED = "SKIPPED"
    FAILURE = "FAILURE"


# (code location, name): what identifies a schedule or sensor within a deployment.
InstigatorKey = tuple[str, str]


@dataclass(frozen=True)
class InstigatorState:
    kind: InstigatorKind
    code_location: str
    name: str
    # None: not set through the API; the code's default_status applies.
    status: InstigatorStatus | None
    cursor: str | None
    last_tick_at: datetime | None
    last_run_key: str | None
    last_event_id: int | None
    version: int
    lease_owner: str | None
    lease_expires_at: datetime | None

    @property
    def key(self) -> InstigatorKey:
        return (self.code_location, self.name)


@dataclass(frozen=True)
class NewTick:
    status: TickStatus
    tick_time: datetime
    run_ids: Sequence[str] = ()
    run_keys: Sequence[str] = ()
    skip_reason: str | None = None
    error: str | None = None
    cursor_before: str | None = None
    cursor_after: str | None = None


@dataclass(frozen=True)
class Tick(NewTick):
    tick_id: int = 0
    kind: InstigatorKind = InstigatorKind.SENSOR
    code_location: str = ""
    name: str = ""
    ended_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    # A sensor's consecutive identical SKIPPED ticks are stored as one: how many, and when
    # the last was evaluated (None for a tick standing for itself alone).
    repeat_count: int = 1
    last_tick_time: datetime | None = None


_UNSET: Any = object()


class InstigatorStorage:
    """The `instigator_states` and `instigator_ticks` tables."""

    def __init__(self, db: Database) -> None:
        self._db = db

    # --- state --------------------------------------------------------------------------

    def states(
        self,
        scope: DeploymentScope,
        kind: InstigatorKind,
        ensure: Iterable[InstigatorKey] = (),
        *,
        now: datetime | None = None,
    ) -> dict[InstigatorKey, InstigatorState]:
        """Every stored state of `kind` in the deployment, first creating (with no status,
        cursor or tick) the rows of `ensure` that do not exist yet."""
        wanted = list(dict.fromkeys(ensure))
        query = sa.select(instigator_states).where(
            instigator_states.c.deployment_id == scope.deployment_id,
            instigator_states.c.kind == kind.value,
        )
        with self._db.read() as conn:
            found = {(row.code_location, row.name): _state(row) for row in conn.execute(query)}
        missing = [key for key in wanted if key not in found]
        if missing:
            stamp = now or datetime.now(UTC)
            insert = dialects.insert(self._db.dialect, instigator_states).on_conflict_do_nothing()
            with self._db.write() as conn:
                conn.execute(
                    insert,
                    [
                        {"deployment_id": scope.deployment_id, "kind": kind.value}
                        | {"code_location": location, "name": name, "updated_at": stamp}
                        for location, name in missing
                    ],
                )
                keys = sa.tuple_(instigator_states.c.code_location, instigator_states.c.name)
                for row in conn.execute(query.where(keys.in_(missing))):
                    found[(row.code_location, row.name)] = _state(row)
        return found

    def get(
        self, scope: DeploymentScope, kind: InstigatorKind, key: InstigatorKey
    ) -> InstigatorState:
        return self.states(scope, kind, [key])[key]

    def update(
        self,
        scope: DeploymentScope,
        kind: InstigatorKind,
        key: InstigatorKey,
        *,
        status: InstigatorStatus | None = _UNSET,
        cursor: str | None = _UNSET,
        last_tick_at: datetime | None = _UNSET,
        now: datetime | None = None,
    ) -> InstigatorState:
        """Set what the API sets (status, cursor; a started schedule's tick position),
        creating the row if needed. Bumps `version`, so a tick evaluated from the older
        state is not stored over it."""
        self.states(scope, kind, [key])
        values: dict[str, Any] = {
            "updated_at": now or datetime.now(UTC),
            "version": instigator_states.c.version + 1,
        }
        for column, value in (("status", status), ("cursor", cursor)):
            if value is not _UNSET:
                values[column] = value.value if isinstance(value, enum.Enum) else value
        if last_tick_at is not _UNSET:
            values["last_tick_at"] = last_tick_at
        with self._db.write() as conn:
            conn.execute(instigator_states.update().where(*_row(scope, kind, key)).values(values))
        return self.get(scope, kind, key)

    # --- leases -------------------------------------------------------------------------

    def claim(
        self,
        scope: DeploymentScope,
        state: InstigatorState,
        owner: str,
        *,
        ttl: float,
        now: datetime | None = None,
    ) -> bool:
        """Take the lease of `state`'s row for `ttl` seconds if no live lease holds it and
        the row is still at `state.version`; False when another replica has it or ticked it.

        On PostgreSQL the row is read `FOR UPDATE SKIP LOCKED`, so replicas racing for it
        never wait on each other; on SQLite (one writer at a time) the conditional UPDATE
        alone decides.
        """
        now = now or datetime.now(UTC)
        free = sa.or_(
            instigator_states.c.lease_expires_at.is_(None),
            instigator_states.c.lease_expires_at < now,
            instigator_states.c.lease_owner == owner,
        )
        conditions = [
            *_row(scope, state.kind, state.key),
            instigator_states.c.version == state.version,
            free,
        ]
        with self._db.write() as conn:
            if conn.dialect.name == "postgresql":
                locked = conn.execute(
                    sa.select(instigator_states.c.version)
                    .where(*conditions)
                    .with_for_update(skip_locked=True)
                ).first()
                if locked is None:
                    return False
            claimed = conn.execute(
                instigator_states.update()
                .where(*conditions)
                .values(lease_owner=owner, lease_expires_at=now + timedelta(seconds=ttl))
            )
            return claimed.rowcount == 1

    def renew(
        self,
        scope: DeploymentScope,
        state: InstigatorState,
        owner: str,
        *,
        ttl: float,
        now: datetime | None = None,
    ) -> bool:
        """Extend `owner`'s lease of `state`'s row to `ttl` seconds from now; False when
        `owner` no longer holds it."""
        now = now or datetime.now(UTC)
        with self._db.write() as conn:
            renewed = conn.execute(
                instigator_states.update()
                .where(
                    *_row(scope, state.kind, state.key),
                    instigator_states.c.lease_owner == owner,
                )
                .values(lease_expires_at=now + timedelta(seconds=ttl))
            )
            return renewed.rowcount == 1

    def release(self, scope: DeploymentScope, state: InstigatorState, owner: str) -> None:
        """Drop the lease without storing a tick (nothing was due after all)."""
        with self._db.write() as conn:
            conn.execute(
                instigator_states.update()
                .where(
                    *_row(scope, state.kind, state.key),
                    instigator_states.c.lease_owner == owner,
                )
                .values(lease_owner=None, lease_expires_at=None)
            )

    def finish(
        self,
        scope: DeploymentScope,
        state: InstigatorState,
        owner: str,
        tick: NewTick | None,
        *,
        cursor: str | None = _UNSET,
        last_tick_at: datetime | None = _UNSET,
        last_run_key: str | None = _UNSET,
        last_event_id: int | None = _UNSET,
        keep_lease: bool = False,
        now: datetime | None = None,
    ) -> InstigatorState | None:
        """Store `tick` (if any) and the state it leaves, and drop the lease (unless
        `keep_lease`: a schedule catching up stores several ticks under one lease).

        Nothing is stored, and None returned, when `owner` no longer holds the lease or
        the row changed since it was claimed (a Stop or SetSensorCursor meanwhile).
        """
        now = now or datetime.now(UTC)
        values: dict[str, Any] = {"updated_at": now, "version": state.version + 1}
        if not keep_lease:
            values |= {"lease_owner": None, "lease_expires_at": None}
        for column, value in (
            ("cursor", cursor),
            ("last_tick_at", last_tick_at),
            ("last_run_key", last_run_key),
            ("last_event_id", last_event_id),
        ):
            if value is not _UNSET:
                values[column] = value
        try:
            with self._db.write() as conn:
                updated = conn.execute(
                    instigator_states.update()
                    .where(
                        *_row(scope, state.kind, state.key),
                        instigator_states.c.lease_owner == owner,
                        instigator_states.c.version == state.version,
                    )
                    .values(values)
                )
                if updated.rowcount != 1:
                    return None
                if tick is not None and tick.status is TickStatus.FAILURE:
                    _alert_failed_tick(conn, scope, state, tick, now)
                if tick is not None and not _repeated(conn, scope, state, tick, now):
                    row = _tick_row(scope, state, tick, now)
                    conn.execute(instigator_ticks.insert().values(row))
                stored = conn.execute(
                    sa.select(instigator_states).where(*_row(scope, state.kind, state.key))
                ).one()
        except sa.exc.IntegrityError:
            return None  # that cron time already has its tick: the whole change is undone
        return _state(stored)

    # --- ticks --------------------------------------------------------------------------

    def list_ticks(
        self,
        scope: DeploymentScope,
        kind: InstigatorKind,
        key: InstigatorKey,
        *,
        cursor: str | None = None,
        limit: int = 100,
    ) -> Page[Tick]:
        """Newest first. Pass `page.next_cursor` back to continue; None means no more."""
        limit = max(1, min(limit, MAX_PAGE_SIZE))
        query = sa.select(instigator_ticks).where(*_tick_owner(scope, kind, key))
        before = cursors.decode(cursor)
        if before is not None:
            query = query.where(instigator_ticks.c.id < before)
        query = query.order_by(instigator_ticks.c.id.desc()).limit(limit + 1)
        with self._db.read() as conn:
            rows = conn.execute(query).all()
        items = tuple(_tick(row) for row in rows[:limit])
        next_cursor = cursors.encode(items[-1].tick_id) if len(rows) > limit else None
        return Page(items=items, next_cursor=next_cursor)

    def prune_ticks(
        self, scope: DeploymentScope, *, keep: int, older_than: datetime, limit: int = 1000
    ) -> int:
        """Delete up to `limit` of the deployment's ticks that ended before `older_than`
        and have at least `keep` newer ticks of their own schedule or sensor; how many."""
        return retention.prune(
            self._db,
            instigator_ticks,
            scope,
            owner=["name", "code_location", "kind"],
            age="ended_at",
            keep=keep,
            older_than=older_than,
            limit=limit,
        )

    def latest_ticks(
        self, scope: DeploymentScope, kind: InstigatorKind, keys: Iterable[InstigatorKey]
    ) -> dict[InstigatorKey, Tick]:
        """The newest tick of each of `keys` that has one, in one query."""
        wanted = list(dict.fromkeys(keys))
        if not wanted:
            return {}
        ticks = instigator_ticks.c
        newest = (
            sa.select(sa.func.max(ticks.id))
            .where(
                ticks.deployment_id == scope.deployment_id,
                ticks.kind == kind.value,
                sa.tuple_(ticks.code_location, ticks.name).in_(wanted),
            )
            .group_by(ticks.code_location, ticks.name)
        )
        with self._db.read() as conn:
            rows = conn.execute(sa.select(instigator_ticks).where(ticks.id.in_(newest)))
            return {(row.code_location, row.name): _tick(row) for row in rows}


def _row(
    scope: DeploymentScope, kind: InstigatorKind, key: InstigatorKey
) -> list[sa.ColumnElement[bool]]:
    states = instigator_states.c
    return [
        states.deployment_id == scope.deployment_id,
        states.kind == kind.value,
        states.code_location == key[0],
        states.name == key[1],
    ]


def _alert_failed_tick(
    conn: Connection, scope: DeploymentScope, state: InstigatorState, tick: NewTick, now: datetime
) -> None:
    """Alert on a failed tick after one that did not fail (or the first tick): a sensor
    failing every 30 seconds alerts once, and again only after it recovered."""
    previous = conn.execute(
        sa.select(instigator_ticks.c.status)
        .where(
            instigator_ticks.c.deployment_id == scope.deployment_id,
            instigator_ticks.c.name == state.name,
            instigator_ticks.c.code_location == state.code_location,
            instigator_ticks.c.kind == state.kind.value,
        )
        .order_by(instigator_ticks.c.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    if previous == TickStatus.FAILURE.value:
        return
    alert_triggers.tick_failed(
        conn,
        scope.deployment_id,
        kind=state.kind.value,
        code_location=state.code_location,
        name=state.name,
        error=tick.error or "",
        occurred_at=now,
    )


def _tick_owner(
    scope: DeploymentScope, kind: InstigatorKind, key: InstigatorKey
) -> list[sa.ColumnElement[bool]]:
    ticks = instigator_ticks.c
    return [
        ticks.deployment_id == scope.deployment_id,
        ticks.name == key[1],
        ticks.code_location == key[0],
        ticks.kind == kind.value,
    ]


def _state(row: Row[Any]) -> InstigatorState:
    return InstigatorState(
        kind=InstigatorKind(row.kind),
        code_location=row.code_location,
        name=row.name,
        status=InstigatorStatus(row.status) if row.status else None,
        cursor=row.cursor,
        last_tick_at=row.last_tick_at,
        last_run_key=row.last_run_key,
        last_event_id=row.last_event_id,
        version=row.version,
        lease_owner=row.lease_owner,
        lease_expires_at=row.lease_expires_at,
    )


def _repeated(
    conn: sa.Connection,
    scope: DeploymentScope,
    state: InstigatorState,
    tick: NewTick,
    now: datetime,
) -> bool:
    """Fold a sensor's SKIPPED tick into its newest tick when that one is the same skip
    (reason and cursors); True when folded. An idle sensor then keeps one row, not one
    per interval."""
    if state.kind is not InstigatorKind.SENSOR or tick.status is not TickStatus.SKIPPED:
        return False
    t = instigator_ticks
    newest = conn.execute(
        sa.select(t.c.id, t.c.status, t.c.skip_reason, t.c.cursor_before, t.c.cursor_after)
        .where(*_tick_owner(scope, state.kind, state.key))
        .order_by(t.c.id.desc())
        .limit(1)
    ).first()
    if newest is None or (
        newest.status,
        newest.skip_reason,
        newest.cursor_before,
        newest.cursor_after,
    ) != (TickStatus.SKIPPED.value, tick.skip_reason, tick.cursor_before, tick.cursor_after):
        return False
    conn.execute(
        t.update()
        .where(t.c.id == newest.id)
        .values(repeat_count=t.c.repeat_count + 1, last_tick_time=tick.tick_time, ended_at=now)
    )
    return True


def _tick_row(
    scope: DeploymentScope, state: InstigatorState, tick: NewTick, now: datetime
) -> dict[str, Any]:
    return {
        "deployment_id": scope.deployment_id,
        "kind": state.kind.value,
        "code_location": state.code_location,
        "name": state.name,
        "status": tick.status.value,
        "tick_time": tick.tick_time,
        "ended_at": now,
        "run_ids": list(tick.run_ids),
        "run_keys": list(tick.run_keys),
        "skip_reason": tick.skip_reason,
        "error": tick.error,
        "cursor_before": tick.cursor_before,
        "cursor_after": tick.cursor_after,
    }


def _tick(row: Row[Any]) -> Tick:
    return Tick(
        tick_id=row.id,
        kind=InstigatorKind(row.kind),
        code_location=row.code_location,
        name=row.name,
        status=TickStatus(row.status),
        tick_time=row.tick_time,
        ended_at=row.ended_at,
        run_ids=tuple(row.run_ids),
        run_keys=tuple(row.run_keys),
        skip_reason=row.skip_reason,
        error=row.error,
        cursor_before=row.cursor_before,
        cursor_after=row.cursor_after,
        repeat_count=row.repeat_count,
        last_tick_time=row.last_tick_time,
    )
