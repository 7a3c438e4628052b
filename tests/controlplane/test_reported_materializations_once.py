"""Materializations a sensor reports are stored once per tick, under a run that the
control plane opens and ends itself, and read like a worker's."""

from __future__ import annotations

from datetime import UTC, datetime

from weir_controlplane.daemons.launch import Origin
from weir_controlplane.daemons.reported_materializations import record_reported
from weir_controlplane.storage import (
    DeploymentScope,
    InstigatorKind,
    InstigatorState,
    RunStatus,
    Storage,
)
from weir_protos.v1 import common_pb2, events_pb2

ORIGIN = Origin(InstigatorKind.SENSOR, "etl", "warehouse_watcher")


def state(cursor: str | None, last_tick_at: datetime | None, version: int) -> InstigatorState:
    return InstigatorState(
        kind=InstigatorKind.SENSOR,
        code_location="etl",
        name="warehouse_watcher",
        status=None,
        cursor=cursor,
        last_tick_at=last_tick_at,
        last_run_key=None,
        last_event_id=None,
        version=version,
        lease_owner=None,
        lease_expires_at=None,
    )


def reported(rows: int) -> list[events_pb2.AssetMaterialization]:
    entry = common_pb2.MetadataEntry(label="rows", value=common_pb2.MetadataValue(int=rows))
    return [
        events_pb2.AssetMaterialization(
            asset_key=common_pb2.AssetKey(path=["orders"]), metadata=[entry]
        )
    ]


def test_a_retried_tick_records_its_materializations_once(storage: Storage, scope: DeploymentScope):
    before = state(None, None, version=0)
    first = record_reported(storage, scope, ORIGIN, before, reported(42))
    again = record_reported(storage, scope, ORIGIN, before, reported(42))

    assert again == first
    [stored] = storage.assets.list_materializations(scope, "orders").items
    assert stored.run_id == first
    latest = storage.assets.latest_materializations(scope, ["orders"])
    assert latest["orders"].event_id == stored.event_id
    run = storage.runs.get_run(scope, first)
    assert run.status is RunStatus.SUCCESS
    assert run.tags["weir/runless"] == "true"
    assert run.tags["weir/sensor_name"] == "warehouse_watcher"


def test_the_next_tick_records_its_own_even_when_they_look_the_same(
    storage: Storage, scope: DeploymentScope
):
    record_reported(storage, scope, ORIGIN, state(None, None, version=0), reported(42))
    later = state(None, datetime(2026, 1, 1, tzinfo=UTC), version=1)
    record_reported(storage, scope, ORIGIN, later, reported(42))

    assert len(storage.assets.list_materializations(scope, "orders").items) == 2
