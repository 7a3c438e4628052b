"""Revisions of recorded asset state: one per deployment, and one per asset.

Every transaction that changes what the asset reads show of recorded state (a latest
materialization or failure, a check result, health, freshness) calls `bump` with the
assets it changed, before it commits: it moves the deployment's revision and each of
those assets' own. A reader that takes a revision before reading the state knows the
state is at least that new, so what it builds from it may be reused while the revision
stays the same: a whole reply under the deployment's revision (api/reply_cache.py), one
asset's part of it under that asset's (api/asset_fragments.py). Nothing is ever served
after a change it does not show.

An asset's revision counts its changes: each bump adds one to its row, which the
transaction holds until it commits, so two writers of one asset take turns (they hold
its other rows in turn already) and writers of different assets never meet here. The
rows are locked in key order, last in the transaction, after the asset rows.

The revision is the sum of counters (slots) per deployment. One row would hold every
ingest transaction of a deployment, from its bump until it commits, behind the one before
it: on PostgreSQL, concurrent runs would commit one at a time. A transaction bumps the
first slot no other transaction holds (SKIP LOCKED), adding one when all are held, so
concurrent writers commit side by side and do not wait on this table; the sum still counts
every committed bump, so it changes with every change. A slot is added only while every
other is held: there are never more than the most writers that ever bumped at once.
SQLite has one writer at a time and one slot.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from weir_controlplane.storage.dialects import in_list, insert, insert_rows, row_parameters
from weir_controlplane.storage.engine import Database
from weir_controlplane.storage.records import DeploymentScope
from weir_controlplane.storage.schema import asset_state_revisions, asset_state_versions

_revisions = asset_state_revisions.c
# The first slot no other transaction holds; a slot this transaction holds already is not
# skipped, so bumping twice never waits either.
_FREE_SLOT = (
    sa.select(_revisions.slot)
    .where(_revisions.deployment_id == sa.bindparam("b_deployment_id"))
    .order_by(_revisions.slot)
    .limit(1)
    .with_for_update(skip_locked=True)
    .scalar_subquery()
)
_BUMP_FREE_SLOT = (
    asset_state_revisions.update()
    .where(
        _revisions.deployment_id == sa.bindparam("b_deployment_id"), _revisions.slot == _FREE_SLOT
    )
    .values(revision=_revisions.revision + 1)
    .returning(_revisions.slot)
)


def bump(conn: Connection, dialect: str, deployment_id: int, asset_keys: Collection[str]) -> None:
    """The recorded state of `asset_keys` in the deployment changes in this transaction."""
    if asset_keys:
        rows = [
            {"deployment_id": deployment_id, "asset_key": key, "revision": 1}
            for key in sorted(asset_keys)  # one lock order for every writer
        ]
        conn.execute(_stamp(dialect), row_parameters(dialect, _STAMPED, rows, _STAMP_SHARED))
    params = {"b_deployment_id": deployment_id}
    if dialect == "postgresql" and conn.execute(_BUMP_FREE_SLOT, params).first() is not None:
        return
    conn.execute(_new_slot(dialect), params)


_STAMPED = ("deployment_id", "asset_key", "revision")
_STAMP_SHARED = ("deployment_id", "revision")


@functools.cache
def _stamp(dialect: str) -> sa.Executable:
    """Each asset's revision up by one (from 1 for a new one)."""
    statement = insert_rows(dialect, asset_state_versions, _STAMPED, _STAMP_SHARED)
    return statement.on_conflict_do_update(
        index_elements=["deployment_id", "asset_key"],
        set_={"revision": asset_state_versions.c.revision + 1},
    )


@functools.cache
def _new_slot(dialect: str) -> sa.Executable:
    """A slot of this session's own (slot 0 on SQLite), or a bump of it if it exists.

    PostgreSQL: numbered by the backend's pid, which no other live session has, so two
    transactions adding slots at once never wait on each other's uncommitted row."""
    slot = sa.func.pg_backend_pid() if dialect == "postgresql" else sa.literal(0)
    statement = insert(dialect, asset_state_revisions).values(
        deployment_id=sa.bindparam("b_deployment_id"), slot=slot, revision=1
    )
    return statement.on_conflict_do_update(
        index_elements=["deployment_id", "slot"], set_={"revision": _revisions.revision + 1}
    )


class AssetRevisions:
    """Reads the revisions: one primary-key range, or one indexed read per page."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def current(self, scope: DeploymentScope) -> int:
        """The deployment's revision (0 before any recorded asset state)."""
        query = sa.select(sa.func.sum(_revisions.revision)).where(
            _revisions.deployment_id == scope.deployment_id
        )
        with self._db.read() as conn:
            return int(conn.execute(query).scalar_one_or_none() or 0)

    def of_assets(self, scope: DeploymentScope, asset_keys: Sequence[str]) -> dict[str, int]:
        """Each asset's revision; an asset missing from the result is at 0 (its recorded
        state has not changed since revisions were kept)."""
        c = asset_state_versions.c
        query = sa.select(c.asset_key, c.revision).where(
            c.deployment_id == scope.deployment_id,
            in_list(self._db.dialect, c.asset_key, asset_keys),
        )
        with self._db.read() as conn:
            return {key: revision for key, revision in conn.execute(query)}
