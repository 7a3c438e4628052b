"""Putting Definitions together: `Definitions.merge`, `@definitions`, `with_resources`,
`map_asset_specs`, and loading a stored asset value through its I/O manager."""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable, Iterable, Mapping
from contextlib import ExitStack
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

from weir._assets import DEFAULT_IO_MANAGER_KEY, AssetsDefinition
from weir._errors import DefinitionError, UsageError, WeirError
from weir._executors import in_process_executor
from weir._io import InputContext, OutputContext
from weir._key import AssetKey, CoercibleToAssetKey
from weir._specs import AssetSpec

if TYPE_CHECKING:
    from weir._definitions import Definitions

T = TypeVar("T")


def merged_resources(
    sources: Iterable[tuple[str, Mapping[str, Any]]],
    into: Mapping[str, Any] | None = None,
    conflict: type[WeirError] = DefinitionError,
) -> dict[str, Any]:
    """One resource dict from several, each `(where, resources)`: two different objects
    under one key are a `conflict` error naming both places."""
    merged = dict(into or {})
    origin = dict.fromkeys(merged, "Definitions(resources=...)")
    for where, resources in sources:
        for key, value in resources.items():
            if key in merged and merged[key] is not value:
                raise conflict(
                    f"Resource '{key}' is bound to two different objects, by {origin[key]} and "
                    f"by {where}; bind it once"
                )
            merged[key] = value
            origin.setdefault(key, where)
    return merged


def merge_definitions(*defs: Definitions) -> Definitions:
    """What `Definitions.merge` returns: every definition of each, with their resources,
    executor and metadata combined (two different resources under one key are an error)."""
    from weir._definitions import Definitions

    for i, d in enumerate(defs):
        if not isinstance(d, Definitions):
            raise DefinitionError(
                f"Definitions.merge takes Definitions objects; argument {i} is {d!r}"
            )
    executors = {id(d.executor): d.executor for d in defs if d.executor is not in_process_executor}
    if len(executors) > 1:
        # Dagster's merge calls both conflicts an invariant violation, not a bad definition.
        raise UsageError("Definitions.merge: two of the Definitions set different executors")
    resources = merged_resources(
        ((f"Definitions object {i}", d.resources) for i, d in enumerate(defs)), conflict=UsageError
    )
    return Definitions(
        assets=[a for d in defs for a in d.assets],
        asset_checks=[c for d in defs for c in d.asset_checks],
        jobs=[j for d in defs for j in d.jobs.values()],
        schedules=[s for d in defs for s in d.schedules.values()],
        sensors=[s for d in defs for s in d.sensors.values()],
        resources=resources,
        metadata={k: v for d in defs for k, v in d.metadata.items()},
        executor=next(iter(executors.values()), None),
    )


class LazyDefinitions:
    """A function that builds a code location's Definitions, made by `@definitions`.

    The code server calls it once when it loads the module; tests call it directly.
    """

    def __init__(self, fn: Callable[[], Definitions]):
        self.fn = fn
        functools.update_wrapper(self, fn)

    def __call__(self) -> Definitions:
        from weir._definitions import Definitions

        built = self.fn()
        if not isinstance(built, Definitions):
            raise DefinitionError(
                f"@definitions function '{self.fn.__name__}' must return a Definitions, got "
                f"{type(built).__name__}"
            )
        return built


def definitions(fn: Callable[[], Definitions]) -> LazyDefinitions:
    """Mark a function returning the code location's Definitions, built when it loads.

    >>> @definitions
    ... def defs():
    ...     return Definitions(assets=[])  # doctest: +SKIP
    """
    return LazyDefinitions(fn)


