"""Asset health: one status per asset, kept current inside the transactions that change it.

An asset's health is the most severe of four components, each with a reason:

- materialization: the latest outcome of the unpartitioned asset (a failure is DEGRADED),
  or whether any partition is materialized; never materialized is UNKNOWN;
- partitions: any partition whose latest outcome is a failure is DEGRADED;
- checks: a failing ERROR check is DEGRADED, a failing WARN check WARNING;
- freshness: FAIL is DEGRADED, WARN is WARNING (written by the freshness daemon).

DEGRADED beats WARNING beats HEALTHY. An asset never built (no materialization nor
failure) is UNKNOWN unless a check already fails: freshness cannot degrade what never
ran. Ingest calls `apply_asset_state` with the assets its batch touched; the freshness
daemon calls `apply_freshness`. Both lock the assets' rows, so neither overwrites the
other's component, and both report every change of status through `record_changes`,
the one place a health or freshness change is detected and written (alerting reads
`asset_status_changes` after an id).
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from weir_controlplane.storage import asset_revisions
from weir_controlplane.storage.alerts import AlertEvent, AlertKind, publish
from weir_controlplane.storage.dialects import (
    append_rows,
    in_list,
    in_named_list,
    insert_rows,
    row_parameters,
)
from weir_controlplane.storage.engine import Database
from weir_controlplane.storage.records import DeploymentScope
from weir_controlplane.storage.schema import (
    NO_PARTITION,
    asset_check_latest,
    asset_health,
    asset_latest,
    asset_status_changes,
)

# Keys per statement: well under SQLite's bound-parameter limit.
_CHUNK = 2000


class HealthStatus(enum.StrEnum):
    HEALTHY = "HEALTHY"
    WARNING = "WARNING"
    DEGRADED = "DEGRADED"
    UNKNOWN = "UNKNOWN"
    # Components only: the component does not apply (no checks, not partitioned).
    NOT_APPLICABLE = "NOT_APPLICABLE"


class FreshnessState(enum.StrEnum):
    PASS = "PASS"
    WARN = "WARN"
    FAIL = "FAIL"
    UNKNOWN = "UNKNOWN"


class ChangeKind(enum.StrEnum):
    HEALTH = "health"
    FRESHNESS = "freshness"


@dataclass(frozen=True)
class HealthComponent:
    status: HealthStatus
    reason: str


@dataclass(frozen=True)
class AssetHealth:
    asset_key: str
    status: HealthStatus
    materialization: HealthComponent
    partitions: HealthComponent
    checks: HealthComponent
    freshness: HealthComponent
    changed_at: datetime | None


@dataclass(frozen=True)
class StatusChange:
    """An asset's health or freshness state moved from `previous` to `current`."""

    asset_key: str
    kind: ChangeKind
    previous: str
    current: str
    reason: str
    at: datetime
    change_id: int = 0  # assigned when stored


NEVER_MATERIALIZED = HealthComponent(HealthStatus.UNKNOWN, "never materialized")
NOT_PARTITIONED = HealthComponent(HealthStatus.NOT_APPLICABLE, "not partitioned")
NO_CHECKS = HealthComponent(HealthStatus.NOT_APPLICABLE, "no check evaluated")
NO_POLICY = HealthComponent(HealthStatus.NOT_APPLICABLE, "no freshness policy")

_FRESHNESS_HEALTH = {
    FreshnessState.PASS: HealthStatus.HEALTHY,
    FreshnessState.WARN: HealthStatus.WARNING,
    FreshnessState.FAIL: HealthStatus.DEGRADED,
    FreshnessState.UNKNOWN: HealthStatus.UNKNOWN,
}


def unknown_health(asset_key: str) -> AssetHealth:
    """The health of an asset with no recorded state at all."""
    return AssetHealth(
        asset_key,
        HealthStatus.UNKNOWN,
        NEVER_MATERIALIZED,
        NOT_PARTITIONED,
        NO_CHECKS,
        NO_POLICY,
        None,
    )


