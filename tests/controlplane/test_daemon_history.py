"""Leases kept while long work runs, and history retention, on both databases: a short
lease that a live replica renews, a killed one's lease taken over quickly, and old ticks
and evaluations deleted in batches by the retention daemon."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from weir_controlplane.daemons import RetentionDaemon, RetentionSettings, SystemClock
from weir_controlplane.daemons.leases import renewed
from weir_controlplane.storage import (
    DeploymentScope,
    InstigatorKind,
    NewTick,
    Storage,
    TickStatus,
)
from weir_controlplane.storage.automation import NewEvaluation

SENSOR = InstigatorKind.SENSOR
KEY = ("etl", "slow")
TTL = 0.6


def _now() -> datetime:
    return datetime.now(UTC)


def test_a_lease_renewed_while_its_work_runs_holds_past_its_ttl_then_lapses_quickly(
    storage: Storage, scope: DeploymentScope
) -> None:
    state = storage.instigators.get(scope, SENSOR, KEY)
    instigators = storage.instigators
    assert instigators.claim(scope, state, "a", ttl=TTL, now=_now())

    def renew(at: datetime) -> bool:
        return instigators.renew(scope, state, "a", ttl=TTL, now=at)

    with renewed(renew, ttl=TTL, clock=_now):
        # A slow evaluation, over three times the lease: nobody else may take it.
        deadline = time.monotonic() + 3 * TTL
        while time.monotonic() < deadline:
            assert not instigators.claim(scope, state, "b", ttl=TTL, now=_now())
            time.sleep(0.05)
    # "a" stops renewing (as a killed replica does): within a lease, "b" has it.
    taken_at = time.monotonic()
    while not instigators.claim(scope, state, "b", ttl=TTL, now=_now()):
        assert time.monotonic() - taken_at < 2 * TTL
        time.sleep(0.02)
    # "a" lost it: renewing says so, and its late tick is not stored.
    assert not renew(_now())
    assert instigators.finish(scope, state, "a", NewTick(TickStatus.SUCCESS, _now())) is None


def test_an_automation_tick_lease_is_renewed_the_same_way(
    storage: Storage, scope: DeploymentScope
) -> None:
    automation = storage.automation
    interval, lease = timedelta(seconds=30), timedelta(seconds=TTL)
    claim = automation.claim_tick(scope, owner="a", now=_now(), interval=interval, lease=lease)
    assert claim is not None

    def renew(at: datetime) -> bool:
        return automation.renew_tick(scope, "a", claim, now=at, lease=lease)

    with renewed(renew, ttl=TTL, clock=_now):
        time.sleep(3 * TTL)
        assert (
            automation.claim_tick(scope, owner="b", now=_now(), interval=interval, lease=lease)
            is None
        )
    time.sleep(TTL * 1.2)
    taken = automation.claim_tick(scope, owner="b", now=_now(), interval=interval, lease=lease)
    assert taken is not None and taken.tick_number == claim.tick_number
    assert not renew(_now())


def _evaluations(storage: Storage, scope: DeploymentScope, at: datetime, *keys: str) -> None:
    automation = storage.automation
    interval, lease = timedelta(0), timedelta(seconds=60)
    claim = automation.claim_tick(scope, owner="a", now=at, interval=interval, lease=lease)
    assert claim is not None
    rows = [NewEvaluation(k, 0, (), (), None, b"") for k in keys]
    assert automation.finish_tick(
        scope, "a", claim, now=at, event_cursor=0, carry={}, states={}, evaluations=rows
    )


def test_the_retention_daemon_deletes_old_history_but_the_newest_in_batches(
    storage: Storage, scope: DeploymentScope
) -> None:
    day = timedelta(days=1)
    now = _now()
    start = now - 30 * day
    for i in range(12):  # a tick a day for 12 days, long ago
        state = storage.instigators.get(scope, SENSOR, KEY)
        at = start + i * day
        assert storage.instigators.claim(scope, state, "a", ttl=60, now=at)
        status = TickStatus.SUCCESS if i % 2 else TickStatus.FAILURE
        storage.instigators.finish(scope, state, "a", NewTick(status, at), now=at)
    for i in range(12):  # "busy" evaluated every day; "quiet" once, long ago
        _evaluations(storage, scope, start + i * day, "busy", *(["quiet"] if i == 0 else []))
    _evaluations(storage, scope, now - timedelta(hours=1), "busy")  # a young one

    settings = RetentionSettings(
        ticks=5, tick_age=7 * day, evaluations=3, evaluation_age=7 * day, batch=2, batches=2
    )
    retention = RetentionDaemon(storage, settings, SystemClock())
    retention.run_pass(scope, now)  # at most two batches of two per table
    assert len(storage.instigators.list_ticks(scope, SENSOR, KEY).items) == 8
    assert len(storage.automation.list_evaluations(scope, "busy").items) == 9
    for _ in range(3):
        retention.run_pass(scope, now)
    ticks = storage.instigators.list_ticks(scope, SENSOR, KEY).items
    assert [t.tick_time for t in ticks] == [start + i * day for i in range(11, 6, -1)]
    busy = storage.automation.list_evaluations(scope, "busy").items
    # The young one and the newest three: the young one counts among them.
    assert [e.tick_number for e in busy] == [13, 12, 11]
    assert len(storage.automation.list_evaluations(scope, "quiet").items) == 1  # its newest
