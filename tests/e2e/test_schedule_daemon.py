"""End to end: the scheduler against a real code server, its clock driven by the test.

The clock steps ten minutes at a time across New York's fall-back change (2026-11-01,
02:00 EDT becomes 01:00 EST): a daily 01:30 schedule ticks once that night, an hourly
one 25 times that day, and a scheduler replaced halfway (a restart) neither repeats nor
misses a cron time.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from zoneinfo import ZoneInfo

from conftest import LOCATIONS
from weir_controlplane.daemons import (
    DaemonSettings,
    RunRequestLauncher,
    ScheduleDaemon,
    TickServices,
)
from weir_controlplane.locations import CodeLocationRegistry, LocationSpec
from weir_controlplane.runs import RunCoordinator, RunSettings
from weir_controlplane.storage import (
    DEFAULT_DEPLOYMENT,
    InstigatorKind,
    RunFilter,
    Storage,
    TickStatus,
)

NEW_YORK = ZoneInfo("America/New_York")


class SteppedClock:
    def __init__(self, start: datetime) -> None:
        self.moment = start

    def now(self) -> datetime:
        return self.moment


def test_schedules_tick_once_per_cron_time_across_a_dst_change(start_codeserver, tmp_path: Path):
    server = start_codeserver(LOCATIONS / "schedules.py")
    assert server.match is not None
    storage = Storage.open(f"sqlite:///{tmp_path / 'weir.db'}")
    registry = CodeLocationRegistry(storage)
    scope = storage.deployments.get_scope(DEFAULT_DEPLOYMENT)
    registry.sync(scope, [LocationSpec("nyc", address=f"127.0.0.1:{server.match.group(1)}")])
    coordinator = RunCoordinator(storage, registry, RunSettings())  # queues only
    launcher = RunRequestLauncher(storage, coordinator)
    clock = SteppedClock(datetime(2026, 10, 31, 0, 5, tzinfo=NEW_YORK).astimezone(UTC))
    end = datetime(2026, 11, 2, 0, 5, tzinfo=NEW_YORK).astimezone(UTC)

    def scheduler(owner: str) -> ScheduleDaemon:
        services = TickServices(storage, registry, launcher, DaemonSettings(), owner)
        return ScheduleDaemon(services, clock)

    daemon = scheduler("first")
    halfway = datetime(2026, 11, 1, 1, 40, tzinfo=NEW_YORK).astimezone(UTC)  # in the repeat
    try:
        while clock.moment <= end:
            daemon.run_once()
            if clock.moment == halfway:
                daemon = scheduler("after-restart")
            clock.moment += timedelta(minutes=10)
        ticks = {
            name: storage.instigators.list_ticks(
                scope, InstigatorKind.SCHEDULE, ("nyc", name), limit=1000
            ).items
            for name in ("nightly", "hourly")
        }
        runs = storage.runs.list_runs(scope, RunFilter(), limit=1000).items
    finally:
        registry.stop()
        storage.close()

    nightly = sorted(tick.tick_time for tick in ticks["nightly"])
    assert [t.astimezone(NEW_YORK).isoformat() for t in nightly] == [
        "2026-10-31T01:30:00-04:00",
        "2026-11-01T01:30:00-04:00",  # the first 01:30 only
    ]
    hourly = sorted(tick.tick_time for tick in ticks["hourly"])
    assert len(hourly) == len(set(hourly))
    on_the_day = [t for t in hourly if t.astimezone(NEW_YORK).date().isoformat() == "2026-11-01"]
    assert len(on_the_day) == 25  # 01:00 twice, an hour apart
    # Every hour from the first cron time after the start to the last before the end.
    assert all(b - a == timedelta(hours=1) for a, b in pairwise(hourly))
    assert hourly[0] == datetime(2026, 10, 31, 1, 0, tzinfo=NEW_YORK)
    assert all(tick.status is TickStatus.SUCCESS for tick in ticks["hourly"] + ticks["nightly"])
    # One run per tick, keyed by its cron time.
    keys = Counter(run.tags["weir/run_key"] for run in runs)
    assert len(runs) == len(hourly) + len(nightly) and set(keys.values()) == {1}
    assert {run.tags["weir/schedule_name"] for run in runs} == {"nightly", "hourly"}


def test_schedules_are_listed_started_and_stopped_across_a_restart(start_control_plane):
    plane = start_control_plane([{"name": "nyc", "python_file": str(LOCATIONS / "schedules.py")}])
    api = plane.api
    listed = {s["name"]: s for s in api("ListSchedules")["schedules"]}
    assert set(listed) == {"hourly", "nightly"}
    nightly = listed["nightly"]
    assert nightly["status"] == "SCHEDULE_STATUS_RUNNING"  # its default_status
    assert (nightly["cronSchedule"], nightly["timezone"]) == ("30 1 * * *", "America/New_York")
    upcoming = datetime.fromisoformat(nightly["nextTickTime"].replace("Z", "+00:00"))
    local = upcoming.astimezone(NEW_YORK)
    assert (local.hour, local.minute) == (1, 30) and upcoming > datetime.now(UTC)

    stopped = api("StopSchedule", name="nightly")["schedule"]
    assert stopped["status"] == "SCHEDULE_STATUS_STOPPED" and "nextTickTime" not in stopped
    plane.stop()
    plane.start()
    again = {s["name"]: s["status"] for s in api("ListSchedules")["schedules"]}
    assert again == {"nightly": "SCHEDULE_STATUS_STOPPED", "hourly": "SCHEDULE_STATUS_RUNNING"}
    started = api("StartSchedule", name="nightly", codeLocation="nyc")["schedule"]
    assert started["status"] == "SCHEDULE_STATUS_RUNNING" and started["nextTickTime"]
    assert api("ListTicks", name="nightly") == {}  # no cron time has come yet
    wrong = api.raw("StartSchedule", {"name": "nightly", "codeLocation": "elsewhere"})
    assert wrong.status_code == 404 and "no schedule named 'nightly'" in wrong.json()["message"]
