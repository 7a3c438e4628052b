"""RunCoordinator: the queue's limit across replicas, and watchers' change versions."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from concurrent import futures
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
from api_harness import asset, snapshot
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from weir_controlplane.locations import CodeLocationRegistry, LocationSpec
from weir_controlplane.runs import RunCoordinator, RunSettings
from weir_controlplane.runs.events import to_new_event
from weir_controlplane.storage import (
    IN_PROGRESS_RUN_STATUSES,
    DeploymentScope,
    RunFilter,
    RunStatus,
    Storage,
    TagConcurrencyLimit,
)
from weir_protos.v1 import code_location_pb2 as cl_pb2
from weir_protos.v1 import code_location_pb2_grpc as cl_grpc
from weir_protos.v1 import events_pb2

LIMIT = 3
RUNS = 100


class BusyLocation(cl_grpc.CodeLocationServiceServicer):
    """A code location whose every run works 30 milliseconds and then succeeds.

    Its "worker" reports RUN_STARTED and RUN_SUCCESS through the launching replica's
    storage, then wakes both replicas' queues at once: the moment they race for the slot.
    It counts the runs it executes at once, all of them and those carrying `watched` tags.
    """

    def __init__(self, finish: Callable[[str, str], None], watched: Mapping[str, str]) -> None:
        self.snapshot = snapshot(asset("work"))
        self.executed: Counter[str] = Counter()
        self.running = self.most_running = 0
        self.running_watched = self.most_running_watched = 0
        self._watched = dict(watched)
        self._finish = finish
        self._lock = threading.Lock()
        self._workers = futures.ThreadPoolExecutor(max_workers=16)

    def GetLocationInfo(self, request: Any, context: Any) -> cl_pb2.GetLocationInfoResponse:
        return cl_pb2.GetLocationInfoResponse(content_hash=self.snapshot.content_hash)

    def StreamDefinitions(self, request: Any, context: Any) -> Iterator[Any]:
        yield cl_pb2.StreamDefinitionsResponse(part=self.snapshot)

    def ExecuteRun(self, request: cl_pb2.ExecuteRunRequest, context: Any) -> Any:
        watched = self._watched.items() <= dict(request.tags).items()
        with self._lock:
            self.executed[request.run_id] += 1
            self.running += 1
            self.most_running = max(self.most_running, self.running)
            if watched:
                self.running_watched += 1
                self.most_running_watched = max(self.most_running_watched, self.running_watched)
        self._workers.submit(self._work, request.reporting_address, request.run_id, watched)
        return cl_pb2.ExecuteRunResponse(worker_id=f"worker-{request.run_id}")

    def _work(self, replica: str, run_id: str, watched: bool) -> None:
        # The run's work: long enough that, on a loaded machine, runs the queue lets through
        # together are seen running together (at 5 ms, under load, they were not always).
        time.sleep(0.03)
        with self._lock:
            self.running -= 1
            self.running_watched -= watched
        self._finish(replica, run_id)

    def close(self) -> None:
        self._workers.shutdown(wait=True)


@dataclass
class Replica:
    storage: Storage
    registry: CodeLocationRegistry
    coordinator: RunCoordinator


def _event(run_id: str, sequence: int, event_type: Any) -> Any:
    return to_new_event(
        events_pb2.RunEvent(run_id=run_id, sequence=sequence, event_type=event_type)
    )


def _in_progress(storage: Storage, scope: DeploymentScope, tags: Mapping[str, str]) -> int:
    statuses = frozenset(IN_PROGRESS_RUN_STATUSES)
    page = storage.runs.list_runs(scope, RunFilter(statuses=statuses, tags=tags), limit=1000)
    return len(page.items)


@dataclass
class Outcome:
    location: BusyLocation
    submitted: list[str]
    samples: list[int]  # runs in progress carrying the watched tags, sampled throughout


@contextmanager
def _two_replicas(
    database_url: str,
    storage: Storage,
    scope: DeploymentScope,
    settings: RunSettings,
    location: BusyLocation,
    replicas: dict[str, Replica],
) -> Iterator[dict[str, Replica]]:
    """Serve `location` as code location "busy" and start replicas "a" and "b" (their
    coordinators named replica-a and replica-b) on one database, filling `replicas`."""
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=16))
    cl_grpc.add_CodeLocationServiceServicer_to_server(location, server)
    health_pb2_grpc.add_HealthServicer_to_server(_serving_health(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    second_storage = Storage.open(database_url, migrate=False)
    try:
        for name, replica_storage in (("a", storage), ("b", second_storage)):
            registry = CodeLocationRegistry(replica_storage)
            registry.add(scope, LocationSpec("busy", address=f"127.0.0.1:{port}"))
            coordinator = RunCoordinator(replica_storage, registry, settings)
            coordinator.reporting_address = name  # tells the location whom to report to
            coordinator.replica_id = f"replica-{name}"
            replicas[name] = Replica(replica_storage, registry, coordinator)
        for replica in replicas.values():
            replica.coordinator.start()
        yield replicas
    finally:
        for replica in replicas.values():
            replica.coordinator.stop()
            replica.registry.stop()
        server.stop(None).wait(5)
        location.close()
        second_storage.close()


def _run_on_two_replicas(
    database_url: str,
    storage: Storage,
    scope: DeploymentScope,
    settings: RunSettings,
    tags_of: Callable[[int], dict[str, str]],
    watched: Mapping[str, str],
) -> Outcome:
    """Submit RUNS runs (run n tagged `tags_of(n)`), half through each of two replicas on
    one database, and wait until every run has ended."""
    replicas: dict[str, Replica] = {}

    def finish(name: str, run_id: str) -> None:
        replica = replicas[name]
        replica.storage.events.store_batch(
            scope,
            run_id,
            [
                _event(run_id, 1, events_pb2.RUN_EVENT_TYPE_RUN_STARTED),
                _event(run_id, 2, events_pb2.RUN_EVENT_TYPE_RUN_SUCCESS),
            ],
        )
        for each in replicas.values():
            each.coordinator.notify(run_id)

    location = BusyLocation(finish, watched)
    samples: list[int] = []
    submitted: list[str] = []
    with _two_replicas(database_url, storage, scope, settings, location, replicas):
        second_storage = replicas["b"].storage
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                samples.append(_in_progress(second_storage, scope, watched))
                done.wait(0.002)

        sampler = threading.Thread(target=sample)
        sampler.start()

        # Both replicas take launches at once, each waking its own queue.
        def submit(replica: Replica, first: int) -> None:
            for n in range(first, RUNS, 2):
                run = replica.coordinator.submit(
                    scope, location="busy", asset_keys=["work"], tags=tags_of(n)
                )
                submitted.append(run.run_id)

        submitters = [
            threading.Thread(target=submit, args=(replica, first))
            for first, replica in enumerate(replicas.values())
        ]
        for thread in submitters:
            thread.start()
        for thread in submitters:
            thread.join()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            runs = storage.runs.list_runs(scope, limit=1000).items
            if all(run.status.is_terminal for run in runs):
                break
            time.sleep(0.02)
        done.set()
        sampler.join()
    statuses = Counter(run.status for run in storage.runs.list_runs(scope, limit=1000).items)
    assert statuses == {RunStatus.SUCCESS: RUNS}
    assert sorted(location.executed) == sorted(submitted)
    assert set(location.executed.values()) == {1}, "a run was launched twice"
    return Outcome(location, submitted, samples)


def test_two_replicas_on_one_database_never_exceed_the_limit_and_run_each_run_once(
    database_url: str, storage: Storage, scope: DeploymentScope
) -> None:
    outcome = _run_on_two_replicas(
        database_url, storage, scope, RunSettings(max_concurrent_runs=LIMIT), lambda n: {}, {}
    )
    most = max(outcome.samples)
    assert most <= LIMIT, f"{most} runs in progress at once; the limit is {LIMIT}"
    assert outcome.location.most_running <= LIMIT
    assert most == LIMIT, "the queue never filled its slots: the test proved nothing"


def test_two_replicas_on_one_database_keep_a_tag_limit_without_holding_up_other_runs(
    database_url: str, storage: Storage, scope: DeploymentScope
) -> None:
    finance = {"team": "finance"}
    settings = RunSettings(
        max_concurrent_runs=6, tag_concurrency_limits=(TagConcurrencyLimit("team", 2, "finance"),)
    )
    # Three in four runs are finance's: the queue is mostly runs the tag limit holds back.
    outcome = _run_on_two_replicas(
        database_url,
        storage,
        scope,
        settings,
        lambda n: finance if n % 4 else {"team": "ops"},
        finance,
    )
    location = outcome.location
    assert max(outcome.samples) <= 2, f"{max(outcome.samples)} finance runs at once; limit 2"
    assert location.most_running_watched <= 2
    assert max(outcome.samples) == 2, "finance never had both its slots: the test proved nothing"
    # Other teams' runs got past the held-back finance runs and used the slots left.
    assert location.most_running > 2, "ops runs waited behind finance's (head-of-line blocking)"


def _serving_health() -> health.HealthServicer:
    servicer = health.HealthServicer()
    servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    return servicer


# --- change notifications -------------------------------------------------------------


@pytest.fixture
def coordinator(storage: Storage) -> Iterator[RunCoordinator]:
    registry = CodeLocationRegistry(storage)
    coordinator = RunCoordinator(storage, registry, RunSettings())
    yield coordinator
    coordinator.stop()
    registry.stop()


def test_changes_to_runs_no_one_watches_leave_no_state(coordinator: RunCoordinator) -> None:
    for n in range(20_000):
        coordinator.notify(f"run-{n}")
    assert coordinator.notifier.watched_runs() == 0


# --- a run the location refuses -------------------------------------------------------


class RefusingLocation(BusyLocation):
    """A code location that refuses every run as a bad request, as a Python code location
    does for a partition key its definitions (or its dynamic partitions) do not have."""

    REASON = "Unknown partition key 'report.csv' of asset 'files'; it is not one of the keys"

    def ExecuteRun(self, request: cl_pb2.ExecuteRunRequest, context: Any) -> Any:
        self.executed[request.run_id] += 1
        context.abort(grpc.StatusCode.INVALID_ARGUMENT, self.REASON)


def test_a_run_the_location_refuses_as_invalid_fails_to_start_not_as_unavailable(
    storage: Storage, scope: DeploymentScope
) -> None:
    location = RefusingLocation(lambda replica, run_id: None, watched={})
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    cl_grpc.add_CodeLocationServiceServicer_to_server(location, server)
    health_pb2_grpc.add_HealthServicer_to_server(_serving_health(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    registry = CodeLocationRegistry(storage)
    coordinator = RunCoordinator(storage, registry, RunSettings())
    try:
        registry.add(scope, LocationSpec("files", address=f"127.0.0.1:{port}"))
        coordinator.start()
        run = coordinator.submit(
            scope, location="files", asset_keys=["work"], partition_key="report.csv"
        )
        deadline = time.monotonic() + 30
        while not storage.runs.get_run(scope, run.run_id).status.is_terminal:
            assert time.monotonic() < deadline, "the refused run never ended"
            time.sleep(0.02)
    finally:
        coordinator.stop()
        registry.stop()
        server.stop(None).wait(5)
        location.close()

    ended = storage.runs.get_run(scope, run.run_id)
    assert ended.status is RunStatus.FAILURE
    assert location.executed[run.run_id] == 1
    assert ended.failure_reason == (
        "The code location refused to start the run: Code location 'files' refused "
        f"ExecuteRun: {RefusingLocation.REASON}"
    )
    assert "unavailable" not in ended.failure_reason
    failures = storage.event_log.get_run_events(scope, run.run_id, event_types=["RUN_FAILURE"])
    failure = events_pb2.RunEvent.FromString(failures.items[0].payload).run_failure
    assert failure.reason == events_pb2.RUN_FAILURE_REASON_START_FAILED
    assert failure.error.class_name == "InvalidArgumentError"


# --- a worker slow to be started is not lost ------------------------------------------


class SlowToAcceptLocation(BusyLocation):
    """A code server busy starting other workers: ExecuteRun returns only after
    ACCEPT_SECONDS, longer than the heartbeat timeout, and the run's worker then reports
    within a fraction of that timeout."""

    ACCEPT_SECONDS = 1.6

    def ExecuteRun(self, request: cl_pb2.ExecuteRunRequest, context: Any) -> Any:
        time.sleep(self.ACCEPT_SECONDS)
        return super().ExecuteRun(request, context)

    def _work(self, replica: str, run_id: str, watched: bool) -> None:
        time.sleep(0.2)  # the worker's start, well within the heartbeat timeout
        super()._work(replica, run_id, watched)


def test_a_run_whose_code_server_is_slow_to_accept_it_is_not_failed_as_lost(
    database_url: str, storage: Storage, scope: DeploymentScope
) -> None:
    # Two replicas judge silent runs: neither may fail the run while its ExecuteRun is in
    # flight, and its launcher counts the worker's silence from the acceptance.
    settings = RunSettings(heartbeat_interval=0.2, heartbeat_timeout=1.0)
    replicas: dict[str, Replica] = {}

    def finish(name: str, run_id: str) -> None:
        replicas[name].storage.events.store_batch(
            scope,
            run_id,
            [
                _event(run_id, 1, events_pb2.RUN_EVENT_TYPE_RUN_STARTED),
                _event(run_id, 2, events_pb2.RUN_EVENT_TYPE_RUN_SUCCESS),
            ],
        )

    location = SlowToAcceptLocation(finish, watched={})
    with _two_replicas(database_url, storage, scope, settings, location, replicas):
        # Both monitors judge from the start: the run is submitted once they do.
        time.sleep(settings.heartbeat_timeout + 0.1)
        run = replicas["a"].coordinator.submit(scope, location="busy", asset_keys=["work"])
        deadline = time.monotonic() + 30
        while not storage.runs.get_run(scope, run.run_id).status.is_terminal:
            assert time.monotonic() < deadline, "the run never ended"
            time.sleep(0.02)
        time.sleep(0.1)  # any late transition would land now
    ended = storage.runs.get_run(scope, run.run_id)
    types = [e.event_type for e in storage.event_log.get_run_events(scope, run.run_id).items]
    assert ended.status is RunStatus.SUCCESS, ended.failure_reason
    assert "RUN_FAILURE" not in types, f"the run was failed on its way: {ended.failure_reason}"
    assert location.executed[run.run_id] == 1
