"""The automation evaluator's storage: tick leases, per-asset state, evaluation history,
and the reads of derived asset and run state a tick evaluates from.

A tick is claimed with a conditional UPDATE of the deployment's `automation_ticks` row
(free, expired, or due and not leased), so of several replicas one evaluates each tick;
finishing it writes the assets' new state, the changed evaluations and the next tick
number in one transaction, and only while the lease is still held.

Reads go through derived tables (asset_latest, runs by status, run_assets by run), never
the event log.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple, cast

import sqlalchemy as sa
from weir_protos.v1 import automation_pb2, events_pb2

from weir_controlplane.storage import cursors, retention
from weir_controlplane.storage.bulk import encoder, insert_many
from weir_controlplane.storage.dialects import insert
from weir_controlplane.storage.engine import Database
from weir_controlplane.storage.records import DeploymentScope, Page, RunStatus
from weir_controlplane.storage.schema import (
    NO_PARTITION,
    asset_check_latest,
    asset_freshness,
    asset_latest,
    automation_asset_state,
    automation_evaluations,
    automation_shared_evaluations,
    automation_ticks,
    event_log,
    run_assets,
    run_tags,
    runs,
)

MAX_PAGE_SIZE = 1000
# Runs whose assets count as in progress or requested: not yet ended.
_UNENDED = tuple(
    s.value for s in (RunStatus.QUEUED, RunStatus.STARTING, RunStatus.STARTED, RunStatus.CANCELING)
)
_RUN_IDS_PER_QUERY = 5000
_KEYS_PER_QUERY = 5000


@dataclass(frozen=True)
class TickClaim:
    """A claimed tick: its number and what the previous tick left."""

    tick_number: int
    event_cursor: int
    previous_at: datetime | None
    carry: Mapping[str, Any]  # what the previous tick left for this one (see the daemon)


class LatestOutcome(NamedTuple):
    """One asset partition's row of asset_latest ('' is the unpartitioned partition); a
    tuple, as a tick on a graph's first load reads one per asset."""

    asset_key: str
    partition: str
    materialization_event_id: int | None
    materialization_run_id: str | None
    failure_event_id: int | None


@dataclass(frozen=True)
class LatestCheck:
    """One check partition's row of asset_check_latest: its latest evaluation."""

    asset_key: str
    check_name: str
    partition: str
    event_id: int
    run_id: str
    passed: bool


IndexPath = tuple[int, ...]  # a node of a message tree, child index by child index


@dataclass(frozen=True, eq=False)
class SharedTree:
    """An evaluated tree that several assets' evaluations of one tick are: stored once.
    `body` (a serialized weir.v1.AutomationConditionEvaluation) names the first asset's
    dependencies at `dependency_paths`; each asset's row gives its own there."""

    body: bytes
    dependency_paths: tuple[IndexPath, ...]


@dataclass(slots=True)  # not frozen: a graph's first ticks make one per asset (see AssetFacts)
class NewEvaluation:
    asset_key: str
    requested_count: int
    requested_partitions: Sequence[str]
    run_ids: Sequence[str]
    error: str | None
    body: bytes  # a serialized weir.v1.AutomationConditionEvaluation; b"" when shared
    shared: SharedTree | None = None
    # The asset's own, one per shared dependency path (keys without a newline).
    dependencies: tuple[str, ...] = ()


@dataclass(frozen=True)
class EvaluationRecord:
    evaluation_id: int
    asset_key: str
    tick_number: int
    evaluated_at: datetime
    requested_count: int
    requested_partitions: tuple[str, ...]
    run_ids: tuple[str, ...]
    error: str | None
    body: bytes


