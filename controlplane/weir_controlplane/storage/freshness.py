"""Freshness state per asset with a policy, and the due-time index the daemon reads.

`asset_freshness.due_at` says when an asset's state must next be evaluated: ingest sets
it to the moment a materialization is stored (`mark_due`, in the ingest transaction),
an evaluation to the instant its state would next change by the clock alone (a window
closing, a cron deadline), NULL when only a materialization can change it. The daemon
reads only rows due now, through the index, so a quiet deployment of 10,000 assets costs
one index probe per pass.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from weir_controlplane.storage.dialects import in_list, in_named_list
from weir_controlplane.storage.engine import Database
from weir_controlplane.storage.health import (
    NO_POLICY,
    AssetHealth,
    ChangeKind,
    FreshnessState,
    HealthComponent,
    HealthStatus,
    StatusChange,
    apply_freshness,
    freshness_component,
    record_changes,
    stored_health,
    stored_statuses,
)
from weir_controlplane.storage.records import DeploymentScope
from weir_controlplane.storage.schema import asset_freshness, asset_summary

_CHUNK = 2000
_STATES = {state.value: state for state in FreshnessState}


@dataclass(frozen=True)
class DueAsset:
    """An asset whose freshness is due: its policy and when it was last materialized."""

    asset_key: str
    policy: bytes
    state: FreshnessState
    due_at: datetime
    last_materialized_at: datetime | None


@dataclass(frozen=True)
class FreshnessEvaluation:
    asset_key: str
    state: FreshnessState
    reason: str
    next_due: datetime | None


@dataclass(frozen=True)
class FreshnessRecord:
    asset_key: str
    state: FreshnessState
    reason: str
    evaluated_at: datetime | None
    due_at: datetime | None


def mark_due(
    conn: Connection, deployment_id: int, asset_keys: Collection[str], at: datetime
) -> None:
    """Materializations of `asset_keys` were stored: their freshness is due at `at`."""
    keys = sorted(set(asset_keys))
    lock, update = _due_statements(conn.dialect.name)
    for start in range(0, len(keys), _CHUNK):
        params = {"b_deployment_id": deployment_id, "b_keys": keys[start : start + _CHUNK]}
        # Locked in key order first, as the daemon locks them: no deadlock between the two.
        if conn.execute(lock, params).all():
            conn.execute(update, {**params, "b_due_at": at})


@functools.cache
def _due_statements(dialect: str) -> tuple[sa.Executable, sa.Executable]:
    """(lock the assets' freshness rows, set their due time), built once."""
    c = asset_freshness.c
    mine = sa.and_(
        c.deployment_id == sa.bindparam("b_deployment_id"),
        in_named_list(dialect, c.asset_key, "b_keys"),
    )
    lock = sa.select(c.asset_key).where(mine).order_by(c.asset_key).with_for_update()
    update = asset_freshness.update().where(mine).values(due_at=sa.bindparam("b_due_at"))
    return lock, update


class FreshnessStorage:
    """Policies, states and due times of the assets with a freshness policy.

    Example::

        storage.freshness.sync_policies(scope, {"orders": policy.SerializeToString()}, now)
        for asset in storage.freshness.due(scope, now):
            ...evaluate...
        storage.freshness.store(scope, evaluations, now, read=due)
    """

    def __init__(self, db: Database) -> None:
        self._db = db

    def sync_policies(
        self, scope: DeploymentScope, policies: Mapping[str, bytes], now: datetime
    ) -> int:
        """Make the stored policies those of `policies` (asset key -> serialized policy):
        new or changed ones are due now; assets that lost theirs leave, and their health
        drops the freshness component. Returns how many rows changed."""
        c = asset_freshness.c
        with self._db.write() as conn:
            stored = {
                row.asset_key: row.policy
                for row in conn.execute(
                    sa.select(c.asset_key, c.policy).where(c.deployment_id == scope.deployment_id)
                )
            }
            added = [key for key in policies if key not in stored]
            changed = [key for key in policies if key in stored and stored[key] != policies[key]]
            removed = sorted(key for key in stored if key not in policies)
            if added:
                conn.execute(
                    asset_freshness.insert(),
                    [
                        {
                            "deployment_id": scope.deployment_id,
                            "asset_key": key,
                            "policy": policies[key],
                            "state": FreshnessState.UNKNOWN.value,
                            "reason": "not evaluated yet",
                            "due_at": now,
                        }
                        for key in added
                    ],
                )
            if changed:
                conn.execute(
                    asset_freshness.update()
                    .where(
                        c.deployment_id == scope.deployment_id, c.asset_key == sa.bindparam("b_key")
                    )
                    .values(due_at=now),
                    [{"b_key": key, "policy": policies[key]} for key in changed],
                )
            for start in range(0, len(removed), _CHUNK):
                conn.execute(
                    asset_freshness.delete().where(
                        c.deployment_id == scope.deployment_id,
                        c.asset_key.in_(removed[start : start + _CHUNK]),
                    )
                )
            apply_freshness(
                conn,
                self._db.dialect,
                scope.deployment_id,
                dict.fromkeys(removed, NO_POLICY),
                now,
                also_changed=[*added, *changed],
            )
        return len(added) + len(changed) + len(removed)

    def due(self, scope: DeploymentScope, now: datetime, *, limit: int = 5000) -> list[DueAsset]:
        """Assets whose evaluation is due at `now`, soonest first, with their latest
        materialization time (over all partitions)."""
        c = asset_freshness.c
        query = (
            sa.select(c.asset_key, c.policy, c.state, c.due_at, asset_summary.c.materialized_at)
            .outerjoin(
                asset_summary,
                sa.and_(
                    asset_summary.c.deployment_id == c.deployment_id,
                    asset_summary.c.asset_key == c.asset_key,
                ),
            )
            .where(c.deployment_id == scope.deployment_id, c.due_at.is_not(None), c.due_at <= now)
            .order_by(c.due_at)
            .limit(limit)
        )
        with self._db.read() as conn:
            return [
                DueAsset(
                    row.asset_key,
                    row.policy,
                    FreshnessState(row.state),
                    row.due_at,
                    row.materialized_at,
                )
                for row in conn.execute(query)
            ]

    def next_due(self, scope: DeploymentScope) -> datetime | None:
        """The earliest due time of the deployment (the index's first entry)."""
        c = asset_freshness.c
        with self._db.read() as conn:
            return conn.execute(
                sa.select(sa.func.min(c.due_at)).where(
                    c.deployment_id == scope.deployment_id, c.due_at.is_not(None)
                )
            ).scalar()

    def store(
        self,
        scope: DeploymentScope,
        evaluations: Sequence[FreshnessEvaluation],
        now: datetime,
        *,
        read: Sequence[DueAsset],
    ) -> list[StatusChange]:
        """Store evaluations of the assets `read` returned by `due`. An asset whose due
        time moved meanwhile (a materialization arrived) keeps it and its old state: it
        is due again at once, and evaluated with the new materialization.

        Returns the freshness and health changes recorded."""
        read_due = {asset.asset_key: asset.due_at for asset in read}
        c = asset_freshness.c
        changes: list[StatusChange] = []
        with self._db.write() as conn:
            current = {}
            keys = sorted(read_due)
            for start in range(0, len(keys), _CHUNK):
                query = (
                    sa.select(c.asset_key, c.state, c.due_at)
                    .where(
                        c.deployment_id == scope.deployment_id,
                        c.asset_key.in_(keys[start : start + _CHUNK]),
                    )
                    .order_by(c.asset_key)
                    .with_for_update()
                )
                current.update({row.asset_key: row for row in conn.execute(query)})
            rows: list[dict[str, Any]] = []
            health: dict[str, HealthComponent] = {}
            for evaluation in evaluations:
                row = current.get(evaluation.asset_key)
                if row is None or row.due_at != read_due.get(evaluation.asset_key):
                    continue  # policy removed, or a newer materialization is due
                rows.append(
                    {
                        "b_key": evaluation.asset_key,
                        "state": evaluation.state.value,
                        "reason": evaluation.reason,
                        "due_at": evaluation.next_due,
                        "evaluated_at": now,
                    }
                )
                previous = FreshnessState(row.state)
                if previous is not evaluation.state:
                    changes.append(
                        StatusChange(
                            evaluation.asset_key,
                            ChangeKind.FRESHNESS,
                            previous.value,
                            evaluation.state.value,
                            evaluation.reason,
                            now,
                        )
                    )
                    health[evaluation.asset_key] = freshness_component(
                        evaluation.state, evaluation.reason
                    )
            if rows:
                conn.execute(
                    asset_freshness.update().where(
                        c.deployment_id == scope.deployment_id, c.asset_key == sa.bindparam("b_key")
                    ),
                    rows,
                )
            record_changes(conn, scope.deployment_id, changes)
            # Evaluated again in the same state: its evaluation times show in the reads too.
            unchanged = {str(row["b_key"]) for row in rows} - health.keys()
            changes.extend(
                apply_freshness(
                    conn,
                    self._db.dialect,
                    scope.deployment_id,
                    health,
                    now,
                    also_changed=unchanged,
                )
            )
        return changes

    def state_names(self, scope: DeploymentScope) -> dict[str, FreshnessState]:
        """Every policy's state alone (two narrow columns: what counting needs)."""
        with self._db.read() as conn:
            return _state_names(conn, scope.deployment_id)

    def states(
        self, scope: DeploymentScope, asset_keys: Collection[str] | None = None
    ) -> dict[str, FreshnessRecord]:
        """The stored freshness of assets with a policy (all of them when None)."""
        with self._db.read() as conn:
            return _records(conn, scope.deployment_id, asset_keys)

    def with_health(
        self, scope: DeploymentScope, asset_keys: Collection[str]
    ) -> tuple[dict[str, AssetHealth], dict[str, FreshnessRecord]]:
        """`HealthStorage.get` and `states` of `asset_keys`, read at one moment.

        The freshness daemon changes an asset's state and its health in one transaction;
        read apart, an answer could show the new state beside the old health.
        """
        with self._db.snapshot() as conn:
            health = stored_health(conn, scope.deployment_id, asset_keys)
            return health, _records(conn, scope.deployment_id, asset_keys)

    def counted_with_health(
        self, scope: DeploymentScope
    ) -> tuple[dict[str, HealthStatus], dict[str, FreshnessState]]:
        """Every stored health status and freshness state, read at one moment."""
        with self._db.snapshot() as conn:
            statuses = stored_statuses(conn, scope.deployment_id)
            return statuses, _state_names(conn, scope.deployment_id)


def _state_names(conn: Connection, deployment_id: int) -> dict[str, FreshnessState]:
    c = asset_freshness.c
    query = sa.select(c.asset_key, c.state).where(c.deployment_id == deployment_id)
    return {key: _STATES[state] for key, state in conn.execute(query)}


def _records(
    conn: Connection, deployment_id: int, asset_keys: Collection[str] | None
) -> dict[str, FreshnessRecord]:
    c = asset_freshness.c
    query = sa.select(c.asset_key, c.state, c.reason, c.evaluated_at, c.due_at).where(
        c.deployment_id == deployment_id
    )
    if asset_keys is None:
        chunks: list[list[str] | None] = [None]
    else:
        keys = sorted(set(asset_keys))
        chunks = [keys[start : start + _CHUNK] for start in range(0, len(keys), _CHUNK)]
    found: dict[str, FreshnessRecord] = {}
    for chunk in chunks:
        q = query if chunk is None else query.where(in_list(conn.dialect.name, c.asset_key, chunk))
        for row in conn.execute(q):
            found[row.asset_key] = FreshnessRecord(
                row.asset_key, _STATES[row.state], row.reason, row.evaluated_at, row.due_at
            )
    return found
