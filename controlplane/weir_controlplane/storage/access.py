"""API tokens and role bindings.

Tokens belong to an organization; a token's grants are its role bindings, each in one
deployment (or organization-wide). Storage sees only secret hashes: making and hashing
secrets is `auth.secrets`' job.
"""

from __future__ import annotations

import secrets
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from weir_controlplane.storage.engine import Database
from weir_controlplane.storage.errors import RoleBindingExistsError, TokenNotFoundError
from weir_controlplane.storage.records import DeploymentScope
from weir_controlplane.storage.schema import api_tokens, deployments, role_bindings


@dataclass(frozen=True)
class BindingRecord:
    binding_id: str
    token_id: str
    deployment: str | None  # None: organization-wide
    role: str
    code_locations: tuple[str, ...] | None  # None: every code location
    created_at: datetime


@dataclass(frozen=True)
class TokenRecord:
    token_id: str
    organization_id: int
    kind: str
    name: str
    role: str
    deployment: str | None
    created_at: datetime
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None
    run_id: str | None = None
    code_locations: tuple[str, ...] | None = None  # of the role it was created with


@dataclass(frozen=True)
class FoundToken:
    secret_hash: str
    token: TokenRecord
    bindings: list[BindingRecord]


@dataclass(frozen=True)
class NewToken:
    organization_id: int
    kind: str
    name: str
    role: str
    secret_hash: str
    created_at: datetime
    deployment: DeploymentScope | None = None
    expires_at: datetime | None = None
    code_locations: Collection[str] | None = None
    run_id: str | None = None


class AccessStorage:
    """Tokens by id and by secret hash, and their role bindings.

    Example::

        token = access.create_token(NewToken(organization_id=1, kind="user", name="ci",
                                             role="launcher", secret_hash=h, created_at=now,
                                             deployment=scope))
        found = access.find_by_hash(h)  # FoundToken(secret_hash, token, bindings) or None
    """

    def __init__(self, db: Database) -> None:
        self._db = db

    # --- tokens -----------------------------------------------------------------------

    def create_token(self, new: NewToken) -> TokenRecord:
        """Store the token and, unless it is a run token, the binding of its role."""
        token_id = "tok_" + secrets.token_hex(8)
        locations = sorted(new.code_locations) if new.code_locations else None
        with self._db.write() as conn:
            conn.execute(
                api_tokens.insert().values(
                    id=token_id,
                    organization_id=new.organization_id,
                    deployment_id=new.deployment.deployment_id if new.deployment else None,
                    kind=new.kind,
                    name=new.name,
                    role=new.role,
                    secret_hash=new.secret_hash,
                    run_id=new.run_id,
                    created_at=new.created_at,
                    expires_at=new.expires_at,
                )
            )
            if new.run_id is None:
                _insert_binding(conn, token_id, new.deployment, new.role, locations, new.created_at)
        return self.get_token(new.organization_id, token_id)

    def find_by_hash(self, secret_hash: str) -> FoundToken | None:
        """The token with this secret hash and its bindings, or None (by the unique index)."""
        with self._db.read() as conn:
            row = conn.execute(
                _select_tokens().where(api_tokens.c.secret_hash == secret_hash)
            ).first()
            if row is None:
                return None
            bindings = _bindings(conn, role_bindings.c.token_id == row.id)
            return FoundToken(secret_hash=row.secret_hash, token=_token(row), bindings=bindings)

    def get_token(self, organization_id: int, token_id: str) -> TokenRecord:
        query = _select_tokens().where(
            api_tokens.c.organization_id == organization_id, api_tokens.c.id == token_id
        )
        with self._db.read() as conn:
            row = conn.execute(query).first()
        if row is None:
            raise TokenNotFoundError(token_id)
        return _token(row)

    def list_tokens(
        self,
        organization_id: int,
        deployment: DeploymentScope | None,
        *,
        include_revoked: bool = False,
    ) -> list[TokenRecord]:
        """User and agent tokens created in `deployment` (None: organization admin
        tokens), newest first."""
        home = (
            api_tokens.c.deployment_id == deployment.deployment_id
            if deployment
            else api_tokens.c.deployment_id.is_(None)
        )
        query = _select_tokens().where(
            api_tokens.c.organization_id == organization_id, home, api_tokens.c.run_id.is_(None)
        )
        if not include_revoked:
            query = query.where(api_tokens.c.revoked_at.is_(None))
        with self._db.read() as conn:
            return [
                _token(row) for row in conn.execute(query.order_by(api_tokens.c.created_at.desc()))
            ]

    def revoke(self, organization_id: int, token_id: str, now: datetime) -> TokenRecord:
        with self._db.write() as conn:
            conn.execute(
                api_tokens.update()
                .where(
                    api_tokens.c.organization_id == organization_id,
                    api_tokens.c.id == token_id,
                    api_tokens.c.revoked_at.is_(None),
                )
                .values(revoked_at=now)
            )
        return self.get_token(organization_id, token_id)

    def touch(self, token_ids: Sequence[str], now: datetime) -> None:
        """Record that the tokens were used (the caller rate-limits this)."""
        with self._db.write() as conn:
            conn.execute(
                api_tokens.update().where(api_tokens.c.id.in_(token_ids)).values(last_used_at=now)
            )

    # --- role bindings ----------------------------------------------------------------

    def create_binding(
        self,
        organization_id: int,
        token_id: str,
        deployment: DeploymentScope,
        role: str,
        code_locations: Collection[str] | None,
        now: datetime,
    ) -> BindingRecord:
        self.get_token(organization_id, token_id)  # NOT_FOUND for a token of another org
        locations = sorted(code_locations) if code_locations else None
        with self._db.write() as conn:
            exists = conn.execute(
                sa.select(role_bindings.c.id).where(
                    role_bindings.c.token_id == token_id,
                    role_bindings.c.deployment_id == deployment.deployment_id,
                )
            ).first()
            if exists is not None:
                raise RoleBindingExistsError(token_id, deployment.name)
            binding_id = _insert_binding(conn, token_id, deployment, role, locations, now)
            return _bindings(conn, role_bindings.c.id == binding_id)[0]

    def list_bindings(self, deployment: DeploymentScope) -> list[BindingRecord]:
        with self._db.read() as conn:
            return _bindings(conn, role_bindings.c.deployment_id == deployment.deployment_id)

    def get_binding(self, organization_id: int, binding_id: str) -> BindingRecord | None:
        condition = sa.and_(
            role_bindings.c.id == binding_id,
            role_bindings.c.token_id.in_(
                sa.select(api_tokens.c.id).where(api_tokens.c.organization_id == organization_id)
            ),
        )
        with self._db.read() as conn:
            found = _bindings(conn, condition)
        return found[0] if found else None

    def delete_binding(self, binding_id: str) -> None:
        with self._db.write() as conn:
            conn.execute(role_bindings.delete().where(role_bindings.c.id == binding_id))


