"""ReplicaMembership: this replica's row in the membership table, and taking over dead ones.

Every `interval` the replica renews its lease (storage/replicas.py), refreshes the other
live replicas' reporting addresses (which run workers get in ExecuteRun), and claims any
replica whose lease ran out. Claiming is a conditional UPDATE, so of several survivors
exactly one adopts each dead replica's runs (`RunCoordinator.adopt`). The daemons' own
leases (ticks, automation, backfills) need nothing here: they expire on their own and a
live replica takes them then.

A replica that stalled past its lease and finds itself taken over registers again under
a new id: its old runs belong to the survivor now.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import timedelta

from weir_controlplane.runs.coordinator import RunCoordinator
from weir_controlplane.storage import Storage
from weir_controlplane.storage.errors import DatabaseUnavailableError
from weir_controlplane.storage.replicas import Replica

log = logging.getLogger(__name__)
# Beats between sweeps of replicas gone (and handled) for over an hour.
_FORGET_EVERY = 300


@dataclass(frozen=True)
class MembershipSettings:
    interval: float = 1.0  # seconds between lease renewals
    # A replica silent this long is dead: several intervals, so one slow beat is fine,
    # and well under the run heartbeat timeout, so a dead replica's STARTING runs are
    # launched again before the run monitor would judge them.
    lease: float = 5.0


class ReplicaMembership:
    def __init__(
        self,
        storage: Storage,
        coordinator: RunCoordinator,
        *,
        http_address: str,
        settings: MembershipSettings | None = None,
    ) -> None:
        self._storage = storage
        self._coordinator = coordinator
        self._http_address = http_address
        self.settings = settings or MembershipSettings()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._beats = 0

    @property
    def replica_id(self) -> str:
        return self._coordinator.replica_id

    def start(self) -> None:
        """Register (before the queue claims anything under this replica's id)."""
        self._register()
        self._coordinator.refresh_peers = self._refresh_peers
        self._thread = threading.Thread(target=self._loop, name="replica-membership", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(5)
        try:
            self._storage.replicas.stop(self.replica_id)
        except Exception:  # a stop never fails; the lease then runs out on its own
            log.exception("could not mark replica %s stopped", self.replica_id)

    def _register(self) -> None:
        replica = Replica.new(self._coordinator.reporting_address, self._http_address)
        self._storage.replicas.register(replica, lease=self._lease)
        self._coordinator.replica_id = replica.replica_id
        log.info(
            "replica %s registered (reporting address %s)",
            replica.replica_id, replica.reporting_address,
        )  # fmt: skip
        self._refresh_peers()

    @property
    def _lease(self) -> timedelta:
        return timedelta(seconds=self.settings.lease)

    def _loop(self) -> None:
        while not self._stopping.wait(self.settings.interval):
            try:
                self.beat()
            except DatabaseUnavailableError:
                log.warning("replica membership: the database is unavailable; retrying")
            except Exception:
                log.exception("replica membership pass failed; retrying")

    def beat(self) -> None:
        """One pass: renew, refresh the peers, take over the dead."""
        if not self._storage.replicas.beat(self.replica_id, lease=self._lease):
            log.warning(
                "replica %s was declared dead (it stalled past its %s s lease) and its "
                "runs taken over; registering again",
                self.replica_id, self.settings.lease,
            )  # fmt: skip
            self._register()
        self._refresh_peers()
        for dead in self._storage.replicas.take_over(self.replica_id):
            self._take_over(dead)
        self._beats += 1
        if self._beats % _FORGET_EVERY == 0:
            self._storage.replicas.forget_old()

    def _refresh_peers(self) -> None:
        addresses = self._storage.replicas.live_addresses()
        self._coordinator.peer_addresses = tuple(
            address for address in addresses if address != self._coordinator.reporting_address
        )

    def _take_over(self, dead: Replica) -> None:
        started = time.monotonic()
        how = "stopped" if dead.stopped_at is not None else "died"
        adopted = 0
        for scope in self._storage.deployments.all_scopes():
            adopted += len(self._coordinator.adopt(scope, dead.replica_id))
        log.warning(
            "replica %s took over replica %s (%s, pid %s on %s; last heartbeat %s): "
            "%d runs adopted in %.3f s",
            self.replica_id, dead.replica_id, how, dead.pid, dead.hostname,
            dead.last_beat_at.isoformat(timespec="seconds"), adopted, time.monotonic() - started,
        )  # fmt: skip
