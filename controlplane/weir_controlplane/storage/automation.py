"""The automation evaluator's storage: tick leases, per-asset state, evaluation history,
and the reads of derived asset and run state a tick evaluates from.

A tick is claimed with a conditional UPDATE of the deployment's `automation_ticks` row
(free, expired, or due and not leased), so of several replicas one evaluates each tick;
finishing it writes the assets' new state, the changed evaluations and the next tick
number in one transaction, and only while the lease is still held.

Reads go through derived tables (asset_latest, runs by status, run_assets by run), never
the event log.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from weir_protos.v1 import events_pb2

from weir_controlplane.storage import cursors
from weir_controlplane.storage.dialects import insert
from weir_controlplane.storage.engine import Database
from weir_controlplane.storage.records import DeploymentScope, Page, RunStatus
from weir_controlplane.storage.schema import (
    NO_PARTITION,
    asset_check_latest,
    asset_latest,
    automation_asset_state,
    automation_evaluations,
    automation_ticks,
    event_log,
    run_assets,
    run_tags,
    runs,
)

MAX_PAGE_SIZE = 1000
# Runs whose assets count as in progress or requested: not yet ended.
_UNENDED = tuple(
    s.value for s in (RunStatus.QUEUED, RunStatus.STARTING, RunStatus.STARTED, RunStatus.CANCELING)
)
_RUN_IDS_PER_QUERY = 5000
_KEYS_PER_QUERY = 5000


@dataclass(frozen=True)
class TickClaim:
    """A claimed tick: its number and what the previous tick left."""

    tick_number: int
    event_cursor: int
    previous_at: datetime | None
    carry: Mapping[str, Any]  # what the previous tick left for this one (see the daemon)


@dataclass(frozen=True)
class LatestOutcome:
    """One asset partition's row of asset_latest ('' is the unpartitioned partition)."""

    asset_key: str
    partition: str
    materialization_event_id: int | None
    materialization_run_id: str | None
    failure_event_id: int | None


@dataclass(frozen=True)
class LatestCheck:
    """One check partition's row of asset_check_latest: its latest evaluation."""

    asset_key: str
    check_name: str
    partition: str
    event_id: int
    run_id: str
    passed: bool


@dataclass(frozen=True)
class NewEvaluation:
    asset_key: str
    requested_count: int
    requested_partitions: Sequence[str]
    run_ids: Sequence[str]
    error: str | None
    body: bytes  # a serialized weir.v1.AutomationConditionEvaluation


@dataclass(frozen=True)
class EvaluationRecord:
    evaluation_id: int
    asset_key: str
    tick_number: int
    evaluated_at: datetime
    requested_count: int
    requested_partitions: tuple[str, ...]
    run_ids: tuple[str, ...]
    error: str | None
    body: bytes


