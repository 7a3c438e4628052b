"""Runs: creation, lookup, listing, the queue's claim, heartbeats and status changes.

Status changes that come from the run's own events (RUN_STARTED, RUN_SUCCESS, ...)
are applied by `EventIngest`; this module holds the ones the control plane decides.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from weir_controlplane.storage import alert_triggers, alerts, cursors, locks
from weir_controlplane.storage.engine import Database
from weir_controlplane.storage.errors import DuplicateRunError, RunNotFoundError
from weir_controlplane.storage.records import (
    IN_PROGRESS_RUN_STATUSES,
    DeploymentScope,
    NewRun,
    Page,
    Run,
    RunFilter,
    RunStatus,
    TagConcurrencyLimit,
)
from weir_controlplane.storage.schema import run_assets, run_tags, runs
from weir_controlplane.storage.tag_slots import TagSlots

MAX_PAGE_SIZE = 1000


class RunStorage:
    """The `runs` table and its tag and asset side tables.

    Example::

        storage.runs.create_run(scope, NewRun(code_location="etl", selection="a+"))
        for run in storage.runs.claim_queued(scope, max_in_progress=10):
            ...  # this replica launches it
    """

    def __init__(self, db: Database) -> None:
        self._db = db

    # --- create and read --------------------------------------------------------------

    def create_run(
        self, scope: DeploymentScope, new_run: NewRun, *, now: datetime | None = None
    ) -> Run:
        now = now or datetime.now(UTC)
        run_id = new_run.run_id or str(uuid.uuid4())
        try:
            with self._db.write() as conn:
                conn.execute(
                    runs.insert().values(
                        run_id=run_id,
                        deployment_id=scope.deployment_id,
                        code_location=new_run.code_location,
                        status=new_run.status.value,
                        started_at=now if new_run.status is RunStatus.STARTED else None,
                        selection=new_run.selection,
                        partition_key=new_run.partition_key,
                        run_config=dict(new_run.run_config),
                        created_at=now,
                        updated_at=now,
                    )
                )
                if new_run.tags:
                    conn.execute(
                        run_tags.insert(),
                        [
                            {"run_id": run_id, "deployment_id": scope.deployment_id, "key": k}
                            | {"value": v}
                            for k, v in new_run.tags.items()
                        ],
                    )
                if new_run.asset_keys:
                    conn.execute(
                        run_assets.insert(),
                        [
                            {"run_id": run_id, "deployment_id": scope.deployment_id}
                            | {"asset_key": key}
                            for key in dict.fromkeys(new_run.asset_keys)
                        ],
                    )
        except sa.exc.IntegrityError as error:
            if self._exists(run_id):
                raise DuplicateRunError(run_id) from error
            raise
        return self.get_run(scope, run_id)

    def get_run(self, scope: DeploymentScope, run_id: str) -> Run:
        keys = {"b_deployment_id": scope.deployment_id, "b_run_id": run_id}
        with self._db.read() as conn:
            row = conn.execute(_RUN_BY_ID, keys).first()
            if row is None:
                raise RunNotFoundError(run_id)
            tags = dict(conn.execute(_TAGS_OF_RUN, keys).all())
            asset_keys = conn.execute(_ASSETS_OF_RUN, keys).scalars().all()
        return _run_from_row(row, tags, asset_keys)

    def get_runs(self, scope: DeploymentScope, run_ids: Collection[str]) -> dict[str, Run]:
        """The runs of `run_ids` that exist in the deployment, by id, in one read."""
        if not run_ids:
            return {}
        query = _select_runs(scope).where(runs.c.run_id.in_(sorted(run_ids)))
        with self._db.read() as conn:
            return {run.run_id: run for run in _load_runs(conn, conn.execute(query))}

    def existing_run_ids(self, scope: DeploymentScope, run_ids: Collection[str]) -> set[str]:
        """Which of `run_ids` exist in the deployment, in one query."""
        if not run_ids:
            return set()
        query = sa.select(runs.c.run_id).where(
            runs.c.deployment_id == scope.deployment_id, runs.c.run_id.in_(sorted(run_ids))
        )
        with self._db.read() as conn:
            return set(conn.execute(query).scalars())

    def list_runs(
        self,
        scope: DeploymentScope,
        run_filter: RunFilter | None = None,
        *,
        cursor: str | None = None,
        limit: int = 50,
    ) -> Page[Run]:
        """Newest first. Pass `page.next_cursor` back to continue; None means no more."""
        limit = max(1, min(limit, MAX_PAGE_SIZE))
        query = _select_runs(scope)
        for condition in _filter_conditions(scope, run_filter or RunFilter()):
            query = query.where(condition)
        before = cursors.decode(cursor)
        if before is not None:
            query = query.where(runs.c.id < before)
        query = query.order_by(runs.c.id.desc()).limit(limit + 1)
        with self._db.read() as conn:
            rows = conn.execute(query).all()
            items = _load_runs(conn, rows[:limit])
        next_cursor = cursors.encode(rows[limit - 1].id) if len(rows) > limit else None
        return Page(items=tuple(items), next_cursor=next_cursor)

    # --- the queue --------------------------------------------------------------------

    def claim_queued(
        self,
        scope: DeploymentScope,
        *,
        max_in_progress: int,
        tag_limits: Sequence[TagConcurrencyLimit] = (),
        now: datetime | None = None,
        launched_by: str | None = None,
    ) -> list[Run]:
        """Move the oldest QUEUED runs to STARTING, leaving at most `max_in_progress` runs
        holding a slot (STARTING, STARTED or CANCELING) and no tag limit exceeded; the runs
        this caller claimed. A run a full tag limit holds back does not hold back the runs
        queued after it.

        Counting the slots and claiming happen in one transaction under the deployment's
        queue lock, so control-plane replicas sharing a database never exceed a limit
        together and every run is claimed once. `launched_by` names the claiming replica,
        so that a live one can adopt the claim should it die (`adopt_runs`).
        """
        with self._db.read() as conn:
            params = {"b_deployment_id": scope.deployment_id}
            if conn.execute(_ANY_QUEUED, params).first() is None:
                # Every run's end wakes a pass; with nothing queued it takes no write lock
                # (SQLite's one writer, the queue lock) from the ingest around it. A run
                # queued after this read wakes a pass of its own.
                return []
        now = now or datetime.now(UTC)
        in_progress = sa.select(sa.func.count()).where(
            runs.c.deployment_id == scope.deployment_id,
            runs.c.status.in_([status.value for status in IN_PROGRESS_RUN_STATUSES]),
        )
        with self._db.write() as conn:
            locks.lock_run_queue(conn, scope)
            free = max_in_progress - conn.execute(in_progress).scalar_one()
            if free <= 0:
                return []
            slots = TagSlots.load(conn, scope, tag_limits)
            claimed: list[int] = []
            # Each pass claims at least its first candidate (no limit it counts toward was
            # full when the pass began), so this ends within `free` passes.
            while free > 0:
                taken = _admitted(conn, slots, _oldest_queued(scope, slots, free))
                if not taken:
                    break
                conn.execute(
                    runs.update()
                    .where(runs.c.id.in_(taken), runs.c.status == RunStatus.QUEUED.value)
                    .values(
                        status=RunStatus.STARTING.value, updated_at=now, launched_by=launched_by
                    )
                )
                claimed += taken
                free -= len(taken)
            if not claimed:
                return []
            rows = conn.execute(
                _select_runs(scope).where(runs.c.id.in_(claimed)).order_by(runs.c.id)
            )
            return _load_runs(conn, rows)

    def transition(
        self,
        scope: DeploymentScope,
        run_id: str,
        *,
        from_statuses: Collection[RunStatus],
        to: RunStatus,
        failure_reason: str | None = None,
        now: datetime | None = None,
        worker_lost: bool = False,
    ) -> bool:
        """Set status `to` if the run is in one of `from_statuses`; False if it was not.

        A single conditional UPDATE, so two replicas can never both make the change.
        Reaching a terminal status also stamps `ended_at`; reaching FAILURE queues the
        alerts of the run's failure in the same transaction. `worker_lost` marks a FAILURE
        the run monitor decided for a silent worker, which the worker's complete record
        may still overturn.
        """
        now = now or datetime.now(UTC)
        values: dict[str, Any] = {"status": to.value, "updated_at": now}
        if worker_lost:
            values["worker_lost"] = True
        if to.is_terminal:
            values["ended_at"] = now
        if to is RunStatus.STARTED:
            values["started_at"] = sa.func.coalesce(runs.c.started_at, now)
        if failure_reason is not None:
            values["failure_reason"] = failure_reason
        statement = (
            runs.update()
            .where(
                runs.c.deployment_id == scope.deployment_id,
                runs.c.run_id == run_id,
                runs.c.status.in_([status.value for status in from_statuses]),
            )
            .values(values)
            .returning(runs.c.code_location)
        )
        with self._db.write() as conn:
            code_location = conn.execute(statement).scalar_one_or_none()
            if code_location is None:
                return False
            if to is RunStatus.FAILURE:
                event = alert_triggers.run_failed(conn, run_id, code_location, failure_reason, now)
                alerts.publish(conn, scope.deployment_id, [event])
            return True

    def adopt_runs(self, scope: DeploymentScope, dead: str, survivor: str) -> list[Run]:
        """Move the deployment's in-progress runs that replica `dead` launched to
        `survivor`; those runs. The caller won `dead` in `ReplicaStorage.take_over`, so no
        other replica adopts them."""
        in_progress = [status.value for status in IN_PROGRESS_RUN_STATUSES]
        with self._db.write() as conn:
            ids = list(
                conn.execute(
                    runs.update()
                    .where(
                        runs.c.launched_by == dead,
                        runs.c.status.in_(in_progress),
                        runs.c.deployment_id == scope.deployment_id,
                    )
                    .values(launched_by=survivor)
                    .returning(runs.c.id)
                ).scalars()
            )
            if not ids:
                return []
            return _load_runs(
                conn, conn.execute(sa.select(runs).where(runs.c.id.in_(ids)).order_by(runs.c.id))
            )

    # --- liveness ---------------------------------------------------------------------

    def restart_starting_clock(
        self, scope: DeploymentScope, run_id: str, *, now: datetime | None = None
    ) -> bool:
        """Count a STARTING run's silence from `now`: the moment its launch began, or its
        launcher accepted it (ExecuteRun returned). A run claimed long before its launch
        (a queue of launches ahead of it, a slow code server) is not lost for that wait:
        the run monitor's heartbeat timeout covers only the worker's own start. False if
        the run is no longer STARTING."""
        params = {
            "b_deployment_id": scope.deployment_id,
            "b_run_id": run_id,
            "updated_at": now or datetime.now(UTC),
        }
        with self._db.write() as conn:
            return conn.execute(_RESTART_STARTING_CLOCK, params).rowcount > 0

    def heartbeat(
        self,
        scope: DeploymentScope,
        run_id: str,
        *,
        now: datetime | None = None,
        worker_address: str | None = None,
        worker_pid: int | None = None,
    ) -> RunStatus:
        """Record that the run's worker is alive; returns the run's status.

        A worker seeing CANCELING should stop; one seeing a terminal status should exit.
        """
        values: dict[str, Any] = {"last_heartbeat_at": now or datetime.now(UTC)}
        if worker_address is not None:
            values["worker_address"] = worker_address
        if worker_pid is not None:
            values["worker_pid"] = worker_pid
        statement = (
            runs.update()
            .where(runs.c.deployment_id == scope.deployment_id, runs.c.run_id == run_id)
            .values(values)
            .returning(runs.c.status)
        )
        with self._db.write() as conn:
            status = conn.execute(statement).scalar_one_or_none()
        if status is None:
            raise RunNotFoundError(run_id)
        return RunStatus(status)

    def stale_runs(self, scope: DeploymentScope, *, heartbeat_before: datetime) -> list[Run]:
        """In-progress runs not heard from since `heartbeat_before`: for the run monitor.

        A run that never heartbeat counts from when it last changed status, or, STARTING,
        from when its launcher accepted it (`restart_starting_clock`).
        """
        last_heard = sa.func.coalesce(runs.c.last_heartbeat_at, runs.c.updated_at)
        query = (
            _select_runs(scope)
            .where(runs.c.status.in_([status.value for status in IN_PROGRESS_RUN_STATUSES]))
            .where(last_heard < heartbeat_before)
        )
        # No ORDER BY: it would tempt SQLite to walk every run of the deployment in id
        # order instead of the few in progress through the status index.
        with self._db.read() as conn:
            stale = _load_runs(conn, conn.execute(query))
        return sorted(stale, key=lambda run: run.created_at)

    def _exists(self, run_id: str) -> bool:
        with self._db.read() as conn:
            query = sa.select(runs.c.id).where(runs.c.run_id == run_id)
            return conn.execute(query).first() is not None


# What a client polls to see a run end (GetRun): built once, since building these
# cost more than running them.
_RUN_BY_ID = sa.select(runs).where(
    runs.c.deployment_id == sa.bindparam("b_deployment_id"),
    runs.c.run_id == sa.bindparam("b_run_id"),
)
# By run id alone, as in _load_runs: the run was found in the deployment.
_TAGS_OF_RUN = sa.select(run_tags.c.key, run_tags.c.value).where(
    run_tags.c.run_id == sa.bindparam("b_run_id")
)
_ASSETS_OF_RUN = (
    sa.select(run_assets.c.asset_key)
    .where(run_assets.c.run_id == sa.bindparam("b_run_id"))
    .order_by(run_assets.c.asset_key)
)

# Read by the queue pass that every run's end wakes; on (deployment_id, status, id).
_ANY_QUEUED = (
    sa.select(runs.c.id)
    .where(
        runs.c.deployment_id == sa.bindparam("b_deployment_id"),
        runs.c.status == RunStatus.QUEUED.value,
    )
    .limit(1)
)

# Run once per launch: built once (building it costs more than running it).
_RESTART_STARTING_CLOCK = (
    runs.update()
    .where(
        runs.c.deployment_id == sa.bindparam("b_deployment_id"),
        runs.c.run_id == sa.bindparam("b_run_id"),
        runs.c.status == RunStatus.STARTING.value,
        runs.c.last_heartbeat_at.is_(None),
    )
    .values(updated_at=sa.bindparam("updated_at"))
)


def _oldest_queued(scope: DeploymentScope, slots: TagSlots, limit: int) -> sa.Select[Any]:
    """The oldest queued runs that no full tag limit holds back."""
    return (
        sa.select(runs.c.id, runs.c.run_id)
        .where(
            runs.c.deployment_id == scope.deployment_id,
            runs.c.status == RunStatus.QUEUED.value,
            *slots.not_blocked(),
        )
        .order_by(runs.c.id)
        .limit(limit)
    )


def _admitted(conn: Connection, slots: TagSlots, candidates: sa.Select[Any]) -> list[int]:
    """The candidates' ids that fit the tag limits, taking their slots in queue order."""
    rows = conn.execute(candidates).all()
    if not slots.limits:
        return [row.id for row in rows]
    tags: dict[str, dict[str, str]] = defaultdict(dict)
    if rows:
        # By run id alone, as in _load_runs: the candidates are the deployment's runs.
        limited = sa.select(run_tags.c.run_id, run_tags.c.key, run_tags.c.value).where(
            run_tags.c.run_id.in_([row.run_id for row in rows]),
            run_tags.c.key.in_(slots.keys),
        )
        for tag in conn.execute(limited):
            tags[tag.run_id][tag.key] = tag.value
    admitted = []
    for row in rows:
        if slots.admits(tags[row.run_id]):
            slots.take(tags[row.run_id])
            admitted.append(row.id)
    return admitted