def freshness_component(state: FreshnessState, reason: str) -> HealthComponent:
    return HealthComponent(_FRESHNESS_HEALTH[state], f"freshness {state.value}: {reason}")


def overall_status(
    materialization: HealthComponent,
    partitions: HealthComponent,
    checks: HealthComponent,
    freshness: HealthComponent,
) -> HealthStatus:
    """The most severe component; UNKNOWN for an asset never built (freshness aside)."""
    never_built = (
        materialization.status is HealthStatus.UNKNOWN
        and partitions.status is not HealthStatus.DEGRADED
    )
    considered = [materialization, partitions, checks]
    if not never_built:
        considered.append(freshness)
    statuses = {component.status for component in considered}
    if HealthStatus.DEGRADED in statuses:
        return HealthStatus.DEGRADED
    if HealthStatus.WARNING in statuses:
        return HealthStatus.WARNING
    return HealthStatus.UNKNOWN if never_built else HealthStatus.HEALTHY


# --- reading ---------------------------------------------------------------------------


def stored_health(
    conn: Connection, deployment_id: int, asset_keys: Collection[str] | None
) -> dict[str, AssetHealth]:
    """`HealthStorage.get` on `conn`, for a read that takes other tables in one snapshot."""
    query = sa.select(asset_health).where(asset_health.c.deployment_id == deployment_id)
    if asset_keys is None:
        return {row.asset_key: health_from_row(row) for row in conn.execute(query)}
    found: dict[str, AssetHealth] = {}
    keys = sorted(set(asset_keys))
    for start in range(0, len(keys), _CHUNK):
        chunk = keys[start : start + _CHUNK]
        matching = in_list(conn.dialect.name, asset_health.c.asset_key, chunk)
        for row in conn.execute(query.where(matching)):
            found[row.asset_key] = health_from_row(row)
    return found


def stored_statuses(conn: Connection, deployment_id: int) -> dict[str, HealthStatus]:
    """`HealthStorage.statuses` on `conn`."""
    query = sa.select(asset_health.c.asset_key, asset_health.c.status).where(
        asset_health.c.deployment_id == deployment_id
    )
    return {key: _STATUSES[status] for key, status in conn.execute(query)}


# --- writing ---------------------------------------------------------------------------


def apply_asset_state(
    conn: Connection, dialect: str, deployment_id: int, asset_keys: Collection[str], now: datetime
) -> list[StatusChange]:
    """Recompute the materialization, partitions and checks components of `asset_keys`
    from the derived tables (just updated in this transaction) and store their health."""
    keys = sorted(set(asset_keys))
    if not keys:
        return []

    def recomputed(current: Mapping[str, AssetHealth]) -> dict[str, _Components]:
        # Read once the assets' rows are locked (or new): what an earlier writer of the
        # same asset committed is in the derived tables by then.
        derived = _derive(conn, deployment_id, list(current))
        return {key: (*derived[key], row.freshness) for key, row in current.items()}

    changes = _lock_and_store(conn, dialect, deployment_id, keys, recomputed, now)
    # The derived tables changed even where health did not (a newer materialization).
    asset_revisions.bump(conn, dialect, deployment_id, keys)
    return changes


def apply_freshness(
    conn: Connection,
    dialect: str,
    deployment_id: int,
    freshness: Mapping[str, HealthComponent],
    now: datetime,
    *,
    also_changed: Collection[str] = (),
) -> list[StatusChange]:
    """Store new freshness components (NO_POLICY when a policy was removed) and the
    health they imply, keeping the other components as stored. `also_changed`: assets
    whose freshness rows changed without a new component, stamped in the same bump (one
    bump per transaction keeps the revision rows' lock order)."""
    keys = sorted(freshness)
    changes: list[StatusChange] = []
    if keys:

        def refreshed(current: Mapping[str, AssetHealth]) -> dict[str, _Components]:
            return {
                key: (row.materialization, row.partitions, row.checks, freshness[key])
                for key, row in current.items()
            }

        changes = _lock_and_store(conn, dialect, deployment_id, keys, refreshed, now)
    if keys or also_changed:
        asset_revisions.bump(conn, dialect, deployment_id, {*keys, *also_changed})
    return changes


