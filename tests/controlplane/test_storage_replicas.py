"""Replica membership: leases, exactly-once takeover of a dead replica, adoption of its runs."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from weir_controlplane.storage import NewRun, RunStatus, Storage
from weir_controlplane.storage.replicas import Replica

LEASE = timedelta(seconds=5)


@pytest.fixture
def own_storage(empty_database_url: str) -> Iterator[Storage]:
    """A database of its own: the membership table is not per deployment."""
    opened = Storage.open(empty_database_url)
    yield opened
    opened.close()


def _register(storage: Storage, address: str, now: datetime) -> Replica:
    replica = Replica.new(address, f"http://{address}", now=now)
    storage.replicas.register(replica, lease=LEASE, now=now)
    return replica


def test_a_replica_stays_live_while_it_beats_and_is_dead_once_its_lease_runs_out(
    own_storage: Storage,
) -> None:
    now = datetime.now(UTC)
    a = _register(own_storage, "127.0.0.1:4001", now)
    b = _register(own_storage, "127.0.0.1:4002", now)
    later = now + timedelta(seconds=4)
    assert own_storage.replicas.beat(a.replica_id, lease=LEASE, now=later)
    # At 6 s only `a` renewed: `b`'s lease (until 5 s) has run out.
    at_six = now + timedelta(seconds=6)
    assert own_storage.replicas.live_addresses(now=at_six) == ["127.0.0.1:4001"]
    taken = own_storage.replicas.take_over(a.replica_id, now=at_six)
    assert [replica.replica_id for replica in taken] == [b.replica_id]
    assert own_storage.replicas.take_over(a.replica_id, now=at_six) == []  # once
    listed = {r.replica_id: r for r in own_storage.replicas.list_replicas(now=at_six)}
    assert listed[b.replica_id].taken_over_by == a.replica_id
    assert listed[a.replica_id].live(at_six) and not listed[b.replica_id].live(at_six)
    # `b` wakes from its stall: it may not renew the lease it lost.
    assert not own_storage.replicas.beat(b.replica_id, lease=LEASE, now=at_six)


def test_of_several_survivors_exactly_one_takes_over_each_dead_replica(
    empty_database_url: str, own_storage: Storage
) -> None:
    now = datetime.now(UTC)
    dead = [_register(own_storage, f"127.0.0.1:50{n:02}", now - LEASE * 3) for n in range(5)]
    survivors = [_register(own_storage, f"127.0.0.1:51{n:02}", now) for n in range(4)]
    handles = [Storage.open(empty_database_url, migrate=False) for _ in survivors]
    barrier = threading.Barrier(len(survivors))
    won: dict[str, list[str]] = {}

    def race(storage: Storage, survivor: Replica) -> None:
        barrier.wait()
        won[survivor.replica_id] = [
            r.replica_id for r in storage.replicas.take_over(survivor.replica_id, now=now)
        ]

    threads = [
        threading.Thread(target=race, args=pair) for pair in zip(handles, survivors, strict=True)
    ]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        for handle in handles:
            handle.close()
    taken = [replica_id for claimed in won.values() for replica_id in claimed]
    assert sorted(taken) == sorted(r.replica_id for r in dead)  # each once, none missed


def test_adopting_moves_only_the_dead_replicas_runs_in_progress(own_storage: Storage) -> None:
    scope = own_storage.deployments.ensure_deployment("adopt")
    runs = own_storage.runs
    for _ in range(4):
        runs.create_run(scope, NewRun(code_location="etl", selection="*"))
    mine = runs.claim_queued(scope, max_in_progress=2, launched_by="dead")
    theirs = runs.claim_queued(scope, max_in_progress=4, launched_by="alive")
    assert {run.launched_by for run in mine} == {"dead"}
    finished = mine[1].run_id
    runs.transition(scope, finished, from_statuses={RunStatus.STARTING}, to=RunStatus.SUCCESS)
    adopted = runs.adopt_runs(scope, "dead", "survivor")
    assert [run.run_id for run in adopted] == [mine[0].run_id]
    assert adopted[0].launched_by == "survivor"
    assert runs.get_run(scope, finished).launched_by == "dead"  # ended: nothing to adopt
    assert {runs.get_run(scope, run.run_id).launched_by for run in theirs} == {"alive"}
    assert runs.adopt_runs(scope, "dead", "another") == []  # adopted once


def test_replicas_gone_for_an_hour_are_forgotten_once_handled(own_storage: Storage) -> None:
    now = datetime.now(UTC)
    gone = _register(own_storage, "127.0.0.1:4101", now - timedelta(hours=2))
    unhandled = _register(own_storage, "127.0.0.1:4102", now - timedelta(hours=2))
    survivor = _register(own_storage, "127.0.0.1:4103", now)
    own_storage.replicas.stop(gone.replica_id, now=now - timedelta(hours=2))
    assert own_storage.replicas.forget_old(now=now) == 1
    # Not yet taken over: kept until a live replica has adopted its runs.
    assert [r.replica_id for r in own_storage.replicas.take_over(survivor.replica_id, now=now)] == [
        unhandled.replica_id
    ]
    assert own_storage.replicas.forget_old(now=now) == 1
    assert [r.replica_id for r in own_storage.replicas.list_replicas(now=now)] == [
        survivor.replica_id
    ]
