"""RunCoordinator: runs from submission to launch, cancellation and liveness.

QUEUED → STARTING → STARTED → SUCCESS / FAILURE / CANCELED. The queue is woken by events (a
submission, a run ending), not by polling; every transition is a conditional UPDATE in
storage, so several control-plane replicas on one database never double-launch. The
transitions the control plane makes itself are recorded as the contract's lifecycle events
(RUN_ENQUEUED, RUN_STARTING, RUN_CANCELING, and RUN_FAILURE / RUN_CANCELED when it ends a
run). After a restart, runs it believes executing are reconciled with their launcher. Where
a worker runs is the launcher's business (runs/launcher.py): the code location's own server
by default, or a Kubernetes Job per run.

Under several replicas (runs/membership.py) each claim names the claiming replica, run
workers get every live replica's reporting address, and a live replica adopts the runs of
a dead one: it launches again the ones still STARTING (ExecuteRun is idempotent per run
id at the code location, so a run whose worker exists is never started twice). Every
status change a replica makes for a run another replica launched is logged. A run not yet
heard from is judged lost only by the replica launching it, counting from when ExecuteRun
returned: a worker slow to be started (launches queued, a busy code server) is not lost.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from google.protobuf import duration_pb2, struct_pb2
from weir_protos.v1 import code_location_pb2, common_pb2, events_pb2

from weir_controlplane.auth.run_tokens import RunTokens
from weir_controlplane.errors import ApiError, UnavailableError
from weir_controlplane.locations import CodeLocationRegistry
from weir_controlplane.runs.events import (
    lifecycle_event,
    run_canceled_event,
    run_failure_event,
    to_new_event,
)
from weir_controlplane.runs.launcher import CodeLocationLauncher, RunLauncher
from weir_controlplane.runs.notifier import RunNotifier
from weir_controlplane.runs.partition_range import partition_range
from weir_controlplane.storage import (
    IN_PROGRESS_RUN_STATUSES,
    DeploymentScope,
    NewRun,
    Run,
    RunFilter,
    RunStatus,
    Storage,
    TagConcurrencyLimit,
)
from weir_controlplane.storage.errors import DatabaseUnavailableError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunSettings:
    max_concurrent_runs: int = 10  # per deployment
    tag_concurrency_limits: tuple[TagConcurrencyLimit, ...] = ()  # per deployment
    heartbeat_interval: float = 2.0
    # A worker silent for this long is lost; several intervals, so one slow beat is fine.
    heartbeat_timeout: float = 20.0
    # One address in front of every replica (a load balancer, a DNS name): run workers
    # report there alone. None: they get every live replica's own address.
    service_address: str | None = None


class RunCoordinator:
    def __init__(
        self,
        storage: Storage,
        registry: CodeLocationRegistry,
        settings: RunSettings,
        launcher: RunLauncher | None = None,
    ):
        self._storage = storage
        self._registry = registry
        self.settings = settings
        self.launcher = launcher or CodeLocationLauncher(registry)
        # Where run workers report events: the control plane's gRPC address, known once
        # its server is listening.
        self.reporting_address = ""
        # This replica's id in the membership table (runs/membership.py): it names the
        # runs this replica claims. Empty for a process that only submits.
        self.replica_id = ""
        # The other live replicas' reporting addresses, kept current by the membership,
        # which also sets `refresh_peers` to read them now.
        self.peer_addresses: tuple[str, ...] = ()
        self.refresh_peers: Callable[[], None] = lambda: None
        # Mints each run's reporting token when the API requires auth; None without.
        self.run_tokens: RunTokens | None = None
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._launch_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="launch")
        # Runs this replica claimed and has not finished launching (queued for the pool,
        # or in ExecuteRun): their launch's outcome, not the run monitor, decides them.
        self._launching: set[str] = set()
        self._launching_lock = threading.Lock()
        # Wakes the WatchRun streams of a run; rung on every stored change (`notify`).
        self.notifier = RunNotifier()
        self._started_at = time.monotonic()

    # --- lifecycle ----------------------------------------------------------------------

    def start(self) -> None:
        self._started_at = time.monotonic()
        # Taken before the queue can launch anything: the runs an earlier process left.
        inherited = self._in_progress()
        loops = (
            ("run-queue", self._queue_loop),
            ("run-monitor", self._monitor_loop),
        )
        for name, target in loops:
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        if inherited:
            thread = threading.Thread(
                target=self._reconcile_after_start, args=(inherited,), name="run-reconcile",
                daemon=True,
            )  # fmt: skip
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        for thread in self._threads:
            thread.join(5)
        self._launch_pool.shutdown(wait=True, cancel_futures=True)

    # --- requests -----------------------------------------------------------------------

    def submit(
        self,
        scope: DeploymentScope,
        *,
        location: str,
        asset_keys: Sequence[str],
        partition_key: str | None = None,
        tags: Mapping[str, str] | None = None,
        run_config: Mapping[str, Any] | None = None,
        selection_text: str = "",
        run_id: str | None = None,
    ) -> Run:
        """Queue a run. A given `run_id` makes the submission idempotent: a second one with
        the same id raises DuplicateRunError and queues nothing."""
        run = self._storage.runs.create_run(
            scope,
            NewRun(
                run_id=run_id,
                code_location=location,
                selection=selection_text,
                asset_keys=tuple(asset_keys),
                partition_key=partition_key,
                tags=dict(tags or {}),
                run_config=dict(run_config or {}),
            ),
        )
        self._record(
            scope,
            run.run_id,
            lifecycle_event(
                run.run_id,
                events_pb2.RUN_EVENT_TYPE_RUN_ENQUEUED,
                f"Queued for code location {location}",
            ),
        )
        return run

    def cancel(self, scope: DeploymentScope, run_id: str, *, requested_by: str) -> Run:
        """Cancel a queued run at once; ask a running one's worker to stop.

        `requested_by` says who or what asked ("a CancelRun request: superseded"); the run's
        failure_reason and its RUN_CANCELING / RUN_CANCELED event say it.
        """
        runs = self._storage.runs
        why = f"Canceled by {requested_by}"
        if runs.transition(
            scope, run_id, from_statuses={RunStatus.QUEUED}, to=RunStatus.CANCELED,
            failure_reason=f"{why}, before it started",
        ):  # fmt: skip
            self._record(scope, run_id, run_canceled_event(run_id, f"{why}, before it started"))
            return runs.get_run(scope, run_id)
        if runs.transition(
            scope, run_id, from_statuses={RunStatus.STARTING, RunStatus.STARTED},
            to=RunStatus.CANCELING, failure_reason=why,
        ):  # fmt: skip
            event = lifecycle_event(run_id, events_pb2.RUN_EVENT_TYPE_RUN_CANCELING, why)
            self._record(scope, run_id, event)
            run = runs.get_run(scope, run_id)
            self._log_change(run_id, run.launched_by, RunStatus.CANCELING, why)
            self._launch_pool.submit(self._ask_worker_to_stop, scope, run)
            return run
        return runs.get_run(scope, run_id)  # already ending or ended: nothing to do

    def _ask_worker_to_stop(self, scope: DeploymentScope, run: Run) -> None:
        try:
            self.launcher.terminate(scope, run)
        except ApiError as exc:
            # The worker also learns of the cancel from its heartbeat replies.
            log.warning("could not reach %s to cancel %s: %s", run.code_location, run.run_id, exc)

    # --- events -------------------------------------------------------------------------

    def notify(self, run_id: str, *, ended: bool = True) -> None:
        """Something about `run_id` changed: wake its watchers, and the queue when the run
        may have ended (`ended`): only that frees a slot. A worker reports several batches
        per run; a queue pass for each would be one more write transaction per batch."""
        self.notifier.ring(run_id)
        if ended:
            self._wake.set()

    def _record(self, scope: DeploymentScope, run_id: str, event: events_pb2.RunEvent) -> None:
        self._storage.events.record(scope, run_id, to_new_event(event))
        self.notify(run_id)

    # --- the queue ----------------------------------------------------------------------

    def _scopes(self) -> list[DeploymentScope]:
        return self._storage.deployments.all_scopes()

    def _queue_loop(self) -> None:
        while not self._stopping.is_set():
            # Woken by submissions and finished runs; the timeout only covers runs that
            # another replica queued or freed.
            self._wake.wait(1.0)
            self._wake.clear()
            if self._stopping.is_set():
                return
            try:
                for scope in self._scopes():
                    self._launch_queued(scope)
            except DatabaseUnavailableError:  # a restart, not a bug: no traceback per pass
                log.warning("run queue pass: the database is unavailable; retrying")
            except Exception:
                log.exception("run queue pass failed; retrying on the next wake-up")

    def _launch_queued(self, scope: DeploymentScope) -> None:
        claimed = self._storage.runs.claim_queued(
            scope,
            max_in_progress=self.settings.max_concurrent_runs,
            tag_limits=self.settings.tag_concurrency_limits,
            launched_by=self.replica_id or None,
        )
        if claimed and not self.settings.service_address:
            # A replica that joined since the last membership beat is a place to fail over
            # to for these runs' workers too.
            self.refresh_peers()
        for run in claimed:
            self._hand_to_launch_pool(scope, run)

    # --- adopting a dead replica's runs -------------------------------------------------

    def adopt(self, scope: DeploymentScope, dead_replica: str) -> list[Run]:
        """Take over the in-progress runs `dead_replica` launched (this replica won it in
        the membership table): launch again those still STARTING; the others' workers
        report to a live replica on their own."""
        adopted = self._storage.runs.adopt_runs(scope, dead_replica, self.replica_id)
        for run in adopted:
            log.warning(
                "replica %s adopts run %s (%s) from dead replica %s",
                self.replica_id, run.run_id, run.status.value, dead_replica,
            )  # fmt: skip
            note = f"Replica {self.replica_id} took over the run from replica {dead_replica}"
            if run.status is RunStatus.STARTING:
                note += ", which died while starting it; starting it again"
            engine = events_pb2.RUN_EVENT_TYPE_ENGINE
            self._record(scope, run.run_id, lifecycle_event(run.run_id, engine, note))
        starting = [run for run in adopted if run.status is RunStatus.STARTING]
        if starting:
            # Being launched again, as far as the monitor goes: their silence since the
            # dead replica claimed them is the wait below, not a lost worker.
            with self._launching_lock:
                self._launching.update(run.run_id for run in starting)
            thread = threading.Thread(
                target=self._launch_adopted, args=(scope, starting), name="run-adopt",
                daemon=True,
            )  # fmt: skip
            thread.start()
        return adopted

    def _launch_adopted(self, scope: DeploymentScope, adopted: list[Run]) -> None:
        """Start adopted STARTING runs again, but not those whose worker turns out to exist.

        A worker the dead replica did start reports once its reporter reaches a live
        address, which after a restart on the same address can take several backoff
        rounds. Only a run still silent after the heartbeat timeout (the silence after
        which the monitor would call its worker lost) is launched again: on a shared code
        location (`address:`) ExecuteRun is idempotent per run id anyway; on one the dead
        replica ran itself (`python_file:`), this wait is what keeps a worker it started
        from getting a twin on the survivor's server.
        """
        if self._stopping.wait(self.settings.heartbeat_timeout):
            return
        current = self._storage.runs.get_runs(scope, [run.run_id for run in adopted])
        for run in current.values():
            heard = run.last_heartbeat_at is not None or run.last_event_sequence > 0
            if run.status is RunStatus.STARTING and not heard:
                self._hand_to_launch_pool(scope, run, adopted=True)
                continue
            log.info("adopted run %s has a worker (%s); not starting it again",
                     run.run_id, run.status.value)  # fmt: skip
            with self._launching_lock:  # judged by its heartbeats from here
                self._launching.discard(run.run_id)

    def reporting_addresses(self) -> list[str]:
        """Where a run's worker may report: the service address, or this replica's
        address first and then the other live replicas'."""
        if self.settings.service_address:
            return [self.settings.service_address]
        own = [self.reporting_address] if self.reporting_address else []
        return own + [address for address in self.peer_addresses if address not in own]

    def _launch(self, scope: DeploymentScope, run: Run, adopted: bool = False) -> None:
        location = run.code_location
        starting = lifecycle_event(
            run.run_id,
            events_pb2.RUN_EVENT_TYPE_RUN_STARTING,
            f"Starting on code location {location}",
        )
        try:
            if not adopted:  # an adopted run's RUN_STARTING was recorded by its first replica
                self._record(scope, run.run_id, starting)
            graph = self._registry.graph(scope, location)
            self.launcher.launch(scope, run, self._execute_request(scope, run, graph.content_hash))
            # The worker's silence counts from here, not from the claim: waiting behind other
            # launches, or on a busy code server, is not a lost worker.
            self._storage.runs.restart_starting_clock(scope, run.run_id)
        except UnavailableError as exc:
            self._fail(
                scope,
                run.run_id,
                events_pb2.RUN_FAILURE_REASON_CODE_LOCATION_UNAVAILABLE,
                f"Could not start the run: {exc.message}",
                from_statuses={RunStatus.STARTING},
            )
        except ApiError as exc:
            # The location answered and refused (an unknown asset, invalid run config, code
            # that failed to load): its message is the reason.
            self._fail(
                scope,
                run.run_id,
                events_pb2.RUN_FAILURE_REASON_START_FAILED,
                f"The code location refused to start the run: {exc.message}",
                from_statuses={RunStatus.STARTING},
                error_class=type(exc).__name__,
            )
        except Exception as exc:  # never leave a run STARTING because of a bug here
            log.exception("launching %s failed", run.run_id)
            self._fail(
                scope,
                run.run_id,
                events_pb2.RUN_FAILURE_REASON_START_FAILED,
                f"Could not start the run: {type(exc).__name__}: {exc}",
                from_statuses={RunStatus.STARTING},
                error_class=type(exc).__name__,
            )
        finally:
            with self._launching_lock:
                self._launching.discard(run.run_id)

    def _hand_to_launch_pool(self, scope: DeploymentScope, run: Run, adopted: bool = False) -> None:
        with self._launching_lock:
            self._launching.add(run.run_id)
        self._launch_pool.submit(self._launch, scope, run, adopted)

    def _execute_request(
        self, scope: DeploymentScope, run: Run, content_hash: str
    ) -> code_location_pb2.ExecuteRunRequest:
        config = struct_pb2.Struct()
        config.update(dict(run.run_config))
        addresses = self.reporting_addresses()
        return code_location_pb2.ExecuteRunRequest(
            partition_range=partition_range(run.tags),
            run_id=run.run_id,
            asset_keys=[common_pb2.AssetKey(path=k.split("/")) for k in run.asset_keys],
            partition_key=run.partition_key or "",
            run_config=config,
            tags=dict(run.tags),
            reporting_address=addresses[0] if addresses else "",
            reporting_addresses=addresses,
            reporting_token=self.run_tokens.mint(scope, run.run_id) if self.run_tokens else "",
            deployment=scope.name,
            heartbeat_interval=duration_pb2.Duration(
                seconds=int(self.settings.heartbeat_interval),
                nanos=int((self.settings.heartbeat_interval % 1) * 1e9),
            ),
            definitions_hash=content_hash,
        )

    def _fail(
        self,
        scope: DeploymentScope,
        run_id: str,
        reason: int,
        message: str,
        from_statuses: set[RunStatus],
        error_class: str = "",
        launched_by: str | None = None,
    ) -> None:
        lost = reason == events_pb2.RUN_FAILURE_REASON_RUN_WORKER_LOST
        if self._storage.runs.transition(
            scope, run_id, from_statuses=from_statuses, to=RunStatus.FAILURE,
            failure_reason=message, worker_lost=lost,
        ):  # fmt: skip
            self._log_change(run_id, launched_by, RunStatus.FAILURE, message)
            event = run_failure_event(run_id, reason, message, error_class)
            self._record(scope, run_id, event)

    def _log_change(
        self, run_id: str, launched_by: str | None, to: RunStatus, message: str
    ) -> None:
        """Say in this replica's log when it ends a run another replica launched."""
        if launched_by and launched_by != self.replica_id:
            log.warning(
                "replica %s set run %s (launched by replica %s) to %s: %s",
                self.replica_id, run_id, launched_by, to.value, message,
            )  # fmt: skip

    # --- the monitor --------------------------------------------------------------------

    def _monitor_loop(self) -> None:
        interval = max(0.2, self.settings.heartbeat_interval)
        while not self._stopping.wait(interval):
            # After a restart, give workers one timeout to find us again before judging.
            if time.monotonic() - self._started_at < self.settings.heartbeat_timeout:
                continue
            try:
                for scope in self._scopes():
                    self.fail_lost_runs(scope)
            except DatabaseUnavailableError:
                log.warning("run monitor pass: the database is unavailable; retrying")
            except Exception:
                log.exception("run monitor pass failed; retrying")

    def fail_lost_runs(self, scope: DeploymentScope) -> None:
        timeout = timedelta(seconds=self.settings.heartbeat_timeout)
        stale = self._storage.runs.stale_runs(scope, heartbeat_before=datetime.now(UTC) - timeout)
        for run in stale:
            if run.status is RunStatus.STARTING and not self._judges_start_of(run):
                continue
            last = run.last_heartbeat_at or run.updated_at
            message = (
                f"The run worker stopped heartbeating (last heard from "
                f"{last.isoformat(timespec='seconds')}; timeout {timeout.seconds} s)"
            )
            self._end_lost(scope, run, message)

    def _judges_start_of(self, run: Run) -> bool:
        """Whether this replica may fail a STARTING run as lost. Once its worker was heard
        from, any replica may; before, only the replica that launched it (a dead one's runs
        are adopted by a live one), once its launch returned: another replica cannot tell
        a launch still queued or in ExecuteRun on a busy code server from a lost worker."""
        if run.last_heartbeat_at is not None or run.last_event_sequence > 0:
            return True
        if run.launched_by and run.launched_by != self.replica_id:
            return False
        with self._launching_lock:
            return run.run_id not in self._launching

    def _end_lost(self, scope: DeploymentScope, run: Run, message: str) -> None:
        """End a run whose worker is gone: CANCELED if a cancel was asked, else FAILURE."""
        if run.status is RunStatus.CANCELING:
            if run.failure_reason:
                message = f"{run.failure_reason}; {message[0].lower()}{message[1:]}"
            if self._storage.runs.transition(
                scope, run.run_id, from_statuses={RunStatus.CANCELING},
                to=RunStatus.CANCELED, failure_reason=message,
            ):  # fmt: skip
                self._log_change(run.run_id, run.launched_by, RunStatus.CANCELED, message)
                self._record(scope, run.run_id, run_canceled_event(run.run_id, message))
            return
        self._fail(
            scope,
            run.run_id,
            events_pb2.RUN_FAILURE_REASON_RUN_WORKER_LOST,
            message,
            from_statuses={RunStatus.STARTING, RunStatus.STARTED},
            launched_by=run.launched_by,
        )

    # --- reconcile after a restart ------------------------------------------------------

    def _in_progress(self) -> list[tuple[DeploymentScope, Run]]:
        found = []
        for scope in self._scopes():
            page = self._storage.runs.list_runs(
                scope, RunFilter(statuses=frozenset(IN_PROGRESS_RUN_STATUSES)), limit=500
            )
            found += [(scope, run) for run in page.items]
        return found

    def _reconcile_after_start(self, inherited: list[tuple[DeploymentScope, Run]]) -> None:
        # A worker that outlived our restart finds us again once its channel's reconnect
        # backoff (at most a second) and its next beat have passed; on a loaded machine
        # that is several intervals. Give it five before asking its location, whose
        # "unknown run" cannot tell a dead worker from one that outlived its server.
        grace = min(self.settings.heartbeat_timeout / 2, 5 * self.settings.heartbeat_interval)
        if self._stopping.wait(grace):
            return
        for scope, run in inherited:
            try:
                self.reconcile(scope, run.run_id, seen_sequence=run.last_event_sequence)
            except Exception:
                log.exception("reconciling run %s failed; the run monitor remains", run.run_id)

    def reconcile(self, scope: DeploymentScope, run_id: str, seen_sequence: int = 0) -> None:
        """Ask the run's launcher about a run an earlier control-plane process left
        executing (protos/README.md, "After a restart"), and end it if its worker is gone,
        rather than wait for its heartbeat timeout. A heartbeat since our start, or an
        event past `seen_sequence` (the run's last event when we started), shows the
        worker lives: heartbeats judge it from there."""
        run = self._storage.runs.get_run(scope, run_id)
        started = datetime.now(UTC) - timedelta(seconds=time.monotonic() - self._started_at)
        if run.status not in IN_PROGRESS_RUN_STATUSES:
            return
        if run.last_heartbeat_at is not None and run.last_heartbeat_at >= started:
            return
        if run.last_event_sequence > seen_sequence:
            return
        if run.status is RunStatus.STARTING and run.last_event_sequence == 0:
            # Never heard from: its ExecuteRun may never have reached the location, which
            # then knows nothing of it either. Adoption starts it again after a heartbeat
            # timeout of silence (`_launch_adopted`); failing it here would lose the run.
            return
        verdict = self.launcher.worker_gone(scope, run)
        if verdict is not None:
            log.info("run %s: %s", run.run_id, verdict)
            self._end_lost(scope, run, verdict)