def record_changes(conn: Connection, deployment_id: int, changes: Sequence[StatusChange]) -> None:
    """Append detected health and freshness changes to `asset_status_changes`.

    Every change is recorded here, in the transaction that made it: a consumer reading the
    table after an id sees each change once, in order, and never a rolled-back one. The
    alerts they raise (every health change, freshness turning FAIL) are queued here too.
    """
    if not changes:
        return
    publish(conn, deployment_id, [alert for change in changes if (alert := _alert(change))])
    append_rows(
        conn,
        asset_status_changes,
        [
            {
                "deployment_id": deployment_id,
                "asset_key": change.asset_key,
                "kind": change.kind.value,
                "previous": change.previous,
                "current": change.current,
                "reason": change.reason,
                "at": change.at,
            }
            for change in changes
        ],
    )


def _alert(change: StatusChange) -> AlertEvent | None:
    """The alert a change raises, if any."""
    details = {"previous": change.previous, "current": change.current}
    if change.kind is ChangeKind.HEALTH:
        summary = f"Asset {change.asset_key} is {change.current} (was {change.previous})"
        kind = AlertKind.HEALTH_CHANGED
    elif change.current == FreshnessState.FAIL:
        summary = f"Asset {change.asset_key} is stale: freshness FAIL"
        kind = AlertKind.FRESHNESS_FAILED
    else:
        return None
    return AlertEvent(
        kind=kind,
        summary=summary,
        occurred_at=change.at,
        asset_key=change.asset_key,
        message=change.reason,
        details=details,
    )


_Components = tuple[HealthComponent, HealthComponent, HealthComponent, HealthComponent]
# The components of each asset given its stored health (UNKNOWN for an asset without a row).
_Recompute = Callable[[Mapping[str, AssetHealth]], Mapping[str, _Components]]


@dataclass(frozen=True)
class _Next:
    """An asset's health as stored, and as it is to be stored."""

    before: AssetHealth
    after: AssetHealth
    change: StatusChange | None


def _lock_and_store(
    conn: Connection,
    dialect: str,
    deployment_id: int,
    keys: Sequence[str],
    recompute: _Recompute,
    now: datetime,
) -> list[StatusChange]:
    """Lock the assets' rows (in key order, so two writers never deadlock), store the
    health `recompute` gives them and record each change of status.

    An asset without a row gets one inserted once, with its final values, locked by the
    insert itself. Where another transaction inserted it first (the insert waits for that
    one to commit, then leaves the row alone), the row is locked and recomputed like any
    other.
    """
    current = _select_locked(conn, deployment_id, keys)
    updates = _next_health(current, recompute(current), now) if current else {}
    inserted: dict[str, _Next] = {}
    missing = {key: unknown_health(key) for key in keys if key not in current}
    if missing:
        new = _next_health(missing, recompute(missing), now)
        created = _insert_new(conn, dialect, deployment_id, [n.after for n in new.values()], now)
        inserted = {key: n for key, n in new.items() if key in created}
        taken = [key for key in missing if key not in created]
        if taken:
            theirs = _select_locked(conn, deployment_id, taken)
            updates |= _next_health(theirs, recompute(theirs), now)
    _update(conn, deployment_id, updates.values(), now)
    changes = [n.change for n in (*updates.values(), *inserted.values()) if n.change]
    changes.sort(key=lambda change: change.asset_key)
    record_changes(conn, deployment_id, changes)
    return changes


def _next_health(
    current: Mapping[str, AssetHealth], components: Mapping[str, _Components], now: datetime
) -> dict[str, _Next]:
    found = {}
    for key, before in current.items():
        status = overall_status(*components[key])
        if status is before.status:
            after = AssetHealth(key, status, *components[key], changed_at=before.changed_at)
            found[key] = _Next(before, after, None)
            continue
        after = AssetHealth(key, status, *components[key], changed_at=now)
        change = StatusChange(
            key, ChangeKind.HEALTH, before.status.value, status.value, _why(after), now
        )
        found[key] = _Next(before, after, change)
    return found


