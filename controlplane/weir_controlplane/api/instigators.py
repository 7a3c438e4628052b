"""Schedule and sensor RPCs: ListSchedules, StartSchedule, StopSchedule, ListSensors,
StartSensor, StopSensor, SetSensorCursor, ListTicks.

What exists comes from the loaded code locations' snapshots (`daemons.catalog`), what
runs from stored state over the code's default status. Each belongs to its code
location: lists show those the caller may read, changes need EDIT on that location.
"""

from __future__ import annotations

from datetime import UTC, datetime

from weir_protos.v1 import common_pb2, definitions_pb2
from weir_protos.v1 import control_plane_pb2 as cp

from weir_controlplane.api import convert, limits, paging
from weir_controlplane.api.access_checks import require_location, visible_locations
from weir_controlplane.api.context import current_scope
from weir_controlplane.auth.roles import Permission
from weir_controlplane.daemons.catalog import (
    Instigator,
    instigators,
    minimum_interval,
    next_tick,
    status_of,
)
from weir_controlplane.errors import InvalidArgumentError, NotFoundError
from weir_controlplane.locations import CodeLocationRegistry
from weir_controlplane.storage import (
    InstigatorKind,
    InstigatorState,
    InstigatorStatus,
    InstigatorStorage,
    Tick,
    TickStatus,
)

SCHEDULE, SENSOR = InstigatorKind.SCHEDULE, InstigatorKind.SENSOR
RUNNING, STOPPED = InstigatorStatus.RUNNING, InstigatorStatus.STOPPED
_TICK_STATUS = {
    TickStatus.SUCCESS: cp.TICK_STATUS_SUCCESS,
    TickStatus.SKIPPED: cp.TICK_STATUS_SKIPPED,
    TickStatus.FAILURE: cp.TICK_STATUS_FAILURE,
}