def _select_runs(scope: DeploymentScope) -> sa.Select[Any]:
    return sa.select(runs).where(runs.c.deployment_id == scope.deployment_id)


def _filter_conditions(
    scope: DeploymentScope, run_filter: RunFilter
) -> Iterable[sa.ColumnElement[bool]]:
    if run_filter.statuses is not None:
        yield runs.c.status.in_([status.value for status in run_filter.statuses])
    if run_filter.code_location is not None:
        yield runs.c.code_location == run_filter.code_location
    if run_filter.code_locations is not None:
        yield runs.c.code_location.in_(sorted(run_filter.code_locations))
    for key, value in run_filter.tags.items():
        yield runs.c.run_id.in_(
            sa.select(run_tags.c.run_id).where(
                run_tags.c.deployment_id == scope.deployment_id,
                run_tags.c.key == key,
                run_tags.c.value == value,
            )
        )
    if run_filter.asset_key is not None:
        yield runs.c.run_id.in_(
            sa.select(run_assets.c.run_id).where(
                run_assets.c.deployment_id == scope.deployment_id,
                run_assets.c.asset_key == run_filter.asset_key,
            )
        )
    if run_filter.created_after is not None:
        yield runs.c.created_at > run_filter.created_after
    if run_filter.created_before is not None:
        yield runs.c.created_at < run_filter.created_before


