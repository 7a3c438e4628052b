"""ScheduleDaemon: ticks each running schedule once per cron time.

Cron times come from `weir_partitions` (`CronClock`), the engine the SDK uses, so the
control plane and the code agree on every tick across daylight-saving changes. A
schedule's row stores the last cron time handled; each pass handles the cron times
after it up to now, oldest first, under the row's lease, storing each tick with the new
position in one transaction (and a unique tick time), so a restart, a clock jump or a
second replica neither misses nor doubles one. Catch-up: after downtime, only the
newest `max_catchup_ticks` missed times run. A schedule seen running for the first time,
or started through the API, begins at the next cron time.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from weir_partitions import CronClock, PartitionsError
from weir_protos.v1 import code_location_pb2, definitions_pb2

from weir_controlplane.api import convert
from weir_controlplane.daemons.catalog import Instigator, cron_clocks, instigators, status_of
from weir_controlplane.daemons.launch import Origin
from weir_controlplane.daemons.leases import renewed
from weir_controlplane.daemons.outcome import InstigatorLoop, error_text, failed, launched_tick
from weir_controlplane.errors import ApiError
from weir_controlplane.storage import (
    DeploymentScope,
    InstigatorKind,
    InstigatorState,
    InstigatorStatus,
    NewTick,
)

log = logging.getLogger(__name__)
KIND = InstigatorKind.SCHEDULE


def due_ticks(
    clocks: list[CronClock], after: datetime, now: datetime, limit: int
) -> list[datetime]:
    """The newest `limit` cron times in (after, now], oldest first."""
    low, high = after.timestamp(), int(now.timestamp())
    found: set[int] = set()
    for clock in clocks:
        tick = clock.prev_tick(high)
        while tick > low and len(found) < limit * len(clocks):
            found.add(tick)
            tick = clock.prev_tick(tick - 1)
    return [datetime.fromtimestamp(t, UTC) for t in sorted(found)[-limit:]]


class ScheduleDaemon(InstigatorLoop):
    name = "scheduler"

    def run_pass(self, scope: DeploymentScope, now: datetime) -> None:
        found = instigators(self._registry.all_graphs(scope), KIND)
        if not found:
            return
        states = self._storage.instigators.states(scope, KIND, found, now=now)
        for key, schedule in found.items():
            state = states[key]
            if status_of(schedule, state) is InstigatorStatus.RUNNING:
                self._advance(scope, schedule, state, now)

    def _advance(
        self, scope: DeploymentScope, schedule: Instigator, state: InstigatorState, now: datetime
    ) -> None:
        assert isinstance(schedule.definition, definitions_pb2.ScheduleSnapshot)
        if state.last_tick_at is None:
            due: list[datetime] = []  # first seen running: start from the next cron time
        else:
            try:
                clocks = cron_clocks(schedule.definition)
            except PartitionsError as exc:
                log.warning("schedule %s cannot tick: %s", schedule.name, exc)
                return
            due = due_ticks(clocks, state.last_tick_at, now, self._settings.max_catchup_ticks)
            if not due:
                return
        instigators_storage = self._storage.instigators
        if not instigators_storage.claim(
            scope, state, self._owner, ttl=self._settings.lease_seconds, now=now
        ):
            return  # another replica has it
        if not due:
            instigators_storage.finish(scope, state, self._owner, None, last_tick_at=now, now=now)
            return
        current = state
        ttl = self._settings.lease_seconds

        def renew(at: datetime) -> bool:
            return instigators_storage.renew(scope, state, self._owner, ttl=ttl, now=at)

        for index, tick_time in enumerate(due):
            # Catching up: each cron time starts with a whole lease, however long the last.
            if index and not renew(self.clock.now()):
                return
            try:
                with renewed(renew, ttl=ttl, clock=self.clock.now):
                    tick = self._evaluate(scope, schedule, tick_time)
            except Exception as exc:  # a bug here must not leave the schedule leased
                log.exception("schedule %s: tick failed", schedule.name)
                tick = failed(tick_time, f"{type(exc).__name__}: {exc}")
            stored = instigators_storage.finish(
                scope,
                current,
                self._owner,
                tick,
                last_tick_at=tick_time,
                keep_lease=index < len(due) - 1,
                now=self.clock.now(),
            )
            if stored is None:
                return  # stopped meanwhile, or the lease was lost: leave the rest
            current = stored

    def _evaluate(
        self, scope: DeploymentScope, schedule: Instigator, tick_time: datetime
    ) -> NewTick:
        definition = schedule.definition
        assert isinstance(definition, definitions_pb2.ScheduleSnapshot)
        request = code_location_pb2.EvaluateScheduleRequest(
            schedule_name=schedule.name, scheduled_execution_time=convert.timestamp(tick_time)
        )
        try:
            client = self._registry.client(scope, schedule.code_location)
            reply = client.evaluate_schedule(request, timeout=self._settings.evaluation_timeout)
        except ApiError as exc:
            return failed(tick_time, exc.message)
        if reply.HasField("error"):
            return failed(tick_time, error_text(reply.error))
        origin = Origin(
            KIND, schedule.code_location, schedule.name, default_job=definition.job_name
        )
        return launched_tick(
            self._launcher,
            scope,
            origin,
            schedule.graph,
            tick_time,
            requests=reply.run_requests,
            skip_reason=reply.skip_reason,
        )
