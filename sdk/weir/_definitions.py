"""Definitions: everything a code location serves, validated once at construction."""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from weir._assets import DEFAULT_IO_MANAGER_KEY, AssetsDefinition
from weir._checks import AssetChecksDefinition
from weir._definitions_building import AssetValueLoader, merge_definitions, merged_resources
from weir._errors import DefinitionError
from weir._executors import ExecutorDefinition, in_process_executor
from weir._graph import AssetGraph
from weir._key import AssetKey, CoercibleToAssetKey
from weir._specs import AssetSpec

# The name of the job of every asset, as Dagster names it.
IMPLICIT_ASSET_JOB_NAME = "__ASSET_JOB"

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
        # Resources that assets carry (`with_resources`) join the location's own.
        self.resources: dict[str, Any] = merged_resources(
            ((f"'{a.node_name}' (with_resources)", a.resource_defs) for a in self.assets),
            into=resources,
        )
        self.metadata = dict(metadata or {})
        if executor is not None and not isinstance(executor, ExecutorDefinition):
            raise DefinitionError(
                f"Definitions(executor=...) takes an executor such as "
                f"multiprocess_executor.configured({{'max_concurrent': 4}}), got {executor!r}"
            )
        # How runs execute their steps unless their job says otherwise.
        self.executor = executor or in_process_executor
        with no_cyclic_gc():
            self._graph = AssetGraph(self.assets, self.asset_checks)
        self._check_resources()
        self._check_partition_mappings()
        self.schedules = _unique_by_name(schedules or (), "schedule")
        self.sensors = _unique_by_name(sensors or (), "sensor")
        self.jobs = self._collect_jobs(jobs or ())

    @staticmethod
    def merge(*def_sets: Definitions) -> Definitions:
        """One Definitions holding everything of `def_sets`; two different resources bound
        under one key are an error."""
        return merge_definitions(*def_sets)

    def get_asset_graph(self) -> AssetGraph:
        return self._graph

    resolve_asset_graph = get_asset_graph

    def resolve_all_asset_keys(self) -> list[AssetKey]:
        return list(self._graph.toposorted_keys)

    def resolve_implicit_global_asset_job_def(self) -> JobDefinition:
        """A job of every asset, bound to these definitions: ``execute_in_process()`` it."""
        from weir._jobs import JobDefinition

        return JobDefinition(IMPLICIT_ASSET_JOB_NAME).bound_to(self)

    get_implicit_global_asset_job_def = resolve_implicit_global_asset_job_def

    def resolve_all_job_defs(self) -> list[JobDefinition]:
        return [self.get_job_def(name) for name in self.jobs]

    def get_asset_value_loader(self) -> AssetValueLoader:
        """Loads stored asset values through their I/O managers; use it as a context manager
        so the I/O managers are set up once and torn down after."""
        return AssetValueLoader(self)

    def load_asset_value(
        self,
        asset_key: CoercibleToAssetKey,
        *,
        python_type: type | None = None,
        partition_key: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> Any:
        """The stored value of an asset (or one partition), loaded by its I/O manager as a
        downstream asset would load it.

        >>> defs.load_asset_value("orders")  # doctest: +SKIP
        [3, 4, 5]
        """
        with self.get_asset_value_loader() as loader:
            return loader.load_asset_value(
                asset_key, python_type=python_type, partition_key=partition_key,
                metadata=metadata,
            )  # fmt: skip

    def get_assets_def(self, key: CoercibleToAssetKey) -> AssetsDefinition:
        asset_key = AssetKey.from_coercible(key)
        try:
            return self._graph.assets_def_by_key[asset_key]
        except KeyError:
            raise DefinitionError(
                f"No asset '{asset_key.to_user_string()}' in these definitions"
            ) from None

    resolve_assets_def = get_assets_def

    def get_all_asset_specs(self) -> list[AssetSpec]:
        return [self._graph.specs[k] for k in self._graph.toposorted_keys]

    resolve_all_asset_specs = get_all_asset_specs

    def get_job_def(self, name: str) -> JobDefinition:
        """The job named `name`, resolved against these definitions (their assets and
        resources), ready for ``execute_in_process()``."""
        job: JobDefinition = _lookup(self.jobs, name, "job")
        return job.bound_to(self)

    resolve_job_def = get_job_def

    def get_schedule_def(self, name: str) -> ScheduleDefinition:
        return _lookup(self.schedules, name, "schedule")

    def get_sensor_def(self, name: str) -> SensorDefinition:
        return _lookup(self.sensors, name, "sensor")

    resolve_schedule_def = get_schedule_def
    resolve_sensor_def = get_sensor_def

    def _check_resources(self) -> None:
        owners: list[AssetsDefinition | AssetChecksDefinition] = [*self.assets, *self.asset_checks]
        for owner in owners:
            named_io = isinstance(owner, AssetsDefinition) and bool(owner.io_manager_keys)
            if not owner.params.resource_params and not named_io:
                continue  # needs the default I/O manager at most, which is always there
            for key in sorted(owner.required_resource_keys):
                if key not in self.resources and key != DEFAULT_IO_MANAGER_KEY:
                    bound = ", ".join(sorted(self.resources)) or "none"
                    raise DefinitionError(
                        f"'{owner.node_name}' needs resource '{key}', which is not bound; pass "
                        f"Definitions(resources={{'{key}': ...}}) (bound resources: {bound})"
                    )

    def _check_partition_mappings(self) -> None:
        """Each partition mapping a dependency names must relate the two assets'
        partitions definitions (a time-window mapping two time windows, and so on)."""
        specs = self._graph.specs
        for key, spec in specs.items():
            for dep in spec.deps:
                mapping = dep.partition_mapping
                if mapping is None:
                    continue  # the default mapping fits any two definitions
                upstream = specs[dep.asset_key].partitions_def
                try:
                    mapping.validate_partition_mapping(upstream, spec.partitions_def)
                except DefinitionError as e:
                    raise DefinitionError(
                        f"Asset '{key.to_user_string()}' depends on "
                        f"'{dep.asset_key.to_user_string()}' through {mapping!r}, which cannot "
                        f"relate their partitions: {e}. '{dep.asset_key.to_user_string()}' is "
                        f"partitioned by {_described(upstream)} and '{key.to_user_string()}' "
                        f"by {_described(spec.partitions_def)}; use a mapping between those two "
                        "definitions, or change one of them"
                    ) from None

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
def no_cyclic_gc() -> Iterator[None]:
    """Building a graph allocates many long-lived objects and frees none: collection passes
    during it only cost time (a quarter of it at 10,000 assets). The code server's loader
    runs the user's code under it too, for the same reason."""
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


def _described(partitions_def: object) -> str:
    return "nothing (it is unpartitioned)" if partitions_def is None else repr(partitions_def)


def _lookup(items: Mapping[str, Any], name: str, kind: str) -> Any:
    try:
        return items[name]
    except KeyError:
        known = ", ".join(sorted(items)) or "none"
        raise DefinitionError(f"No {kind} named '{name}'; known {kind}s: {known}") from None
