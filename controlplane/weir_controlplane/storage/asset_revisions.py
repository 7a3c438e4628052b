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

Each asset row also carries a stamp of the transaction that last changed it, so a reader
that already knows every asset's revision reads only the rows changed since (one indexed
range, a handful of rows after a materialization, where reading 10,000 revisions took a
quarter of a cold whole-graph lineage). Stamps need not be in commit order: a transaction
that stamps first may commit last. So a reader remembers a horizon, read before the rows:
every change it has not seen yet is stamped at or above it. On PostgreSQL the stamp is
the writer's transaction id and the horizon the xmin of a snapshot (every transaction
below it has ended, so its changes were visible to the read that followed); on SQLite,
whose writers take turns, the stamp is one more than the deployment's highest and the
horizon is the next such number. The rule holds across control-plane replicas on one
database, each following on its own.
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from collections.abc import Collection, Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from weir_controlplane.storage.dialects import insert, insert_rows, row_parameters
from weir_controlplane.storage.engine import Database
from weir_controlplane.storage.records import DeploymentScope
from weir_controlplane.storage.schema import asset_state_revisions, asset_state_versions

_revisions = asset_state_revisions.c
_versions = asset_state_versions.c
# PostgreSQL's transaction ids and snapshot horizons as numbers (xid8 has no cast to bigint).
_TRANSACTION_ID = sa.cast(sa.cast(sa.func.pg_current_xact_id(), sa.Text), sa.BigInteger)
_SNAPSHOT_XMIN = sa.cast(
    sa.cast(sa.func.pg_snapshot_xmin(sa.func.pg_current_snapshot()), sa.Text), sa.BigInteger
)
# One past the deployment's highest stamp (the index's last entry).
_NEXT_STAMP = sa.select(sa.func.coalesce(sa.func.max(_versions.changed), 0) + 1).where(
    _versions.deployment_id == sa.bindparam("b_deployment_id")
)
_CHANGED_SINCE = sa.select(_versions.asset_key, _versions.revision).where(
    _versions.deployment_id == sa.bindparam("b_deployment_id"),
    _versions.changed >= sa.bindparam("b_since"),
)
# Deployments whose revisions a process follows; the least recently read is dropped.
_FOLLOWED_DEPLOYMENTS = 64
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
        if dialect != "postgresql":  # PostgreSQL's statement stamps the rows itself
            changed = _next_stamp(conn, deployment_id)
            rows = [row | {"changed": changed} for row in rows]
        names, shared = _stamp_columns(dialect)
        conn.execute(_stamp(dialect), row_parameters(dialect, names, rows, shared))
    params = {"b_deployment_id": deployment_id}
    if dialect == "postgresql" and conn.execute(_BUMP_FREE_SLOT, params).first() is not None:
        return
    conn.execute(_new_slot(dialect), params)


def _next_stamp(conn: Connection, deployment_id: int) -> int:
    """What marks this transaction's changes on SQLite (see the module's docstring):
    this transaction holds the write lock (BEGIN IMMEDIATE), so no other writer can take
    the same number or commit a lower one after it."""
    return int(conn.execute(_NEXT_STAMP, {"b_deployment_id": deployment_id}).scalar_one())


_STAMPED = ("deployment_id", "asset_key", "revision")
_STAMP_SHARED = ("deployment_id", "revision")


def _stamp_columns(dialect: str) -> tuple[Sequence[str], Sequence[str]]:
    """The columns `_stamp` takes from the rows, and those of them every row shares. On
    PostgreSQL `changed` is the statement's own transaction id: one round trip less."""
    if dialect == "postgresql":
        return _STAMPED, _STAMP_SHARED
    return (*_STAMPED, "changed"), (*_STAMP_SHARED, "changed")


@functools.cache
def _stamp(dialect: str) -> sa.Executable:
    """Each asset's revision up by one (from 1 for a new one), marked as changed now."""
    names, shared = _stamp_columns(dialect)
    computed = {"changed": _TRANSACTION_ID} if dialect == "postgresql" else None
    statement = insert_rows(dialect, asset_state_versions, names, shared, computed)
    return statement.on_conflict_do_update(
        index_elements=["deployment_id", "asset_key"],
        set_={"revision": _versions.revision + 1, "changed": statement.excluded.changed},
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


class _Followed:
    """What a process knows of one deployment's asset revisions, as of its last read."""

    __slots__ = ("horizon", "lock", "revisions")

    def __init__(self) -> None:
        self.horizon = 0  # every change not read yet is stamped at or above this
        self.revisions: dict[str, int] = {}
        self.lock = threading.Lock()


class AssetRevisions:
    """Reads the revisions: one primary-key range for the deployment's, and for the assets'
    only the rows changed since this process last read them (one indexed range)."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._horizon = sa.select(_SNAPSHOT_XMIN) if db.dialect == "postgresql" else _NEXT_STAMP
        self._followed: OrderedDict[int, _Followed] = OrderedDict()
        self._followed_lock = threading.Lock()

    def current(self, scope: DeploymentScope) -> int:
        """The deployment's revision (0 before any recorded asset state)."""
        query = sa.select(sa.func.sum(_revisions.revision)).where(
            _revisions.deployment_id == scope.deployment_id
        )
        with self._db.read() as conn:
            return int(conn.execute(query).scalar_one_or_none() or 0)

    def of_assets(self, scope: DeploymentScope, asset_keys: Sequence[str]) -> dict[str, int]:
        """Each asset's revision, at least as new as every change committed before the call;
        an asset missing from the result is at 0 (its recorded state has not changed since
        revisions were kept)."""
        followed = self._follow(scope.deployment_id)
        params = {"b_deployment_id": scope.deployment_id}
        with followed.lock:  # one reader catches up at a time; the others use its read
            with self._db.read() as conn:
                horizon = int(conn.execute(self._horizon, params).scalar_one())
                if horizon < followed.horizon:  # behind ours (SQLite: a deployment anew)
                    followed.horizon, followed.revisions = 0, {}
                since = {**params, "b_since": followed.horizon}
                changed = conn.execute(_CHANGED_SINCE, since)
                followed.revisions.update({key: revision for key, revision in changed})
            followed.horizon = horizon
            known = followed.revisions
            return {key: known[key] for key in asset_keys if key in known}

    def forget(self, scope: DeploymentScope) -> None:
        """Drop what this process knows of a deleted deployment: SQLite may give its id to
        the next one, whose revisions start again from 0."""
        with self._followed_lock:
            self._followed.pop(scope.deployment_id, None)

    def _follow(self, deployment_id: int) -> _Followed:
        with self._followed_lock:
            followed = self._followed.get(deployment_id)
            if followed is None:
                followed = self._followed[deployment_id] = _Followed()
                while len(self._followed) > _FOLLOWED_DEPLOYMENTS:
                    self._followed.popitem(last=False)
            else:
                self._followed.move_to_end(deployment_id)
            return followed