def _select_locked(
    conn: Connection, deployment_id: int, keys: Sequence[str]
) -> dict[str, AssetHealth]:
    query = _locked_rows(conn.dialect.name)
    return {row.asset_key: health_from_row(row) for row in _keyed(conn, query, deployment_id, keys)}


def _keyed(
    conn: Connection, query: sa.Select[Any], deployment_id: int, keys: Sequence[str]
) -> Iterator[Any]:
    """The rows of `query` (built with `b_deployment_id` and a `b_keys` list) for `keys`."""
    for start in range(0, len(keys), _CHUNK):
        chunk = keys[start : start + _CHUNK]
        yield from conn.execute(query, {"b_deployment_id": deployment_id, "b_keys": chunk})


@functools.cache
def _locked_rows(dialect: str) -> sa.Select[Any]:
    return (
        sa.select(asset_health)
        .where(
            asset_health.c.deployment_id == sa.bindparam("b_deployment_id"),
            in_named_list(dialect, asset_health.c.asset_key, "b_keys"),
        )
        .order_by(asset_health.c.asset_key)
        .with_for_update()
    )


def _insert_new(
    conn: Connection,
    dialect: str,
    deployment_id: int,
    healths: Sequence[AssetHealth],
    now: datetime,
) -> set[str]:
    """Insert the rows of assets that had none; the keys inserted (those another
    transaction did not insert first)."""
    rows = [
        {"deployment_id": deployment_id, "asset_key": health.asset_key, **_row_values(health, now)}
        for health in healths
    ]
    parameters = row_parameters(dialect, _HEALTH_COLUMNS, rows, _NEW_HEALTH_SHARED)
    result = conn.execute(_insert_health(dialect), parameters)
    return set(result.scalars())


def _update(conn: Connection, deployment_id: int, updates: Iterable[_Next], now: datetime) -> None:
    # Rows by the columns they change: a freshness pass rewrites two or three columns of
    # 10,000 rows, not all thirteen.
    by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for n in updates:
        if n.after == n.before:
            continue
        old, new = _row_values(n.before, now), _row_values(n.after, now)
        columns = tuple(c for c, v in new.items() if c == "updated_at" or old[c] != v)
        by_columns.setdefault(columns, []).append(
            {"b_key": n.after.asset_key, **{c: new[c] for c in columns}}
        )
    update = _UPDATE_HEALTH.where(asset_health.c.deployment_id == deployment_id)
    for rows in by_columns.values():
        conn.execute(update, rows)


def _why(health: AssetHealth) -> str:
    """The reasons of the components that decide the status."""
    components = (health.materialization, health.partitions, health.checks, health.freshness)
    deciding = [c.reason for c in components if c.status is health.status]
    return "; ".join(deciding) or health.materialization.reason


_UPDATE_HEALTH = asset_health.update().where(asset_health.c.asset_key == sa.bindparam("b_key"))
_HEALTH_COLUMNS = (
    "deployment_id",
    "asset_key",
    "status",
    "materialization",
    "materialization_reason",
    "partitions",
    "partitions_reason",
    "checks",
    "checks_reason",
    "freshness",
    "freshness_reason",
    "changed_at",
    "updated_at",
)

# A new row's status changed now, or it is UNKNOWN since now.
_NEW_HEALTH_SHARED = ("deployment_id", "changed_at", "updated_at")


@functools.cache
def _insert_health(dialect: str) -> sa.Executable:
    return (
        insert_rows(dialect, asset_health, _HEALTH_COLUMNS, _NEW_HEALTH_SHARED)
        .on_conflict_do_nothing()
        .returning(asset_health.c.asset_key)
    )