class AutomationStorage:
    """Example::

    claim = storage.automation.claim_tick(
        scope, owner="replica-1", now=now, interval=timedelta(seconds=30),
        lease=timedelta(minutes=2),
    )
    if claim is not None:
        ...  # evaluate
        storage.automation.finish_tick(scope, "replica-1", claim, ...)
    """

    def __init__(self, db: Database) -> None:
        self._db = db

    # --- ticks ----------------------------------------------------------------------------

    def claim_tick(
        self,
        scope: DeploymentScope,
        *,
        owner: str,
        now: datetime,
        interval: timedelta,
        lease: timedelta,
    ) -> TickClaim | None:
        """Take the deployment's next tick if it is due and no other replica holds it."""
        table = automation_ticks
        with self._db.write() as conn:
            conn.execute(
                insert(self._db.dialect, table)
                .values(deployment_id=scope.deployment_id, tick_number=1, event_cursor=0)
                .on_conflict_do_nothing(index_elements=["deployment_id"])
            )
            claimed = conn.execute(
                table.update()
                .where(
                    table.c.deployment_id == scope.deployment_id,
                    sa.or_(
                        table.c.lease_expires_at.is_(None),
                        table.c.lease_expires_at <= now,
                        table.c.lease_owner == owner,
                    ),
                    sa.or_(table.c.evaluated_at.is_(None), table.c.evaluated_at <= now - interval),
                )
                .values(lease_owner=owner, lease_expires_at=now + lease)
            ).rowcount
            if not claimed:
                return None
            row = conn.execute(
                sa.select(table).where(table.c.deployment_id == scope.deployment_id)
            ).one()
        return TickClaim(row.tick_number, row.event_cursor, row.evaluated_at, row.carry or {})

    def finish_tick(
        self,
        scope: DeploymentScope,
        owner: str,
        claim: TickClaim,
        *,
        now: datetime,
        event_cursor: int,
        carry: Mapping[str, Any],
        states: Mapping[str, Mapping[str, Any]],
        evaluations: Sequence[NewEvaluation],
    ) -> bool:
        """Store the tick's outcome and free the lease; False (storing nothing) if the
        lease was lost to another replica meanwhile."""
        table = automation_ticks
        with self._db.write() as conn:
            advanced = conn.execute(
                table.update()
                .where(
                    table.c.deployment_id == scope.deployment_id,
                    table.c.lease_owner == owner,
                    table.c.tick_number == claim.tick_number,
                )
                .values(
                    tick_number=claim.tick_number + 1,
                    event_cursor=event_cursor,
                    evaluated_at=now,
                    carry=dict(carry),
                    lease_owner=None,
                    lease_expires_at=None,
                )
            ).rowcount
            if not advanced:
                return False
            if states:
                rows = [
                    {"deployment_id": scope.deployment_id, "asset_key": key, "state": dict(state),
                     "updated_at": now}
                    for key, state in states.items()
                ]  # fmt: skip
                statement = insert(self._db.dialect, automation_asset_state)
                conn.execute(
                    statement.on_conflict_do_update(
                        index_elements=["deployment_id", "asset_key"],
                        set_={"state": statement.excluded.state, "updated_at": now},
                    ),
                    rows,
                )
            if evaluations:
                conn.execute(
                    automation_evaluations.insert(),
                    [
                        {
                            "deployment_id": scope.deployment_id,
                            "asset_key": e.asset_key,
                            "tick_number": claim.tick_number,
                            "evaluated_at": now,
                            "requested_count": e.requested_count,
                            "requested_partitions": list(e.requested_partitions),
                            "run_ids": list(e.run_ids),
                            "error": e.error,
                            "body": e.body,
                        }
                        for e in evaluations
                    ],
                )
        return True

    # --- per-asset state and history ------------------------------------------------------

    def asset_states(self, scope: DeploymentScope) -> dict[str, dict[str, Any]]:
        """Every asset's remembered state, by asset key."""
        query = sa.select(automation_asset_state.c.asset_key, automation_asset_state.c.state).where(
            automation_asset_state.c.deployment_id == scope.deployment_id
        )
        with self._db.read() as conn:
            return {row.asset_key: row.state for row in conn.execute(query)}

    def list_evaluations(
        self, scope: DeploymentScope, asset_key: str, *, cursor: str | None = None, limit: int = 100
    ) -> Page[EvaluationRecord]:
        """An asset's stored evaluations, newest first."""
        limit = max(1, min(limit, MAX_PAGE_SIZE))
        table = automation_evaluations
        query = sa.select(table).where(
            table.c.deployment_id == scope.deployment_id, table.c.asset_key == asset_key
        )
        before = cursors.decode(cursor)
        if before is not None:
            query = query.where(table.c.id < before)
        with self._db.read() as conn:
            rows = conn.execute(query.order_by(table.c.id.desc()).limit(limit + 1)).all()
        items = tuple(
            EvaluationRecord(
                evaluation_id=row.id,
                asset_key=row.asset_key,
                tick_number=row.tick_number,
                evaluated_at=row.evaluated_at,
                requested_count=row.requested_count,
                requested_partitions=tuple(row.requested_partitions),
                run_ids=tuple(row.run_ids),
                error=row.error,
                body=row.body,
            )
            for row in rows[:limit]
        )
        next_cursor = cursors.encode(items[-1].evaluation_id) if len(rows) > limit else None
        return Page(items=items, next_cursor=next_cursor)

    # --- what a tick evaluates from -------------------------------------------------------

    def changed_assets(self, scope: DeploymentScope, *, after: int) -> tuple[set[str], int]:
        """The assets with a materialization or failure past event id `after`, and the
        highest such id (`after` when none)."""
        t = asset_latest
        in_deployment = t.c.deployment_id == scope.deployment_id
        changed = sa.select(t.c.asset_key).where(
            in_deployment,
            sa.or_(t.c.materialization_event_id > after, t.c.failure_event_id > after),
        )
        highest = sa.select(
            sa.func.max(t.c.materialization_event_id), sa.func.max(t.c.failure_event_id)
        ).where(in_deployment)
        with self._db.read() as conn:
            keys = set(conn.execute(changed).scalars())
            top = conn.execute(highest).one()
        return keys, max(after, top[0] or 0, top[1] or 0)

    def latest_outcomes(
        self, scope: DeploymentScope, asset_keys: Collection[str] | None = None
    ) -> list[LatestOutcome]:
        """The latest materialization and failure of every partition of `asset_keys`
        (None: every asset of the deployment)."""
        t = asset_latest
        query = sa.select(
            t.c.asset_key,
            t.c.partition,
            t.c.materialization_event_id,
            t.c.materialization_run_id,
            t.c.failure_event_id,
        ).where(t.c.deployment_id == scope.deployment_id)
        with self._db.read() as conn:
            if asset_keys is None:
                return [LatestOutcome(*row) for row in conn.execute(query)]
            ordered = sorted(set(asset_keys))
            found = []
            for start in range(0, len(ordered), _KEYS_PER_QUERY):
                chunk = ordered[start : start + _KEYS_PER_QUERY]
                found += [
                    LatestOutcome(*row)
                    for row in conn.execute(query.where(t.c.asset_key.in_(chunk)))
                ]
            return found

    def latest_checks(
        self, scope: DeploymentScope, asset_keys: Collection[str]
    ) -> list[LatestCheck]:
        """The latest evaluation of every check partition of `asset_keys`."""
        t = asset_check_latest
        query = sa.select(
            t.c.asset_key, t.c.check_name, t.c.partition, t.c.event_id, t.c.run_id, t.c.passed
        ).where(t.c.deployment_id == scope.deployment_id)
        ordered = sorted(set(asset_keys))
        found = []
        with self._db.read() as conn:
            for start in range(0, len(ordered), _KEYS_PER_QUERY):
                chunk = t.c.asset_key.in_(ordered[start : start + _KEYS_PER_QUERY])
                found += [LatestCheck(*row) for row in conn.execute(query.where(chunk))]
        return found

    def materialization_data_versions(
        self, scope: DeploymentScope, event_ids: Collection[int]
    ) -> dict[int, str]:
        """The data version of each materialization event ('' when it has none); by the
        events' ids, so the cost is the events asked for."""
        found: dict[int, str] = {}
        ordered = sorted(set(event_ids))
        with self._db.read() as conn:
            for start in range(0, len(ordered), _KEYS_PER_QUERY):
                query = sa.select(event_log.c.id, event_log.c.payload).where(
                    event_log.c.deployment_id == scope.deployment_id,
                    event_log.c.id.in_(ordered[start : start + _KEYS_PER_QUERY]),
                )
                for row in conn.execute(query):
                    event = events_pb2.RunEvent.FromString(row.payload or b"")
                    found[row.id] = event.materialization.data_version
        return found

    def unended_run_partitions(
        self, scope: DeploymentScope, *, tagged: str
    ) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
        """Per asset, the partitions ('' for none) of its queued or running runs, and of
        those of them that carry tag `tagged`; through the runs' status index, so the cost
        is the runs not yet ended."""
        tag = run_tags.alias("tag")
        query = (
            sa.select(run_assets.c.asset_key, runs.c.partition_key, tag.c.run_id.label("tagged"))
            .join(run_assets, run_assets.c.run_id == runs.c.run_id)
            .outerjoin(tag, sa.and_(tag.c.run_id == runs.c.run_id, tag.c.key == tagged))
            .where(runs.c.deployment_id == scope.deployment_id, runs.c.status.in_(_UNENDED))
        )
        found: dict[str, set[str]] = defaultdict(set)
        with_tag: dict[str, set[str]] = defaultdict(set)
        with self._db.read() as conn:
            for row in conn.execute(query):
                partition = row.partition_key or NO_PARTITION
                found[row.asset_key].add(partition)
                if row.tagged is not None:
                    with_tag[row.asset_key].add(partition)
        return dict(found), dict(with_tag)

    def run_targets(
        self, scope: DeploymentScope, run_ids: Collection[str]
    ) -> dict[str, frozenset[str]]:
        """The assets each run targeted."""
        found: dict[str, set[str]] = defaultdict(set)
        ordered = sorted(set(run_ids))
        with self._db.read() as conn:
            for start in range(0, len(ordered), _RUN_IDS_PER_QUERY):
                query = sa.select(run_assets.c.run_id, run_assets.c.asset_key).where(
                    run_assets.c.deployment_id == scope.deployment_id,
                    run_assets.c.run_id.in_(ordered[start : start + _RUN_IDS_PER_QUERY]),
                )
                for row in conn.execute(query):
                    found[row.run_id].add(row.asset_key)
        return {run_id: frozenset(found.get(run_id, ())) for run_id in ordered}
