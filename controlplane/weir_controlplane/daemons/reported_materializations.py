"""Materializations a sensor reports (``SensorResult(asset_events=...)``), recorded by the
control plane outside any launched run.

The event log keeps every event under a run, so one tick's reported materializations
are stored under a run the control plane opens and ends itself: it is created STARTED
(the run queue never claims it, no worker executes it) and tagged `weir/runless`, and
its ASSET_MATERIALIZATION events and RUN_SUCCESS go through the same ingest as a
worker's, so asset reads, health, partition status, freshness and automation see them.
Its id is derived from the sensor's state before the tick and from the
materializations, so a tick retried after a crash records them once.
"""

from __future__ import annotations

import contextlib
import hashlib
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from google.protobuf.timestamp_pb2 import Timestamp
from weir_protos.v1 import events_pb2

from weir_controlplane.api.partition_keys import DynamicSpaces, check_partition_key
from weir_controlplane.daemons.launch import ORIGIN_TAGS, RUNLESS_TAG, Origin
from weir_controlplane.errors import InvalidArgumentError
from weir_controlplane.locations.graph import SnapshotGraph, key_string
from weir_controlplane.runs.events import to_new_event
from weir_controlplane.storage import (
    DeploymentScope,
    DuplicateRunError,
    InstigatorState,
    NewRun,
    RunStatus,
    Storage,
)

# Names the ids of the runs holding reported materializations (never change it).
_NAMESPACE = uuid.UUID("b0c5e2a1-3f4d-4e6a-8b7c-9d0e1f2a3b4c")


def check_reported(
    graph: SnapshotGraph,
    origin: Origin,
    materializations: Sequence[events_pb2.AssetMaterialization],
    dynamic: DynamicSpaces | None = None,
) -> None:
    """Raise InvalidArgumentError, recording nothing, when a materialization names an
    asset the code location does not define or a partition the asset does not have."""
    for materialization in materializations:
        key = key_string(materialization.asset_key)
        node = graph.nodes.get(key)
        if node is None:
            raise InvalidArgumentError(
                f"the sensor reported a materialization of asset {key!r}, which code "
                f"location {origin.code_location!r} does not define"
            )
        try:
            check_partition_key(materialization.partition, [node], dynamic=dynamic)
        except InvalidArgumentError as exc:
            raise InvalidArgumentError(
                f"the sensor reported a materialization of asset {key!r}: {exc.message}"
            ) from exc


def record_reported(
    storage: Storage,
    scope: DeploymentScope,
    origin: Origin,
    state: InstigatorState,
    materializations: Sequence[events_pb2.AssetMaterialization],
) -> str:
    """Store the materializations (once, however often the tick is retried); the id of
    the run holding them."""
    run_id = _run_id(scope, origin, state, materializations)
    keys = tuple(dict.fromkeys(key_string(m.asset_key) for m in materializations))
    # A retried tick finds its run: the events below are stored once by their sequence.
    with contextlib.suppress(DuplicateRunError):
        storage.runs.create_run(
            scope,
            NewRun(
                code_location=origin.code_location,
                selection=", ".join(keys),
                asset_keys=keys,
                tags={ORIGIN_TAGS[origin.kind]: origin.name, RUNLESS_TAG: "true"},
                run_id=run_id,
                status=RunStatus.STARTED,
            ),
        )
    now = Timestamp()
    now.FromDatetime(datetime.now(UTC))
    events = [
        events_pb2.RunEvent(
            run_id=run_id,
            sequence=sequence,
            timestamp=now,
            event_type=events_pb2.RUN_EVENT_TYPE_ASSET_MATERIALIZATION,
            message=f"Reported by sensor {origin.name!r}",
            materialization=materialization,
        )
        for sequence, materialization in enumerate(materializations, start=1)
    ]
    events.append(
        events_pb2.RunEvent(
            run_id=run_id,
            sequence=len(events) + 1,
            timestamp=now,
            event_type=events_pb2.RUN_EVENT_TYPE_RUN_SUCCESS,
            message=f"Recorded {len(materializations)} materialization(s) reported by sensor "
            f"{origin.name!r}",
        )
    )
    storage.events.store_batch(scope, run_id, [to_new_event(event) for event in events])
    return run_id


def _run_id(
    scope: DeploymentScope,
    origin: Origin,
    state: InstigatorState,
    materializations: Sequence[events_pb2.AssetMaterialization],
) -> str:
    digest = hashlib.sha256()
    for materialization in materializations:
        digest.update(materialization.SerializeToString(deterministic=True))
    before = f"{state.version}/{state.last_tick_at}/{state.cursor}/{state.last_event_id}"
    name = f"{scope.deployment_id}/{origin.code_location}/{origin.name}/{before}"
    return str(uuid.uuid5(_NAMESPACE, f"{name}/{digest.hexdigest()}"))