def _row_values(health: AssetHealth, now: datetime) -> dict[str, Any]:
    return {
        "status": health.status.value,
        "materialization": health.materialization.status.value,
        "materialization_reason": health.materialization.reason,
        "partitions": health.partitions.status.value,
        "partitions_reason": health.partitions.reason,
        "checks": health.checks.status.value,
        "checks_reason": health.checks.reason,
        "freshness": health.freshness.status.value,
        "freshness_reason": health.freshness.reason,
        "changed_at": health.changed_at or now,
        "updated_at": now,
    }


def health_from_row(row: Any) -> AssetHealth:
    return AssetHealth(
        asset_key=row.asset_key,
        status=_STATUSES[row.status],
        materialization=_component(row.materialization, row.materialization_reason),
        partitions=_component(row.partitions, row.partitions_reason),
        checks=_component(row.checks, row.checks_reason),
        freshness=_component(row.freshness, row.freshness_reason),
        changed_at=row.changed_at,
    )


_STATUSES = {status.value: status for status in HealthStatus}


@functools.lru_cache(maxsize=4096)
def _component(status: str, reason: str) -> HealthComponent:
    # Reasons repeat across assets ("materialized", "1 check passing"): read 10,000 rows
    # and most components are one lookup, not two object constructions.
    return HealthComponent(_STATUSES[status], reason)


# --- deriving the components -----------------------------------------------------------


def _derive(
    conn: Connection, deployment_id: int, keys: Sequence[str]
) -> dict[str, tuple[HealthComponent, HealthComponent, HealthComponent]]:
    outcomes = _outcomes(conn, deployment_id, keys)
    checks = _failing_checks(conn, deployment_id, keys)
    derived = {}
    for key in keys:
        materialization, partitions = outcomes.get(key, (NEVER_MATERIALIZED, NOT_PARTITIONED))
        derived[key] = (materialization, partitions, checks.get(key, NO_CHECKS))
    return derived


def _outcomes(
    conn: Connection, deployment_id: int, keys: Sequence[str]
) -> dict[str, tuple[HealthComponent, HealthComponent]]:
    """Per asset, from asset_latest: its materialization and partitions components."""
    query = _outcomes_query(conn.dialect.name)
    return {
        row.asset_key: _outcome_components(row) for row in _keyed(conn, query, deployment_id, keys)
    }


@functools.cache
def _outcomes_query(dialect: str) -> sa.Select[Any]:
    materialization = asset_latest.c.materialization_event_id
    failure = asset_latest.c.failure_event_id
    failed = sa.and_(
        failure.is_not(None), sa.or_(materialization.is_(None), failure > materialization)
    )
    whole = asset_latest.c.partition == NO_PARTITION
    ones = sa.literal(1)
    return (
        sa.select(
            asset_latest.c.asset_key,
            sa.func.sum(sa.case((sa.and_(~whole, failed), ones), else_=0)).label("failed"),
            sa.func.sum(sa.case((sa.and_(~whole, ~failed), ones), else_=0)).label("good"),
            sa.func.max(sa.case((sa.and_(whole, failed), ones), else_=0)).label("whole_failed"),
            sa.func.max(sa.case((whole, ones), else_=0)).label("whole_seen"),
            sa.func.max(sa.case((whole, asset_latest.c.failure_run_id), else_=None)).label(
                "failure_run"
            ),
        )
        .where(
            asset_latest.c.deployment_id == sa.bindparam("b_deployment_id"),
            in_named_list(dialect, asset_latest.c.asset_key, "b_keys"),
        )
        .group_by(asset_latest.c.asset_key)
    )


def _outcome_components(row: Any) -> tuple[HealthComponent, HealthComponent]:
    failed, good = int(row.failed or 0), int(row.good or 0)
    if row.whole_seen:
        if row.whole_failed:
            materialization = HealthComponent(
                HealthStatus.DEGRADED,
                f"the latest materialization failed (run {row.failure_run})",
            )
        else:
            materialization = HealthComponent(HealthStatus.HEALTHY, "materialized")
    elif good:
        materialization = HealthComponent(
            HealthStatus.HEALTHY, f"{good} partition{'s' if good != 1 else ''} materialized"
        )
    else:
        materialization = NEVER_MATERIALIZED
    total = failed + good
    if not total:
        partitions = NOT_PARTITIONED
    elif failed:
        partitions = HealthComponent(
            HealthStatus.DEGRADED, f"{failed} of {total} partitions failed"
        )
    else:
        partitions = HealthComponent(HealthStatus.HEALTHY, f"none of {total} partitions failing")
    return materialization, partitions


