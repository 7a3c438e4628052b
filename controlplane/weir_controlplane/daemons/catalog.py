"""The schedules and sensors a deployment's loaded code locations define, whether each
runs (its stored status, else the code's default_status), and when it is due: a
schedule's cron times, a sensor's minimum interval.

The API lists and addresses them through here, and the daemons tick them, so both agree
on what exists and what is running.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from weir_partitions import CronClock, PartitionsError, load_timezone, parse_cron
from weir_protos.v1 import definitions_pb2

from weir_controlplane.locations.graph import SnapshotGraph
from weir_controlplane.storage import InstigatorKind, InstigatorState, InstigatorStatus

Definition = definitions_pb2.ScheduleSnapshot | definitions_pb2.SensorSnapshot
# Seconds between the ticks of a sensor that sets no minimum interval of its own.
DEFAULT_SENSOR_INTERVAL = 30.0


@dataclass(frozen=True)
class Instigator:
    kind: InstigatorKind
    code_location: str
    definition: Definition
    graph: SnapshotGraph

    @property
    def name(self) -> str:
        return self.definition.name

    @property
    def key(self) -> tuple[str, str]:
        return (self.code_location, self.definition.name)


def instigators(
    graphs: Mapping[str, SnapshotGraph], kind: InstigatorKind
) -> dict[tuple[str, str], Instigator]:
    """Every schedule (or sensor) of `graphs`, by (code location, name), ordered so.

    Automation sensors are left out: the automation evaluator runs them, not this one.
    """
    found: dict[tuple[str, str], Instigator] = {}
    for location in sorted(graphs):
        graph = graphs[location]
        snapshot = graph.snapshot
        definitions: list[Definition] = list(
            snapshot.schedules if kind is InstigatorKind.SCHEDULE else snapshot.sensors
        )
        for definition in sorted(definitions, key=lambda d: d.name):
            if (
                isinstance(definition, definitions_pb2.SensorSnapshot)
                and definition.sensor_type == definitions_pb2.SENSOR_TYPE_AUTOMATION
            ):
                continue
            found[(location, definition.name)] = Instigator(kind, location, definition, graph)
    return found


def status_of(instigator: Instigator, state: InstigatorState | None) -> InstigatorStatus:
    """The stored status, else RUNNING exactly when the code says DEFAULT_STATUS_RUNNING."""
    if state is not None and state.status is not None:
        return state.status
    if instigator.definition.default_status == definitions_pb2.DEFAULT_STATUS_RUNNING:
        return InstigatorStatus.RUNNING
    return InstigatorStatus.STOPPED


def cron_clocks(schedule: definitions_pb2.ScheduleSnapshot) -> list[CronClock]:
    """One clock per cron expression of the schedule (it ticks at their union)."""
    zone = load_timezone(schedule.timezone or "UTC")
    expressions = list(schedule.cron_schedules) or [schedule.cron_schedule]
    return [CronClock(parse_cron(expression), zone) for expression in expressions]


def next_tick(schedule: definitions_pb2.ScheduleSnapshot, after: datetime) -> datetime | None:
    """The first cron time after `after`; None when the schedule's cron cannot be read."""
    try:
        clocks = cron_clocks(schedule)
    except PartitionsError:
        return None
    start = int(after.timestamp()) + 1
    return datetime.fromtimestamp(min(clock.next_tick(start) for clock in clocks), UTC)


def minimum_interval(
    sensor: definitions_pb2.SensorSnapshot, default: float = DEFAULT_SENSOR_INTERVAL
) -> float:
    if sensor.HasField("minimum_interval"):
        return sensor.minimum_interval.ToTimedelta().total_seconds()
    return default
