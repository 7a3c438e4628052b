"""Code locations: registration, load status with messages, snapshots cached by hash."""

from __future__ import annotations

import gc
import os
import tracemalloc
from datetime import UTC, datetime

import pytest
from weir_controlplane.storage import (
    CodeLocationNotFoundError,
    CodeLocationStatus,
    DeploymentScope,
    Storage,
)

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_a_location_goes_from_loading_to_loaded_with_its_snapshot(
    storage: Storage, scope: DeploymentScope
) -> None:
    added = storage.code_locations.upsert(scope, "etl", address="localhost:4266", now=T0)
    assert added.status is CodeLocationStatus.LOADING
    assert added.updated_at == T0

    assert not storage.code_locations.has_snapshot(scope, "sha256:aa")
    loaded = storage.code_locations.set_loaded(scope, "etl", "sha256:aa", b"\x00snapshot")
    assert loaded.status is CodeLocationStatus.LOADED
    assert loaded.snapshot_hash == "sha256:aa"
    assert storage.code_locations.has_snapshot(scope, "sha256:aa")
    assert storage.code_locations.get_snapshot(scope, "sha256:aa") == b"\x00snapshot"


def test_a_reload_with_a_known_hash_needs_no_bytes(
    storage: Storage, scope: DeploymentScope
) -> None:
    storage.code_locations.upsert(scope, "etl", address="localhost:4266")
    storage.code_locations.set_loaded(scope, "etl", "sha256:aa", b"first")
    storage.code_locations.set_unavailable(
        scope, "etl", CodeLocationStatus.UNREACHABLE, "connection refused"
    )
    again = storage.code_locations.set_loaded(scope, "etl", "sha256:aa")
    assert again.status is CodeLocationStatus.LOADED
    assert again.error_message is None
    with pytest.raises(ValueError, match="pass its bytes"):
        storage.code_locations.set_loaded(scope, "etl", "sha256:unknown")


def test_a_stored_snapshot_is_not_kept_in_memory(storage: Storage, scope: DeploymentScope) -> None:
    # SQLAlchemy caches a compiled statement with the values it was first built with: a
    # snapshot given as one stayed in the control plane for as long as it ran.
    storage.code_locations.upsert(scope, "etl", address="localhost:4266")
    tracemalloc.start()
    try:
        storage.code_locations.set_loaded(scope, "etl", "sha256:aa", os.urandom(4_000_000))
        gc.collect()
        held = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert held < 1_000_000, held
    assert len(storage.code_locations.get_snapshot(scope, "sha256:aa") or b"") == 4_000_000


def test_load_errors_keep_the_message_and_the_last_good_snapshot(
    storage: Storage, scope: DeploymentScope
) -> None:
    storage.code_locations.upsert(scope, "etl", command="weir-codeserver -f defs.py")
    storage.code_locations.set_loaded(scope, "etl", "sha256:aa", b"good")
    errored = storage.code_locations.set_unavailable(
        scope, "etl", CodeLocationStatus.ERROR, "SyntaxError: invalid syntax (defs.py, line 3)"
    )
    assert errored.status is CodeLocationStatus.ERROR
    assert errored.error_message == "SyntaxError: invalid syntax (defs.py, line 3)"
    assert errored.snapshot_hash == "sha256:aa"
    assert errored.command == "weir-codeserver -f defs.py"


def test_locations_list_by_name_update_in_place_and_can_be_removed(
    storage: Storage, scope: DeploymentScope
) -> None:
    storage.code_locations.upsert(scope, "zeta", address="localhost:1")
    storage.code_locations.upsert(scope, "alpha", address="localhost:2")
    moved = storage.code_locations.upsert(scope, "zeta", address="localhost:3")
    assert moved.address == "localhost:3"
    assert [loc.name for loc in storage.code_locations.list_locations(scope)] == ["alpha", "zeta"]

    storage.code_locations.remove(scope, "zeta")
    assert [loc.name for loc in storage.code_locations.list_locations(scope)] == ["alpha"]
    with pytest.raises(CodeLocationNotFoundError, match="zeta"):
        storage.code_locations.get(scope, "zeta")
    with pytest.raises(CodeLocationNotFoundError):
        storage.code_locations.set_unavailable(scope, "zeta", CodeLocationStatus.ERROR, "gone")