def with_resources(
    definitions: Iterable[T],
    resource_defs: Mapping[str, Any],
    resource_config_by_key: Mapping[str, Any] | None = None,
) -> list[T]:
    """Copies of the assets in `definitions` that carry `resource_defs` with them, so that
    ``materialize(with_resources([a], {...}))`` or Definitions need not bind them again.
    `resource_config_by_key` configures them: ``{"key": {"config": {...}}}``."""
    from weir._run_config import configured_resources

    bound = configured_resources(dict(resource_defs), {"resources": resource_config_by_key or {}})
    out: list[T] = []
    for item in definitions:
        if isinstance(item, AssetsDefinition):
            carrying = copy.copy(item)
            carrying.resource_defs = {**bound, **item.resource_defs}
            out.append(carrying)
        else:
            out.append(item)
    return out


def map_asset_specs(
    func: Callable[[AssetSpec], AssetSpec], iterable: Iterable[AssetsDefinition | AssetSpec]
) -> list[AssetsDefinition | AssetSpec]:
    """Each AssetSpec, and each spec of each AssetsDefinition, passed through `func`: to set
    owners, tags or a group on many assets at once. An asset's key cannot change here."""
    return [_mapped(func, item) for item in iterable]


def _mapped(
    func: Callable[[AssetSpec], AssetSpec], item: AssetsDefinition | AssetSpec
) -> AssetsDefinition | AssetSpec:
    if isinstance(item, AssetSpec):
        return func(item)
    if not isinstance(item, AssetsDefinition):
        raise DefinitionError(f"map_asset_specs takes assets and AssetSpecs, got {item!r}")
    specs = []
    for spec in item.specs:
        new = func(spec)
        if new.key != spec.key:
            raise DefinitionError(
                f"map_asset_specs cannot change the key of '{spec.key.to_user_string()}' (to "
                f"'{new.key.to_user_string()}'): its function produces that key; use "
                "key_prefix= or load_assets_from_modules(key_prefix=...) instead"
            )
        specs.append(new)
    mapped = copy.copy(item)
    mapped.specs = tuple(specs)
    mapped.specs_by_key = {s.key: s for s in specs}
    return mapped


class AssetValueLoader:
    """Loads stored asset values through their I/O managers, set up once for many loads.

    >>> with defs.get_asset_value_loader() as loader:  # doctest: +SKIP
    ...     orders = loader.load_asset_value("orders")
    """

    def __init__(self, defs: Definitions):
        self._defs = defs
        self._stack = ExitStack()
        self._ready: dict[str, Any] = {}

    def __enter__(self) -> AssetValueLoader:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:  # fmt: skip
        self._stack.close()

    def load_asset_value(
        self,
        asset_key: CoercibleToAssetKey,
        *,
        python_type: type | None = None,
        partition_key: str | None = None,
        input_definition_metadata: Mapping[str, Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> Any:
        key = AssetKey.from_coercible(asset_key)
        assets_def = self._defs.get_assets_def(key)
        spec = assets_def.specs_by_key[key]
        if spec.partitions_def is not None and partition_key is None:
            raise DefinitionError(
                f"Asset '{key.to_user_string()}' is partitioned; pass partition_key=..."
            )
        io_manager = self._io_manager(assets_def.io_manager_key_for(key))
        upstream = OutputContext(
            asset_key=key,
            name=assets_def.output_names.get(key, "result"),
            partition_key=partition_key,
            definition_metadata=spec.metadata,
        )
        context = InputContext(
            key, "result", partition_key,
            metadata=dict(input_definition_metadata or metadata or {}),
            upstream_output=upstream, dagster_type=python_type,
        )  # fmt: skip
        return io_manager.load_input(context)

    def _io_manager(self, resource_key: str) -> Any:
        if resource_key not in self._ready:
            from weir._execution.executor import set_up_resources

            resources = dict(self._defs.resources)
            if resource_key == DEFAULT_IO_MANAGER_KEY and resource_key not in resources:
                # What served runs of these definitions store through (see bound_resources).
                from weir._fs_values import PlainFilesystemIOManager

                resources[resource_key] = PlainFilesystemIOManager()
            if resource_key not in resources:
                raise DefinitionError(f"I/O manager '{resource_key}' is not bound")
            ready = set_up_resources(resources, [resource_key], self._stack)
            self._ready[resource_key] = ready[resource_key]
        return self._ready[resource_key]
