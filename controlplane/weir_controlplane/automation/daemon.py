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

from weir_protos.v1 import definitions_pb2

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
        self._hashes: dict[tuple[str, str], tuple[str, str]] = {}
        self._timely: dict[tuple[str, str], bool] = {}
        # (deployment id, tick number, memories) of the last tick this process finished.
        self._cached: tuple[int, int, dict[str, AssetMemory]] | None = None
        # With `_cached`: the graph it was evaluated on and its assets not settled.
        self._cached_graph = ""
        self._unsettled: set[str] | None = None
        self._timely_set: tuple[str, set[str]] | None = None
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
        memories = self._memories(scope, claim) if targets else {}
        facts = StoredFacts(
            scope,
            graph,
            self._automation,
            self._storage.dynamic_partitions,
            now=now,
            previous_tick_at=claim.previous_at,
            event_cursor=claim.event_cursor,
            memories=memories,
        )
        carry = claim.carry
        in_progress = {key: sorted(parts) for key, parts in facts.in_progress.items()}
        previous_in_progress = carry.get("in_progress", {})
        # Assets whose facts differ from the previous tick's: their conditions, and their
        # downstreams', are evaluated; a settled asset with none of them is not.
        dirty = facts.changed | set(carry.get("changed", ())) | set(carry.get("requested", ()))
        dirty.update(
            key
            for key in in_progress.keys() | previous_in_progress.keys()
            if in_progress.get(key) != previous_in_progress.get(key)
        )
        candidates = self._candidates(scope, claim, graph, targets, memories, dirty)
        facts.prefetch(candidates)
        evaluations: list[Evaluation] = []
        requested: list[str] = []
        for key in targets:
            if key not in candidates:
                continue
            previous = memories.get(key)
            if not self._due(graph, key, previous, dirty):
                continue
            node = graph.nodes[key]
            condition_hash, definition = self._digests(graph, key)
            evaluation = evaluate(
                key, node.automation_condition, condition_hash, previous, facts, definition
            )
            if evaluation.requested:
                facts.record_request(key, evaluation.requested)
                requested.append(key)
                dirty.add(key)  # downstreams see it will be requested
                candidates.update(graph.children(key))
            evaluations.append(evaluation)
        report.evaluated = len(evaluations)
        run_of = self._submit(scope, claim, graph, evaluations)
        report.run_ids = sorted(set(run_of.values()))
        states = {}
        records = []
        for evaluation in evaluations:
            key = evaluation.key
            previous = memories.get(key)
            if previous != evaluation.memory:
                states[key] = evaluation.memory.to_json()
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
            carry={
                "changed": sorted(facts.changed),
                "requested": requested,
                "in_progress": in_progress,
            },
            states=states,
            evaluations=records,
        )
        if not finished:
            self._cached = None
            log.warning(
                "automation tick %d of %s outlived its lease; another replica retries it",
                claim.tick_number,
                scope.name,
            )
            return report
        memories.update((e.key, e.memory) for e in evaluations)
        unsettled = self._unsettled if self._unsettled is not None else set()
        for evaluation in evaluations:
            if evaluation.memory.settled:
                unsettled.discard(evaluation.key)
            else:
                unsettled.add(evaluation.key)
        self._cached = (scope.deployment_id, claim.tick_number, memories)
        self._unsettled = unsettled
        self._cached_graph = graph.union.content_hash
        if report.run_ids:
            log.info(
                "automation tick %d of %s requested runs %s",
                claim.tick_number,
                scope.name,
                ", ".join(report.run_ids),
            )
        return report

    def _memories(self, scope: DeploymentScope, claim: TickClaim) -> dict[str, AssetMemory]:
        """The assets' memories after the previous tick: kept in this process when it
        evaluated that tick itself, else read."""
        cached = self._cached
        if cached is not None and cached[:2] == (scope.deployment_id, claim.tick_number - 1):
            return cached[2]
        stored = self._automation.asset_states(scope)
        return {key: AssetMemory.from_json(state) for key, state in stored.items()}

    def _candidates(
        self,
        scope: DeploymentScope,
        claim: TickClaim,
        graph: DeploymentGraph,
        targets: list[str],
        memories: dict[str, AssetMemory],
        dirty: set[str],
    ) -> set[str]:
        """The assets that may be due: all of them when the graph or the memories are new
        to this process, else the unsettled, the timely, the changed and their downstreams
        (so a quiet tick costs the changes, not the graph)."""
        cached = self._cached
        known = (
            cached is not None
            and cached[:2] == (scope.deployment_id, claim.tick_number - 1)
            and self._cached_graph == graph.union.content_hash
            and self._unsettled is not None
        )
        if not known:
            self._unsettled = {k for k in targets if k not in memories or not memories[k].settled}
            return {key for key in targets if self._due(graph, key, memories.get(key), dirty)}
        assert self._unsettled is not None
        found = set(self._unsettled) | self._timely_targets(graph, targets) | dirty
        for key in dirty:
            found.update(graph.children(key))
        return found

    def _timely_targets(self, graph: DeploymentGraph, targets: list[str]) -> set[str]:
        if self._timely_set is None or self._timely_set[0] != graph.union.content_hash:
            timely = {key for key in targets if self._always_evaluated(graph, key)}
            self._timely_set = (graph.union.content_hash, timely)
        return self._timely_set[1]

    def _always_evaluated(self, graph: DeploymentGraph, key: str) -> bool:
        """Whether the asset's facts can change with time alone (cron ticks, time windows,
        dynamic keys): partitioned, partitioned upstream, or a cron condition."""
        cache_key = (graph.union.content_hash, key)
        found = self._timely.get(cache_key)
        if found is None:
            node = graph.nodes[key]
            found = (
                node.HasField("partitions_def")
                or any(
                    parent is not None and parent.HasField("partitions_def")
                    for parent in map(graph.node, graph.parents(key))
                )
                or any(n.node_type == "cron_tick_passed" for n in _walk(node.automation_condition))
            )
            if len(self._timely) > 200_000:
                self._timely.clear()
            self._timely[cache_key] = found
        return found

    def _due(
        self, graph: DeploymentGraph, key: str, previous: AssetMemory | None, dirty: set[str]
    ) -> bool:
        """Whether the asset's condition must be evaluated on this tick: unless it settled
        and nothing it reads changed, evaluating it again would give the same."""
        if previous is None or not previous.settled:
            return True
        condition_hash, definition = self._digests(graph, key)
        return (
            previous.condition_hash != condition_hash
            or previous.definition != definition
            or previous.code_version != graph.nodes[key].code_version
            or key in dirty
            or self._always_evaluated(graph, key)
            or not dirty.isdisjoint(graph.parents(key))
        )

    def _digests(self, graph: DeploymentGraph, key: str) -> tuple[str, str]:
        """(the condition's hash, the definition's digest), computed once per snapshot."""
        cache_key = (graph.union.content_hash, key)
        found = self._hashes.get(cache_key)
        if found is None:
            if len(self._hashes) > 200_000:  # snapshots changed many times: start over
                self._hashes.clear()
            node = graph.nodes[key]
            condition = node.automation_condition.SerializeToString(deterministic=True)
            definition = definitions_pb2.AssetNode(
                deps=node.deps, partitions_def=node.partitions_def, is_executable=node.is_executable
            ).SerializeToString(deterministic=True)
            found = self._hashes[cache_key] = (
                hashlib.sha256(condition).hexdigest()[:32],
                hashlib.sha256(definition).hexdigest()[:16],
            )
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


def _walk(node: Node) -> list[Node]:
    found = [node]
    for child in node.children:
        found += _walk(child)
    return found


def _record(evaluation: Evaluation, run_of: dict[tuple[str, str], str]) -> NewEvaluation:
    result = evaluation.result
    return NewEvaluation(
        asset_key=evaluation.key,
        requested_count=len(evaluation.requested),
        requested_partitions=listed(evaluation.requested, MAX_REQUESTED_KEYS),
        run_ids=sorted({run_of[(evaluation.key, p)] for p in evaluation.requested}),
        error=evaluation.error,
        body=b""
        if result is None
        else evaluation_message(result, evaluation.memory.condition_hash).SerializeToString(),
    )
