"""The control plane's daemons: tick loops over every deployment, run in the control
plane process or alone as `weir daemon`.

- `ScheduleDaemon` (schedules.py): cron ticks, via CodeLocationService.EvaluateSchedule;
- `SensorDaemon` (sensors.py): sensor ticks, via EvaluateSensor, fed by the event log;
- `RetentionDaemon` (retention.py): deletes old ticks and automation evaluations;
- `FreshnessDaemon` (freshness.py): assets' freshness states, woken by
  materializations and due times;
- `TickLoop` and `DaemonSet` (loop.py): the loop every daemon is, and the set a process
  starts and stops; a new daemon (the automation evaluator) is one more loop in the set.

Claims are row leases (storage/instigators.py) and run keys map to fixed run ids
(launch.py), so replicas on one database never tick twice nor launch a run twice.
"""

from __future__ import annotations

from weir_controlplane.daemons.freshness import FreshnessDaemon, FreshnessPass, FreshnessSettings
from weir_controlplane.daemons.launch import RunRequestLauncher
from weir_controlplane.daemons.loop import (
    Clock,
    DaemonSet,
    DaemonSettings,
    RetentionSettings,
    SystemClock,
    TickLoop,
    replica_id,
)
from weir_controlplane.daemons.outcome import TickServices
from weir_controlplane.daemons.retention import RetentionDaemon
from weir_controlplane.daemons.schedules import ScheduleDaemon
from weir_controlplane.daemons.sensors import SensorDaemon
from weir_controlplane.locations import CodeLocationRegistry
from weir_controlplane.runs import RunCoordinator
from weir_controlplane.storage import Storage


def build_daemons(
    storage: Storage,
    registry: CodeLocationRegistry,
    coordinator: RunCoordinator,
    settings: DaemonSettings | None = None,
    *,
    clock: Clock | None = None,
    owner: str | None = None,
) -> DaemonSet:
    """The scheduler, the sensor runner, the freshness daemon and history retention over
    one storage and registry; the freshness daemon wakes on every materialization this
    process stores."""
    settings = settings or DaemonSettings()
    clock = clock or SystemClock()
    owner = owner or replica_id()
    launcher = RunRequestLauncher(storage, coordinator)
    services = TickServices(storage, registry, launcher, settings, owner)
    freshness = FreshnessDaemon(
        storage, registry, FreshnessSettings(interval=settings.freshness_interval), clock
    )
    storage.events.on_materialization(freshness.wake)
    return DaemonSet(
        [
            ScheduleDaemon(services, clock),
            SensorDaemon(services, clock),
            freshness,
            RetentionDaemon(storage, settings.retention, clock),
        ]
    )


__all__ = [
    "Clock",
    "DaemonSet",
    "DaemonSettings",
    "FreshnessDaemon",
    "FreshnessPass",
    "FreshnessSettings",
    "RetentionDaemon",
    "RetentionSettings",
    "RunRequestLauncher",
    "ScheduleDaemon",
    "SensorDaemon",
    "SystemClock",
    "TickLoop",
    "TickServices",
    "build_daemons",
    "replica_id",
]
