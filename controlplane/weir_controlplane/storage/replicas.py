"""Control-plane replica membership: a row per replica with a heartbeat lease.

Each replica registers at start, renews its lease every beat and marks itself stopped on a
clean stop. A replica whose lease ran out without a clean stop is dead; `take_over` lets
exactly one live replica claim its work (a conditional UPDATE on `taken_over_by`), and
`RunStorage.adopt_runs` then moves the dead replica's runs to the survivor.

Example::

    replicas.register(Replica.new("127.0.0.1:4000", "http://127.0.0.1:3000"), lease=lease)
    replicas.beat(replica_id, lease=lease)
    for dead in replicas.take_over(replica_id):
        ...  # adopt dead.replica_id's runs
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Row

from weir_controlplane.storage.engine import Database
from weir_controlplane.storage.schema import control_plane_replicas as replicas

# Rows of replicas that stopped or were taken over are kept this long for the listing.
FORGET_AFTER = timedelta(hours=1)


@dataclass(frozen=True)
class Replica:
    replica_id: str
    reporting_address: str  # the gRPC address its run workers report to
    http_address: str
    hostname: str
    pid: int
    started_at: datetime
    last_beat_at: datetime
    lease_until: datetime
    stopped_at: datetime | None = None
    taken_over_by: str | None = None
    taken_over_at: datetime | None = None

    def live(self, now: datetime) -> bool:
        return self.stopped_at is None and self.lease_until >= now

    @classmethod
    def new(cls, reporting_address: str, http_address: str, now: datetime | None = None) -> Replica:
        now = now or datetime.now(UTC)
        return cls(
            replica_id=str(uuid.uuid4()),
            reporting_address=reporting_address,
            http_address=http_address,
            hostname=socket.gethostname()[:255],
            pid=os.getpid(),
            started_at=now,
            last_beat_at=now,
            lease_until=now,
        )


class ReplicaStorage:
    def __init__(self, db: Database) -> None:
        self._db = db

    def register(self, replica: Replica, *, lease: timedelta, now: datetime | None = None) -> None:
        now = now or datetime.now(UTC)
        with self._db.write() as conn:
            conn.execute(
                replicas.insert().values(
                    replica_id=replica.replica_id,
                    reporting_address=replica.reporting_address,
                    http_address=replica.http_address,
                    hostname=replica.hostname,
                    pid=replica.pid,
                    started_at=replica.started_at,
                    last_beat_at=now,
                    lease_until=now + lease,
                )
            )

    def beat(self, replica_id: str, *, lease: timedelta, now: datetime | None = None) -> bool:
        """Renew the lease; False if the replica was declared dead and taken over meanwhile
        (it stalled past its lease): it must not go on as if it still held its work."""
        now = now or datetime.now(UTC)
        with self._db.write() as conn:
            renewed = conn.execute(
                replicas.update()
                .where(replicas.c.replica_id == replica_id, replicas.c.taken_over_by.is_(None))
                .values(last_beat_at=now, lease_until=now + lease)
            ).rowcount
        return renewed == 1

    def stop(self, replica_id: str, *, now: datetime | None = None) -> None:
        """A clean stop: the replica handed its work back (its runs stay with their workers)."""
        now = now or datetime.now(UTC)
        with self._db.write() as conn:
            conn.execute(
                replicas.update()
                .where(replicas.c.replica_id == replica_id)
                .values(stopped_at=now, lease_until=now)
            )

    def take_over(self, survivor: str, *, now: datetime | None = None) -> list[Replica]:
        """Claim every replica whose lease expired (or that stopped) and that no one has
        taken over yet; the ones `survivor` claimed. Of several live replicas calling at
        once, each dead one goes to exactly one."""
        now = now or datetime.now(UTC)
        expired = sa.select(replicas.c.replica_id).where(
            replicas.c.taken_over_by.is_(None),
            replicas.c.replica_id != survivor,
            sa.or_(replicas.c.lease_until < now, replicas.c.stopped_at.is_not(None)),
        )
        claimed: list[Replica] = []
        with self._db.read() as conn:
            candidates = list(conn.execute(expired).scalars())
        for replica_id in candidates:
            with self._db.write() as conn:
                row = conn.execute(
                    replicas.update()
                    .where(
                        replicas.c.replica_id == replica_id,
                        replicas.c.taken_over_by.is_(None),
                        sa.or_(replicas.c.lease_until < now, replicas.c.stopped_at.is_not(None)),
                    )
                    .values(taken_over_by=survivor, taken_over_at=now)
                    .returning(*replicas.c)
                ).first()
            if row is not None:
                claimed.append(_replica(row))
        return claimed

    def list_replicas(self, *, now: datetime | None = None) -> list[Replica]:
        """Every replica seen in the last hour, the oldest first."""
        now = now or datetime.now(UTC)
        query = (
            sa.select(replicas)
            .where(replicas.c.lease_until >= now - FORGET_AFTER)
            .order_by(replicas.c.started_at, replicas.c.replica_id)
        )
        with self._db.read() as conn:
            return [_replica(row) for row in conn.execute(query)]

    def live_addresses(self, *, now: datetime | None = None) -> list[str]:
        """The reporting addresses of the live replicas, the longest-lived first."""
        now = now or datetime.now(UTC)
        query = (
            sa.select(replicas.c.reporting_address)
            .where(replicas.c.lease_until >= now, replicas.c.stopped_at.is_(None))
            .order_by(replicas.c.started_at, replicas.c.replica_id)
        )
        with self._db.read() as conn:
            return list(dict.fromkeys(conn.execute(query).scalars()))

    def forget_old(self, *, now: datetime | None = None) -> int:
        """Delete rows of replicas gone (and handled) for over an hour."""
        now = now or datetime.now(UTC)
        with self._db.write() as conn:
            return conn.execute(
                replicas.delete().where(
                    replicas.c.lease_until < now - FORGET_AFTER,
                    sa.or_(
                        replicas.c.taken_over_by.is_not(None), replicas.c.stopped_at.is_not(None)
                    ),
                )
            ).rowcount


def _replica(row: Row[Any]) -> Replica:
    return Replica(
        replica_id=row.replica_id,
        reporting_address=row.reporting_address,
        http_address=row.http_address,
        hostname=row.hostname,
        pid=row.pid,
        started_at=row.started_at,
        last_beat_at=row.last_beat_at,
        lease_until=row.lease_until,
        stopped_at=row.stopped_at,
        taken_over_by=row.taken_over_by,
        taken_over_at=row.taken_over_at,
    )
