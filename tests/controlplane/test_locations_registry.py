"""CodeLocationRegistry.sync: at start the workspace decides which locations exist; those
added through the API stay until deleted, and runs outlive the locations they ran on."""

from __future__ import annotations

from api_harness import free_port
from weir_controlplane.locations import CodeLocationRegistry, LocationSpec
from weir_controlplane.storage import (
    CodeLocationSource,
    CodeLocationStatus,
    DeploymentScope,
    NewRun,
    Storage,
)


def test_sync_removes_what_the_workspace_dropped_and_keeps_api_locations(
    storage: Storage, scope: DeploymentScope
) -> None:
    nowhere = f"127.0.0.1:{free_port()}"
    locations = storage.code_locations
    locations.upsert(scope, "dropped", command="python -m weir_codeserver -f old.py")
    locations.set_loaded(scope, "dropped", "sha256:old", b"")
    locations.upsert(scope, "added", address=nowhere, source=CodeLocationSource.API)
    locations.upsert(scope, "listed", address=nowhere)
    run = storage.runs.create_run(scope, NewRun(code_location="dropped", asset_keys=("a",)))

    registry = CodeLocationRegistry(storage)
    try:
        states = registry.sync(scope, [LocationSpec("listed", address=nowhere)])
    finally:
        registry.stop()

    assert sorted(state.name for state in states) == ["added", "listed"]
    assert [row.name for row in locations.list_locations(scope)] == ["added", "listed"]
    assert {row.status for row in locations.list_locations(scope)} == {
        CodeLocationStatus.UNREACHABLE
    }
    assert locations.get(scope, "added").source is CodeLocationSource.API
    assert storage.runs.get_run(scope, run.run_id).code_location == "dropped"
