"""One API server on loopback for the fuzz suites: SQLite storage, the "etl" code
location's snapshot, and a run that has ended (so streams over it finish).

A module rather than a conftest.py: the e2e tests import their conftest by name, which a
second conftest module on the path would shadow. Test modules import `fuzz_target`.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "controlplane"))

from api_harness import ApiServer, add_location, deployment, etl_snapshot, launch, serving
from weir_controlplane.storage import Storage
from weir_protos.v1 import control_plane_pb2 as cp


class FuzzTarget:
    def __init__(self, server: ApiServer, deployment_name: str, ended_run: str) -> None:
        self.server = server
        self.deployment = deployment_name
        self.ended_run = ended_run


@pytest.fixture(scope="session")
def fuzz_target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    path = tmp_path_factory.mktemp("fuzz") / "weir.db"
    storage = Storage.open(f"sqlite:///{path}")
    scope = storage.deployments.ensure_deployment(f"fuzz-{uuid.uuid4().hex[:8]}")
    try:
        with serving(storage) as server:
            add_location(storage, scope, "etl", etl_snapshot())
            run = launch(server, scope, "orders")
            server.control_plane().CancelRun(
                cp.CancelRunRequest(run_id=run.run_id), metadata=deployment(scope)
            )
            yield FuzzTarget(server, scope.name, run.run_id)
    finally:
        storage.close()