def _insert_binding(
    conn: Connection,
    token_id: str,
    deployment: DeploymentScope | None,
    role: str,
    locations: list[str] | None,
    now: datetime,
) -> str:
    binding_id = "rb_" + secrets.token_hex(8)
    conn.execute(
        role_bindings.insert().values(
            id=binding_id,
            token_id=token_id,
            deployment_id=deployment.deployment_id if deployment else None,
            role=role,
            code_locations=locations,
            created_at=now,
        )
    )
    return binding_id


_home = deployments.alias("home")
_home_binding = role_bindings.alias("home_binding")


def _select_tokens() -> sa.Select[Any]:
    # The binding made with the token (same deployment) tells its code locations.
    return (
        sa.select(api_tokens, _home.c.name.label("deployment_name"), _home_binding.c.code_locations)
        .outerjoin(_home, _home.c.id == api_tokens.c.deployment_id)
        .outerjoin(
            _home_binding,
            sa.and_(
                _home_binding.c.token_id == api_tokens.c.id,
                sa.or_(
                    _home_binding.c.deployment_id == api_tokens.c.deployment_id,
                    sa.and_(
                        _home_binding.c.deployment_id.is_(None),
                        api_tokens.c.deployment_id.is_(None),
                    ),
                ),
            ),
        )
    )


def _token(row: sa.Row[Any]) -> TokenRecord:
    return TokenRecord(
        token_id=row.id,
        organization_id=row.organization_id,
        kind=row.kind,
        name=row.name,
        role=row.role,
        deployment=row.deployment_name,
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        last_used_at=row.last_used_at,
        run_id=row.run_id,
        code_locations=tuple(row.code_locations) if row.code_locations else None,
    )


def _bindings(conn: Connection, condition: sa.ColumnElement[bool]) -> list[BindingRecord]:
    query = (
        sa.select(role_bindings, deployments.c.name.label("deployment_name"))
        .outerjoin(deployments, deployments.c.id == role_bindings.c.deployment_id)
        .where(condition)
        .order_by(role_bindings.c.created_at, role_bindings.c.id)
    )
    return [
        BindingRecord(
            binding_id=row.id,
            token_id=row.token_id,
            deployment=row.deployment_name,
            role=row.role,
            code_locations=tuple(row.code_locations) if row.code_locations else None,
            created_at=row.created_at,
        )
        for row in conn.execute(query)
    ]
