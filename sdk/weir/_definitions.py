"""Definitions: everything a code location serves, validated once at construction."""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from weir._assets import DEFAULT_IO_MANAGER_KEY, AssetsDefinition
from weir._checks import AssetChecksDefinition
from weir._errors import DefinitionError
from weir._executors import ExecutorDefinition, in_process_executor
from weir._graph import AssetGraph
from weir._key import AssetKey, CoercibleToAssetKey
from weir._specs import AssetSpec

if TYPE_CHECKING:
    from weir._automation.schedules import ScheduleDefinition
    from weir._automation.sensors import SensorDefinition
    from weir._jobs import JobDefinition


def split_assets_and_checks(
    items: Iterable[Any],
) -> tuple[list[AssetsDefinition], list[AssetChecksDefinition]]:
    """Sort a mixed list of @asset, AssetSpec and @asset_check objects into two lists."""
    assets: list[AssetsDefinition] = []
    checks: list[AssetChecksDefinition] = []
    for item in items:
        if isinstance(item, AssetsDefinition):
            assets.append(item)
        elif isinstance(item, AssetSpec):
            assets.append(AssetsDefinition.external(item))
        elif isinstance(item, AssetChecksDefinition):
            checks.append(item)
        else:
            raise DefinitionError(
                f"Expected an @asset, @multi_asset, AssetSpec or @asset_check, got "
                f"{type(item).__name__}: {item!r}"
            )
    return assets, checks


class Definitions:
    """The assets, checks, jobs, schedules, sensors and resources of one code location.

    The graph is built and validated here: a cycle, a missing upstream, a duplicate key, an
    unknown resource key, or a job selecting unknown assets is an error now, not at run time.

    >>> from weir import asset
    >>> @asset
    ... def a() -> int:
    ...     return 1
    >>> defs = Definitions(assets=[a])
    >>> defs.get_asset_graph().toposorted_keys
    [AssetKey(['a'])]
    """

    def __init__(
        self,
        assets: Iterable[AssetsDefinition | AssetSpec | AssetChecksDefinition] | None = None,
        asset_checks: Iterable[AssetChecksDefinition] | None = None,
        jobs: Iterable[JobDefinition] | None = None,
        schedules: Iterable[ScheduleDefinition] | None = None,
        sensors: Iterable[SensorDefinition] | None = None,
        resources: Mapping[str, Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
        executor: ExecutorDefinition | None = None,
    ):
        assets_defs, checks = split_assets_and_checks(assets or ())
        _, more_checks = split_assets_and_checks(asset_checks or ())
        self.assets = assets_defs
        self.asset_checks = checks + more_checks
        self.resources: dict[str, Any] = dict(resources or {})
        self.metadata = dict(metadata or {})
        if executor is not None and not isinstance(executor, ExecutorDefinition):
            raise DefinitionError(
                f"Definitions(executor=...) takes an executor such as "
                f"multiprocess_executor.configured({{'max_concurrent': 4}}), got {executor!r}"
            )
        # How runs execute their steps unless their job says otherwise.
        self.executor = executor or in_process_executor
        with _no_cyclic_gc():
            self._graph = AssetGraph(self.assets, self.asset_checks)
        self._check_resources()
        self.schedules = _unique_by_name(schedules or (), "schedule")
        self.sensors = _unique_by_name(sensors or (), "sensor")
        self.jobs = self._collect_jobs(jobs or ())

    def get_asset_graph(self) -> AssetGraph:
        return self._graph

    def get_assets_def(self, key: CoercibleToAssetKey) -> AssetsDefinition:
        asset_key = AssetKey.from_coercible(key)
        try:
            return self._graph.assets_def_by_key[asset_key]
        except KeyError:
            raise DefinitionError(
                f"No asset '{asset_key.to_user_string()}' in these definitions"
            ) from None

    def get_all_asset_specs(self) -> list[AssetSpec]:
        return [self._graph.specs[k] for k in self._graph.toposorted_keys]

    def get_job_def(self, name: str) -> JobDefinition:
        return _lookup(self.jobs, name, "job")

    def get_schedule_def(self, name: str) -> ScheduleDefinition:
        return _lookup(self.schedules, name, "schedule")

    def get_sensor_def(self, name: str) -> SensorDefinition:
        return _lookup(self.sensors, name, "sensor")

    def _check_resources(self) -> None:
        owners: list[AssetsDefinition | AssetChecksDefinition] = [*self.assets, *self.asset_checks]
        for owner in owners:
            for key in sorted(owner.required_resource_keys):
                if key not in self.resources and key != DEFAULT_IO_MANAGER_KEY:
                    bound = ", ".join(sorted(self.resources)) or "none"
                    raise DefinitionError(
                        f"'{owner.node_name}' needs resource '{key}', which is not bound; pass "
                        f"Definitions(resources={{'{key}': ...}}) (bound resources: {bound})"
                    )

    def _collect_jobs(self, jobs: Iterable[JobDefinition]) -> dict[str, JobDefinition]:
        collected = _unique_by_name(jobs, "job")
        implicit = [s.job for s in self.schedules.values() if getattr(s, "job", None)]
        implicit += [j for s in self.sensors.values() for j in getattr(s, "jobs", ()) or ()]
        for job in implicit:
            known = collected.get(job.name)
            if known is None:
                collected[job.name] = job
            elif known is not job:
                raise DefinitionError(f"Two different jobs are named '{job.name}'")
        for job in collected.values():
            job.resolve_keys(self._graph)  # raises SelectionError naming unknown assets
        for kind, instigators in (("schedule", self.schedules), ("sensor", self.sensors)):
            for inst in instigators.values():
                for name in _job_names(inst):
                    if name not in collected:
                        raise DefinitionError(
                            f"{kind.capitalize()} '{inst.name}' targets job '{name}', which is "
                            f"not defined; known jobs: {', '.join(sorted(collected)) or 'none'}"
                        )
        return collected


@contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """Building a graph allocates many long-lived objects and frees none: collection passes
    during it only cost time (a quarter of it at 10,000 assets)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _job_names(instigator: Any) -> list[str]:
    names = [getattr(instigator, "job_name", None)]
    names += [j.name for j in getattr(instigator, "jobs", ()) or ()]
    return [n for n in dict.fromkeys(names) if n]


def _unique_by_name(items: Iterable[Any], kind: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items:
        if item.name in out and out[item.name] is not item:
            raise DefinitionError(f"Two {kind}s are named '{item.name}'; names must be unique")
        out[item.name] = item
    return out


def _lookup(items: Mapping[str, Any], name: str, kind: str) -> Any:
    try:
        return items[name]
    except KeyError:
        known = ", ".join(sorted(items)) or "none"
        raise DefinitionError(f"No {kind} named '{name}'; known {kind}s: {known}") from None