class InstigatorsApi:
    """Answers the schedule, sensor and tick RPCs for the request's deployment."""

    def __init__(self, registry: CodeLocationRegistry, states: InstigatorStorage) -> None:
        self._registry = registry
        self._states = states

    # --- schedules ----------------------------------------------------------------------

    def list_schedules(self, request: cp.ListSchedulesRequest) -> cp.ListSchedulesResponse:
        found = self._visible(SCHEDULE, request.code_location)
        return cp.ListSchedulesResponse(schedules=self._schedules(list(found.values())))

    def start_schedule(self, request: cp.StartScheduleRequest) -> cp.StartScheduleResponse:
        schedule = self._changeable(SCHEDULE, request.name, request.code_location)
        # Ticks from the next cron time on: the time it was stopped is not caught up.
        self._states.update(
            current_scope(), SCHEDULE, schedule.key, status=RUNNING, last_tick_at=_now()
        )
        return cp.StartScheduleResponse(schedule=self._schedules([schedule])[0])

    def stop_schedule(self, request: cp.StopScheduleRequest) -> cp.StopScheduleResponse:
        schedule = self._changeable(SCHEDULE, request.name, request.code_location)
        self._states.update(current_scope(), SCHEDULE, schedule.key, status=STOPPED)
        return cp.StopScheduleResponse(schedule=self._schedules([schedule])[0])

    def _schedules(self, found: list[Instigator]) -> list[cp.Schedule]:
        scope, now = current_scope(), _now()
        keys = [schedule.key for schedule in found]
        states = self._states.states(scope, SCHEDULE)
        ticks = self._states.latest_ticks(scope, SCHEDULE, keys)
        replies = []
        for schedule in found:
            definition = schedule.definition
            assert isinstance(definition, definitions_pb2.ScheduleSnapshot)
            state = states.get(schedule.key)
            status = status_of(schedule, state)
            message = cp.Schedule(
                name=schedule.name,
                code_location=schedule.code_location,
                status=cp.SCHEDULE_STATUS_RUNNING
                if status is RUNNING
                else cp.SCHEDULE_STATUS_STOPPED,
                cron_schedule=definition.cron_schedule,
                timezone=definition.timezone,
                job_name=definition.job_name,
                default_status=definition.default_status,
            )
            if schedule.key in ticks:
                message.last_tick.CopyFrom(tick_proto(ticks[schedule.key]))
            if status is RUNNING:
                last = state.last_tick_at if state is not None else None
                after = max(now, last or now)
                upcoming = next_tick(definition, after)
                if upcoming is not None:
                    message.next_tick_time.CopyFrom(convert.timestamp(upcoming))
            replies.append(message)
        return replies

    # --- sensors ------------------------------------------------------------------------

    def list_sensors(self, request: cp.ListSensorsRequest) -> cp.ListSensorsResponse:
        found = self._visible(SENSOR, request.code_location)
        return cp.ListSensorsResponse(sensors=self._sensors(list(found.values())))

    def start_sensor(self, request: cp.StartSensorRequest) -> cp.StartSensorResponse:
        sensor = self._changeable(SENSOR, request.name, request.code_location)
        self._states.update(current_scope(), SENSOR, sensor.key, status=RUNNING)
        return cp.StartSensorResponse(sensor=self._sensors([sensor])[0])

    def stop_sensor(self, request: cp.StopSensorRequest) -> cp.StopSensorResponse:
        sensor = self._changeable(SENSOR, request.name, request.code_location)
        self._states.update(current_scope(), SENSOR, sensor.key, status=STOPPED)
        return cp.StopSensorResponse(sensor=self._sensors([sensor])[0])

    def set_sensor_cursor(self, request: cp.SetSensorCursorRequest) -> cp.SetSensorCursorResponse:
        cursor = request.cursor if request.HasField("cursor") else None
        if cursor is not None:
            limits.check_sensor_cursor(cursor)
        sensor = self._changeable(SENSOR, request.name, request.code_location)
        self._states.update(current_scope(), SENSOR, sensor.key, cursor=cursor)
        return cp.SetSensorCursorResponse(sensor=self._sensors([sensor])[0])

    def _sensors(self, found: list[Instigator]) -> list[cp.Sensor]:
        scope = current_scope()
        keys = [sensor.key for sensor in found]
        states = self._states.states(scope, SENSOR)
        ticks = self._states.latest_ticks(scope, SENSOR, keys)
        replies = []
        for sensor in found:
            definition = sensor.definition
            assert isinstance(definition, definitions_pb2.SensorSnapshot)
            state: InstigatorState | None = states.get(sensor.key)
            message = cp.Sensor(
                name=sensor.name,
                code_location=sensor.code_location,
                status=cp.SENSOR_STATUS_RUNNING
                if status_of(sensor, state) is RUNNING
                else cp.SENSOR_STATUS_STOPPED,
                sensor_type=definition.sensor_type,
                default_status=definition.default_status,
                minimum_interval_seconds=round(minimum_interval(definition)),
            )
            if state is not None and state.cursor is not None:
                message.cursor = state.cursor
            if sensor.key in ticks:
                message.last_tick.CopyFrom(tick_proto(ticks[sensor.key]))
            replies.append(message)
        return replies

    # --- ticks --------------------------------------------------------------------------

    def list_ticks(self, request: cp.ListTicksRequest) -> cp.ListTicksResponse:
        name = _name(request.name)
        matches = [
            found
            for kind in (SCHEDULE, SENSOR)
            for found in self._named(kind, name, request.code_location)
        ]
        target = _one(matches, "schedule or sensor", name)
        require_location(Permission.READ, target.code_location)
        page = self._states.list_ticks(
            current_scope(),
            target.kind,
            target.key,
            cursor=request.cursor or None,
            limit=paging.page_size(request.limit),
        )
        ticks = [tick_proto(tick) for tick in page.items]
        return cp.ListTicksResponse(ticks=ticks, next_cursor=page.next_cursor or "")

    # --- lookups ------------------------------------------------------------------------

    def _visible(
        self, kind: InstigatorKind, code_location: str
    ) -> dict[tuple[str, str], Instigator]:
        found = instigators(self._registry.all_graphs(current_scope()), kind)
        visible = visible_locations()
        return {
            key: instigator
            for key, instigator in found.items()
            if (visible is None or key[0] in visible)
            and (not code_location or key[0] == code_location)
        }

    def _named(self, kind: InstigatorKind, name: str, code_location: str) -> list[Instigator]:
        found = instigators(self._registry.all_graphs(current_scope()), kind)
        return [
            instigator
            for (location, defined), instigator in found.items()
            if defined == name and (not code_location or location == code_location)
        ]

    def _changeable(self, kind: InstigatorKind, name: str, code_location: str) -> Instigator:
        target = _one(self._named(kind, _name(name), code_location), kind.value, name)
        require_location(Permission.EDIT, target.code_location)
        return target


def tick_proto(tick: Tick) -> cp.Tick:
    message = cp.Tick(
        tick_id=tick.tick_id,
        name=tick.name,
        code_location=tick.code_location,
        status=_TICK_STATUS[tick.status],
        tick_time=convert.timestamp(tick.tick_time),
        end_time=convert.timestamp(tick.ended_at),
        run_ids=list(tick.run_ids),
        run_keys=list(tick.run_keys),
        skip_reason=tick.skip_reason or "",
    )
    if tick.error:
        message.error.CopyFrom(common_pb2.Error(message=tick.error))
    if tick.cursor_before is not None:
        message.cursor_before = tick.cursor_before
    if tick.cursor_after is not None:
        message.cursor_after = tick.cursor_after
    message.repeat_count = tick.repeat_count
    if tick.last_tick_time is not None:
        message.last_tick_time.CopyFrom(convert.timestamp(tick.last_tick_time))
    return message


def _one(matches: list[Instigator], what: str, name: str) -> Instigator:
    if not matches:
        raise NotFoundError(
            f"no {what} named {name!r} in the loaded code locations of this deployment"
        )
    if len(matches) > 1:
        where = ", ".join(sorted(f"{m.kind.value} in {m.code_location}" for m in matches))
        raise InvalidArgumentError(
            f"{name!r} names more than one {what} ({where}); set codeLocation to choose"
        )
    return matches[0]


def _name(name: str) -> str:
    if not name:
        raise InvalidArgumentError("name is required: the schedule's or sensor's name")
    return name


def _now() -> datetime:
    return datetime.now(UTC)
