"""FreshnessDaemon: keeps every asset's freshness state current, without scanning.

A pass over a deployment does two things:

1. When the deployment's definitions changed (its snapshots' content hashes), it syncs
   the stored policies with the snapshots': new and changed policies are due at once.
2. It evaluates the assets due now, read through the due-time index: those whose
   materialization was just stored (ingest set their due time) and those whose window or
   deadline has come. Each evaluation stores the state and the next due time; a change
   of state is recorded as a freshness change, and the asset's health follows in the
   same transaction.

It wakes on materializations (`wake`, from ingest's listener) and at the next due time,
whichever comes first, and otherwise every `interval` seconds, to see other replicas' work.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime

from weir_protos.v1 import automation_pb2

from weir_controlplane.daemons.loop import Clock, SystemClock, TickLoop
from weir_controlplane.freshness.policy import InvalidPolicyError, evaluate
from weir_controlplane.locations import CodeLocationRegistry
from weir_controlplane.storage import (
    DeploymentScope,
    DueAsset,
    FreshnessEvaluation,
    FreshnessState,
    StatusChange,
    Storage,
)


@dataclass(frozen=True)
class FreshnessSettings:
    # The longest sleep between passes; materializations and due times wake it sooner.
    interval: float = 5.0
    # Assets evaluated per transaction.
    batch: int = 5000


@dataclass(frozen=True)
class FreshnessPass:
    """What one pass over a deployment did."""

    synced: int
    evaluated: int
    changes: tuple[StatusChange, ...]


class FreshnessDaemon(TickLoop):
    name = "freshness"

    def __init__(
        self,
        storage: Storage,
        registry: CodeLocationRegistry,
        settings: FreshnessSettings | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.settings = settings or FreshnessSettings()
        super().__init__(storage.deployments, self.settings.interval, clock or SystemClock())
        self._storage = storage
        self._registry = registry
        # Per deployment: the snapshot hashes its stored policies were synced from.
        self._synced: dict[int, frozenset[tuple[str, str]]] = {}
        self._lock = threading.Lock()

    def run_pass(self, scope: DeploymentScope, now: datetime) -> None:
        self.tick(scope, now)

    def tick(self, scope: DeploymentScope, now: datetime | None = None) -> FreshnessPass:
        """One pass over `scope` at `now` (the clock's time when None); tests call it."""
        now = now or self.clock.now()
        with self._lock:  # the loop and a test's direct call never interleave
            synced = self._sync(scope, now)
            evaluated, changes = 0, []
            while True:
                due = self._storage.freshness.due(scope, now, limit=self.settings.batch)
                if not due:
                    break
                evaluations = [self._evaluate(asset.asset_key, asset, now) for asset in due]
                changes.extend(self._storage.freshness.store(scope, evaluations, now, read=due))
                evaluated += len(due)
                if len(due) < self.settings.batch:
                    break
        return FreshnessPass(synced, evaluated, tuple(changes))

    def _sync(self, scope: DeploymentScope, now: datetime) -> int:
        graphs = self._registry.all_graphs(scope)
        hashes = frozenset((name, graph.content_hash) for name, graph in graphs.items())
        if self._synced.get(scope.deployment_id) == hashes:
            return 0
        policies = {
            key: node.freshness_policy.SerializeToString(deterministic=True)
            for graph in graphs.values()
            for key, node in graph.nodes.items()
            if node.HasField("freshness_policy")
        }
        changed = self._storage.freshness.sync_policies(scope, policies, now)
        self._synced[scope.deployment_id] = hashes
        return changed

    def _evaluate(self, key: str, asset: DueAsset, now: datetime) -> FreshnessEvaluation:
        policy = automation_pb2.FreshnessPolicy()
        try:
            policy.ParseFromString(asset.policy)
            outcome = evaluate(policy, asset.last_materialized_at, now)
        except (InvalidPolicyError, ValueError) as exc:
            return FreshnessEvaluation(key, FreshnessState.UNKNOWN, str(exc), None)
        return FreshnessEvaluation(key, outcome.state, outcome.reason, outcome.next_due)

    def sleep_seconds(self) -> float:
        """Seconds until the next due time of any deployment, at most `interval`."""
        try:
            now = self.clock.now()
            soonest = self.interval
            for scope in self._deployments.all_scopes():
                due = self._storage.freshness.next_due(scope)
                if due is not None:
                    soonest = min(soonest, (due - now).total_seconds())
            return max(0.05, soonest)
        except Exception:
            return self.interval
