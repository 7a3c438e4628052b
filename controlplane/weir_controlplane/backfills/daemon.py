"""BackfillDaemon: feeds the run queue from the stored plans, and follows the runs.

Each pass, for every backfill this replica holds the lease of: settle the planned runs
whose run ended (from the runs table), skip the planned runs downstream of a failed one,
launch the planned runs whose dependencies all succeeded while the backfill has fewer
than `max_queued` runs queued, and end the backfill once nothing is left to run.

A launch is restart-safe: the run's id is derived from (backfill, planned run, attempt),
so a launch repeated after a crash between queueing the run and recording the link is
refused as a duplicate and only records the link; no run is lost or doubled.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta

from weir_controlplane.runs import RunCoordinator
from weir_controlplane.runs.partition_range import range_tags
from weir_controlplane.storage import (
    DeploymentScope,
    DeploymentStorage,
    DuplicateRunError,
    RunStatus,
)
from weir_controlplane.storage.backfills import (
    Backfill,
    BackfillStatus,
    BackfillStorage,
    PlannedRun,
    PlannedRunState,
)
from weir_controlplane.storage.errors import DatabaseUnavailableError

log = logging.getLogger(__name__)

BACKFILL_TAG = "weir/backfill"
_RUN_IDS = uuid.UUID("6f1d3c52-8a4e-4c1b-9d3e-5b7a2f0e9c41")  # namespace of backfill run ids

_ENDED_AS = {
    RunStatus.SUCCESS: PlannedRunState.SUCCEEDED,
    RunStatus.FAILURE: PlannedRunState.FAILED,
    RunStatus.CANCELED: PlannedRunState.CANCELED,
}
_NOT_RUN = (PlannedRunState.FAILED, PlannedRunState.SKIPPED, PlannedRunState.CANCELED)


@dataclass(frozen=True)
class BackfillSettings:
    # Runs of one backfill queued at once; the rest wait in the plan, so a backfill of
    # thousands of partitions never floods the run queue.
    max_queued: int = 50
    # Seconds between passes.
    interval: float = 0.2
    # How long a replica holds a backfill without renewing its lease (each pass does).
    lease_seconds: float = 10.0


def backfill_run_id(backfill_id: str, run: PlannedRun) -> str:
    """The id of the run launched for attempt `run.attempt` of a planned run."""
    return str(uuid.uuid5(_RUN_IDS, f"{backfill_id}/{run.ordinal}/{run.attempt}"))


class BackfillDaemon:
    def __init__(
        self,
        backfills: BackfillStorage,
        deployments: DeploymentStorage,
        coordinator: RunCoordinator,
        settings: BackfillSettings | None = None,
    ) -> None:
        self._backfills = backfills
        self._deployments = deployments
        self._coordinator = coordinator
        self.settings = settings or BackfillSettings()
        self.owner = str(uuid.uuid4())  # this replica, in the backfills' row leases
        self._stopping = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="backfills", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(10)
        try:
            for scope in self._deployments.all_scopes():
                self._backfills.release(scope, self.owner)
        except DatabaseUnavailableError:
            pass  # the leases run out by themselves

    def wake(self) -> None:
        """Run a pass now (a backfill was launched, canceled or resumed)."""
        self._wake.set()

    def _loop(self) -> None:
        while not self._stopping.is_set():
            self._wake.wait(self.settings.interval)
            self._wake.clear()
            if self._stopping.is_set():
                return
            try:
                self.run_pass()
            except DatabaseUnavailableError:
                log.warning("backfill pass: the database is unavailable; retrying")
            except Exception:
                log.exception("backfill pass failed; retrying")

    def run_pass(self) -> None:
        lease = timedelta(seconds=self.settings.lease_seconds)
        for scope in self._deployments.all_scopes():
            for backfill_id in self._backfills.claim_active(scope, owner=self.owner, lease=lease):
                self.drive(scope, backfill_id)

    def drive(self, scope: DeploymentScope, backfill_id: str) -> None:
        """One step of one backfill (see the module docstring)."""
        backfill = self._backfills.get(scope, backfill_id)
        planned = self._backfills.planned_runs(scope, backfill_id)
        run_status = self._backfills.launched_run_statuses(scope, backfill_id)
        states = {run.ordinal: run.state for run in planned}
        ended = {o: _ENDED_AS[s] for o, s in run_status.items() if s in _ENDED_AS}
        self._move(scope, backfill_id, states, ended, PlannedRunState.LAUNCHED)
        if backfill.status is BackfillStatus.CANCELING:
            self._cancel(scope, backfill, planned, states)
            return
        self._move(scope, backfill_id, states, _skipped(planned, states), PlannedRunState.PLANNED)
        queued = sum(1 for status in run_status.values() if status is RunStatus.QUEUED)
        ready = [
            run
            for run in planned
            if states[run.ordinal] is PlannedRunState.PLANNED
            and all(states[o] is PlannedRunState.SUCCEEDED for o in run.waits_for)
        ]
        for run in ready[: max(0, self.settings.max_queued - queued)]:
            self._launch(scope, backfill, run)
            states[run.ordinal] = PlannedRunState.LAUNCHED
        if ready and backfill.status is BackfillStatus.REQUESTED:
            self._backfills.set_status(
                scope, backfill_id, from_statuses={BackfillStatus.REQUESTED},
                to=BackfillStatus.RUNNING,
            )  # fmt: skip
        left = {PlannedRunState.PLANNED, PlannedRunState.LAUNCHED}
        if not any(state in left for state in states.values()):
            failed = any(state in _NOT_RUN for state in states.values())
            self._backfills.set_status(
                scope,
                backfill_id,
                from_statuses={BackfillStatus.REQUESTED, BackfillStatus.RUNNING},
                to=BackfillStatus.FAILED if failed else BackfillStatus.COMPLETED,
            )

    def _move(
        self,
        scope: DeploymentScope,
        backfill_id: str,
        states: dict[int, PlannedRunState],
        changes: Mapping[int, PlannedRunState],
        from_state: PlannedRunState,
    ) -> None:
        if changes:
            self._backfills.set_run_states(scope, backfill_id, changes, from_states={from_state})
            states.update(changes)

    def _cancel(
        self,
        scope: DeploymentScope,
        backfill: Backfill,
        planned: Iterable[PlannedRun],
        states: dict[int, PlannedRunState],
    ) -> None:
        waiting = {
            o: PlannedRunState.CANCELED for o, s in states.items() if s is PlannedRunState.PLANNED
        }
        self._move(scope, backfill.backfill_id, states, waiting, PlannedRunState.PLANNED)
        running = [
            run for run in planned
            if states[run.ordinal] is PlannedRunState.LAUNCHED and run.run_id is not None
        ]  # fmt: skip
        for run in running:
            assert run.run_id is not None
            self._coordinator.cancel(
                scope, run.run_id, requested_by=f"the cancel of backfill {backfill.backfill_id}"
            )
        if not running:
            self._backfills.set_status(
                scope, backfill.backfill_id, from_statuses={BackfillStatus.CANCELING},
                to=BackfillStatus.CANCELED,
            )  # fmt: skip

    def _launch(self, scope: DeploymentScope, backfill: Backfill, run: PlannedRun) -> None:
        run_id = backfill_run_id(backfill.backfill_id, run)
        tags = dict(backfill.tags) | {BACKFILL_TAG: backfill.backfill_id}
        keys = run.partition_keys
        if len(keys) > 1:
            tags |= range_tags(keys[0], keys[-1])
        try:
            self._coordinator.submit(
                scope,
                location=backfill.code_location,
                asset_keys=run.asset_keys,
                partition_key=keys[0] if len(keys) == 1 else None,
                tags=tags,
                selection_text=backfill.selection,
                run_id=run_id,
            )
        except DuplicateRunError:
            log.info(
                "backfill %s: run %s was queued before a restart", backfill.backfill_id, run_id
            )
        self._backfills.launched(scope, backfill.backfill_id, run.ordinal, run_id)


def _skipped(
    planned: Iterable[PlannedRun], states: Mapping[int, PlannedRunState]
) -> dict[int, PlannedRunState]:
    """The planned runs still waiting that read, directly or not, from a run that failed
    or was canceled: they can no longer run."""
    readers: dict[int, list[int]] = defaultdict(list)
    for run in planned:
        for before in run.waits_for:
            readers[before].append(run.ordinal)
    pending = [o for o, s in states.items() if s in _NOT_RUN]
    seen = set(pending)
    skipped: dict[int, PlannedRunState] = {}
    while pending:
        for reader in readers[pending.pop()]:
            if reader not in seen:
                seen.add(reader)
                pending.append(reader)
                if states[reader] is PlannedRunState.PLANNED:
                    skipped[reader] = PlannedRunState.SKIPPED
    return skipped
