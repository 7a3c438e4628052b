"""LocationHealthWatcher: one thread that checks every code location's `grpc.health.v1` health.

Each pass sends every location's Check at once (non-blocking futures on the location's own
channel), so one silent location costs the pass its timeout, not a thread. A location that
stops answering is marked UNREACHABLE; one the control plane started is restarted, with
exponential backoff between attempts; a location answering again is refreshed, which brings
it back to LOADED (or ERROR, if its code does not load).

    watcher = LocationHealthWatcher(registry, HealthSettings(interval=1.0))
    watcher.start()
    ...
    watcher.stop()
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from weir_controlplane.errors import ApiError
from weir_controlplane.locations.registry import CodeLocationRegistry, WatchedLocation
from weir_controlplane.storage import CodeLocationNotFoundError, CodeLocationStatus
from weir_controlplane.storage.errors import DatabaseUnavailableError

log = logging.getLogger(__name__)

# The service name a code location reports for (protos/README.md).
SERVICE_NAME = "weir.v1.CodeLocationService"


@dataclass(frozen=True)
class HealthSettings:
    interval: float = 1.0  # seconds between passes
    timeout: float = 2.0  # a Check slower than this is a failure
    # Consecutive failed checks before a location whose process still runs is marked
    # UNREACHABLE (a process seen dead counts at once).
    failures_to_unreachable: int = 2
    restart_backoff: float = 1.0  # first wait between restarts, doubled up to the max
    max_restart_backoff: float = 30.0


@dataclass
class _Tracking:
    failures: int = 0
    backoff: float = 0.0
    next_restart: float = 0.0
    busy: bool = False  # a refresh or restart is in flight
    lock: threading.Lock = field(default_factory=threading.Lock)


class LocationHealthWatcher:
    def __init__(self, registry: CodeLocationRegistry, settings: HealthSettings | None = None):
        self._registry = registry
        self.settings = settings or HealthSettings()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        # Restarts and refreshes take seconds; they run here so checks keep their pace.
        self._actions = ThreadPoolExecutor(max_workers=2, thread_name_prefix="location-recover")
        self._tracking: dict[tuple[int, str], _Tracking] = {}

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="location-health", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(self.settings.timeout + 5)
        self._actions.shutdown(wait=True, cancel_futures=True)

    def _loop(self) -> None:
        while not self._stopping.wait(self.settings.interval):
            try:
                self.check_once()
                self._registry.stop_drained()
            except DatabaseUnavailableError:  # a restart, not a bug: no traceback per pass
                log.warning("code location health pass: the database is unavailable; retrying")
            except Exception:
                log.exception("code location health pass failed; retrying")

    def check_once(self) -> None:
        """One pass over every location: check all, then act on each answer."""
        pending: list[tuple[WatchedLocation, Any]] = []
        watched = self._registry.watched()
        keys = {(location.scope.deployment_id, location.name) for location in watched}
        for gone in set(self._tracking) - keys:  # removed since the last pass
            del self._tracking[gone]
        for location in watched:
            if location.client is None or (location.managed and not location.process_alive):
                pending.append((location, None))
                continue
            # types-grpcio-health-checking declares HealthStub without its methods.
            stub: Any = health_pb2_grpc.HealthStub(location.client.channel)
            request = health_pb2.HealthCheckRequest(service=SERVICE_NAME)
            pending.append((location, stub.Check.future(request, timeout=self.settings.timeout)))
        for location, future in pending:
            try:
                self._judge(location, _problem(location, future))
            except (ApiError, CodeLocationNotFoundError) as exc:  # removed while checked
                log.info("code location %s: %s", location.name, exc)

    def _judge(self, location: WatchedLocation, problem: str | None) -> None:
        key = (location.scope.deployment_id, location.name)
        tracking = self._tracking.setdefault(key, _Tracking())
        with tracking.lock:
            if tracking.busy:
                return
            if problem is None:
                tracking.failures = 0
                tracking.backoff = 0.0
                if self._registry.status(location.scope, location.name) is (
                    CodeLocationStatus.UNREACHABLE
                ):
                    self._act(tracking, self._registry.refresh, location)
                return
            tracking.failures += 1
            dead = location.managed and not location.process_alive
            if not dead and tracking.failures < self.settings.failures_to_unreachable:
                return
            if self._registry.status(location.scope, location.name) is not (
                CodeLocationStatus.UNREACHABLE
            ):
                log.warning("code location %s: %s", location.name, problem)
                self._registry.mark_unreachable(location.scope, location.name, problem)
            if not location.managed:
                return
            now = time.monotonic()
            if now < tracking.next_restart:
                return
            tracking.backoff = min(
                self.settings.max_restart_backoff,
                max(self.settings.restart_backoff, tracking.backoff * 2),
            )
            tracking.next_restart = now + tracking.backoff
            log.warning("restarting code location %s", location.name)
            action = self._registry.refresh if dead else self._registry.restart
            self._act(tracking, action, location)

    def _act(self, tracking: _Tracking, action: Any, location: WatchedLocation) -> None:
        tracking.busy = True

        def run() -> None:
            try:
                action(location.scope, location.name)
            except Exception:
                log.exception("recovering code location %s failed", location.name)
            finally:
                with tracking.lock:
                    tracking.busy = False

        self._actions.submit(run)


def _problem(location: WatchedLocation, future: Any) -> str | None:
    """Why the location is not healthy, or None when it answered SERVING."""
    if future is None:
        if location.managed:
            return "its server process exited"
        return "it has no connection"
    try:
        reply = future.result()
    except grpc.RpcError as err:
        code = err.code()
        return (
            f"it stopped answering health checks ({code.name if code else 'error'}: "
            f"{err.details() or 'no answer'})"
        )
    if reply.status != health_pb2.HealthCheckResponse.SERVING:
        status = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
        return f"its health check answers {status}"
    return None
