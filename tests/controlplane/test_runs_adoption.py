"""RunCoordinator under several replicas: where workers report, and adopting a dead
replica's runs (launching again only those whose worker never showed up)."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterator
from concurrent import futures
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest
from api_harness import asset, snapshot
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from weir_controlplane.locations import CodeLocationRegistry, LocationSpec
from weir_controlplane.runs import RunCoordinator, RunSettings
from weir_controlplane.runs.membership import MembershipSettings, ReplicaMembership
from weir_controlplane.storage import DeploymentScope, RunStatus, Storage
from weir_protos.v1 import code_location_pb2 as cl_pb2
from weir_protos.v1 import code_location_pb2_grpc as cl_grpc


class RecordingLocation(cl_grpc.CodeLocationServiceServicer):
    """Accepts every run and remembers each ExecuteRun request."""

    def __init__(self) -> None:
        self.snapshot = snapshot(asset("work"))
        self.requests: list[cl_pb2.ExecuteRunRequest] = []

    def GetLocationInfo(self, request: Any, context: Any) -> cl_pb2.GetLocationInfoResponse:
        return cl_pb2.GetLocationInfoResponse(content_hash=self.snapshot.content_hash)

    def StreamDefinitions(self, request: Any, context: Any) -> Iterator[Any]:
        yield cl_pb2.StreamDefinitionsResponse(part=self.snapshot)

    def ExecuteRun(self, request: cl_pb2.ExecuteRunRequest, context: Any) -> Any:
        self.requests.append(request)
        return cl_pb2.ExecuteRunResponse(worker_id=f"worker-{request.run_id}")


@pytest.fixture
def location() -> Iterator[tuple[str, RecordingLocation]]:
    servicer = RecordingLocation()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    cl_grpc.add_CodeLocationServiceServicer_to_server(servicer, server)
    serving = health.HealthServicer()
    serving.set("", health_pb2.HealthCheckResponse.SERVING)
    health_pb2_grpc.add_HealthServicer_to_server(serving, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield f"127.0.0.1:{port}", servicer
    server.stop(None).wait(5)


def _coordinator(
    storage: Storage, scope: DeploymentScope, address: str, settings: RunSettings
) -> tuple[RunCoordinator, CodeLocationRegistry]:
    registry = CodeLocationRegistry(storage)
    registry.add(scope, LocationSpec("busy", address=address))
    coordinator = RunCoordinator(storage, registry, settings)
    coordinator.replica_id = "survivor"
    coordinator.reporting_address = "127.0.0.1:4001"
    coordinator.peer_addresses = ("127.0.0.1:4002", "127.0.0.1:4003")
    return coordinator, registry


def _wait_for(predicate: Any, timeout: float = 10) -> None:  # predicate() -> bool
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_a_worker_gets_every_live_replicas_address_or_the_one_service_address(
    storage: Storage, scope: DeploymentScope, location: tuple[str, RecordingLocation]
) -> None:
    address, recorded = location
    for settings, expected in (
        (RunSettings(), ["127.0.0.1:4001", "127.0.0.1:4002", "127.0.0.1:4003"]),
        (RunSettings(service_address="dns:///weir.internal:4000"), ["dns:///weir.internal:4000"]),
    ):
        coordinator, registry = _coordinator(storage, scope, address, settings)
        coordinator.start()
        try:
            run = coordinator.submit(scope, location="busy", asset_keys=["work"])
            _wait_for(lambda run_id=run.run_id: any(r.run_id == run_id for r in recorded.requests))
        finally:
            coordinator.stop()
            registry.stop()
        request = next(r for r in recorded.requests if r.run_id == run.run_id)
        assert list(request.reporting_addresses) == expected
        assert request.reporting_address == expected[0]  # for workers that know only one
        assert storage.runs.get_run(scope, run.run_id).launched_by == "survivor"


def test_adopting_launches_again_only_the_runs_whose_worker_never_reported(
    storage: Storage, scope: DeploymentScope, location: tuple[str, RecordingLocation]
) -> None:
    address, recorded = location
    coordinator, registry = _coordinator(
        storage, scope, address, RunSettings(heartbeat_interval=0.1, heartbeat_timeout=0.5)
    )
    silent, heard, running = (
        coordinator.submit(scope, location="busy", asset_keys=["work"]) for _ in range(3)
    )
    # The dead replica claimed all three; one worker had heartbeat, one had reported.
    storage.runs.claim_queued(scope, max_in_progress=10, launched_by="dead")
    storage.runs.heartbeat(scope, heard.run_id)
    storage.runs.transition(
        scope, running.run_id, from_statuses={RunStatus.STARTING}, to=RunStatus.STARTED
    )
    try:
        adopted = coordinator.adopt(scope, "dead")
        assert sorted(run.run_id for run in adopted) == sorted(
            run.run_id for run in (silent, heard, running)
        )
        _wait_for(lambda: any(r.run_id == silent.run_id for r in recorded.requests))
        time.sleep(0.5)  # long past the adopted runs' wait: no other launch follows
    finally:
        coordinator.stop()
        registry.stop()
    assert [r.run_id for r in recorded.requests] == [silent.run_id]
    for run in (silent, heard, running):
        assert storage.runs.get_run(scope, run.run_id).launched_by == "survivor"
    notes = [
        event.message
        for event in storage.event_log.get_run_events(scope, silent.run_id).items
        if event.event_type == "ENGINE"
    ]
    assert notes == [
        "Replica survivor took over the run from replica dead, which died while starting it; "
        "starting it again"
    ]


def test_an_adopted_starting_run_is_not_failed_as_lost_while_it_waits_to_start_again(
    storage: Storage, scope: DeploymentScope, location: tuple[str, RecordingLocation]
) -> None:
    address, recorded = location
    settings = RunSettings(heartbeat_interval=0.1, heartbeat_timeout=0.5)
    coordinator, registry = _coordinator(storage, scope, address, settings)
    run = coordinator.submit(scope, location="busy", asset_keys=["work"])
    # The dead replica claimed it and died before its ExecuteRun: silent past a timeout.
    storage.runs.claim_queued(scope, max_in_progress=10, launched_by="dead")
    time.sleep(0.6)
    try:
        coordinator.adopt(scope, "dead")
        coordinator.fail_lost_runs(scope)  # the monitor's pass, during the adopted run's wait
        assert storage.runs.get_run(scope, run.run_id).status is RunStatus.STARTING
        _wait_for(lambda: any(r.run_id == run.run_id for r in recorded.requests))
    finally:
        coordinator.stop()
        registry.stop()
    assert storage.runs.get_run(scope, run.run_id).status is RunStatus.STARTING


def test_a_replica_logs_every_run_it_fails_for_another_replica(
    storage: Storage,
    scope: DeploymentScope,
    location: tuple[str, RecordingLocation],
    caplog: pytest.LogCaptureFixture,
) -> None:
    address, _ = location
    coordinator, registry = _coordinator(storage, scope, address, RunSettings())
    try:
        theirs, mine = (
            coordinator.submit(scope, location="busy", asset_keys=["work"]) for _ in range(2)
        )
        storage.runs.claim_queued(scope, max_in_progress=1, launched_by="replica-a")
        storage.runs.claim_queued(scope, max_in_progress=2, launched_by="survivor")
        long_ago = datetime.now(UTC) - timedelta(minutes=5)
        for run in (theirs, mine):
            storage.runs.heartbeat(scope, run.run_id, now=long_ago)
        with caplog.at_level(logging.WARNING, logger="weir_controlplane.runs.coordinator"):
            coordinator.fail_lost_runs(scope)
    finally:
        coordinator.stop()
        registry.stop()
    assert storage.runs.get_run(scope, theirs.run_id).status is RunStatus.FAILURE
    assert storage.runs.get_run(scope, mine.run_id).worker_lost
    said = [record.getMessage() for record in caplog.records]
    assert any(
        f"set run {theirs.run_id} (launched by replica replica-a) to FAILURE" in line
        and "stopped heartbeating" in line
        for line in said
    ), said
    assert not any(mine.run_id in line for line in said)  # its own: the event log says it


def test_a_run_launched_before_the_next_membership_beat_gets_a_replica_that_just_joined(
    storage: Storage, scope: DeploymentScope, location: tuple[str, RecordingLocation]
) -> None:
    address, recorded = location
    slow_beats = MembershipSettings(interval=60.0, lease=120.0)  # no beat during the test
    first, first_registry = _coordinator(storage, scope, address, RunSettings())
    first.reporting_address = f"127.0.0.1:{uuid.uuid4().int % 20000 + 30000}"
    first.peer_addresses = ()
    joined = RunCoordinator(storage, CodeLocationRegistry(storage), RunSettings())
    joined.reporting_address = f"127.0.0.1:{uuid.uuid4().int % 20000 + 10000}"
    memberships = [
        ReplicaMembership(storage, each, http_address="127.0.0.1:1", settings=slow_beats)
        for each in (first, joined)
    ]
    try:
        for membership in memberships:  # the first registers, then the second joins
            membership.start()
        assert joined.reporting_address not in first.peer_addresses  # no beat since
        first.start()
        run = first.submit(scope, location="busy", asset_keys=["work"])
        _wait_for(lambda: any(r.run_id == run.run_id for r in recorded.requests))
    finally:
        first.stop()
        first_registry.stop()
        for membership in memberships:
            membership.stop()
    request = next(r for r in recorded.requests if r.run_id == run.run_id)
    assert request.reporting_addresses[0] == first.reporting_address
    assert joined.reporting_address in request.reporting_addresses, (
        "the run's worker has nowhere to go should its replica die"
    )
