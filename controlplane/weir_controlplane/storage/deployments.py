"""Organizations and deployments: where every tenant query gets its scope."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from weir_controlplane.storage.dialects import insert
from weir_controlplane.storage.engine import Database
from weir_controlplane.storage.errors import DeploymentNotFoundError
from weir_controlplane.storage.records import DeploymentScope
from weir_controlplane.storage.schema import deployments, organizations

# Created by the first migration; `x-weir-deployment` defaults to this one.
DEFAULT_ORGANIZATION = "default"
DEFAULT_DEPLOYMENT = "prod"


class DeploymentStorage:
    """Resolves deployment names to scopes and creates deployments.

    Example::

        scope = storage.deployments.get_scope("prod")
        page = storage.runs.list_runs(scope)
    """

    def __init__(self, db: Database) -> None:
        self._db = db

    def get_scope(
        self, name: str = DEFAULT_DEPLOYMENT, *, organization: str = DEFAULT_ORGANIZATION
    ) -> DeploymentScope:
        query = (
            sa.select(deployments.c.id, deployments.c.name)
            .join(organizations, organizations.c.id == deployments.c.organization_id)
            .where(organizations.c.name == organization, deployments.c.name == name)
        )
        with self._db.read() as conn:
            row = conn.execute(query).first()
        if row is None:
            raise DeploymentNotFoundError(name)
        return DeploymentScope(deployment_id=row.id, name=row.name)

    def ensure_deployment(
        self, name: str, *, organization: str = DEFAULT_ORGANIZATION
    ) -> DeploymentScope:
        """Create the deployment (and its organization) unless it exists; return its scope."""
        now = datetime.now(UTC)
        with self._db.write() as conn:
            conn.execute(
                insert(self._db.dialect, organizations)
                .values(name=organization, created_at=now)
                .on_conflict_do_nothing(index_elements=["name"])
            )
            org_id = conn.execute(
                sa.select(organizations.c.id).where(organizations.c.name == organization)
            ).scalar_one()
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

    def list_deployments(self, *, organization: str = DEFAULT_ORGANIZATION) -> list[str]:
        query = (
            sa.select(deployments.c.name)
            .join(organizations, organizations.c.id == deployments.c.organization_id)
            .where(organizations.c.name == organization)
            .order_by(deployments.c.name)
        )
        with self._db.read() as conn:
            return list(conn.execute(query).scalars())
