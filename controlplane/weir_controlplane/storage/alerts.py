"""Alert policies and the persisted alert delivery queue.

An `AlertEvent` is something a person should hear about (a run failed, a check failed,
a code location failed to load, a tick failed; later a health change or a failed
freshness policy). `publish(conn, deployment_id, events)` matches the events against
the deployment's policies and queues one delivery per match, on the caller's own
connection, so an alert is queued in the same transaction as the event that caused it
and never without it. Nothing is sent here: the delivery worker (alerts/worker.py)
claims due deliveries and posts them.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from weir_controlplane.storage import cursors
from weir_controlplane.storage.alert_records import (
    AlertDelivery,
    AlertEvent,
    AlertKind,
    AlertPolicy,
    AlertPolicyExistsError,
    AlertPolicyNotFoundError,
    BodyFormat,
    ClaimedDelivery,
    DeliveryAttempt,
    DeliveryStatus,
    NewAlertPolicy,
)
from weir_controlplane.storage.engine import Database
from weir_controlplane.storage.records import DeploymentScope, Page
from weir_controlplane.storage.schema import (
    alert_deliveries,
    alert_delivery_attempts,
    alert_policies,
    run_tags,
)

__all__ = [
    "AlertDelivery",
    "AlertEvent",
    "AlertKind",
    "AlertPolicy",
    "AlertPolicyExistsError",
    "AlertPolicyNotFoundError",
    "AlertStorage",
    "BodyFormat",
    "ClaimedDelivery",
    "DeliveryAttempt",
    "DeliveryStatus",
    "NewAlertPolicy",
    "publish",
    "run_tags_of",
]

MAX_PAGE_SIZE = 500
# Set on a connection whose transaction queued deliveries, so its commit wakes the worker.
_QUEUED = "weir.alerts_queued"


def publish(conn: Connection, deployment_id: int, events: Sequence[AlertEvent]) -> int:
    """Queue a delivery of each event to each of the deployment's policies it matches,
    on `conn` (inside the caller's transaction). Returns how many were queued.

    One indexed read of the deployment's policies per call; callers pass only events
    worth alerting on (failures), so the hot path of successful work never gets here.
    """
    if not events:
        return 0
    policies = [
        _policy(row)
        for row in conn.execute(
            sa.select(alert_policies).where(alert_policies.c.deployment_id == deployment_id)
        )
    ]
    now = datetime.now(UTC)
    rows = [
        {
            "deployment_id": deployment_id,
            "policy_id": policy.policy_id,
            "kind": event.kind.value,
            "event": event.to_document(),
            "status": DeliveryStatus.PENDING.value,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
            "updated_at": now,
        }
        for event in events
        for policy in policies
        if policy.matches(event)
    ]
    if rows:
        conn.execute(alert_deliveries.insert(), rows)
        conn.info[_QUEUED] = True
    return len(rows)


def run_tags_of(conn: Connection, run_id: str) -> dict[str, str]:
    """A run's tags, for matching a RUN_FAILED event against policies' tag filters."""
    rows = conn.execute(
        sa.select(run_tags.c.key, run_tags.c.value).where(run_tags.c.run_id == run_id)
    )
    return {row.key: row.value for row in rows}


class AlertStorage:
    """Alert policies, the delivery queue the worker drains, and the delivery log.

    Example::

        policy = storage.alerts.create_policy(scope, NewAlertPolicy(
            name="on-call", kinds=frozenset({AlertKind.RUN_FAILED}),
            webhook_url="https://hooks.example.com/weir"))
        storage.alerts.publish(scope, [AlertEvent(AlertKind.RUN_FAILED, "run x failed", now)])
    """

    def __init__(self, db: Database) -> None:
        self._db = db
        self._listeners: list[Callable[[], None]] = []
        # The delivery worker hears of new deliveries when their transaction commits,
        # wherever in this process they were queued: no poll stands between them.
        sa.event.listen(db.engine, "commit", self._committed)
        sa.event.listen(db.engine, "rollback", self._rolled_back)

    def on_queued(self, listener: Callable[[], None]) -> None:
        """Call `listener` after each commit that queued deliveries."""
        self._listeners.append(listener)

    def forget(self, listener: Callable[[], None]) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def _committed(self, conn: Connection) -> None:
        if conn.info.pop(_QUEUED, False):
            for listener in self._listeners:
                listener()

    def _rolled_back(self, conn: Connection) -> None:
        conn.info.pop(_QUEUED, None)

    # --- policies -----------------------------------------------------------------------

    def create_policy(self, scope: DeploymentScope, policy: NewAlertPolicy) -> AlertPolicy:
        policy_id = uuid.uuid4().hex[:12]
        now = datetime.now(UTC)
        try:
            with self._db.write() as conn:
                conn.execute(
                    alert_policies.insert().values(
                        policy_id=policy_id,
                        deployment_id=scope.deployment_id,
                        name=policy.name,
                        kinds=sorted(kind.value for kind in policy.kinds),
                        code_locations=sorted(policy.code_locations),
                        run_tags=dict(policy.run_tags),
                        webhook_url=policy.webhook_url,
                        body_format=policy.body_format.value,
                        created_at=now,
                    )
                )
        except sa.exc.IntegrityError:
            raise AlertPolicyExistsError(policy.name) from None
        return self.get_policy(scope, policy_id)

    def get_policy(self, scope: DeploymentScope, policy_id: str) -> AlertPolicy:
        with self._db.read() as conn:
            row = conn.execute(
                sa.select(alert_policies).where(*_policy_row(scope, policy_id))
            ).first()
        if row is None:
            raise AlertPolicyNotFoundError(policy_id)
        return _policy(row)

    def list_policies(self, scope: DeploymentScope) -> list[AlertPolicy]:
        query = (
            sa.select(alert_policies)
            .where(alert_policies.c.deployment_id == scope.deployment_id)
            .order_by(alert_policies.c.name)
        )
        with self._db.read() as conn:
            return [_policy(row) for row in conn.execute(query)]

    def delete_policy(self, scope: DeploymentScope, policy_id: str) -> None:
        """Delete the policy with its deliveries: queued ones are not sent."""
        with self._db.write() as conn:
            deleted = conn.execute(alert_policies.delete().where(*_policy_row(scope, policy_id)))
            if deleted.rowcount == 0:
                raise AlertPolicyNotFoundError(policy_id)

    def publish(self, scope: DeploymentScope, events: Sequence[AlertEvent]) -> int:
        """`publish` in a transaction of its own, for an event stored elsewhere."""
        with self._db.write() as conn:
            return publish(conn, scope.deployment_id, events)

    # --- the delivery log ---------------------------------------------------------------

    def list_deliveries(
        self,
        scope: DeploymentScope,
        *,
        policy_id: str | None = None,
        status: DeliveryStatus | None = None,
        after_cursor: str | None = None,
        limit: int = 100,
    ) -> Page[AlertDelivery]:
        """Deliveries newest first, each with its attempts."""
        limit = max(1, min(limit, MAX_PAGE_SIZE))
        after = cursors.decode(after_cursor)
        query = sa.select(alert_deliveries).where(
            alert_deliveries.c.deployment_id == scope.deployment_id
        )
        if policy_id:
            query = query.where(alert_deliveries.c.policy_id == policy_id)
        if status is not None:
            query = query.where(alert_deliveries.c.status == status.value)
        if after is not None:
            query = query.where(alert_deliveries.c.id < after)
        query = query.order_by(alert_deliveries.c.id.desc()).limit(limit + 1)
        with self._db.read() as conn:
            rows = conn.execute(query).all()
            page = rows[:limit]
            attempts = _attempts_of(conn, [row.id for row in page])
        items = tuple(_delivery(row, attempts.get(row.id, ())) for row in page)
        has_more = len(rows) > limit
        cursor = cursors.encode(items[-1].delivery_id) if items and has_more else None
        return Page(items=items, next_cursor=cursor)

    # --- the worker's side --------------------------------------------------------------

    def claim_due(
        self, scope: DeploymentScope, *, now: datetime, lease: timedelta, limit: int
    ) -> list[ClaimedDelivery]:
        """Take up to `limit` due deliveries, oldest due first, pushing each one's due
        time past `lease` so that no other worker takes it meanwhile."""
        if limit < 1:
            return []
        due = (
            sa.select(alert_deliveries.c.id)
            .where(
                alert_deliveries.c.deployment_id == scope.deployment_id,
                alert_deliveries.c.status == DeliveryStatus.PENDING.value,
                alert_deliveries.c.next_attempt_at <= now,
            )
            .order_by(alert_deliveries.c.next_attempt_at, alert_deliveries.c.id)
            .limit(limit)
        )
        with self._db.write() as conn:
            ids = list(conn.execute(due).scalars())
            if not ids:
                return []
            # Conditional on still being due: of two replicas, one wins each row.
            claimed = list(
                conn.execute(
                    alert_deliveries.update()
                    .where(
                        alert_deliveries.c.id.in_(ids),
                        alert_deliveries.c.status == DeliveryStatus.PENDING.value,
                        alert_deliveries.c.next_attempt_at <= now,
                    )
                    .values(next_attempt_at=now + lease)
                    .returning(alert_deliveries.c.id)
                ).scalars()
            )
            if not claimed:
                return []
            rows = conn.execute(
                sa.select(
                    alert_deliveries.c.id,
                    alert_deliveries.c.attempts,
                    alert_deliveries.c.event,
                    alert_policies.c.webhook_url,
                    alert_policies.c.body_format,
                )
                .join(alert_policies, alert_policies.c.policy_id == alert_deliveries.c.policy_id)
                .where(alert_deliveries.c.id.in_(claimed))
                .order_by(alert_deliveries.c.id)
            ).all()
        return [
            ClaimedDelivery(
                delivery_id=row.id,
                scope=scope,
                attempts=row.attempts,
                event=row.event,
                webhook_url=row.webhook_url,
                body_format=BodyFormat(row.body_format),
            )
            for row in rows
        ]

    def record_attempt(
        self,
        claimed: ClaimedDelivery,
        attempt: DeliveryAttempt,
        *,
        retry_at: datetime | None,
    ) -> None:
        """Log `attempt`; the delivery is DELIVERED when it has no error, else PENDING
        again until `retry_at`, or FAILED when `retry_at` is None."""
        now = datetime.now(UTC)
        values: dict[str, Any] = {"attempts": attempt.attempt, "updated_at": now}
        if attempt.error is None:
            values |= {"status": DeliveryStatus.DELIVERED.value, "ended_at": now}
        elif retry_at is None:
            values |= {
                "status": DeliveryStatus.FAILED.value,
                "ended_at": now,
                "last_error": attempt.error,
            }
        else:
            values |= {"next_attempt_at": retry_at, "last_error": attempt.error}
        with self._db.write() as conn:
            updated = conn.execute(
                alert_deliveries.update()
                .where(
                    alert_deliveries.c.id == claimed.delivery_id,
                    alert_deliveries.c.deployment_id == claimed.scope.deployment_id,
                    alert_deliveries.c.status == DeliveryStatus.PENDING.value,
                )
                .values(values)
            )
            if updated.rowcount != 1:
                return  # its policy was deleted meanwhile
            conn.execute(
                alert_delivery_attempts.insert().values(
                    delivery_id=claimed.delivery_id,
                    attempt=attempt.attempt,
                    started_at=attempt.started_at,
                    duration_ms=attempt.duration_ms,
                    status_code=attempt.status_code,
                    error=attempt.error,
                )
            )

    def next_due(self, scope: DeploymentScope) -> datetime | None:
        """When the deployment's next pending delivery is due (for the worker's sleep)."""
        with self._db.read() as conn:
            return conn.execute(
                sa.select(sa.func.min(alert_deliveries.c.next_attempt_at)).where(
                    alert_deliveries.c.deployment_id == scope.deployment_id,
                    alert_deliveries.c.status == DeliveryStatus.PENDING.value,
                )
            ).scalar_one_or_none()


def _policy_row(scope: DeploymentScope, policy_id: str) -> tuple[sa.ColumnElement[bool], ...]:
    return (
        alert_policies.c.deployment_id == scope.deployment_id,
        alert_policies.c.policy_id == policy_id,
    )


def _policy(row: Row[Any]) -> AlertPolicy:
    return AlertPolicy(
        policy_id=row.policy_id,
        name=row.name,
        kinds=frozenset(AlertKind(kind) for kind in row.kinds),
        webhook_url=row.webhook_url,
        body_format=BodyFormat(row.body_format),
        code_locations=frozenset(row.code_locations),
        run_tags=dict(row.run_tags),
        created_at=row.created_at,
    )


def _attempts_of(
    conn: Connection, delivery_ids: Iterable[int]
) -> dict[int, tuple[DeliveryAttempt, ...]]:
    ids = list(delivery_ids)
    if not ids:
        return {}
    rows = conn.execute(
        sa.select(alert_delivery_attempts)
        .where(alert_delivery_attempts.c.delivery_id.in_(ids))
        .order_by(alert_delivery_attempts.c.delivery_id, alert_delivery_attempts.c.attempt)
    )
    by_delivery: dict[int, list[DeliveryAttempt]] = {}
    for row in rows:
        by_delivery.setdefault(row.delivery_id, []).append(
            DeliveryAttempt(
                attempt=row.attempt,
                started_at=row.started_at,
                duration_ms=row.duration_ms,
                status_code=row.status_code,
                error=row.error,
            )
        )
    return {key: tuple(value) for key, value in by_delivery.items()}


def _delivery(row: Row[Any], attempts: Sequence[DeliveryAttempt]) -> AlertDelivery:
    return AlertDelivery(
        delivery_id=row.id,
        policy_id=row.policy_id,
        kind=AlertKind(row.kind),
        event=row.event,
        status=DeliveryStatus(row.status),
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        last_error=row.last_error,
        created_at=row.created_at,
        ended_at=row.ended_at,
        attempt_log=tuple(attempts),
    )
