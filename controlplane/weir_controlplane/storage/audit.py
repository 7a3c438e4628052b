"""The audit log: one append-only row per mutation through the API, read newest first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from weir_controlplane.storage import cursors
from weir_controlplane.storage.engine import Database
from weir_controlplane.storage.records import DeploymentScope, Page
from weir_controlplane.storage.schema import audit_log


@dataclass(frozen=True)
class AuditEntry:
    organization_id: int
    at: datetime
    actor: str
    actor_name: str
    method: str
    target: str
    outcome: str
    client_address: str
    request_id: str
    deployment: DeploymentScope | None = None  # None: an organization-wide call
    entry_id: int = 0  # set when read back


@dataclass(frozen=True)
class AuditFilter:
    deployment: DeploymentScope | None = None  # None: every deployment and the organization
    actor: str | None = None
    method: str | None = None


class AuditLog:
    """Appends entries and pages through them by filter.

    Example::

        audit.append(AuditEntry(organization_id=1, at=now, actor="tok_…", ...))
        page = audit.list(1, AuditFilter(deployment=scope), limit=50)
    """

    def __init__(self, db: Database) -> None:
        self._db = db

    def append(self, entry: AuditEntry) -> None:
        with self._db.write() as conn:
            conn.execute(
                audit_log.insert().values(
                    organization_id=entry.organization_id,
                    deployment_id=entry.deployment.deployment_id if entry.deployment else None,
                    deployment_name=entry.deployment.name if entry.deployment else None,
                    at=entry.at,
                    actor=entry.actor,
                    actor_name=entry.actor_name[:255],
                    method=entry.method,
                    target=entry.target,
                    outcome=entry.outcome,
                    client_address=entry.client_address[:255],
                    request_id=entry.request_id,
                )
            )

    def list(
        self,
        organization_id: int,
        audit_filter: AuditFilter,
        *,
        cursor: str | None = None,
        limit: int = 100,
    ) -> Page[AuditEntry]:
        """Newest first, through the (organization, filter column, id) indexes."""
        query = sa.select(audit_log).where(audit_log.c.organization_id == organization_id)
        if audit_filter.deployment is not None:
            query = query.where(audit_log.c.deployment_id == audit_filter.deployment.deployment_id)
        if audit_filter.actor is not None:
            query = query.where(audit_log.c.actor == audit_filter.actor)
        if audit_filter.method is not None:
            query = query.where(audit_log.c.method == audit_filter.method)
        before = cursors.decode(cursor)
        if before is not None:
            query = query.where(audit_log.c.id < before)
        query = query.order_by(audit_log.c.id.desc()).limit(limit + 1)
        with self._db.read() as conn:
            rows = conn.execute(query).all()
        items = tuple(
            AuditEntry(
                entry_id=row.id,
                organization_id=row.organization_id,
                deployment=(
                    DeploymentScope(deployment_id=row.deployment_id, name=row.deployment_name)
                    if row.deployment_id is not None
                    else None
                ),
                at=row.at,
                actor=row.actor,
                actor_name=row.actor_name,
                method=row.method,
                target=row.target,
                outcome=row.outcome,
                client_address=row.client_address,
                request_id=row.request_id,
            )
            for row in rows[:limit]
        )
        next_cursor = cursors.encode(rows[limit - 1].id) if len(rows) > limit else None
        return Page(items=items, next_cursor=next_cursor)
