"""Deployment isolation: nothing written in one deployment is visible from another."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from weir_controlplane.storage import (
    CodeLocationNotFoundError,
    DeploymentNotFoundError,
    DeploymentScope,
    EventType,
    NewEvent,
    NewRun,
    RunFilter,
    RunNotFoundError,
    Storage,
)

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def other(storage: Storage) -> DeploymentScope:
    return storage.deployments.ensure_deployment(f"branch-{uuid.uuid4().hex[:12]}")


def test_deployment_b_never_sees_deployment_a(
    storage: Storage, scope: DeploymentScope, other: DeploymentScope
) -> None:
    run = storage.runs.create_run(
        scope, NewRun(code_location="etl", asset_keys=("orders",), tags={"weir/run_key": "k"})
    )
    storage.events.store_batch(
        scope,
        run.run_id,
        [
            NewEvent(1, EventType.ASSET_MATERIALIZATION, T0, asset_key="orders", partition="p"),
            NewEvent(2, EventType.ASSET_MATERIALIZATION, T0, asset_key="orders"),
            NewEvent(
                3,
                EventType.ASSET_CHECK_EVALUATION,
                T0,
                asset_key="orders",
                check_name="c",
                check_passed=True,
            ),
        ],
    )
    storage.code_locations.upsert(scope, "etl", address="localhost:4266")
    storage.code_locations.set_loaded(scope, "etl", "hash-1", b"snapshot")

    assert storage.runs.list_runs(other).items == ()
    assert storage.runs.list_runs(other, RunFilter(tags={"weir/run_key": "k"})).items == ()
    assert storage.runs.list_runs(other, RunFilter(asset_key="orders")).items == ()
    assert storage.runs.claim_queued(other, max_in_progress=10) == []
    with pytest.raises(RunNotFoundError):
        storage.runs.get_run(other, run.run_id)
    assert storage.event_log.get_run_events(other, run.run_id).items == ()
    assert storage.assets.summaries(other) == {}
    assert storage.assets.latest_materializations_by_partition(other, ["orders"]) == {}
    assert storage.assets.list_materializations(other, "orders").items == ()
    assert storage.assets.partition_status_counts(other, ["orders"]) == {}
    assert storage.assets.latest_check_results(other, ["orders"]) == {}
    assert storage.code_locations.list_locations(other) == []
    assert not storage.code_locations.has_snapshot(other, "hash-1")

    # ... and seen from its own deployment, all of it is there.
    assert [r.run_id for r in storage.runs.list_runs(scope).items] == [run.run_id]
    assert storage.assets.summaries(scope)["orders"].materialization_count == 2


def test_deployment_b_cannot_change_deployment_a(
    storage: Storage, scope: DeploymentScope, other: DeploymentScope
) -> None:
    run = storage.runs.create_run(scope, NewRun(code_location="etl"))
    storage.code_locations.upsert(scope, "etl", address="localhost:4266")

    assert storage.runs.claim_queued(other, max_in_progress=10) == []
    with pytest.raises(RunNotFoundError):
        storage.runs.heartbeat(other, run.run_id)
    with pytest.raises(RunNotFoundError):
        storage.events.store_batch(other, run.run_id, [NewEvent(1, "LOG", T0)])
    with pytest.raises(CodeLocationNotFoundError):
        storage.code_locations.remove(other, "etl")

    assert [claimed.run_id for claimed in storage.runs.claim_queued(scope, max_in_progress=10)] == [
        run.run_id
    ]
    assert storage.code_locations.get(scope, "etl").address == "localhost:4266"


def test_deployments_are_named_per_organization(storage: Storage) -> None:
    name = f"staging-{uuid.uuid4().hex[:8]}"
    created = storage.deployments.ensure_deployment(name)
    assert storage.deployments.ensure_deployment(name) == created
    assert storage.deployments.get_scope(name) == created
    assert name in storage.deployments.list_deployments()
    elsewhere = storage.deployments.ensure_deployment(name, organization=f"org-{name}")
    assert elsewhere.deployment_id != created.deployment_id
    with pytest.raises(DeploymentNotFoundError, match="nope"):
        storage.deployments.get_scope("nope")


# The storage classes holding a deployment's data (tokens and the audit log belong to
# the organization and take its id; deployments are the scopes themselves).
TENANT_STORAGE = (
    "CodeLocationStorage",
    "RunStorage",
    "EventIngest",
    "EventLog",
    "AssetStorage",
    "PartitionStatusStorage",
    "DynamicPartitionStorage",
    "AutomationStorage",
    "InstigatorStorage",
    "EventFeeds",
    "BackfillStorage",
    "StepAttemptStorage",
    "AlertStorage",
    "HealthStorage",
    "FreshnessStorage",
    "MetadataStorage",
)
# Public methods that read or write no tenant rows, with the reason.
NOT_QUERIES = {
    ("EventIngest", "index_partitions_with"): "wiring: how ingest numbers partitions",
    ("EventIngest", "on_materialization"): "wiring: who ingest wakes after a commit",
    ("AlertStorage", "on_queued"): "wiring: who a queued alert wakes",
    ("AlertStorage", "forget"): "wiring: unregisters an on_queued listener",
    ("AlertStorage", "record_attempt"): "the delivery worker's: the claimed delivery names its row",
}


def test_every_tenant_storage_method_takes_the_deployment_scope_first() -> None:
    """No unscoped query path: each public method of a tenant storage class takes a
    DeploymentScope as its first parameter (checked on the signatures, so a method
    added later without one fails here)."""
    import inspect

    import weir_controlplane.storage as storage_module
    from weir_controlplane.storage import facade

    missing = []
    for class_name in TENANT_STORAGE:
        cls = getattr(storage_module, class_name, None) or getattr(facade, class_name)
        for name, function in inspect.getmembers(cls, inspect.isfunction):
            if name.startswith("_") or (class_name, name) in NOT_QUERIES:
                continue
            parameters = list(inspect.signature(function).parameters.values())[1:]
            first = parameters[0] if parameters else None
            if first is None or "DeploymentScope" not in str(first.annotation):
                missing.append(f"{class_name}.{name}")
    assert missing == []
