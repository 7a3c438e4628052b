"""Code locations of a deployment, their load status, and their snapshots by hash."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Row

from weir_controlplane.storage import alert_triggers
from weir_controlplane.storage.dialects import insert
from weir_controlplane.storage.engine import Database
from weir_controlplane.storage.errors import CodeLocationNotFoundError
from weir_controlplane.storage.records import (
    CodeLocation,
    CodeLocationSource,
    CodeLocationStatus,
    DeploymentScope,
)
from weir_controlplane.storage.schema import code_locations, snapshots


class CodeLocationStorage:
    """Where each code location is, whether it loaded, and the snapshot it served.

    Example::

        storage.code_locations.upsert(scope, "etl", address="localhost:4266")
        if not storage.code_locations.has_snapshot(scope, info.snapshot_hash):
            body = fetch_definitions()  # only when the definitions changed
        storage.code_locations.set_loaded(scope, "etl", info.snapshot_hash, body)
    """

    def __init__(self, db: Database) -> None:
        self._db = db

    def upsert(
        self,
        scope: DeploymentScope,
        name: str,
        *,
        address: str | None = None,
        command: str | None = None,
        source: CodeLocationSource = CodeLocationSource.WORKSPACE,
        now: datetime | None = None,
    ) -> CodeLocation:
        """Register a location, or change where it is; a new one starts LOADING."""
        now = now or datetime.now(UTC)
        statement = insert(self._db.dialect, code_locations).values(
            deployment_id=scope.deployment_id,
            name=name,
            address=address,
            command=command,
            source=source.value,
            status=CodeLocationStatus.LOADING.value,
            updated_at=now,
        )
        statement = statement.on_conflict_do_update(
            index_elements=["deployment_id", "name"],
            set_={
                "address": address,
                "command": command,
                "source": source.value,
                "updated_at": now,
            },
        )
        with self._db.write() as conn:
            conn.execute(statement)
        return self.get(scope, name)

    def set_loaded(
        self,
        scope: DeploymentScope,
        name: str,
        snapshot_hash: str,
        snapshot: bytes | None = None,
        *,
        now: datetime | None = None,
    ) -> CodeLocation:
        """Mark the location LOADED with this snapshot; `snapshot` may be omitted if known."""
        now = now or datetime.now(UTC)
        with self._db.write() as conn:
            if snapshot is None:
                known = _select_snapshot(scope, snapshot_hash).with_only_columns(
                    snapshots.c.snapshot_hash
                )
                if conn.execute(known).first() is None:
                    raise ValueError(
                        f"snapshot {snapshot_hash!r} is not stored yet; pass its bytes"
                    )
            else:
                # The row as the execution's parameters, not the statement's values: SQLAlchemy
                # caches a compiled statement with the values it was first built with, and
                # would keep the first snapshot (0.8 MB at 10,000 assets) for good.
                conn.execute(
                    insert(self._db.dialect, snapshots).on_conflict_do_nothing(
                        index_elements=["deployment_id", "snapshot_hash"]
                    ),
                    {
                        "deployment_id": scope.deployment_id,
                        "snapshot_hash": snapshot_hash,
                        "body": snapshot,
                        "created_at": now,
                    },
                )
            self._update(
                conn,
                scope,
                name,
                status=CodeLocationStatus.LOADED.value,
                error_message=None,
                snapshot_hash=snapshot_hash,
                updated_at=now,
            )
        return self.get(scope, name)

    def set_unavailable(
        self,
        scope: DeploymentScope,
        name: str,
        status: CodeLocationStatus,
        message: str,
        *,
        now: datetime | None = None,
    ) -> CodeLocation:
        """Mark the location ERROR (its code failed to load) or UNREACHABLE, with why.

        The last good snapshot hash is kept, so what was loaded stays inspectable.
        """
        if status not in (CodeLocationStatus.ERROR, CodeLocationStatus.UNREACHABLE):
            raise ValueError(f"status must be ERROR or UNREACHABLE, got {status}")
        now = now or datetime.now(UTC)
        with self._db.write() as conn:
            before = conn.execute(
                sa.select(code_locations.c.status).where(
                    code_locations.c.deployment_id == scope.deployment_id,
                    code_locations.c.name == name,
                )
            ).scalar_one_or_none()
            self._update(
                conn, scope, name, status=status.value, error_message=message, updated_at=now
            )
            # Once per breakage: a location that keeps failing to load alerts again
            # only after it loaded in between.
            if status is CodeLocationStatus.ERROR and before != CodeLocationStatus.ERROR.value:
                alert_triggers.code_location_load_error(
                    conn, scope.deployment_id, name, message, now
                )
        return self.get(scope, name)

    def get(self, scope: DeploymentScope, name: str) -> CodeLocation:
        query = sa.select(code_locations).where(
            code_locations.c.deployment_id == scope.deployment_id, code_locations.c.name == name
        )
        with self._db.read() as conn:
            row = conn.execute(query).first()
        if row is None:
            raise CodeLocationNotFoundError(name)
        return _code_location(row)

    def list_locations(self, scope: DeploymentScope) -> list[CodeLocation]:
        query = (
            sa.select(code_locations)
            .where(code_locations.c.deployment_id == scope.deployment_id)
            .order_by(code_locations.c.name)
        )
        with self._db.read() as conn:
            return [_code_location(row) for row in conn.execute(query)]

    def remove(self, scope: DeploymentScope, name: str) -> None:
        statement = code_locations.delete().where(
            code_locations.c.deployment_id == scope.deployment_id, code_locations.c.name == name
        )
        with self._db.write() as conn:
            if conn.execute(statement).rowcount == 0:
                raise CodeLocationNotFoundError(name)

    def has_snapshot(self, scope: DeploymentScope, snapshot_hash: str) -> bool:
        with self._db.read() as conn:
            query = _select_snapshot(scope, snapshot_hash).with_only_columns(
                snapshots.c.snapshot_hash
            )
            return conn.execute(query).first() is not None

    def get_snapshot(self, scope: DeploymentScope, snapshot_hash: str) -> bytes | None:
        with self._db.read() as conn:
            return conn.execute(_select_snapshot(scope, snapshot_hash)).scalar_one_or_none()

    def _update(self, conn: Any, scope: DeploymentScope, name: str, **values: Any) -> None:
        statement = (
            code_locations.update()
            .where(
                code_locations.c.deployment_id == scope.deployment_id,
                code_locations.c.name == name,
            )
            .values(**values)
        )
        if conn.execute(statement).rowcount == 0:
            raise CodeLocationNotFoundError(name)


def _select_snapshot(scope: DeploymentScope, snapshot_hash: str) -> sa.Select[Any]:
    return sa.select(snapshots.c.body).where(
        snapshots.c.deployment_id == scope.deployment_id,
        snapshots.c.snapshot_hash == snapshot_hash,
    )


def _code_location(row: Row[Any]) -> CodeLocation:
    return CodeLocation(
        name=row.name,
        address=row.address,
        command=row.command,
        status=CodeLocationStatus(row.status),
        error_message=row.error_message,
        snapshot_hash=row.snapshot_hash,
        updated_at=row.updated_at,
        source=CodeLocationSource(row.source),
    )
