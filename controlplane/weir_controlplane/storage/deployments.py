"""Organizations and deployments: where every tenant query gets its scope."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from weir_controlplane.storage.dialects import insert
from weir_controlplane.storage.engine import Database
from weir_controlplane.storage.errors import DeploymentExistsError, DeploymentNotFoundError
from weir_controlplane.storage.records import DeploymentScope
from weir_controlplane.storage.schema import (
    api_tokens,
    audit_log,
    deployments,
    metadata,
    organizations,
    role_bindings,
)

# Created by the first migration; `x-weir-deployment` defaults to this one.
DEFAULT_ORGANIZATION = "default"
DEFAULT_DEPLOYMENT = "prod"

# Tables with a deployment_id whose rows outlive their deployment: a deleted
# deployment's audit entries stay, so that its deletion is on record.
_KEPT_ON_DELETE = frozenset({audit_log.name})


@dataclass(frozen=True)
class Deployment:
    organization_id: int
    deployment_id: int
    name: str
    created_at: datetime
    base_deployment: str | None = None
    expires_at: datetime | None = None

    @property
    def scope(self) -> DeploymentScope:
        return DeploymentScope(deployment_id=self.deployment_id, name=self.name)


class DeploymentStorage:
    """Resolves deployment names to scopes; creates, lists and deletes deployments.

    Deployment names are unique within an organization; `organization_id` None means
    the default organization.

    Example::

        scope = storage.deployments.get_scope("prod")
        page = storage.runs.list_runs(scope)
    """

    def __init__(self, db: Database) -> None:
        self._db = db
        self._default_organization_id: int | None = None

    def default_organization_id(self) -> int:
        if self._default_organization_id is None:
            self._default_organization_id = self.ensure_organization(DEFAULT_ORGANIZATION)
        return self._default_organization_id

    def ensure_organization(self, name: str) -> int:
        """The id of organization `name`, created if it does not exist."""
        with self._db.write() as conn:
            return _ensure_organization(self._db, conn, name)

    def get_scope(
        self, name: str = DEFAULT_DEPLOYMENT, *, organization_id: int | None = None
    ) -> DeploymentScope:
        return self.get(name, organization_id=organization_id).scope

    def get(self, name: str, *, organization_id: int | None = None) -> Deployment:
        org_id = organization_id or self.default_organization_id()
        with self._db.read() as conn:
            row = conn.execute(
                _select().where(deployments.c.organization_id == org_id, deployments.c.name == name)
            ).first()
        if row is None:
            raise DeploymentNotFoundError(name)
        return _deployment(row)

    def ensure_deployment(
        self, name: str, *, organization: str = DEFAULT_ORGANIZATION
    ) -> DeploymentScope:
        """Create the deployment (and its organization) unless it exists; return its scope."""
        now = datetime.now(UTC)
        with self._db.write() as conn:
            org_id = _ensure_organization(self._db, conn, organization)
            conn.execute(
                insert(self._db.dialect, deployments)
                .values(organization_id=org_id, name=name, created_at=now)
                .on_conflict_do_nothing(index_elements=["organization_id", "name"])
            )
            deployment_id = conn.execute(
                sa.select(deployments.c.id).where(
                    deployments.c.organization_id == org_id, deployments.c.name == name
                )
            ).scalar_one()
        return DeploymentScope(deployment_id=deployment_id, name=name)

    def create(
        self,
        name: str,
        *,
        organization_id: int | None = None,
        base: DeploymentScope | None = None,
        expires_at: datetime | None = None,
        now: datetime | None = None,
    ) -> Deployment:
        """A new deployment; DeploymentExistsError when the name is taken."""
        org_id = organization_id or self.default_organization_id()
        values = {
            "organization_id": org_id,
            "name": name,
            "created_at": now or datetime.now(UTC),
            "base_deployment_id": base.deployment_id if base else None,
            "expires_at": expires_at,
        }
        with self._db.write() as conn:
            inserted = conn.execute(
                insert(self._db.dialect, deployments)
                .values(values)
                .on_conflict_do_nothing(index_elements=["organization_id", "name"])
                .returning(deployments.c.id)
            ).first()
            if inserted is None:
                raise DeploymentExistsError(name)
            row = conn.execute(
                _select().where(deployments.c.organization_id == org_id, deployments.c.name == name)
            ).one()
        return _deployment(row)

    def in_organization(self, organization_id: int | None = None) -> list[Deployment]:
        org_id = organization_id or self.default_organization_id()
        query = (
            _select().where(deployments.c.organization_id == org_id).order_by(deployments.c.name)
        )
        with self._db.read() as conn:
            return [_deployment(row) for row in conn.execute(query)]

    def list_deployments(self, *, organization: str = DEFAULT_ORGANIZATION) -> list[str]:
        query = (
            sa.select(deployments.c.name)
            .join(organizations, organizations.c.id == deployments.c.organization_id)
            .where(organizations.c.name == organization)
            .order_by(deployments.c.name)
        )
        with self._db.read() as conn:
            return list(conn.execute(query).scalars())

    def organization_of(self, scope: DeploymentScope) -> int:
        query = sa.select(deployments.c.organization_id).where(
            deployments.c.id == scope.deployment_id
        )
        with self._db.read() as conn:
            found = conn.execute(query).scalar_one_or_none()
        if found is None:
            raise DeploymentNotFoundError(scope.name)
        return int(found)

    def all_scopes(self) -> list[DeploymentScope]:
        """Every deployment of every organization: for the daemons that serve them all."""
        query = sa.select(deployments.c.id, deployments.c.name).order_by(deployments.c.id)
        with self._db.read() as conn:
            return [
                DeploymentScope(deployment_id=row.id, name=row.name) for row in conn.execute(query)
            ]

    def expired(self, now: datetime | None = None) -> list[Deployment]:
        """Branch deployments past their expiry (through the partial expires_at index)."""
        query = _select().where(
            deployments.c.expires_at.is_not(None),
            deployments.c.expires_at <= (now or datetime.now(UTC)),
        )
        with self._db.read() as conn:
            return [_deployment(row) for row in conn.execute(query)]

    def delete(self, scope: DeploymentScope) -> None:
        """Delete the deployment and every row of it, in one transaction.

        Tables are emptied children first, found from the schema by their deployment_id
        column, so a table added later is covered without a change here.
        """
        deployment_id = scope.deployment_id
        home_tokens = sa.select(api_tokens.c.id).where(api_tokens.c.deployment_id == deployment_id)
        with self._db.write() as conn:
            # Roles granted elsewhere to tokens of this deployment go with the tokens.
            conn.execute(role_bindings.delete().where(role_bindings.c.token_id.in_(home_tokens)))
            for table in reversed(metadata.sorted_tables):
                if table.name in _KEPT_ON_DELETE or "deployment_id" not in table.c:
                    continue
                conn.execute(table.delete().where(table.c.deployment_id == deployment_id))
            conn.execute(
                deployments.update()
                .where(deployments.c.base_deployment_id == deployment_id)
                .values(base_deployment_id=None)
            )
            conn.execute(deployments.delete().where(deployments.c.id == deployment_id))


def _ensure_organization(db: Database, conn: Connection, name: str) -> int:
    conn.execute(
        insert(db.dialect, organizations)
        .values(name=name, created_at=datetime.now(UTC))
        .on_conflict_do_nothing(index_elements=["name"])
    )
    return int(
        conn.execute(sa.select(organizations.c.id).where(organizations.c.name == name)).scalar_one()
    )


_base = deployments.alias("base")


def _select() -> sa.Select[tuple[int, int, str, datetime, str | None, datetime | None]]:
    return sa.select(
        deployments.c.organization_id,
        deployments.c.id,
        deployments.c.name,
        deployments.c.created_at,
        _base.c.name.label("base_name"),
        deployments.c.expires_at,
    ).outerjoin(_base, _base.c.id == deployments.c.base_deployment_id)


def _deployment(
    row: sa.Row[tuple[int, int, str, datetime, str | None, datetime | None]],
) -> Deployment:
    return Deployment(
        organization_id=row.organization_id,
        deployment_id=row.id,
        name=row.name,
        created_at=row.created_at,
        base_deployment=row.base_name,
        expires_at=row.expires_at,
    )
