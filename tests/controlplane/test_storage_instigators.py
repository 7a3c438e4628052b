"""Schedule and sensor state: leases, stored ticks, the tick history, on both databases."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from weir_controlplane.storage import (
    DeploymentScope,
    InstigatorKind,
    InstigatorStatus,
    NewTick,
    Storage,
    TickStatus,
)

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SENSOR, SCHEDULE = InstigatorKind.SENSOR, InstigatorKind.SCHEDULE
KEY = ("etl", "new_files")


def test_a_lease_goes_to_one_claimant_until_it_expires(
    storage: Storage, scope: DeploymentScope
) -> None:
    state = storage.instigators.get(scope, SENSOR, KEY)
    assert state.status is None and state.cursor is None and state.lease_owner is None
    assert storage.instigators.claim(scope, state, "a", ttl=60, now=T0)
    assert not storage.instigators.claim(scope, state, "b", ttl=60, now=T0 + timedelta(seconds=59))
    # A stalled holder's lease runs out and another replica takes over.
    assert storage.instigators.claim(scope, state, "b", ttl=60, now=T0 + timedelta(seconds=61))
    # The stalled one can no longer store its tick over the new holder's.
    late = NewTick(TickStatus.SUCCESS, T0, run_keys=["k"])
    assert storage.instigators.finish(scope, state, "a", late, cursor="stale") is None
    assert storage.instigators.list_ticks(scope, SENSOR, KEY).items == ()


def test_replicas_racing_for_one_row_claim_it_once(
    storage: Storage, scope: DeploymentScope
) -> None:
    state = storage.instigators.get(scope, SENSOR, KEY)
    winners: list[str] = []
    start = threading.Barrier(8)

    def race(owner: str) -> None:
        start.wait()
        if storage.instigators.claim(scope, state, owner, ttl=60):
            winners.append(owner)

    threads = [threading.Thread(target=race, args=(f"r{i}",)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(winners) == 1


def test_finishing_stores_the_tick_and_state_and_frees_the_row(
    storage: Storage, scope: DeploymentScope
) -> None:
    state = storage.instigators.get(scope, SENSOR, KEY)
    assert storage.instigators.claim(scope, state, "a", ttl=60, now=T0)
    tick = NewTick(
        TickStatus.SUCCESS, T0, run_ids=["r1"], run_keys=["k1"], cursor_before=None,
        cursor_after="1",
    )  # fmt: skip
    after = storage.instigators.finish(
        scope, state, "a", tick, cursor="1", last_tick_at=T0, last_run_key="k1", now=T0
    )
    assert after is not None
    assert (after.cursor, after.last_run_key, after.last_tick_at) == ("1", "k1", T0)
    assert after.lease_owner is None and after.version == state.version + 1
    # A replica holding the state read before the tick cannot claim it: it would tick twice.
    assert not storage.instigators.claim(scope, state, "b", ttl=60, now=T0)
    assert storage.instigators.claim(scope, after, "b", ttl=60, now=T0)
    [stored] = storage.instigators.list_ticks(scope, SENSOR, KEY).items
    assert (stored.status, stored.run_ids, stored.run_keys) == (
        TickStatus.SUCCESS,
        ("r1",),
        ("k1",),
    )
    assert (stored.cursor_before, stored.cursor_after) == (None, "1")


def test_a_cron_time_is_stored_once(storage: Storage, scope: DeploymentScope) -> None:
    state = storage.instigators.get(scope, SCHEDULE, KEY)
    assert storage.instigators.claim(scope, state, "a", ttl=60, now=T0)
    tick = NewTick(TickStatus.SKIPPED, T0)
    first = storage.instigators.finish(scope, state, "a", tick, last_tick_at=T0, keep_lease=True)
    assert first is not None and first.lease_owner == "a"
    # The same cron time again (a bug, a rewound clock): refused, the position unchanged.
    assert storage.instigators.finish(scope, first, "a", tick, last_tick_at=T0) is None
    assert len(storage.instigators.list_ticks(scope, SCHEDULE, KEY).items) == 1


def test_a_stop_meanwhile_wins_over_the_tick_in_flight(
    storage: Storage, scope: DeploymentScope
) -> None:
    state = storage.instigators.get(scope, SENSOR, KEY)
    assert storage.instigators.claim(scope, state, "a", ttl=60)
    stopped = storage.instigators.update(scope, SENSOR, KEY, status=InstigatorStatus.STOPPED)
    assert stopped.status is InstigatorStatus.STOPPED
    tick = NewTick(TickStatus.SUCCESS, T0, cursor_after="9")
    assert storage.instigators.finish(scope, state, "a", tick, cursor="9") is None
    assert storage.instigators.get(scope, SENSOR, KEY).cursor is None


def test_ticks_list_newest_first_in_pages_and_the_latest_per_sensor(
    storage: Storage, scope: DeploymentScope
) -> None:
    other = ("etl", "other")
    for key in (KEY, other):
        state = storage.instigators.get(scope, SENSOR, key)
        for second in range(5):
            assert storage.instigators.claim(scope, state, "a", ttl=60)
            moment = T0 + timedelta(seconds=second)
            finished = storage.instigators.finish(
                scope, state, "a", NewTick(TickStatus.SKIPPED, moment, skip_reason=str(second))
            )
            assert finished is not None
            state = finished
    page = storage.instigators.list_ticks(scope, SENSOR, KEY, limit=3)
    assert [t.skip_reason for t in page.items] == ["4", "3", "2"]
    rest = storage.instigators.list_ticks(scope, SENSOR, KEY, cursor=page.next_cursor, limit=3)
    assert [t.skip_reason for t in rest.items] == ["1", "0"] and rest.next_cursor is None
    latest = storage.instigators.latest_ticks(scope, SENSOR, [KEY, other, ("etl", "none")])
    assert {key: tick.skip_reason for key, tick in latest.items()} == {KEY: "4", other: "4"}


def test_state_belongs_to_its_deployment(storage: Storage, scope: DeploymentScope) -> None:
    storage.instigators.update(scope, SENSOR, KEY, status=InstigatorStatus.RUNNING, cursor="c")
    elsewhere = storage.deployments.ensure_deployment(f"{scope.name}-other")
    assert storage.instigators.states(elsewhere, SENSOR) == {}
    assert storage.instigators.get(elsewhere, SENSOR, KEY).cursor is None


def test_a_renewed_lease_outlives_its_first_expiry_until_its_holder_stops_renewing(
    storage: Storage, scope: DeploymentScope
) -> None:
    state = storage.instigators.get(scope, SENSOR, KEY)
    assert storage.instigators.claim(scope, state, "a", ttl=10, now=T0)
    assert storage.instigators.renew(scope, state, "a", ttl=10, now=T0 + timedelta(seconds=8))
    # Past the first expiry, the renewed lease still holds.
    assert not storage.instigators.claim(scope, state, "b", ttl=10, now=T0 + timedelta(seconds=15))
    # The holder stops renewing (killed): 10 s after its last renewal another takes over.
    assert storage.instigators.claim(scope, state, "b", ttl=10, now=T0 + timedelta(seconds=19))
    assert not storage.instigators.renew(scope, state, "a", ttl=10, now=T0 + timedelta(seconds=20))


def _tick_with(
    storage: Storage, scope: DeploymentScope, kind: InstigatorKind, tick: NewTick, owner: str = "a"
) -> None:
    state = storage.instigators.get(scope, kind, KEY)
    assert storage.instigators.claim(scope, state, owner, ttl=60, now=tick.tick_time)
    stored = storage.instigators.finish(
        scope, state, owner, tick, last_tick_at=tick.tick_time, now=tick.tick_time
    )
    assert stored is not None


def _skip(at: datetime, reason: str = "nothing new", cursor: str | None = "7") -> NewTick:
    return NewTick(
        TickStatus.SKIPPED, at, skip_reason=reason, cursor_before=cursor, cursor_after=cursor
    )


def test_an_idle_sensors_identical_skips_are_one_tick_with_a_count(
    storage: Storage, scope: DeploymentScope
) -> None:
    minute = timedelta(minutes=1)
    for i in range(5):
        _tick_with(storage, scope, SENSOR, _skip(T0 + i * minute))
    [idle] = storage.instigators.list_ticks(scope, SENSOR, KEY).items
    assert (idle.status, idle.repeat_count) == (TickStatus.SKIPPED, 5)
    assert (idle.tick_time, idle.last_tick_time, idle.ended_at) == (
        T0,
        T0 + 4 * minute,
        T0 + 4 * minute,
    )

    # A different reason, a moved cursor or a run breaks the streak; a new one starts after.
    _tick_with(storage, scope, SENSOR, _skip(T0 + 5 * minute, reason="no new file"))
    _tick_with(storage, scope, SENSOR, _skip(T0 + 6 * minute, reason="no new file", cursor="8"))
    _tick_with(storage, scope, SENSOR, NewTick(TickStatus.SUCCESS, T0 + 7 * minute, run_keys=["k"]))
    _tick_with(storage, scope, SENSOR, _skip(T0 + 8 * minute))
    _tick_with(storage, scope, SENSOR, _skip(T0 + 9 * minute))
    ticks = storage.instigators.list_ticks(scope, SENSOR, KEY).items
    assert [(t.status, t.repeat_count) for t in ticks] == [
        (TickStatus.SKIPPED, 2),
        (TickStatus.SUCCESS, 1),
        (TickStatus.SKIPPED, 1),
        (TickStatus.SKIPPED, 1),
        (TickStatus.SKIPPED, 5),
    ]
    assert ticks[2].last_tick_time is None
    assert storage.instigators.latest_ticks(scope, SENSOR, [KEY])[KEY].repeat_count == 2

    # A schedule's ticks are one per cron time, skipped or not.
    for i in range(3):
        _tick_with(storage, scope, SCHEDULE, _skip(T0 + i * minute, cursor=None))
    assert len(storage.instigators.list_ticks(scope, SCHEDULE, KEY).items) == 3


def test_pruning_keeps_the_newest_ticks_and_the_young_ones_in_batches(
    storage: Storage, scope: DeploymentScope
) -> None:
    hour = timedelta(hours=1)
    other = ("etl", "other")
    for i in range(10):  # alternating results, so none are folded together
        tick = NewTick(TickStatus.SUCCESS if i % 2 else TickStatus.FAILURE, T0 + i * hour)
        _tick_with(storage, scope, SENSOR, tick)
    state = storage.instigators.get(scope, SENSOR, other)
    assert storage.instigators.claim(scope, state, "a", ttl=60, now=T0)
    storage.instigators.finish(scope, state, "a", NewTick(TickStatus.FAILURE, T0), now=T0)

    prune = storage.instigators.prune_ticks
    # Older than T0 + 6 h and not among the newest 3 of its sensor: the first 6 ticks.
    assert prune(scope, keep=3, older_than=T0 + 6 * hour, limit=4) == 4
    assert prune(scope, keep=3, older_than=T0 + 6 * hour, limit=4) == 2
    assert prune(scope, keep=3, older_than=T0 + 6 * hour, limit=4) == 0
    times = [t.tick_time for t in storage.instigators.list_ticks(scope, SENSOR, KEY).items]
    assert times == [T0 + i * hour for i in range(9, 5, -1)]
    # Everything old, but the newest 3 stay; the other sensor's one tick is its newest.
    assert prune(scope, keep=3, older_than=T0 + 100 * hour) == 1
    assert len(storage.instigators.list_ticks(scope, SENSOR, KEY).items) == 3
    assert len(storage.instigators.list_ticks(scope, SENSOR, other).items) == 1
    # keep=0: age alone.
    assert prune(scope, keep=0, older_than=T0 + 100 * hour) == 4
