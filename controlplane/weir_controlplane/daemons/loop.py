"""The tick loops the control plane's daemons share, and the set they start and stop in.

A daemon is a `TickLoop`: every `interval` seconds it makes one pass over every
deployment (`run_pass`), reading the time from an injectable `Clock` so that a test can
drive it across a daylight-saving change or a clock jump. A failing pass is logged and
retried on the next; a lost database is one warning line, not a traceback per pass.

`DaemonSet` is the seam new daemons plug into (the scheduler and the sensor runner today;
the automation evaluator and others later): build it with the loops, `start()` it in the
control plane or in `weir daemon`, `stop()` it on shutdown.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

from weir_controlplane.daemons.catalog import DEFAULT_SENSOR_INTERVAL
from weir_controlplane.errors import InvalidSettingError
from weir_controlplane.storage import DeploymentScope, DeploymentStorage
from weir_controlplane.storage.errors import DatabaseUnavailableError

log = logging.getLogger(__name__)


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, UTC-aware."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass(frozen=True)
class RetentionSettings:
    """How much history the retention daemon keeps (daemons/retention.py)."""

    ticks: int = 1000  # per schedule or sensor, kept whatever their age
    tick_age: timedelta = timedelta(days=7)  # younger ticks are kept
    evaluations: int = 100  # per asset, kept whatever their age
    evaluation_age: timedelta = timedelta(days=7)
    batch: int = 1000  # rows per delete
    batches: int = 10  # per table and deployment in one pass
    interval: float = 60.0  # seconds between passes

    def __post_init__(self) -> None:
        # Named as the CLI's flags, which InvalidSettingError names.
        for setting, count in (("keep_ticks", self.ticks), ("keep_evaluations", self.evaluations)):
            if not isinstance(count, int) or count < 0:
                raise InvalidSettingError(setting, "must be a whole number, 0 or more", count)
        for setting, age in (
            ("keep_ticks_days", self.tick_age),
            ("keep_evaluations_days", self.evaluation_age),
        ):
            if age < timedelta(0):
                raise InvalidSettingError(setting, "must not be negative", age.days)


@dataclass(frozen=True)
class DaemonSettings:
    # Seconds between passes of each loop; a sensor still ticks no more often than its
    # minimum interval.
    interval: float = 1.0
    # How long a sensor or schedule function may take before its tick fails.
    evaluation_timeout: float = 60.0
    # A schedule behind by more cron times than this (the control plane was down) runs
    # only the newest this many; the older ones are passed over.
    max_catchup_ticks: int = 5
    # Sensors with no minimum interval of their own tick this often.
    default_sensor_interval: float = DEFAULT_SENSOR_INTERVAL
    # How long a claim outlives a replica that died holding it. A live replica renews its
    # claims every third of this while it evaluates (daemons/leases.py), so a short lease
    # costs a write every few seconds of a long tick and makes a takeover quick.
    lease_ttl: float = 10.0
    # How much tick and automation evaluation history is kept (daemons/retention.py).
    retention: RetentionSettings = field(default_factory=RetentionSettings)
    # The longest wait between freshness passes (materializations and due times wake it).
    freshness_interval: float = 5.0

    @property
    def lease_seconds(self) -> float:
        return self.lease_ttl


def replica_id() -> str:
    """Names this process as a lease holder: host, pid and a random part."""
    return f"{socket.gethostname()[:32]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class TickLoop:
    """A daemon thread calling `run_pass(scope, now)` for every deployment each interval."""

    name = "daemon"

    def __init__(self, deployments: DeploymentStorage, interval: float, clock: Clock) -> None:
        self._deployments = deployments
        self.interval = interval
        self.clock = clock
        self._stopping = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def run_pass(self, scope: DeploymentScope, now: datetime) -> None:
        raise NotImplementedError

    def run_once(self) -> None:
        """One pass over every deployment, now (tests call it to step a daemon)."""
        now = self.clock.now()
        for scope in self._deployments.all_scopes():
            if self._stopping.is_set():
                return
            try:
                self.run_pass(scope, now)
            except DatabaseUnavailableError:
                log.warning("%s pass: the database is unavailable; retrying", self.name)
                return
            except Exception:
                log.exception("%s pass over %s failed; retrying next pass", self.name, scope.name)

    def request_stop(self) -> None:
        """Ask the loop to end after its current pass, without waiting for it."""
        self._stopping.set()
        self._wake.set()

    def wake(self) -> None:
        """Make the next pass now rather than at the end of the interval."""
        self._wake.set()

    def start(self) -> None:
        self._stopping.clear()
        self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.request_stop()
        if self._thread is not None:
            self._thread.join(10)

    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                self.run_once()
            except DatabaseUnavailableError:
                log.warning("%s: the database is unavailable; retrying", self.name)
            except Exception:
                log.exception("%s pass failed; retrying", self.name)
            self._wake.wait(self.sleep_seconds())
            self._wake.clear()

    def sleep_seconds(self) -> float:
        """How long to wait (unless woken) before the next pass: `interval`; a daemon
        that knows when work is next due waits only until then."""
        return self.interval


class DaemonSet:
    """The daemons of one process, started and stopped together."""

    def __init__(self, loops: Iterable[TickLoop]) -> None:
        self.loops = list(loops)

    def start(self) -> None:
        for loop in self.loops:
            loop.start()

    def stop(self) -> None:
        for loop in self.loops:  # all at once, then wait for each
            loop.request_stop()
        for loop in self.loops:
            loop.stop()
