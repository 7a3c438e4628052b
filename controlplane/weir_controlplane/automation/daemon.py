"""AutomationDaemon: evaluates every asset's automation condition once per interval and
requests runs for what is true.

Each deployment's tick is claimed with a row lease (storage/automation.py), so several
control-plane replicas never evaluate one tick twice. A tick reads the deployment's state
in a few batched queries, evaluates the assets in topological order (so an asset sees
what this tick requests upstream), submits one run per code location and partition, and
stores the assets' new state with the evaluations whose outcome changed. Nothing already
queued or running is requested again. A run carries the tag
`weir/automation_request=<tick>:<location>:<partition>`: a tick retried after a crash
finds the runs it already submitted and does not submit them twice.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import threading
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from weir_controlplane.api.asset_graph import DeploymentGraph
from weir_controlplane.automation.conditions import AssetMemory, Evaluation, Node, evaluate
from weir_controlplane.automation.facts import StoredFacts
from weir_controlplane.automation.history import MAX_REQUESTED_KEYS, evaluation_message, listed
from weir_controlplane.locations import CodeLocationRegistry
from weir_controlplane.runs import RunCoordinator
from weir_controlplane.storage import DeploymentScope, RunFilter, Storage
from weir_controlplane.storage.automation import AutomationStorage, NewEvaluation, TickClaim
from weir_controlplane.storage.errors import DatabaseUnavailableError

log = logging.getLogger(__name__)

AUTOMATION_TAG = "weir/automation"
REQUEST_TAG = "weir/automation_request"


@dataclass(frozen=True)
class AutomationSettings:
    interval: float = 30.0  # seconds between a deployment's ticks
    # How long a claimed tick stays claimed if its replica dies mid-tick.
    lease: float = 120.0


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
        self._hashes: dict[tuple[str, str], str] = {}
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
        report = TickReport(claim.tick_number)
        graph = DeploymentGraph.of(self._registry.all_graphs(scope))
        targets = [
            key
            for key in graph.union.toposorted
            if graph.nodes[key].HasField("automation_condition")
        ]
        stored = self._automation.asset_states(scope) if targets else {}
        memories = {key: AssetMemory.from_json(state) for key, state in stored.items()}
        facts = StoredFacts(
            scope,
            graph,
            self._automation,
            self._storage.dynamic_partitions,
            now=now,
            event_cursor=claim.event_cursor,
            memories=memories,
        )
        evaluations: list[Evaluation] = []
        for key in targets:
            condition = graph.nodes[key].automation_condition
            evaluation = evaluate(
                key, condition, self._hash(graph, key, condition), memories.get(key), facts
            )
            facts.record_request(key, evaluation.requested)
            evaluations.append(evaluation)
        report.evaluated = len(evaluations)
        run_of = self._submit(scope, claim, graph, evaluations)
        report.run_ids = sorted(set(run_of.values()))
        states = {}
        records = []
        for evaluation in evaluations:
            key = evaluation.key
            state = evaluation.memory.to_json()
            if stored.get(key) != state:
                states[key] = state
            previous = memories.get(key)
            if (
                previous is None
                or previous.outcome != evaluation.memory.outcome
                or (evaluation.requested)
            ):
                records.append(_record(evaluation, run_of))
        report.stored_evaluations = len(records)
        finished = self._automation.finish_tick(
            scope,
            self.owner,
            claim,
            now=now,
            event_cursor=facts.event_cursor,
            states=states,
            evaluations=records,
        )
        if not finished:
            log.warning(
                "automation tick %d of %s outlived its lease; another replica retries it",
                claim.tick_number,
                scope.name,
            )
        elif report.run_ids:
            log.info(
                "automation tick %d of %s requested runs %s",
                claim.tick_number,
                scope.name,
                ", ".join(report.run_ids),
            )
        return report

    def _hash(self, graph: DeploymentGraph, key: str, condition: Node) -> str:
        cache_key = (graph.union.content_hash, key)
        found = self._hashes.get(cache_key)
        if found is None:
            if len(self._hashes) > 200_000:  # snapshots changed many times: start over
                self._hashes.clear()
            serialized = condition.SerializeToString(deterministic=True)
            found = self._hashes[cache_key] = hashlib.sha256(serialized).hexdigest()[:32]
        return found

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


def _record(evaluation: Evaluation, run_of: dict[tuple[str, str], str]) -> NewEvaluation:
    result = evaluation.result
    return NewEvaluation(
        asset_key=evaluation.key,
        requested_count=len(evaluation.requested),
        requested_partitions=listed(evaluation.requested, MAX_REQUESTED_KEYS),
        run_ids=sorted({run_of[(evaluation.key, p)] for p in evaluation.requested}),
        error=evaluation.error,
        body=b"" if result is None else evaluation_message(result).SerializeToString(),
    )
