"""End to end on PostgreSQL: several `weir controlplane` replicas on one database, one killed
with runs in flight.

Runs are launched through every replica; one replica that launched some of the runs in
flight is killed with SIGKILL. Every run still succeeds (for a `python_file:` location
too: the code server the dead replica started exits, but its run workers carry on and
report to another replica), none is started twice, the run
limits hold across replicas the whole time (sampled from the database), nothing is left
QUEUED or STARTING, a live replica takes over the dead one, and the dead one, started
again on its address, rejoins. With one stable service address in front of the replicas
(a TCP proxy standing for a load balancer), workers report through it and survive the
death of the replica behind it.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from conftest import BIN, LOCATIONS, POSTGRES_URL_ENV, Api, ControlPlane

LIMIT = 3  # runs in progress per deployment
FINANCE_LIMIT = 2  # of which tagged team=finance
QUEUE = f"""run_queue:
  max_concurrent_runs: {LIMIT}
  tag_concurrency_limits:
    - {{key: team, value: finance, limit: {FINANCE_LIMIT}}}
"""
IN_PROGRESS = ("STARTING", "STARTED", "CANCELING")
# Short enough that a missed failover would fail runs within the test, long enough that
# a loaded CI machine never misses a worker's beats.
TIMINGS = {"heartbeat_interval": 0.5, "heartbeat_timeout": 8, "replica_lease": 2}


class Sampler:
    """Counts the in-progress runs, and the finance ones among them, every few ms."""

    def __init__(self, url: str) -> None:
        self.engine = sa.create_engine(url)
        self.max_total = 0
        self.max_finance = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        statuses = ", ".join(f"'{s}'" for s in IN_PROGRESS)
        query = sa.text(
            f"SELECT count(*), count(t.value) FROM runs r LEFT JOIN run_tags t "
            f"ON t.run_id = r.run_id AND t.key = 'team' AND t.value = 'finance' "
            f"WHERE r.status IN ({statuses})"
        )
        with self.engine.connect() as conn:
            while not self._stop.wait(0.005):
                total, finance = conn.execute(query).one()
                conn.commit()
                self.max_total = max(self.max_total, total)
                self.max_finance = max(self.max_finance, finance)
                self.samples += 1

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.engine.dispose()


@pytest.fixture
def postgres(database: str | None) -> str:
    if database is None:
        pytest.skip("runs only on PostgreSQL")
    return database


def _launch(api: Api, n: int) -> str:
    tags = {"team": "finance"} if n % 2 == 0 else {"team": "ops"}
    return api.launch("held", tags=tags)


def _replicas(api: Api) -> list[dict[str, Any]]:
    return api("ListControlPlaneReplicas").get("replicas", [])


def _wait(predicate: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _started(api: Api, run_ids: list[str]) -> list[dict[str, Any]]:
    runs = [api.run(run_id) for run_id in run_ids]
    return [run for run in runs if run["status"] == "RUN_STATUS_STARTED"]


@pytest.fixture
def location(request: pytest.FixtureRequest, start_codeserver: Any) -> Iterator[dict[str, str]]:
    """The code location every replica uses: its own service (`address:`), or a
    `python_file:` that each replica starts for itself."""
    if request.param == "address":
        server = start_codeserver(LOCATIONS / "replicated.py")
        assert server.match is not None
        yield {"name": "replicated", "address": f"127.0.0.1:{server.match.group(1)}"}
    else:
        yield {"name": "replicated", "python_file": str(LOCATIONS / "replicated.py")}


@pytest.mark.postgres
@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
@pytest.mark.parametrize(
    ("location", "replica_count"),
    [("address", 2), ("address", 3), ("python_file", 2)],
    indirect=["location"],
)
def test_killing_a_replica_with_runs_in_flight_fails_none_and_starts_none_twice(
    postgres: str,
    location: dict[str, str],
    replica_count: int,
    start_control_plane: Any,
    control_dir: Path,
) -> None:
    assert os.environ.get(POSTGRES_URL_ENV)
    hold = control_dir / "held.hold"
    hold.touch()
    planes: list[ControlPlane] = [
        start_control_plane([location], QUEUE, **TIMINGS) for _ in range(replica_count)
    ]
    first = planes[0].api
    _wait(lambda: len(_replicas(first)) == replica_count, 20, "every replica registered")
    sampler = Sampler(postgres)
    try:
        run_ids = [_launch(planes[n % replica_count].api, n) for n in range(4 * replica_count)]
        in_flight = _wait(
            lambda: len(found := _started(first, run_ids)) == LIMIT and found,
            60,
            f"{LIMIT} runs in flight",
        )
        # The victim: the replica that launched the oldest run in flight.
        by_address = {r["reportingAddress"]: r for r in _replicas(first)}
        victim_index, victim_id = next(
            (n, by_address[f"127.0.0.1:{plane.grpc_port}"]["replicaId"])
            for n, plane in enumerate(planes)
            if by_address[f"127.0.0.1:{plane.grpc_port}"]["replicaId"]
            in {_launched_by(postgres, run["runId"]) for run in in_flight}
        )
        victim = planes[victim_index]
        survivor = planes[(victim_index + 1) % replica_count].api
        assert victim.process is not None
        # Each replica answers with the code server it uses: for `python_file:`, its own.
        server_address = victim.api("ListCodeLocations")["codeLocations"][0]["address"]
        victim.process.kill()
        killed = time.monotonic()
        if "python_file" in location:
            # The code server the dead replica started notices and exits ...
            _wait(lambda: not _listening(server_address), 20, "the victim's code server to exit")
            # ... while the survivors keep their own.
            assert _listening(survivor("ListCodeLocations")["codeLocations"][0]["address"])

        def taken_over() -> dict[str, Any] | None:
            for replica in _replicas(survivor):
                if replica["replicaId"] == victim_id and replica.get("takenOverBy"):
                    return replica
            return None

        dead = _wait(taken_over, 30, "a live replica to take over the killed one")
        takeover_seconds = time.monotonic() - killed
        assert dead["state"] == "CONTROL_PLANE_REPLICA_STATE_DEAD"
        # The survivor that took over answers health checks under its own id.
        health = survivor.http.get("/healthz").json()
        assert health["status"] == "SERVING"
        assert health["replica"] in {r["replicaId"] for r in _replicas(survivor)}
        # Runs keep flowing through the survivors while the victim's runs stay in flight.
        hold.unlink()
        for run_id in run_ids:
            run = survivor.wait_status(run_id, "SUCCESS", "FAILURE", "CANCELED", timeout=120)
            assert run["status"] == "RUN_STATUS_SUCCESS", (run, survivor.events(run_id))
    finally:
        sampler.stop()

    assert sampler.samples > 50
    assert sampler.max_total == LIMIT, "the limit was exceeded (or never reached)"
    assert sampler.max_finance <= FINANCE_LIMIT
    for run_id in run_ids:
        events = survivor.events(run_id)
        kinds = Counter(e["eventType"] for e in events)
        assert kinds["RUN_EVENT_TYPE_RUN_STARTED"] == 1, events  # started once
        assert kinds["RUN_EVENT_TYPE_ASSET_MATERIALIZATION"] == 1, events
        assert kinds["RUN_EVENT_TYPE_RUN_FAILURE"] == 0, events
    print(f"takeover after kill -9: {takeover_seconds:.2f} s")

    # Started again on its address, the victim rejoins under a new id and runs work.
    victim.start()
    rejoined = _wait(
        lambda: [
            r
            for r in _replicas(victim.api)
            if r["reportingAddress"] == f"127.0.0.1:{victim.grpc_port}"
            and r["state"] == "CONTROL_PLANE_REPLICA_STATE_LIVE"
        ],
        20,
        "the restarted replica to rejoin",
    )
    assert rejoined[0]["replicaId"] != victim_id
    listing = subprocess.run(
        [str(BIN / "weir"), "replicas", "list", "--url", victim.api.base],
        capture_output=True, text=True, timeout=60, env=victim.env,
    )  # fmt: skip
    assert listing.returncode == 0, listing.stderr
    # One row per replica (the one that answered marked "*"), then the footnote.
    rows = {}
    for line in listing.stdout.splitlines()[1:]:
        fields = [field for field in line.split() if field != "*"]
        if len(fields) >= 2 and not line.startswith("*"):
            rows[fields[0]] = fields[1]
    assert rows[victim_id] == "DEAD" and rows[rejoined[0]["replicaId"]] == "LIVE"
    again = victim.api.launch("quick")
    assert victim.api.wait_status(again, "SUCCESS", "FAILURE")["status"] == "RUN_STATUS_SUCCESS"


def _listening(address: str) -> bool:
    host, port = address.rsplit(":", 1)
    try:
        socket.create_connection((host, int(port)), timeout=1).close()
    except OSError:
        return False
    return True


def _launched_by(url: str, run_id: str) -> str:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(
                sa.text("SELECT launched_by FROM runs WHERE run_id = :run_id"), {"run_id": run_id}
            ).scalar_one()
    finally:
        engine.dispose()


class FirstLiveProxy:
    """A TCP proxy standing for a load balancer in front of the replicas: each connection
    goes to the first backend that accepts it, so when that one dies, reconnecting
    clients land on the next."""

    def __init__(self, backends: list[int]) -> None:
        self.backends = backends
        self.connections: Counter[int] = Counter()
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            for port in self.backends:
                try:
                    backend = socket.create_connection(("127.0.0.1", port), timeout=1)
                except OSError:
                    continue
                backend.settimeout(None)
                self.connections[port] += 1
                for source, sink in ((client, backend), (backend, client)):
                    threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()
                break
            else:
                client.close()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)
                end.close()

    def close(self) -> None:
        self._server.close()


@pytest.mark.postgres
@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
@pytest.mark.parametrize("location", ["address"], indirect=True)
def test_workers_behind_one_service_address_survive_the_replica_behind_it(
    postgres: str,
    location: dict[str, str],
    start_control_plane: Any,
    control_dir: Path,
) -> None:
    hold = control_dir / "held.hold"
    hold.touch()
    proxy = FirstLiveProxy([])  # listening first: the replicas are told its address
    service = f"127.0.0.1:{proxy.port}"
    try:
        planes = [
            start_control_plane([location], QUEUE, reporting_service_address=service, **TIMINGS)
            for _ in range(2)
        ]
        first, second = (plane.grpc_port for plane in planes)
        proxy.backends.extend([first, second])
        run_ids = [_launch(planes[n % 2].api, n) for n in range(4)]
        _wait(lambda: len(_started(planes[1].api, run_ids)) == LIMIT, 60, "runs in flight")
        assert proxy.connections[first] > 0, "workers report through the proxy"
        assert planes[0].process is not None
        planes[0].process.kill()  # the replica the service address leads to
        hold.unlink()
        survivor = planes[1].api
        for run_id in run_ids:
            run = survivor.wait_status(run_id, "SUCCESS", "FAILURE", "CANCELED", timeout=120)
            assert run["status"] == "RUN_STATUS_SUCCESS", (run, survivor.events(run_id))
        assert proxy.connections[second] > 0, "workers moved behind the proxy"
    finally:
        proxy.close()