def _failing_checks(
    conn: Connection, deployment_id: int, keys: Sequence[str]
) -> dict[str, HealthComponent]:
    """Per asset with evaluated checks, from asset_check_latest: its checks component."""
    query = _checks_query(conn.dialect.name)
    by_asset: dict[str, list[Any]] = {}
    for row in _keyed(conn, query, deployment_id, keys):
        by_asset.setdefault(row.asset_key, []).append(row)
    return {key: _checks_component(rows) for key, rows in by_asset.items()}


@functools.cache
def _checks_query(dialect: str) -> sa.Select[Any]:
    c = asset_check_latest.c
    return (
        sa.select(
            c.asset_key,
            c.check_name,
            sa.func.sum(sa.case((c.passed, 0), else_=1)).label("failing"),
            sa.func.max(sa.case((sa.and_(~c.passed, c.severity == "WARN"), 0), else_=1)).label(
                "worst"  # 1: an ERROR failure or a pass (told apart by failing)
            ),
        )
        .where(
            c.deployment_id == sa.bindparam("b_deployment_id"),
            in_named_list(dialect, c.asset_key, "b_keys"),
        )
        .group_by(c.asset_key, c.check_name)
        .order_by(c.asset_key, c.check_name)
    )


def _checks_component(rows: Iterable[Any]) -> HealthComponent:
    errors, warnings, passing = [], [], 0
    for row in rows:
        if not row.failing:
            passing += 1
        elif row.worst:
            errors.append(row.check_name)
        else:
            warnings.append(row.check_name)
    if errors:
        return HealthComponent(HealthStatus.DEGRADED, f"ERROR check failing: {', '.join(errors)}")
    if warnings:
        return HealthComponent(HealthStatus.WARNING, f"WARN check failing: {', '.join(warnings)}")
    return HealthComponent(
        HealthStatus.HEALTHY, f"{passing} check{'s' if passing != 1 else ''} passing"
    )


# --- reading ---------------------------------------------------------------------------


class HealthStorage:
    """Read side of asset health and its change feed.

    Example::

        health = storage.health.get(scope, ["orders"])["orders"]
        health.status, health.checks.reason
    """

    def __init__(self, db: Database) -> None:
        self._db = db

    def get(
        self, scope: DeploymentScope, asset_keys: Collection[str] | None = None
    ) -> dict[str, AssetHealth]:
        """Stored health of `asset_keys` (every asset with a row when None); an asset
        missing from the answer has no recorded state (see `unknown_health`)."""
        with self._db.read() as conn:
            return stored_health(conn, scope.deployment_id, asset_keys)

    def statuses(self, scope: DeploymentScope) -> dict[str, HealthStatus]:
        """Every stored asset's status, through the (deployment, status, key) index only."""
        with self._db.read() as conn:
            return stored_statuses(conn, scope.deployment_id)

    def changes(
        self,
        scope: DeploymentScope,
        *,
        after_id: int = 0,
        asset_key: str | None = None,
        limit: int = 1000,
    ) -> list[StatusChange]:
        """Recorded health and freshness changes after `after_id`, oldest first."""
        c = asset_status_changes.c
        query = sa.select(asset_status_changes).where(
            c.deployment_id == scope.deployment_id, c.id > after_id
        )
        if asset_key is not None:
            query = query.where(c.asset_key == asset_key)
        query = query.order_by(c.id).limit(limit)
        with self._db.read() as conn:
            return [
                StatusChange(
                    row.asset_key,
                    ChangeKind(row.kind),
                    row.previous,
                    row.current,
                    row.reason,
                    row.at,
                    row.id,
                )
                for row in conn.execute(query)
            ]
