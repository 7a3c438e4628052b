"""Backfills: the plan (one row per planned run) and where each planned run stands.

A backfill and all its planned runs are written in one transaction, so a refused or
failed launch leaves nothing behind. The daemon driving a backfill holds a row lease on
it (`claim_active`), so of several control-plane replicas one drives each backfill.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Row

from weir_controlplane.storage import cursors
from weir_controlplane.storage.engine import Database
from weir_controlplane.storage.errors import BackfillNotFoundError
from weir_controlplane.storage.records import DeploymentScope, Page, RunStatus
from weir_controlplane.storage.schema import backfill_runs, backfills, runs

MAX_PAGE_SIZE = 1000
# Rows per INSERT when storing a plan: well under every driver's bound-parameter limit.
_INSERT_BATCH = 500


class BackfillStatus(enum.StrEnum):
    REQUESTED = "REQUESTED"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELING = "CANCELING"
    CANCELED = "CANCELED"


# The statuses the daemon drives.
ACTIVE_BACKFILL_STATUSES = frozenset(
    {BackfillStatus.REQUESTED, BackfillStatus.RUNNING, BackfillStatus.CANCELING}
)


class PlannedRunState(enum.StrEnum):
    PLANNED = "PLANNED"  # waiting for the runs it reads from, or for room in the queue
    LAUNCHED = "LAUNCHED"  # its run exists and has not ended
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    SKIPPED = "SKIPPED"  # a run it reads from failed
    CANCELED = "CANCELED"  # the backfill was canceled before or while it ran


# Planned runs a resume plans again.
RESUMABLE_RUN_STATES = frozenset(
    {PlannedRunState.FAILED, PlannedRunState.SKIPPED, PlannedRunState.CANCELED}
)


@dataclass(frozen=True)
class NewPlannedRun:
    asset_keys: tuple[str, ...]
    partition_keys: tuple[str, ...]
    waits_for: tuple[int, ...] = ()


@dataclass(frozen=True)
class NewBackfill:
    backfill_id: str
    code_location: str
    selection: str
    tags: Mapping[str, str]
    # Every selected asset (in dependency order) with its target partitions in order.
    targets: Mapping[str, Sequence[str]]
    runs: Sequence[NewPlannedRun]


@dataclass(frozen=True)
class Backfill:
    backfill_id: str
    status: BackfillStatus
    code_location: str
    selection: str
    tags: Mapping[str, str]
    targets: Mapping[str, Sequence[str]]
    run_count: int
    created_at: datetime
    updated_at: datetime
    ended_at: datetime | None
    # Planned runs per state.
    run_states: Mapping[PlannedRunState, int] = field(default_factory=dict)


@dataclass(frozen=True)
class PlannedRun:
    ordinal: int
    asset_keys: tuple[str, ...]
    partition_keys: tuple[str, ...]
    waits_for: tuple[int, ...]
    state: PlannedRunState
    attempt: int
    run_id: str | None


class BackfillStorage:
    """The `backfills` and `backfill_runs` tables.

    Example::

        storage.backfills.create(scope, NewBackfill("b1", "etl", "daily*", {}, targets, runs))
        for backfill in storage.backfills.claim_active(scope, owner="replica-1"):
            ...  # this replica drives it until its lease runs out
    """

    def __init__(self, db: Database) -> None:
        self._db = db

    # --- create and read --------------------------------------------------------------

    def create(
        self, scope: DeploymentScope, new: NewBackfill, *, now: datetime | None = None
    ) -> Backfill:
        now = now or datetime.now(UTC)
        rows = [
            {
                "backfill_id": new.backfill_id,
                "deployment_id": scope.deployment_id,
                "ordinal": ordinal,
                "asset_keys": list(run.asset_keys),
                "partition_keys": list(run.partition_keys),
                "waits_for": list(run.waits_for),
                "state": PlannedRunState.PLANNED.value,
                "attempt": 0,
            }
            for ordinal, run in enumerate(new.runs)
        ]
        with self._db.write() as conn:
            conn.execute(
                backfills.insert().values(
                    backfill_id=new.backfill_id,
                    deployment_id=scope.deployment_id,
                    status=BackfillStatus.REQUESTED.value,
                    code_location=new.code_location,
                    selection=new.selection,
                    tags=dict(new.tags),
                    # Pairs, not an object: JSONB does not keep an object's key order.
                    targets=[[k, list(v)] for k, v in new.targets.items()],
                    run_count=len(rows),
                    created_at=now,
                    updated_at=now,
                )
            )
            for start in range(0, len(rows), _INSERT_BATCH):
                conn.execute(backfill_runs.insert(), rows[start : start + _INSERT_BATCH])
        return self.get(scope, new.backfill_id)

    def get(self, scope: DeploymentScope, backfill_id: str) -> Backfill:
        with self._db.read() as conn:
            row = conn.execute(
                _select(scope).where(backfills.c.backfill_id == backfill_id)
            ).one_or_none()
            if row is None:
                raise BackfillNotFoundError(backfill_id)
            counts = _state_counts(conn, scope, [backfill_id])
        return _backfill(row, counts.get(backfill_id, {}))

    def list_backfills(
        self,
        scope: DeploymentScope,
        statuses: Collection[BackfillStatus] | None = None,
        *,
        code_locations: Collection[str] | None = None,
        cursor: str | None = None,
        limit: int = 50,
    ) -> Page[Backfill]:
        """Newest first. Pass `page.next_cursor` back to continue; None means no more."""
        limit = max(1, min(limit, MAX_PAGE_SIZE))
        query = _select(scope)
        if statuses:
            query = query.where(backfills.c.status.in_([s.value for s in statuses]))
        if code_locations is not None:  # None: every location's
            query = query.where(backfills.c.code_location.in_(sorted(code_locations)))
        before = cursors.decode(cursor)
        if before is not None:
            query = query.where(backfills.c.id < before)
        query = query.order_by(backfills.c.id.desc()).limit(limit + 1)
        with self._db.read() as conn:
            rows = conn.execute(query).all()
            page = rows[:limit]
            counts = _state_counts(conn, scope, [row.backfill_id for row in page])
        next_cursor = cursors.encode(rows[limit - 1].id) if len(rows) > limit else None
        items = tuple(_backfill(row, counts.get(row.backfill_id, {})) for row in page)
        return Page(items=items, next_cursor=next_cursor)

    def planned_runs(self, scope: DeploymentScope, backfill_id: str) -> list[PlannedRun]:
        """Every planned run of the backfill, in plan order."""
        query = (
            sa.select(backfill_runs)
            .where(
                backfill_runs.c.deployment_id == scope.deployment_id,
                backfill_runs.c.backfill_id == backfill_id,
            )
            .order_by(backfill_runs.c.ordinal)
        )
        with self._db.read() as conn:
            return [_planned_run(row) for row in conn.execute(query)]

    # --- the daemon's claim -----------------------------------------------------------

    def claim_active(
        self,
        scope: DeploymentScope,
        *,
        owner: str,
        lease: timedelta,
        now: datetime | None = None,
    ) -> list[str]:
        """Take (or renew) the lease on every active backfill whose lease is free or held
        by `owner`; the ids of those this owner now holds. One conditional UPDATE per
        backfill, so two replicas never both hold one."""
        now = now or datetime.now(UTC)
        free = sa.or_(
            backfills.c.lease_until.is_(None),
            backfills.c.lease_until < now,
            backfills.c.lease_owner == owner,
        )
        active = [s.value for s in ACTIVE_BACKFILL_STATUSES]
        with self._db.write() as conn:
            ids = conn.execute(
                sa.select(backfills.c.backfill_id)
                .where(
                    backfills.c.deployment_id == scope.deployment_id,
                    backfills.c.status.in_(active),
                    free,
                )
                .order_by(backfills.c.id)
            ).scalars()
            held = []
            for backfill_id in list(ids):
                taken = conn.execute(
                    backfills.update()
                    .where(
                        backfills.c.backfill_id == backfill_id,
                        backfills.c.status.in_(active),
                        free,
                    )
                    .values(lease_owner=owner, lease_until=now + lease)
                ).rowcount
                if taken:
                    held.append(backfill_id)
            return held

    def release(self, scope: DeploymentScope, owner: str) -> None:
        """Give up `owner`'s leases (a clean stop), so another replica takes over at once."""
        with self._db.write() as conn:
            conn.execute(
                backfills.update()
                .where(
                    backfills.c.deployment_id == scope.deployment_id,
                    backfills.c.lease_owner == owner,
                )
                .values(lease_owner=None, lease_until=None)
            )

    # --- status and planned-run changes -----------------------------------------------

    def set_status(
        self,
        scope: DeploymentScope,
        backfill_id: str,
        *,
        from_statuses: Collection[BackfillStatus],
        to: BackfillStatus,
        now: datetime | None = None,
    ) -> bool:
        """Set status `to` if the backfill is in one of `from_statuses`; False if not."""
        now = now or datetime.now(UTC)
        ends = to in (BackfillStatus.COMPLETED, BackfillStatus.FAILED, BackfillStatus.CANCELED)
        with self._db.write() as conn:
            changed = conn.execute(
                backfills.update()
                .where(
                    backfills.c.deployment_id == scope.deployment_id,
                    backfills.c.backfill_id == backfill_id,
                    backfills.c.status.in_([s.value for s in from_statuses]),
                )
                .values(status=to.value, updated_at=now, ended_at=now if ends else None)
            ).rowcount
        return bool(changed)

    def launched(self, scope: DeploymentScope, backfill_id: str, ordinal: int, run_id: str) -> None:
        """Link a planned run to the run launched for it."""
        self._update_runs(
            scope,
            backfill_id,
            [ordinal],
            {PlannedRunState.PLANNED},
            state=PlannedRunState.LAUNCHED.value,
            run_id=run_id,
        )

    def set_run_states(
        self,
        scope: DeploymentScope,
        backfill_id: str,
        states: Mapping[int, PlannedRunState],
        *,
        from_states: Collection[PlannedRunState],
    ) -> None:
        """Move planned runs (by ordinal) to new states, each only from `from_states`."""
        by_state: dict[PlannedRunState, list[int]] = defaultdict(list)
        for ordinal, state in states.items():
            by_state[state].append(ordinal)
        for state, ordinals in by_state.items():
            self._update_runs(scope, backfill_id, ordinals, from_states, state=state.value)

    def _update_runs(
        self,
        scope: DeploymentScope,
        backfill_id: str,
        ordinals: Sequence[int],
        from_states: Collection[PlannedRunState],
        **values: object,
    ) -> None:
        with self._db.write() as conn:
            for start in range(0, len(ordinals), _INSERT_BATCH):
                conn.execute(
                    backfill_runs.update()
                    .where(
                        backfill_runs.c.deployment_id == scope.deployment_id,
                        backfill_runs.c.backfill_id == backfill_id,
                        backfill_runs.c.ordinal.in_(ordinals[start : start + _INSERT_BATCH]),
                        backfill_runs.c.state.in_([s.value for s in from_states]),
                    )
                    .values(**values)
                )

    def launched_run_statuses(
        self, scope: DeploymentScope, backfill_id: str
    ) -> dict[int, RunStatus]:
        """The status of the run of every LAUNCHED planned run, by ordinal."""
        query = (
            sa.select(backfill_runs.c.ordinal, runs.c.status)
            .join(runs, runs.c.run_id == backfill_runs.c.run_id)
            .where(
                backfill_runs.c.deployment_id == scope.deployment_id,
                backfill_runs.c.backfill_id == backfill_id,
                backfill_runs.c.state == PlannedRunState.LAUNCHED.value,
            )
        )
        with self._db.read() as conn:
            return {row.ordinal: RunStatus(row.status) for row in conn.execute(query)}

    def resume(
        self, scope: DeploymentScope, backfill_id: str, *, now: datetime | None = None
    ) -> bool:
        """Plan again the runs that did not succeed (each a new attempt, so a new run) and
        set the backfill RUNNING, in one transaction, if it is CANCELED or FAILED."""
        now = now or datetime.now(UTC)
        resumable = [BackfillStatus.CANCELED.value, BackfillStatus.FAILED.value]
        with self._db.write() as conn:
            changed = conn.execute(
                backfills.update()
                .where(
                    backfills.c.deployment_id == scope.deployment_id,
                    backfills.c.backfill_id == backfill_id,
                    backfills.c.status.in_(resumable),
                )
                .values(status=BackfillStatus.RUNNING.value, updated_at=now, ended_at=None)
            ).rowcount
            if not changed:
                return False
            conn.execute(
                backfill_runs.update()
                .where(
                    backfill_runs.c.deployment_id == scope.deployment_id,
                    backfill_runs.c.backfill_id == backfill_id,
                    backfill_runs.c.state.in_([s.value for s in RESUMABLE_RUN_STATES]),
                )
                .values(
                    state=PlannedRunState.PLANNED.value,
                    attempt=backfill_runs.c.attempt + 1,
                    run_id=None,
                )
            )
        return True


