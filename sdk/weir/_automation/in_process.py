"""`evaluate_automation_conditions`: one tick of the control plane's automation daemon, run
in process over a `weir.Instance`, for tests.

The same engine evaluates (weir_partitions.conditions), on the same facts: what the
instance recorded, and what the previous call's `cursor` remembers (each asset's memory,
the instance's position at that call, its time). Assets are evaluated in topological
order, so an asset sees what this tick requests of its upstreams.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from weir_partitions.conditions import AssetMemory, Evaluation, evaluate

from weir._automation.conditions import AutomationCondition
from weir._automation.instance_facts import ConditionParameters, InstanceFacts
from weir._definitions import Definitions, split_assets_and_checks
from weir._errors import DefinitionError
from weir._graph import AssetGraph
from weir._instance import Instance
from weir._key import AssetKey, CoercibleToAssetKey

_PARAMETERS = ConditionParameters()


@dataclass(frozen=True)
class AutomationConditionCursor:
    """Where an evaluation left off: pass it as `cursor=` to the next call."""

    evaluated_at: float | None = None  # POSIX seconds of the evaluation
    storage_id: int = 0  # the instance's last storage id at the evaluation
    memories: Mapping[str, AssetMemory] = field(default_factory=dict)


class EvaluateAutomationConditionsResult:
    """What one evaluation requested, per asset, and the cursor for the next."""

    def __init__(
        self,
        requested: Mapping[AssetKey, frozenset[str | None]],
        evaluations: Sequence[Evaluation],
        cursor: AutomationConditionCursor,
    ) -> None:
        self._requested = dict(requested)
        self.evaluations = list(evaluations)  # the engine's, with each tree's result
        self.cursor = cursor

    @property
    def total_requested(self) -> int:
        """The number of asset partitions requested (an unpartitioned asset counts one)."""
        return sum(len(partitions) for partitions in self._requested.values())

    def get_requested_partitions(self, asset_key: CoercibleToAssetKey) -> set[str | None]:
        """The partitions of the asset requested; {None} for a requested unpartitioned one."""
        return set(self._requested.get(AssetKey.from_coercible(asset_key), ()))

    def get_num_requested(self, asset_key: CoercibleToAssetKey) -> int:
        return len(self.get_requested_partitions(asset_key))

    def __repr__(self) -> str:
        return f"<EvaluateAutomationConditionsResult: {self.total_requested} requested>"


def evaluate_automation_conditions(
    defs: Definitions | Sequence[Any],
    instance: Instance,
    asset_selection: Any = None,
    evaluation_time: datetime | None = None,
    cursor: AutomationConditionCursor | None = None,
) -> EvaluateAutomationConditionsResult:
    """Evaluate the automation conditions of `defs`' assets (those in `asset_selection`)
    against what `instance` recorded, as one tick of the control plane's daemon would.

    >>> import weir as dg
    >>> @dg.asset(automation_condition=dg.AutomationCondition.eager())
    ... def orders() -> int:
    ...     return 1
    >>> instance = dg.Instance.ephemeral()
    >>> first = evaluate_automation_conditions([orders], instance)
    >>> first.total_requested  # a first evaluation starts from what is there: nothing new
    0
    """
    if not isinstance(instance, Instance):
        raise DefinitionError(
            f"evaluate_automation_conditions needs a weir.Instance (Instance.ephemeral() in "
            f"a test), got {type(instance).__name__}"
        )
    if cursor is not None and not isinstance(cursor, AutomationConditionCursor):
        raise DefinitionError(
            "cursor= takes the .cursor of a previous evaluate_automation_conditions result, "
            f"got {type(cursor).__name__}"
        )
    graph = _graph_of(defs)
    cursor = cursor or AutomationConditionCursor()
    now = evaluation_time or datetime.now(UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    facts = InstanceFacts(
        graph, instance, now=now, previous_tick_at=cursor.evaluated_at,
        storage_cursor=cursor.storage_id, memories=cursor.memories,
    )  # fmt: skip
    selected = _selected(graph, asset_selection)
    memories = dict(cursor.memories)
    requested: dict[AssetKey, frozenset[str | None]] = {}
    evaluations = []
    for key in graph.toposorted_keys:
        condition = graph.specs[key].automation_condition
        if key not in selected or condition is None:
            continue
        name = key.to_user_string()
        evaluation = evaluate(
            name, condition, _condition_hash(condition), memories.get(name), facts,
            parameters=_PARAMETERS,
        )  # fmt: skip
        if evaluation.error is not None:
            raise DefinitionError(f"The automation condition of '{name}': {evaluation.error}")
        memories[name] = evaluation.memory
        evaluations.append(evaluation)
        if evaluation.requested:
            facts.record_request(name, evaluation.requested)
            requested[key] = frozenset(p or None for p in evaluation.requested)
    next_cursor = AutomationConditionCursor(now.timestamp(), instance.last_storage_id, memories)
    return EvaluateAutomationConditionsResult(requested, evaluations, next_cursor)


def _graph_of(defs: Definitions | Sequence[Any]) -> AssetGraph:
    if isinstance(defs, Definitions):
        return defs.get_asset_graph()
    assets_defs, checks = split_assets_and_checks(defs)
    return AssetGraph(assets_defs, checks)


def _selected(graph: AssetGraph, asset_selection: Any) -> set[AssetKey]:
    if asset_selection is None:
        return set(graph.specs)
    from weir._selection import AssetSelection

    return AssetSelection.from_coercible(asset_selection).resolve(graph)


def _condition_hash(condition: AutomationCondition) -> str:
    """Changes when the tree changes, so a changed condition starts from no memory."""
    text = json.dumps(condition.to_dict(), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
