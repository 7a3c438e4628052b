"""ExecutionPlan: the steps of a run in dependency order, one per asset node or check.

The plan is pure data about which function runs when; executors (in-process here, the run
worker's multiprocess and Celery executors later) walk it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from weir._assets import AssetsDefinition
from weir._checks import AssetChecksDefinition
from weir._errors import SelectionError
from weir._graph import AssetGraph
from weir._key import AssetKey


class StepKind(StrEnum):
    ASSET = "asset"
    CHECK = "check"


@dataclass
class ExecutionStep:
    key: str
    kind: StepKind
    definition: AssetsDefinition | AssetChecksDefinition
    asset_keys: tuple[AssetKey, ...]  # what an asset step materializes
    upstream_steps: set[str] = field(default_factory=set)


@dataclass
class ExecutionPlan:
    steps: list[ExecutionStep]  # topologically ordered
    graph: AssetGraph

    @property
    def step_keys(self) -> list[str]:
        return [s.key for s in self.steps]

    def downstream_of(self) -> dict[str, list[str]]:
        children: dict[str, list[str]] = {s.key: [] for s in self.steps}
        for step in self.steps:
            for up in step.upstream_steps:
                children[up].append(step.key)
        return children

    @staticmethod
    def build(
        graph: AssetGraph, asset_keys: Iterable[AssetKey], include_checks: bool = True
    ) -> ExecutionPlan:
        """A plan materializing `asset_keys` (and, by default, the checks on them).

        A multi-asset that cannot subset runs whole, so all its keys are materialized.
        """
        selected = set(asset_keys)
        unknown = {key for key in selected if key not in graph.specs}  # not a copy of all
        if unknown:
            names = ", ".join(sorted(k.to_user_string() for k in unknown))
            raise SelectionError(f"Cannot plan unknown assets: {names}")
        steps: dict[str, ExecutionStep] = {}
        step_of_key: dict[AssetKey, str] = {}
        for key in graph.in_topo_order(selected):
            ad = graph.assets_def_by_key[key]
            if not ad.is_executable:
                raise SelectionError(
                    f"Asset '{key.to_user_string()}' is external (declared with AssetSpec); "
                    "it cannot be materialized, only depended on"
                )
            step = steps.get(ad.node_name)
            if step is None:
                keys = ad.keys if not ad.can_subset else tuple(k for k in ad.keys if k in selected)
                step = steps[ad.node_name] = ExecutionStep(ad.node_name, StepKind.ASSET, ad, keys)
                for k in keys:
                    step_of_key[k] = ad.node_name
        check_steps: list[ExecutionStep] = []
        if include_checks:
            for cd in graph.checks_defs:
                if cd.asset_key in step_of_key:
                    check_steps.append(ExecutionStep(cd.node_name, StepKind.CHECK, cd, ()))
        blocking: dict[AssetKey, list[str]] = {}
        for cs in check_steps:
            assert isinstance(cs.definition, AssetChecksDefinition)
            spec = cs.definition.spec
            cs.upstream_steps = {
                step_of_key[k] for k in (spec.asset_key, *spec.additional_deps) if k in step_of_key
            }
            if spec.blocking:
                blocking.setdefault(spec.asset_key, []).append(cs.key)
        for step in steps.values():
            for key in step.asset_keys:
                for parent in graph.parents[key]:
                    up = step_of_key.get(parent)
                    if up is not None and up != step.key:
                        step.upstream_steps.add(up)
                    step.upstream_steps.update(blocking.get(parent, ()))
        return ExecutionPlan(_toposort([*steps.values(), *check_steps]), graph)


def _toposort(steps: list[ExecutionStep]) -> list[ExecutionStep]:
    position = {s.key: i for i, s in enumerate(steps)}
    by_key = {s.key: s for s in steps}
    pending = {s.key: len(s.upstream_steps) for s in steps}
    children: dict[str, list[str]] = {s.key: [] for s in steps}
    for s in steps:
        for up in s.upstream_steps:
            children[up].append(s.key)
    ready = deque(sorted((k for k, n in pending.items() if n == 0), key=position.__getitem__))
    order: list[ExecutionStep] = []
    while ready:
        key = ready.popleft()
        order.append(by_key[key])
        for child in sorted(children[key], key=position.__getitem__):
            pending[child] -= 1
            if pending[child] == 0:
                ready.append(child)
    return order
