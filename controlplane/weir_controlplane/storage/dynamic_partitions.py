"""The keys of dynamic partitions definitions, per deployment, in the order they were added.

Each key has an ordinal, its partition index, given when it is first added and never
reused: partition status addresses the key by it. Deleting a key hides it (and its
status) and adding it again brings both back.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from weir_controlplane.storage import cursors
from weir_controlplane.storage.engine import Database
from weir_controlplane.storage.locks import lock_dynamic_partitions
from weir_controlplane.storage.records import DeploymentScope, Page
from weir_controlplane.storage.schema import dynamic_partitions

# Keys looked up per statement, well under every database's bind-parameter limit.
_KEYS_PER_QUERY = 5000
MAX_PAGE_SIZE = 10_000

_table = dynamic_partitions


class DynamicPartitionStorage:
    """Example::

    storage.dynamic_partitions.add(scope, "customers", ["acme", "globex"])
    storage.dynamic_partitions.ordinals(scope, "customers", ["acme"])  # {"acme": 0}
    """

    def __init__(self, db: Database) -> None:
        self._db = db

    def add(self, scope: DeploymentScope, name: str, keys: Sequence[str]) -> list[str]:
        """Add `keys` (in order) to `name`; returns those that were not present before."""
        wanted = list(dict.fromkeys(keys))
        now = datetime.now(UTC)
        with self._db.write() as conn:
            lock_dynamic_partitions(conn, scope)
            known: dict[str, bool] = {}  # key -> currently deleted
            for chunk in _chunks(wanted):
                rows = conn.execute(
                    sa.select(_table.c.partition_key, _table.c.deleted_at).where(
                        _is_def(scope, name), _table.c.partition_key.in_(chunk)
                    )
                )
                known.update((row.partition_key, row.deleted_at is not None) for row in rows)
            revived = [key for key in wanted if known.get(key)]
            for chunk in _chunks(revived):
                conn.execute(
                    _table.update()
                    .where(_is_def(scope, name), _table.c.partition_key.in_(chunk))
                    .values(deleted_at=None)
                )
            fresh = [key for key in wanted if key not in known]
            if fresh:
                top = conn.execute(
                    sa.select(sa.func.max(_table.c.ordinal)).where(_is_def(scope, name))
                ).scalar_one()
                start = 0 if top is None else top + 1
                conn.execute(
                    _table.insert(),
                    [
                        {
                            "deployment_id": scope.deployment_id,
                            "partitions_def_name": name,
                            "partition_key": key,
                            "ordinal": start + offset,
                            "created_at": now,
                        }
                        for offset, key in enumerate(fresh)
                    ],
                )
        added = set(revived) | set(fresh)
        return [key for key in wanted if key in added]

    def delete(self, scope: DeploymentScope, name: str, keys: Sequence[str]) -> list[str]:
        """Delete `keys` from `name`; returns those that were present."""
        wanted = list(dict.fromkeys(keys))
        deleted: set[str] = set()
        now = datetime.now(UTC)
        with self._db.write() as conn:
            for chunk in _chunks(wanted):
                result = conn.execute(
                    _table.update()
                    .where(
                        _is_def(scope, name),
                        _table.c.partition_key.in_(chunk),
                        _table.c.deleted_at.is_(None),
                    )
                    .values(deleted_at=now)
                    .returning(_table.c.partition_key)
                )
                deleted.update(result.scalars())
        return [key for key in wanted if key in deleted]

    def list_keys(
        self, scope: DeploymentScope, name: str, *, cursor: str | None = None, limit: int = 1000
    ) -> Page[str]:
        """The present keys of `name` in the order they were added."""
        limit = max(1, min(limit, MAX_PAGE_SIZE))
        query = sa.select(_table.c.partition_key, _table.c.ordinal).where(
            _is_def(scope, name), _table.c.deleted_at.is_(None)
        )
        after = cursors.decode(cursor)
        if after is not None:
            query = query.where(_table.c.ordinal > after)
        with self._db.read() as conn:
            rows = conn.execute(query.order_by(_table.c.ordinal).limit(limit + 1)).all()
        more = len(rows) > limit
        rows = rows[:limit]
        return Page(
            items=tuple(row.partition_key for row in rows),
            next_cursor=cursors.encode(rows[-1].ordinal) if more else None,
        )

    def keys_from(self, scope: DeploymentScope, name: str, offset: int, limit: int) -> list[str]:
        """Present keys of `name` from position `offset` (0 is the first added)."""
        query = (
            sa.select(_table.c.partition_key)
            .where(_is_def(scope, name), _table.c.deleted_at.is_(None))
            .order_by(_table.c.ordinal)
            .offset(offset)
            .limit(limit)
        )
        with self._db.read() as conn:
            return list(conn.execute(query).scalars())

    def live_ordinals(self, scope: DeploymentScope, name: str) -> list[int]:
        """The ordinals of the present keys, ascending: the definition's index space."""
        with self._db.read() as conn:
            return list(
                conn.execute(
                    sa.select(_table.c.ordinal)
                    .where(_is_def(scope, name), _table.c.deleted_at.is_(None))
                    .order_by(_table.c.ordinal)
                ).scalars()
            )

    def keys_at(
        self, scope: DeploymentScope, name: str, ordinals: Collection[int]
    ) -> dict[int, str]:
        found: dict[int, str] = {}
        with self._db.read() as conn:
            for chunk in _chunks(sorted(set(ordinals))):
                rows = conn.execute(
                    sa.select(_table.c.ordinal, _table.c.partition_key).where(
                        _is_def(scope, name), _table.c.ordinal.in_(chunk)
                    )
                )
                found.update((row.ordinal, row.partition_key) for row in rows)
        return found

    def ordinals(self, scope: DeploymentScope, name: str, keys: Collection[str]) -> dict[str, int]:
        """The ordinal of each present key among `keys`."""
        with self._db.read() as conn:
            return ordinals_in(conn, scope, name, keys)

    def has_definition(self, scope: DeploymentScope, name: str) -> bool:
        with self._db.read() as conn:
            return (
                conn.execute(
                    sa.select(_table.c.ordinal).where(_is_def(scope, name)).limit(1)
                ).first()
                is not None
            )


