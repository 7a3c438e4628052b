"""What asset and run-status sensors receive, read from the control plane's event log.

An asset sensor gets the materializations of its monitored assets, a run-status sensor
the runs that reached its status (with the event that ended them), each stored after
the sensor's event position and oldest first, at most `batch` per tick; the position
then moves past the last event read. The code location only evaluates the function.
"""

from __future__ import annotations

from weir_protos.v1 import code_location_pb2, definitions_pb2, runs_pb2

from weir_controlplane.api import convert
from weir_controlplane.daemons.launch import RUNLESS_TAG
from weir_controlplane.locations.graph import key_string
from weir_controlplane.storage import DeploymentScope, EventType, Storage

# The event a run reaches each watchable status by.
_STATUS_EVENTS = {
    runs_pb2.RUN_STATUS_STARTED: EventType.RUN_STARTED.value,
    runs_pb2.RUN_STATUS_SUCCESS: EventType.RUN_SUCCESS.value,
    runs_pb2.RUN_STATUS_FAILURE: EventType.RUN_FAILURE.value,
    runs_pb2.RUN_STATUS_CANCELED: EventType.RUN_CANCELED.value,
}
_MATERIALIZED = [EventType.ASSET_MATERIALIZATION.value]


class SensorInputs:
    def __init__(self, storage: Storage, batch: int = 100) -> None:
        self._storage = storage
        self._batch = batch

    def start_position(
        self, scope: DeploymentScope, sensor: definitions_pb2.SensorSnapshot
    ) -> int | None:
        """Where a new asset or run-status sensor starts: after the newest event it would
        have received (it reacts to what happens from now on); None for other sensors."""
        if sensor.sensor_type == definitions_pb2.SENSOR_TYPE_ASSET:
            keys = [key_string(key) for key in sensor.monitored_asset_keys]
            return self._storage.feeds.latest_id(scope, _MATERIALIZED, keys)
        if sensor.sensor_type == definitions_pb2.SENSOR_TYPE_RUN_STATUS:
            return self._storage.feeds.latest_id(scope, [_status_event(sensor)])
        return None

    def fill(
        self,
        scope: DeploymentScope,
        sensor: definitions_pb2.SensorSnapshot,
        position: int | None,
        request: code_location_pb2.EvaluateSensorRequest,
    ) -> int | None:
        """Add the sensor's new events to `request`; the position after them (`position`
        itself for a sensor fed no events, or one that has no position yet)."""
        if position is None:
            return None
        feeds = self._storage.feeds
        if sensor.sensor_type == definitions_pb2.SENSOR_TYPE_ASSET:
            keys = [key_string(key) for key in sensor.monitored_asset_keys]
            events = feeds.after(scope, _MATERIALIZED, position, asset_keys=keys, limit=self._batch)
            request.materializations.extend(convert.materialization_record(e) for e in events)
            return events[-1].event_id if events else position
        if sensor.sensor_type == definitions_pb2.SENSOR_TYPE_RUN_STATUS:
            events = feeds.after(scope, [_status_event(sensor)], position, limit=self._batch)
            jobs = set(sensor.monitored_job_names)
            runs = self._storage.runs.get_runs(scope, {event.run_id for event in events})
            for event in events:
                run = runs.get(event.run_id)
                if run is None or (jobs and run.tags.get(convert.JOB_NAME_TAG) not in jobs):
                    continue
                if RUNLESS_TAG in run.tags:
                    continue  # nothing ran: it holds materializations a sensor reported
                request.run_status_changes.add(
                    run=convert.run_proto(run), event=convert.run_event_proto(event)
                )
            return events[-1].event_id if events else position
        return position


def _status_event(sensor: definitions_pb2.SensorSnapshot) -> str:
    event = _STATUS_EVENTS.get(sensor.run_status)
    if event is None:
        status = runs_pb2.RunStatus.Name(sensor.run_status)
        raise ValueError(
            f"run-status sensor {sensor.name!r} watches {status}, which no run reaches by an event"
        )
    return event