def _load_runs(conn: Connection, rows: Iterable[Row[Any]]) -> list[Run]:
    """Build `Run`s from `runs` rows, fetching all their tags and assets in two queries."""
    rows = list(rows)
    if not rows:
        return []
    run_ids = [row.run_id for row in rows]
    tags: dict[str, dict[str, str]] = defaultdict(dict)
    for tag in conn.execute(
        sa.select(run_tags.c.run_id, run_tags.c.key, run_tags.c.value).where(
            run_tags.c.run_id.in_(run_ids)
        )
    ):
        tags[tag.run_id][tag.key] = tag.value
    assets: dict[str, list[str]] = defaultdict(list)
    for asset in conn.execute(
        sa.select(run_assets.c.run_id, run_assets.c.asset_key)
        .where(run_assets.c.run_id.in_(run_ids))
        .order_by(run_assets.c.asset_key)
    ):
        assets[asset.run_id].append(asset.asset_key)
    return [_run_from_row(row, tags[row.run_id], assets[row.run_id]) for row in rows]


def _run_from_row(row: Row[Any], tags: dict[str, str], asset_keys: Sequence[str]) -> Run:
    return Run(
        run_id=row.run_id,
        code_location=row.code_location,
        status=RunStatus(row.status),
        selection=row.selection,
        asset_keys=tuple(asset_keys),
        partition_key=row.partition_key,
        tags=tags,
        run_config=row.run_config,
        failure_reason=row.failure_reason,
        created_at=row.created_at,
        updated_at=row.updated_at,
        started_at=row.started_at,
        ended_at=row.ended_at,
        last_heartbeat_at=row.last_heartbeat_at,
        worker_address=row.worker_address,
        worker_pid=row.worker_pid,
        last_event_sequence=row.last_event_sequence,
        launched_by=row.launched_by,
        worker_lost=row.worker_lost,
    )
