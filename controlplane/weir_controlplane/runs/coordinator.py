"""RunCoordinator: runs from submission to launch, cancellation and liveness.

QUEUED → STARTING → STARTED → SUCCESS / FAILURE / CANCELED. The queue is woken by events (a
submission, a run ending), not by polling; every transition is a conditional UPDATE in
storage, so several control-plane replicas on one database never double-launch. The
transitions the control plane makes itself are recorded as the contract's lifecycle events
(RUN_ENQUEUED, RUN_STARTING, RUN_CANCELING, and RUN_FAILURE / RUN_CANCELED when it ends a
run). After a restart, runs it believes executing are reconciled with their code location.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from google.protobuf import duration_pb2, struct_pb2
from weir_protos.v1 import code_location_pb2, common_pb2, events_pb2, runs_pb2

from weir_controlplane.auth.run_tokens import RunTokens
from weir_controlplane.errors import ApiError, NotFoundError, UnavailableError
from weir_controlplane.locations import CodeLocationRegistry
from weir_controlplane.runs.events import (
    lifecycle_event,
    run_canceled_event,
    run_failure_event,
    to_new_event,
)
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


class RunCoordinator:
    def __init__(self, storage: Storage, registry: CodeLocationRegistry, settings: RunSettings):
        self._storage = storage
        self._registry = registry
        self.settings = settings
        # Where run workers report events: the control plane's gRPC address, known once
        # its server is listening.
        self.reporting_address = ""
        # Mints each run's reporting token when the API requires auth; None without.
        self.run_tokens: RunTokens | None = None
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._launcher = ThreadPoolExecutor(max_workers=4, thread_name_prefix="launch")
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
        self._launcher.shutdown(wait=True, cancel_futures=True)

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
            self._launcher.submit(self._ask_worker_to_stop, scope, run)
            return run
        return runs.get_run(scope, run_id)  # already ending or ended: nothing to do

    def _ask_worker_to_stop(self, scope: DeploymentScope, run: Run) -> None:
        try:
            self._registry.cancel_run(scope, run.code_location, run.run_id)
        except ApiError as exc:
            # The worker also learns of the cancel from its heartbeat replies.
            log.warning("could not reach %s to cancel %s: %s", run.code_location, run.run_id, exc)

    # --- events -------------------------------------------------------------------------

    def notify(self, run_id: str) -> None:
        """Something about `run_id` changed: wake its watchers and the queue."""
        self.notifier.ring(run_id)
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
        )
        for run in claimed:
            self._launcher.submit(self._launch, scope, run)

    def _launch(self, scope: DeploymentScope, run: Run) -> None:
        location = run.code_location
        starting = lifecycle_event(
            run.run_id,
            events_pb2.RUN_EVENT_TYPE_RUN_STARTING,
            f"Starting on code location {location}",
        )
        try:
            self._record(scope, run.run_id, starting)
            client = self._registry.client(scope, location)
            graph = self._registry.graph(scope, location)
            client.execute_run(self._execute_request(scope, run, graph.content_hash))
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

    def _execute_request(
        self, scope: DeploymentScope, run: Run, content_hash: str
    ) -> code_location_pb2.ExecuteRunRequest:
        config = struct_pb2.Struct()
        config.update(dict(run.run_config))
        return code_location_pb2.ExecuteRunRequest(
            partition_range=partition_range(run.tags),
            run_id=run.run_id,
            asset_keys=[common_pb2.AssetKey(path=k.split("/")) for k in run.asset_keys],
            partition_key=run.partition_key or "",
            run_config=config,
            tags=dict(run.tags),
            reporting_address=self.reporting_address,
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
    ) -> None:
        if self._storage.runs.transition(
            scope, run_id, from_statuses=from_statuses, to=RunStatus.FAILURE,
            failure_reason=message,
        ):  # fmt: skip
            event = run_failure_event(run_id, reason, message, error_class)
            self._record(scope, run_id, event)

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
            last = run.last_heartbeat_at or run.updated_at
            message = (
                f"The run worker stopped heartbeating (last heard from "
                f"{last.isoformat(timespec='seconds')}; timeout {timeout.seconds} s)"
            )
            self._end_lost(scope, run, message)

    def _end_lost(self, scope: DeploymentScope, run: Run, message: str) -> None:
        """End a run whose worker is gone: CANCELED if a cancel was asked, else FAILURE."""
        if run.status is RunStatus.CANCELING:
            if run.failure_reason:
                message = f"{run.failure_reason}; {message[0].lower()}{message[1:]}"
            if self._storage.runs.transition(
                scope, run.run_id, from_statuses={RunStatus.CANCELING},
                to=RunStatus.CANCELED, failure_reason=message,
            ):  # fmt: skip
                self._record(scope, run.run_id, run_canceled_event(run.run_id, message))
            return
        self._fail(
            scope,
            run.run_id,
            events_pb2.RUN_FAILURE_REASON_RUN_WORKER_LOST,
            message,
            from_statuses={RunStatus.STARTING, RunStatus.STARTED},
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
        # A worker that outlived our restart heartbeats within an interval or two; give it
        # that long to say so before asking its location.
        grace = min(self.settings.heartbeat_timeout, 2 * self.settings.heartbeat_interval)
        if self._stopping.wait(grace):
            return
        for scope, run in inherited:
            try:
                self.reconcile(scope, run.run_id)
            except Exception:
                log.exception("reconciling run %s failed; the run monitor remains", run.run_id)

    def reconcile(self, scope: DeploymentScope, run_id: str) -> None:
        """Ask the run's code location about a run an earlier control-plane process left
        executing (protos/README.md, "After a restart"), and end it if its worker is gone,
        rather than wait for its heartbeat timeout."""
        run = self._storage.runs.get_run(scope, run_id)
        started = datetime.now(UTC) - timedelta(seconds=time.monotonic() - self._started_at)
        if run.status not in IN_PROGRESS_RUN_STATUSES:
            return
        if run.last_heartbeat_at is not None and run.last_heartbeat_at >= started:
            return  # its worker found us again: heartbeats judge it from here
        verdict = self._location_verdict(scope, run)
        if verdict is not None:
            log.info("run %s: %s", run.run_id, verdict)
            self._end_lost(scope, run, verdict)

    def _location_verdict(self, scope: DeploymentScope, run: Run) -> str | None:
        """Why the run's worker is gone, from its location's answer; None if it lives (or
        the location cannot say: the heartbeat timeout decides then)."""
        location = run.code_location
        try:
            status = self._registry.run_status(scope, location, run.run_id)
        except NotFoundError:
            return (
                f"The run worker is gone: code location {location} no longer knows the run "
                "(it restarted while the control plane was down)"
            )
        except ApiError as exc:
            log.info("cannot reconcile run %s now: %s", run.run_id, exc.message)
            return None
        if status.worker_alive:
            return None
        return (
            f"The run worker exited without reporting its end (code location {location} last "
            f"saw it {status_name(status.status)}, at event {status.last_sequence})"
        )


def status_name(status: int) -> str:
    """runs_pb2 RUN_STATUS_STARTED -> "STARTED"."""
    return runs_pb2.RunStatus.Name(status).removeprefix("RUN_STATUS_")
