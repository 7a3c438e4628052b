"""RetentionDaemon: deletes old tick and automation evaluation history, in batches.

Per schedule or sensor the newest `ticks` ticks are kept whatever their age, and every
tick younger than `tick_age`; per asset likewise `evaluations` and `evaluation_age`. Each
pass deletes at most `batches` batches of `batch` rows per table and deployment, so a
first pass over a long history does not hold the database for long; the next pass goes
on. Several replicas pruning at once delete disjoint or already-deleted rows: harmless.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from weir_controlplane.daemons.loop import Clock, RetentionSettings, TickLoop
from weir_controlplane.storage import DeploymentScope, Storage

log = logging.getLogger(__name__)


class RetentionDaemon(TickLoop):
    name = "retention"

    def __init__(self, storage: Storage, settings: RetentionSettings, clock: Clock) -> None:
        super().__init__(storage.deployments, settings.interval, clock)
        self._storage = storage
        self.settings = settings

    def run_pass(self, scope: DeploymentScope, now: datetime) -> None:
        settings = self.settings
        ticks = self._drain(
            lambda: self._storage.instigators.prune_ticks(
                scope, keep=settings.ticks, older_than=now - settings.tick_age, limit=settings.batch
            )
        )
        evaluations = self._drain(
            lambda: self._storage.automation.prune_evaluations(
                scope,
                keep=settings.evaluations,
                older_than=now - settings.evaluation_age,
                limit=settings.batch,
            )
        )
        if ticks or evaluations:
            log.info(
                "retention: deleted %d ticks and %d automation evaluations of %s",
                ticks,
                evaluations,
                scope.name,
            )

    def _drain(self, prune_batch: Callable[[], int]) -> int:
        deleted = 0
        for _ in range(self.settings.batches):
            count = prune_batch()
            deleted += count
            if count < self.settings.batch:
                break
        return deleted