def _select(scope: DeploymentScope) -> sa.Select[tuple[object, ...]]:
    return sa.select(backfills).where(backfills.c.deployment_id == scope.deployment_id)


def _state_counts(
    conn: sa.Connection, scope: DeploymentScope, backfill_ids: Sequence[str]
) -> dict[str, dict[PlannedRunState, int]]:
    if not backfill_ids:
        return {}
    query = (
        sa.select(backfill_runs.c.backfill_id, backfill_runs.c.state, sa.func.count())
        .where(
            backfill_runs.c.deployment_id == scope.deployment_id,
            backfill_runs.c.backfill_id.in_(backfill_ids),
        )
        .group_by(backfill_runs.c.backfill_id, backfill_runs.c.state)
    )
    counts: dict[str, dict[PlannedRunState, int]] = defaultdict(dict)
    for backfill_id, state, count in conn.execute(query):
        counts[backfill_id][PlannedRunState(state)] = count
    return counts


def _backfill(row: Row[tuple[object, ...]], counts: Mapping[PlannedRunState, int]) -> Backfill:
    m = row._mapping
    return Backfill(
        backfill_id=m["backfill_id"],
        status=BackfillStatus(m["status"]),
        code_location=m["code_location"],
        selection=m["selection"],
        tags=dict(m["tags"]),
        targets={k: tuple(v) for k, v in m["targets"]},
        run_count=m["run_count"],
        created_at=m["created_at"],
        updated_at=m["updated_at"],
        ended_at=m["ended_at"],
        run_states=dict(counts),
    )


def _planned_run(row: Row[tuple[object, ...]]) -> PlannedRun:
    m = row._mapping
    return PlannedRun(
        ordinal=m["ordinal"],
        asset_keys=tuple(m["asset_keys"]),
        partition_keys=tuple(m["partition_keys"]),
        waits_for=tuple(m["waits_for"]),
        state=PlannedRunState(m["state"]),
        attempt=m["attempt"],
        run_id=m["run_id"],
    )