def ordinals_in(
    conn: sa.Connection, scope: DeploymentScope, name: str, keys: Collection[str]
) -> dict[str, int]:
    """`DynamicPartitionStorage.ordinals` inside a transaction of the caller's."""
    found: dict[str, int] = {}
    for chunk in _chunks(sorted(set(keys))):
        rows = conn.execute(
            sa.select(_table.c.partition_key, _table.c.ordinal).where(
                _is_def(scope, name),
                _table.c.partition_key.in_(chunk),
                _table.c.deleted_at.is_(None),
            )
        )
        found.update((row.partition_key, row.ordinal) for row in rows)
    return found


def keys_with_ordinals(
    conn: sa.Connection, scope: DeploymentScope, name: str, first: int, last: int
) -> list[str]:
    """The present keys of `name` whose ordinals run from `first` to `last`, in order."""
    rows = conn.execute(
        sa.select(_table.c.partition_key)
        .where(
            _is_def(scope, name),
            _table.c.ordinal.between(first, last),
            _table.c.deleted_at.is_(None),
        )
        .order_by(_table.c.ordinal)
    )
    return list(rows.scalars())


def _is_def(scope: DeploymentScope, name: str) -> sa.ColumnElement[bool]:
    return sa.and_(
        _table.c.deployment_id == scope.deployment_id, _table.c.partitions_def_name == name
    )


def _chunks(keys: Sequence[Any]) -> list[list[Any]]:
    return [list(keys[i : i + _KEYS_PER_QUERY]) for i in range(0, len(keys), _KEYS_PER_QUERY)]