class AutomationStorage:
    """Example::

    claim = storage.automation.claim_tick(
        scope, owner="replica-1", now=now, interval=timedelta(seconds=30),
        lease=timedelta(minutes=2),
    )
    if claim is not None:
        ...  # evaluate
        storage.automation.finish_tick(scope, "replica-1", claim, ...)
    """

    def __init__(self, db: Database) -> None:
        self._db = db

    # --- ticks ----------------------------------------------------------------------------

    def claim_tick(
        self,
        scope: DeploymentScope,
        *,
        owner: str,
        now: datetime,
        interval: timedelta,
        lease: timedelta,
    ) -> TickClaim | None:
        """Take the deployment's next tick if it is due and no other replica holds it."""
        table = automation_ticks
        with self._db.write() as conn:
            conn.execute(
                insert(self._db.dialect, table)
                .values(deployment_id=scope.deployment_id, tick_number=1, event_cursor=0)
                .on_conflict_do_nothing(index_elements=["deployment_id"])
            )
            claimed = conn.execute(
                table.update()
                .where(
                    table.c.deployment_id == scope.deployment_id,
                    sa.or_(
                        table.c.lease_expires_at.is_(None),
                        table.c.lease_expires_at <= now,
                        table.c.lease_owner == owner,
                    ),
                    sa.or_(table.c.evaluated_at.is_(None), table.c.evaluated_at <= now - interval),
                )
                .values(lease_owner=owner, lease_expires_at=now + lease)
            ).rowcount
            if not claimed:
                return None
            row = conn.execute(
                sa.select(table).where(table.c.deployment_id == scope.deployment_id)
            ).one()
        return TickClaim(row.tick_number, row.event_cursor, row.evaluated_at, row.carry or {})

    def renew_tick(
        self,
        scope: DeploymentScope,
        owner: str,
        claim: TickClaim,
        *,
        now: datetime,
        lease: timedelta,
    ) -> bool:
        """Extend `owner`'s lease of the claimed tick to `lease` from `now`; False when
        it no longer holds it."""
        table = automation_ticks
        with self._db.write() as conn:
            return bool(
                conn.execute(
                    table.update()
                    .where(
                        table.c.deployment_id == scope.deployment_id,
                        table.c.lease_owner == owner,
                        table.c.tick_number == claim.tick_number,
                    )
                    .values(lease_expires_at=now + lease)
                ).rowcount
            )

    def finish_tick(
        self,
        scope: DeploymentScope,
        owner: str,
        claim: TickClaim,
        *,
        now: datetime,
        event_cursor: int,
        carry: Mapping[str, Any],
        states: Mapping[str, str],
        evaluations: Sequence[NewEvaluation],
    ) -> bool:
        """Store the tick's outcome (`states`: each asset's state as JSON text) and free
        the lease; False (storing nothing) if the lease was lost to another replica
        meanwhile."""
        table = automation_ticks
        with self._db.write() as conn:
            advanced = conn.execute(
                table.update()
                .where(
                    table.c.deployment_id == scope.deployment_id,
                    table.c.lease_owner == owner,
                    table.c.tick_number == claim.tick_number,
                )
                .values(
                    tick_number=claim.tick_number + 1,
                    event_cursor=event_cursor,
                    evaluated_at=now,
                    carry=dict(carry),
                    lease_owner=None,
                    lease_expires_at=None,
                )
            ).rowcount
            if not advanced:
                return False
            # Thousands of rows on a graph's first ticks: plain tuples in one executemany.
            insert_many(
                conn,
                automation_asset_state,
                {"deployment_id": scope.deployment_id, "updated_at": now},
                ["asset_key", "state"],
                states.items(),
                conflict=["deployment_id", "asset_key"],
                encoded=["state"],  # many copies' states are one text (automation/alike.py)
            )
            tree_ids = self._insert_shared_trees(conn, scope, now, evaluations)
            # The lists as JSON text, each distinct one encoded once; most rows' are empty.
            listed = encoder(conn, automation_evaluations, "requested_partitions")
            empty = listed(())
            rows = [
                (e.asset_key, e.requested_count,
                 listed(tuple(e.requested_partitions)) if e.requested_partitions else empty,
                 listed(tuple(e.run_ids)) if e.run_ids else empty,
                 e.error, e.body,
                 None if e.shared is None else tree_ids[id(e.shared)],
                 None if e.shared is None else "\n".join(e.dependencies))
                for e in evaluations
            ]  # fmt: skip
            shared = {
                "deployment_id": scope.deployment_id,
                "tick_number": claim.tick_number,
                "evaluated_at": now,
            }
            columns = ["asset_key", "requested_count", "requested_partitions", "run_ids", "error"]
            insert_many(
                conn,
                automation_evaluations,
                shared,
                [*columns, "body", "shared_id", "dependencies"],
                rows,
                # (The bodies as bytes: what both drivers take for a binary column.)
                encoded=["requested_partitions", "run_ids", "body"],
            )
        return True

    def _insert_shared_trees(
        self,
        conn: sa.Connection,
        scope: DeploymentScope,
        now: datetime,
        evaluations: Iterable[NewEvaluation],
    ) -> dict[int, int]:
        """Store each distinct shared tree once; id() of each -> its row id. A tick has
        one per situation several assets were in: few, each one INSERT."""
        trees = {id(e.shared): e.shared for e in evaluations if e.shared is not None}
        found = {}
        for key, tree in trees.items():
            inserted = conn.execute(
                automation_shared_evaluations.insert().values(
                    deployment_id=scope.deployment_id,
                    evaluated_at=now,
                    body=tree.body,
                    dependency_paths=[list(path) for path in tree.dependency_paths],
                )
            ).inserted_primary_key
            assert inserted is not None
            found[key] = int(inserted[0])
        return found

    # --- per-asset state and history ------------------------------------------------------

    def asset_states(self, scope: DeploymentScope) -> dict[str, dict[str, Any]]:
        """Every asset's remembered state, by asset key."""
        query = sa.select(automation_asset_state.c.asset_key, automation_asset_state.c.state).where(
            automation_asset_state.c.deployment_id == scope.deployment_id
        )
        with self._db.read() as conn:
            return {key: state for key, state in conn.execute(query).all()}

    def list_evaluations(
        self, scope: DeploymentScope, asset_key: str, *, cursor: str | None = None, limit: int = 100
    ) -> Page[EvaluationRecord]:
        """An asset's stored evaluations, newest first."""
        limit = max(1, min(limit, MAX_PAGE_SIZE))
        table, tree = automation_evaluations, automation_shared_evaluations
        query = (
            sa.select(
                table,
                tree.c.body.label("shared_body"),
                tree.c.dependency_paths,
            )
            .outerjoin(tree, tree.c.id == table.c.shared_id)
            .where(table.c.deployment_id == scope.deployment_id, table.c.asset_key == asset_key)
        )
        before = cursors.decode(cursor)
        if before is not None:
            query = query.where(table.c.id < before)
        with self._db.read() as conn:
            rows = conn.execute(query.order_by(table.c.id.desc()).limit(limit + 1)).all()
        items = tuple(
            EvaluationRecord(
                evaluation_id=row.id,
                asset_key=row.asset_key,
                tick_number=row.tick_number,
                evaluated_at=row.evaluated_at,
                requested_count=row.requested_count,
                requested_partitions=tuple(row.requested_partitions),
                run_ids=tuple(row.run_ids),
                error=row.error,
                body=_body(row),
            )
            for row in rows[:limit]
        )
        next_cursor = cursors.encode(items[-1].evaluation_id) if len(rows) > limit else None
        return Page(items=items, next_cursor=next_cursor)

    def prune_evaluations(
        self, scope: DeploymentScope, *, keep: int, older_than: datetime, limit: int = 1000
    ) -> int:
        """Delete up to `limit` of the deployment's evaluations from before `older_than`
        that have at least `keep` newer evaluations of their asset, and the shared trees
        from then that no evaluation names any more; how many evaluations."""
        pruned = retention.prune(
            self._db,
            automation_evaluations,
            scope,
            owner=["asset_key"],
            age="evaluated_at",
            keep=keep,
            older_than=older_than,
            limit=limit,
        )
        tree, named = automation_shared_evaluations, automation_evaluations.c
        # The evaluations naming a tree are of its tick: found by the age index.
        naming = sa.exists().where(
            named.deployment_id == tree.c.deployment_id,
            named.evaluated_at == tree.c.evaluated_at,
            named.shared_id == tree.c.id,
        )
        unnamed = (
            sa.select(tree.c.id)
            .where(
                tree.c.deployment_id == scope.deployment_id,
                tree.c.evaluated_at < older_than,
                ~naming,
            )
            .limit(limit)
        )
        with self._db.write() as conn:
            ids = list(conn.execute(unnamed).scalars())
            if ids:
                conn.execute(tree.delete().where(tree.c.id.in_(ids)))
        return pruned

    # --- what a tick evaluates from -------------------------------------------------------

    def changed_assets(self, scope: DeploymentScope, *, after: int) -> tuple[set[str], int]:
        """The assets with a materialization or failure past event id `after`, and the
        highest such id (`after` when none)."""
        t = asset_latest
        changed = sa.select(
            t.c.asset_key, t.c.materialization_event_id, t.c.failure_event_id
        ).where(
            t.c.deployment_id == scope.deployment_id,
            sa.or_(t.c.materialization_event_id > after, t.c.failure_event_id > after),
        )
        # The cursor comes from the same rows as the keys, in one statement: read apart
        # (PostgreSQL's statements each see what is committed when they start), an event
        # committed in between would be past the cursor without its asset counted changed.
        with self._db.read() as conn:
            rows = conn.execute(changed).all()
        if not rows:
            return set(), after
        # Column by column, without a Python step per row: a graph's first tick finds
        # every asset changed. (Event ids are positive: `filter` drops the Nones.)
        keys, materialized, failed = zip(*rows, strict=True)
        highest = max(
            after,
            max(filter(None, materialized), default=after),
            max(filter(None, failed), default=after),
        )
        return set(keys), highest

    def latest_outcomes(
        self, scope: DeploymentScope, asset_keys: Collection[str] | None = None
    ) -> list[LatestOutcome]:
        """The latest materialization and failure of every partition of `asset_keys`
        (None: every asset of the deployment)."""
        t = asset_latest
        query = sa.select(
            t.c.asset_key,
            t.c.partition,
            t.c.materialization_event_id,
            t.c.materialization_run_id,
            t.c.failure_event_id,
        ).where(t.c.deployment_id == scope.deployment_id)
        with self._db.read() as conn:
            # The rows as they come (fields by LatestOutcome's names, in its order), all at
            # once: iterating a result fetches row by row, a call per row.
            if asset_keys is None:
                return cast(list[LatestOutcome], conn.execute(query).all())
            ordered = sorted(set(asset_keys))
            found: list[Any] = []
            for start in range(0, len(ordered), _KEYS_PER_QUERY):
                chunk = ordered[start : start + _KEYS_PER_QUERY]
                found += conn.execute(query.where(t.c.asset_key.in_(chunk))).all()
            return cast(list[LatestOutcome], found)

    def freshness_states(self, scope: DeploymentScope) -> dict[str, str]:
        """The freshness state of every asset with a policy (the freshness daemon's)."""
        c = asset_freshness.c
        query = sa.select(c.asset_key, c.state).where(c.deployment_id == scope.deployment_id)
        with self._db.read() as conn:
            return {key: state for key, state in conn.execute(query)}

    def latest_checks(
        self, scope: DeploymentScope, asset_keys: Collection[str]
    ) -> list[LatestCheck]:
        """The latest evaluation of every check partition of `asset_keys`."""
        t = asset_check_latest
        query = sa.select(
            t.c.asset_key, t.c.check_name, t.c.partition, t.c.event_id, t.c.run_id, t.c.passed
        ).where(t.c.deployment_id == scope.deployment_id)
        ordered = sorted(set(asset_keys))
        found = []
        with self._db.read() as conn:
            for start in range(0, len(ordered), _KEYS_PER_QUERY):
                chunk = t.c.asset_key.in_(ordered[start : start + _KEYS_PER_QUERY])
                found += [LatestCheck(*row) for row in conn.execute(query.where(chunk))]
        return found

    def materialization_data_versions(
        self, scope: DeploymentScope, event_ids: Collection[int]
    ) -> dict[int, str]:
        """The data version of each materialization event ('' when it has none); by the
        events' ids, so the cost is the events asked for."""
        found: dict[int, str] = {}
        ordered = sorted(set(event_ids))
        with self._db.read() as conn:
            for start in range(0, len(ordered), _KEYS_PER_QUERY):
                query = sa.select(event_log.c.id, event_log.c.payload).where(
                    event_log.c.deployment_id == scope.deployment_id,
                    event_log.c.id.in_(ordered[start : start + _KEYS_PER_QUERY]),
                )
                for row in conn.execute(query):
                    event = events_pb2.RunEvent.FromString(row.payload or b"")
                    found[row.id] = event.materialization.data_version
        return found

    def unended_run_partitions(
        self, scope: DeploymentScope, *, tagged: str
    ) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
        """Per asset, the partitions ('' for none) of its queued or running runs, and of
        those of them that carry tag `tagged`; through the runs' status index, so the cost
        is the runs not yet ended."""
        tag = run_tags.alias("tag")
        query = (
            sa.select(run_assets.c.asset_key, runs.c.partition_key, tag.c.run_id.label("tagged"))
            .join(run_assets, run_assets.c.run_id == runs.c.run_id)
            .outerjoin(tag, sa.and_(tag.c.run_id == runs.c.run_id, tag.c.key == tagged))
            .where(runs.c.deployment_id == scope.deployment_id, runs.c.status.in_(_UNENDED))
        )
        found: dict[str, set[str]] = defaultdict(set)
        with_tag: dict[str, set[str]] = defaultdict(set)
        with self._db.read() as conn:
            for row in conn.execute(query):
                partition = row.partition_key or NO_PARTITION
                found[row.asset_key].add(partition)
                if row.tagged is not None:
                    with_tag[row.asset_key].add(partition)
        return dict(found), dict(with_tag)

    def run_targets(
        self, scope: DeploymentScope, run_ids: Collection[str]
    ) -> dict[str, frozenset[str]]:
        """The assets each run targeted."""
        found: dict[str, set[str]] = defaultdict(set)
        ordered = sorted(set(run_ids))
        with self._db.read() as conn:
            for start in range(0, len(ordered), _RUN_IDS_PER_QUERY):
                query = sa.select(run_assets.c.run_id, run_assets.c.asset_key).where(
                    run_assets.c.deployment_id == scope.deployment_id,
                    run_assets.c.run_id.in_(ordered[start : start + _RUN_IDS_PER_QUERY]),
                )
                for row in conn.execute(query):
                    found[row.run_id].add(row.asset_key)
        return {run_id: frozenset(found.get(run_id, ())) for run_id in ordered}


def copied_message(
    message: automation_pb2.AutomationConditionEvaluation,
    dependencies: Iterable[tuple[IndexPath, str]],
) -> automation_pb2.AutomationConditionEvaluation:
    """A copy of `message` in which the node at each index path (child by child from the
    root) names the dependency given with it instead."""
    copy = automation_pb2.AutomationConditionEvaluation()
    copy.CopyFrom(message)
    for at, dependency in dependencies:
        node = copy
        for index in at:
            node = node.children[index]
        del node.dependency.path[:]
        node.dependency.path.extend(dependency.split("/"))
    return copy


def _body(row: sa.Row[Any]) -> bytes:
    """An evaluation's message: its own, or the shared tree naming its dependencies."""
    if row.shared_id is None:
        return bytes(row.body)
    shared = automation_pb2.AutomationConditionEvaluation.FromString(row.shared_body)
    paths = [tuple(path) for path in row.dependency_paths]
    dependencies = row.dependencies.split("\n") if paths else []
    return copied_message(shared, zip(paths, dependencies, strict=True)).SerializeToString()
