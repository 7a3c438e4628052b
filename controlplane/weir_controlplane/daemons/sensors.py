"""SensorDaemon: evaluates each running sensor every minimum interval.

Each due sensor is claimed (a row lease), sent to its code location's EvaluateSensor
with its cursor, last tick time and last run key, and its tick stored with the new
cursor in one transaction; the dynamic partitions it adds or deletes are applied before
its runs are launched. Asset sensors receive the monitored assets' materializations
stored since their last tick, run-status sensors the runs that reached their status,
both read from the control plane's own event log (`sensor_inputs`). A raising sensor,
one that times out, or a code location that is down gives a FAILURE tick saying so; the
cursor and event position stay, so the next interval retries with the same input.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from weir_protos.v1 import code_location_pb2, definitions_pb2

from weir_controlplane.api import convert
from weir_controlplane.api.partitions import StoredDynamicKeySpace
from weir_controlplane.daemons.catalog import Instigator, instigators, minimum_interval, status_of
from weir_controlplane.daemons.dynamic_partitions import apply_dynamic_partitions
from weir_controlplane.daemons.launch import Origin
from weir_controlplane.daemons.leases import renewed
from weir_controlplane.daemons.loop import Clock
from weir_controlplane.daemons.outcome import (
    InstigatorLoop,
    TickServices,
    error_text,
    failed,
    launched_tick,
)
from weir_controlplane.daemons.reported_materializations import check_reported, record_reported
from weir_controlplane.daemons.sensor_inputs import SensorInputs
from weir_controlplane.errors import ApiError
from weir_controlplane.locations.graph import key_string
from weir_controlplane.storage import (
    DeploymentScope,
    InstigatorKind,
    InstigatorState,
    InstigatorStatus,
    NewTick,
    TickStatus,
)

log = logging.getLogger(__name__)
KIND = InstigatorKind.SENSOR


class SensorDaemon(InstigatorLoop):
    name = "sensors"

    def __init__(self, services: TickServices, clock: Clock, workers: int = 4) -> None:
        super().__init__(services, clock)
        self._inputs = SensorInputs(services.storage)
        # A slow sensor (up to its timeout) should not hold the others back.
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="sensor-tick")

    def run_pass(self, scope: DeploymentScope, now: datetime) -> None:
        found = instigators(self._registry.all_graphs(scope), KIND)
        if not found:
            return
        states = self._storage.instigators.states(scope, KIND, found, now=now)
        due = [
            (sensor, states[key])
            for key, sensor in found.items()
            if status_of(sensor, states[key]) is InstigatorStatus.RUNNING
            and self._is_due(sensor, states[key], now)
        ]
        for future in [self._pool.submit(self._tick, scope, s, st, now) for s, st in due]:
            future.result()

    def stop(self) -> None:
        super().stop()
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _is_due(self, sensor: Instigator, state: InstigatorState, now: datetime) -> bool:
        if state.last_tick_at is None:
            return True
        assert isinstance(sensor.definition, definitions_pb2.SensorSnapshot)
        interval = minimum_interval(sensor.definition, self._settings.default_sensor_interval)
        return now - state.last_tick_at >= timedelta(seconds=interval)

    def _tick(
        self, scope: DeploymentScope, sensor: Instigator, state: InstigatorState, now: datetime
    ) -> None:
        instigators_storage = self._storage.instigators
        if not instigators_storage.claim(
            scope, state, self._owner, ttl=self._settings.lease_seconds, now=now
        ):
            return
        ttl = self._settings.lease_seconds
        try:
            with renewed(
                lambda at: instigators_storage.renew(scope, state, self._owner, ttl=ttl, now=at),
                ttl=ttl,
                clock=self.clock.now,
            ):
                tick, cursor, last_run_key, last_event_id = self._evaluate(
                    scope, sensor, state, now
                )
        except Exception as exc:  # a bug here must not leave the sensor leased
            log.exception("sensor %s: tick failed", sensor.name)
            tick = failed(now, f"{type(exc).__name__}: {exc}", state.cursor)
            cursor, last_run_key, last_event_id = (
                state.cursor,
                state.last_run_key,
                state.last_event_id,
            )
        instigators_storage.finish(
            scope,
            state,
            self._owner,
            tick,
            cursor=cursor,
            last_tick_at=now,
            last_run_key=last_run_key,
            last_event_id=last_event_id,
            now=self.clock.now(),
        )

    def _evaluate(
        self, scope: DeploymentScope, sensor: Instigator, state: InstigatorState, now: datetime
    ) -> tuple[NewTick, str | None, str | None, int | None]:
        """The tick, and the cursor, last run key and event position it leaves."""
        definition = sensor.definition
        assert isinstance(definition, definitions_pb2.SensorSnapshot)
        unchanged = (state.cursor, state.last_run_key, state.last_event_id)
        request = code_location_pb2.EvaluateSensorRequest(
            sensor_name=sensor.name,
            last_run_key=state.last_run_key or "",
            evaluation_time=convert.timestamp(now),
        )
        if state.cursor is not None:
            request.cursor = state.cursor
        if state.last_tick_at is not None:
            request.last_tick_time.CopyFrom(convert.timestamp(state.last_tick_at))
        event_position = self._inputs.fill(scope, definition, state.last_event_id, request)
        if event_position is None and definition.sensor_type in _FED_TYPES:
            # First tick: start the feed at the newest event, with nothing to pass on yet.
            position = self._inputs.start_position(scope, definition)
            skipped = _skipped(now, "Watching for events from now on", state)
            return skipped, state.cursor, state.last_run_key, position
        if definition.sensor_type in _FED_TYPES and not (
            request.materializations or request.run_status_changes
        ):
            quiet = _skipped(now, _NOTHING_NEW[definition.sensor_type], state)
            return quiet, state.cursor, state.last_run_key, event_position
        try:
            client = self._registry.client(scope, sensor.code_location)
            reply = client.evaluate_sensor(request, timeout=self._settings.evaluation_timeout)
        except ApiError as exc:
            return (failed(now, exc.message, state.cursor), *unchanged)
        if reply.HasField("error"):
            return (failed(now, error_text(reply.error), state.cursor), *unchanged)
        try:
            apply_dynamic_partitions(
                self._storage.dynamic_partitions,
                scope,
                sensor.graph,
                reply.dynamic_partitions_requests,
            )
        except ApiError as exc:
            message = f"Could not apply the dynamic partition requests: {exc.message}"
            return (failed(now, message, state.cursor), *unchanged)
        cursor = reply.cursor if reply.HasField("cursor") else state.cursor
        origin = Origin(
            KIND,
            sensor.code_location,
            sensor.name,
            default_job=definition.job_names[0] if definition.job_names else "",
            default_assets=tuple(key_string(key) for key in definition.target_asset_keys),
        )
        reported = reply.asset_materializations
        try:
            check_reported(
                sensor.graph,
                origin,
                reported,
                lambda name: StoredDynamicKeySpace(self._storage.dynamic_partitions, scope, name),
            )
        except ApiError as exc:
            return (failed(now, exc.message, state.cursor), *unchanged)
        tick = launched_tick(
            self._launcher,
            scope,
            origin,
            sensor.graph,
            now,
            requests=reply.run_requests,
            skip_reason=reply.skip_reason,
            cursor_before=state.cursor,
            cursor_after=cursor,
        )
        if tick.status is TickStatus.FAILURE:
            return (tick, *unchanged)
        if reported:
            # After the launches: a tick that fails before them records nothing, so the
            # next interval's retry records the materializations once.
            record_reported(self._storage, scope, origin, state, reported)
        keys = [request.run_key for request in reply.run_requests if request.run_key]
        last_run_key = keys[-1] if keys else state.last_run_key
        return tick, cursor, last_run_key, event_position


_NOTHING_NEW = {
    definitions_pb2.SENSOR_TYPE_ASSET: "No new materialization of the monitored assets",
    definitions_pb2.SENSOR_TYPE_RUN_STATUS: "No run reached the monitored status",
}
_FED_TYPES = tuple(_NOTHING_NEW)


def _skipped(now: datetime, reason: str, state: InstigatorState) -> NewTick:
    return NewTick(
        TickStatus.SKIPPED,
        now,
        skip_reason=reason,
        cursor_before=state.cursor,
        cursor_after=state.cursor,
    )
