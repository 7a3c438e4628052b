"""AutomationDaemon: evaluates every asset's automation condition once per interval and
requests runs for what is true.

Each deployment's tick is claimed with a row lease (storage/automation.py), so several
control-plane replicas never evaluate one tick twice. A tick reads the deployment's state
in a few batched queries, evaluates the assets in topological order (so an asset sees
what this tick requests upstream), submits one run per code location and partition, and
stores the assets' new state with the evaluations whose outcome changed; assets that
settled and read nothing new are not evaluated (automation/due.py). Nothing already
queued or running is requested again. A run carries the tag
`weir/automation_request=<tick>:<location>:<partition>`: a tick retried after a crash
finds the runs it already submitted and does not submit them twice.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections import defaultdict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from weir_controlplane.api.asset_graph import DeploymentGraph
from weir_controlplane.automation.alike import (
    OwnKeys,
    Shared,
    Signatures,
    quiet,
    rekeyed,
    situation,
)
from weir_controlplane.automation.collector import collector_paused
from weir_controlplane.automation.conditions import AssetMemory, Evaluation, evaluate
from weir_controlplane.automation.due import DueAssets, changed_assets, next_carry
from weir_controlplane.automation.facts import StoredFacts
from weir_controlplane.automation.history import MAX_REQUESTED_KEYS, evaluation_message, listed
from weir_controlplane.daemons.leases import renewed
from weir_controlplane.locations import CodeLocationRegistry
from weir_controlplane.runs import RunCoordinator
from weir_controlplane.storage import DeploymentScope, RunFilter, Storage
from weir_controlplane.storage.automation import (
    AutomationStorage,
    NewEvaluation,
    TickClaim,
)
from weir_controlplane.storage.errors import DatabaseUnavailableError

log = logging.getLogger(__name__)

AUTOMATION_TAG = "weir/automation"
REQUEST_TAG = "weir/automation_request"


@dataclass(frozen=True)
class AutomationSettings:
    interval: float = 30.0  # seconds between a deployment's ticks
    # How long a claimed tick stays claimed if its replica dies mid-tick; a live replica
    # renews it every third of this while the tick runs (daemons/leases.py).
    lease: float = 10.0


@dataclass
class TickReport:
    """What one tick did, for tests, benchmarks and the log."""

    tick_number: int
    evaluated: int = 0
    run_ids: list[str] = field(default_factory=list)
    stored_evaluations: int = 0


class AutomationDaemon:
    """Example::

    daemon = AutomationDaemon(storage, registry, coordinator, AutomationSettings(interval=30))
    daemon.start()   # a thread ticking every deployment
    daemon.tick(scope)  # or one tick now, as tests do
    """

    def __init__(
        self,
        storage: Storage,
        automation: AutomationStorage,
        registry: CodeLocationRegistry,
        coordinator: RunCoordinator,
        settings: AutomationSettings,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        owner: str | None = None,
    ) -> None:
        self._storage = storage
        self._automation = automation
        self._registry = registry
        self._coordinator = coordinator
        self.settings = settings
        self._clock = clock
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._due = DueAssets()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="automation", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _loop(self) -> None:
        # Wakes more often than the interval so a due tick is not late by a whole one;
        # claiming a tick that is not due changes nothing.
        poll = min(self.settings.interval, 1.0)
        while not self._stopping.is_set():
            try:
                for scope in self._storage.deployments.all_scopes():
                    if self._stopping.is_set():
                        return
                    self.tick(scope)
            except DatabaseUnavailableError:
                log.warning("automation tick: the database is unavailable; retrying")
            except Exception:
                log.exception("automation tick failed; retrying on the next interval")
            self._stopping.wait(poll)

    # --- one tick -----------------------------------------------------------------------

    def tick(self, scope: DeploymentScope) -> TickReport | None:
        """Evaluate the deployment's tick if it is due and not claimed elsewhere."""
        now = self._clock()
        claim = self._automation.claim_tick(
            scope,
            owner=self.owner,
            now=now,
            interval=timedelta(seconds=self.settings.interval),
            lease=timedelta(seconds=self.settings.lease),
        )
        if claim is None:
            return None
        lease = timedelta(seconds=self.settings.lease)
        renewing = renewed(
            lambda at: self._automation.renew_tick(scope, self.owner, claim, now=at, lease=lease),
            ttl=self.settings.lease,
            clock=self._clock,
        )
        with renewing, collector_paused():
            return self._claimed_tick(scope, claim, now)

    def _claimed_tick(self, scope: DeploymentScope, claim: TickClaim, now: datetime) -> TickReport:
        graph = DeploymentGraph.of(self._registry.all_graphs(scope))
        targets = self._due.targets(graph)
        memories = self._due.memories(scope, claim, lambda: self._stored_memories(scope))
        facts = StoredFacts(
            scope,
            graph,
            self._automation,
            self._storage.dynamic_partitions,
            now=now,
            previous_tick_at=claim.previous_at,
            event_cursor=claim.event_cursor,
            memories=memories,
            definitions=self._due.definitions(graph),
        )
        evaluations, requested, copies = self._evaluate(
            scope, claim, graph, targets, memories, facts
        )
        report = TickReport(claim.tick_number, evaluated=len(evaluations))
        run_of = self._submit(scope, claim, graph, evaluations)
        report.run_ids = sorted(set(run_of.values()))
        states, records = self._changes(evaluations, memories, run_of, copies)
        report.stored_evaluations = len(records)
        finished = self._automation.finish_tick(
            scope,
            self.owner,
            claim,
            now=now,
            event_cursor=facts.event_cursor,
            carry=next_carry(facts, requested),
            states=states,
            evaluations=records,
        )
        if not finished:
            self._due.forget(scope)
            log.warning(
                "automation tick %d of %s outlived its lease; another replica retries it",
                claim.tick_number,
                scope.name,
            )
            return report
        self._due.keep(scope, claim, graph, targets, memories, evaluations)
        if report.run_ids:
            log.info(
                "automation tick %d of %s requested runs %s",
                claim.tick_number,
                scope.name,
                ", ".join(report.run_ids),
            )
        return report

    def _changes(
        self,
        evaluations: list[Evaluation],
        memories: dict[str, AssetMemory],
        run_of: dict[tuple[str, str], str],
        copies: dict[str, tuple[Shared, OwnKeys]],
    ) -> tuple[dict[str, str], list[NewEvaluation]]:
        """The states (JSON text) of the assets whose memory changed, and the evaluations
        to store: an asset's first, one whose outcome changed, or one that requests."""
        states = {}
        records = []
        for evaluation in evaluations:
            key, memory = evaluation.key, evaluation.memory
            previous = memories.get(key)
            copy_of = copies.get(key)
            # (An outcome that changed says the memory did without comparing it whole.)
            new_outcome = previous is None or previous.outcome != memory.outcome
            if new_outcome or previous != memory:
                states[key] = memory.to_text() if copy_of is None else copy_of[0].state(memory)
            if new_outcome or evaluation.requested:
                records.append(_record(evaluation, run_of, copy_of))
        return states, records

    def _evaluate(
        self,
        scope: DeploymentScope,
        claim: TickClaim,
        graph: DeploymentGraph,
        targets: list[str],
        memories: dict[str, AssetMemory],
        facts: StoredFacts,
    ) -> tuple[list[Evaluation], list[str], dict[str, tuple[Shared, OwnKeys]]]:
        """The due assets' evaluations in topological order, the assets requested, and the
        evaluations that are copies of another asset's (automation/alike.py)."""
        changed = changed_assets(facts, claim.carry)
        candidates = self._due.candidates(scope, claim, graph, targets, memories, changed)
        facts.prefetch(candidates)
        unread: set[str] = set()  # candidates added since, whose outcomes are not read yet
        evaluations: list[Evaluation] = []
        requested: list[str] = []
        # Situation -> the evaluation of the first asset in it (automation/alike.py).
        evaluated: dict[Hashable, Shared] = {}
        copies: dict[str, tuple[Shared, OwnKeys]] = {}
        signatures = Signatures()
        digests, conditions = self._due.all_digests(graph), self._due.all_conditions(graph)
        for key in targets:
            if key not in candidates:
                continue
            previous = memories.get(key)
            # (`due` is true of an asset that remembers nothing or has not settled.)
            settled = previous is not None and previous.settled
            if settled and not self._due.due(graph, key, previous, changed):
                continue
            if unread and key in unread:
                # Candidates a request upstream added: read them all at once, not one by one
                # as each is reached (a request cascading down a graph adds every layer).
                facts.prefetch(facts.unread(unread))
                unread.clear()
            condition_hash, definition = digests[key]
            condition = conditions[key]
            alike = situation(
                key, condition, condition_hash, definition, previous, facts, signatures
            )
            shared = None if alike is None else evaluated.get(alike)
            if shared is not None:
                evaluation, keys = rekeyed(shared, key, definition, facts, signatures)
                copies[key] = (shared, keys)
            else:
                still = quiet(key, condition, condition_hash, previous, facts)
                evaluation = evaluate(
                    key, condition, condition_hash, previous, facts, definition, quiet=still
                )
                if alike is not None and evaluation.error is None:
                    evaluated[alike] = Shared(evaluation, [d.key for d in facts.asset(key).deps])
            if evaluation.requested:
                facts.record_request(key, evaluation.requested)
                requested.append(key)
                changed.add(key)  # downstreams see it will be requested
                children = graph.children(key)
                candidates.update(children)
                unread.update(children)
            evaluations.append(evaluation)
        return evaluations, requested, copies

    def _stored_memories(self, scope: DeploymentScope) -> dict[str, AssetMemory]:
        stored = self._automation.asset_states(scope)
        return {key: AssetMemory.from_json(state) for key, state in stored.items()}

    def _submit(
        self,
        scope: DeploymentScope,
        claim: TickClaim,
        graph: DeploymentGraph,
        evaluations: list[Evaluation],
    ) -> dict[tuple[str, str], str]:
        """One run per code location and partition; (asset, partition) -> its run id."""
        groups: dict[tuple[str, str], list[str]] = defaultdict(list)
        for evaluation in evaluations:
            location = graph.location_of[evaluation.key]
            for partition in evaluation.requested:
                groups[(location, partition)].append(evaluation.key)
        run_of: dict[tuple[str, str], str] = {}
        for (location, partition), keys in sorted(groups.items()):
            request = f"{claim.tick_number}:{location}:{partition}"
            earlier = self._storage.runs.list_runs(
                scope, RunFilter(tags={REQUEST_TAG: request}), limit=1
            ).items
            if earlier:
                run_id = earlier[0].run_id  # this tick was tried before and got this far
            else:
                run_id = self._coordinator.submit(
                    scope,
                    location=location,
                    asset_keys=graph.toposorted(keys),
                    partition_key=partition or None,
                    tags={AUTOMATION_TAG: "true", REQUEST_TAG: request},
                    selection_text=" ".join(sorted(keys)),
                ).run_id
            for key in keys:
                run_of[(key, partition)] = run_id
        return run_of


def _record(
    evaluation: Evaluation,
    run_of: dict[tuple[str, str], str],
    copy_of: tuple[Shared, OwnKeys] | None,
) -> NewEvaluation:
    key, requested = evaluation.key, evaluation.requested
    run_ids = sorted({run_of[(key, p)] for p in requested}) if requested else []
    if copy_of is not None:  # the shared tree, stored once, with its own dependencies
        shared, ours = copy_of
        return NewEvaluation(
            key, len(requested), shared.requested_listed, run_ids, evaluation.error, b"",
            shared.tree(), shared.dependencies(ours),
        )  # fmt: skip
    body = b""
    if evaluation.result is not None:
        result = evaluation.result
        body = evaluation_message(result, evaluation.memory.condition_hash).SerializeToString()
    return NewEvaluation(
        asset_key=key,
        requested_count=len(requested),
        requested_partitions=listed(requested, MAX_REQUESTED_KEYS),
        run_ids=run_ids,
        error=evaluation.error,
        body=body,
    )
