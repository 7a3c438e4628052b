"""Collecting a project's assets and checks from its modules and packages.

``load_assets_from_package_module(my_project.assets)`` finds every @asset, @multi_asset and
(with ``include_specs=True``) AssetSpec at the top level of each module, once each even when
a module re-imports another's asset; `group_name` and `key_prefix` restyle what it found.
"""

from __future__ import annotations

import copy
import importlib
import inspect
import pkgutil
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any

from weir._assets import AssetsDefinition
from weir._automation.validation import check_backfill_policy
from weir._checks import AssetChecksDefinition, AssetCheckSpec
from weir._errors import DefinitionError
from weir._key import AssetKey
from weir._specs import AssetDep, AssetSpec, validate_name

if TYPE_CHECKING:
    from weir._automation.conditions import AutomationCondition
    from weir._automation.policies import BackfillPolicy

LoadedAsset = AssetsDefinition | AssetSpec


def load_assets_from_modules(
    modules: Iterable[ModuleType],
    group_name: str | None = None,
    key_prefix: str | Sequence[str] | None = None,
    *,
    automation_condition: AutomationCondition | None = None,
    backfill_policy: BackfillPolicy | None = None,
    source_key_prefix: str | Sequence[str] | None = None,
    include_specs: bool = False,
) -> list[LoadedAsset]:
    """The assets defined at the top level of `modules`, each once.

    `group_name` puts every one in that group; `key_prefix` prefixes their keys and the
    dependencies between them; `source_key_prefix` prefixes dependencies on assets that were
    not loaded here; `automation_condition` and `backfill_policy` replace each one's own.
    Two different assets with one key are an error naming the modules.

    >>> assets = load_assets_from_modules([raw, reports], group_name="shop")  # doctest: +SKIP
    """
    if group_name is not None:
        validate_name(group_name, "Group")
    found = _collect(modules, (AssetsDefinition, AssetSpec) if include_specs else AssetsDefinition)
    _refuse_duplicate_keys(found)
    assets = [obj for obj, _ in found]
    restyle = _Restyle(
        loaded=frozenset(key for a in assets for key in _keys_of(a)),
        group_name=group_name,
        key_prefix=key_prefix,
        source_key_prefix=source_key_prefix,
        automation_condition=automation_condition,
        backfill_policy=check_backfill_policy(backfill_policy, "load_assets_from_modules"),
    )
    return [restyle.applied(a) for a in assets]


def load_assets_from_package_module(
    package_module: ModuleType,
    group_name: str | None = None,
    key_prefix: str | Sequence[str] | None = None,
    *,
    automation_condition: AutomationCondition | None = None,
    backfill_policy: BackfillPolicy | None = None,
    source_key_prefix: str | Sequence[str] | None = None,
    include_specs: bool = False,
) -> list[LoadedAsset]:
    """The assets of a package and all its submodules, as `load_assets_from_modules`."""
    return load_assets_from_modules(
        _package_modules(package_module), group_name, key_prefix,
        automation_condition=automation_condition, backfill_policy=backfill_policy,
        source_key_prefix=source_key_prefix, include_specs=include_specs,
    )  # fmt: skip


def load_assets_from_package_name(
    package_name: str,
    group_name: str | None = None,
    key_prefix: str | Sequence[str] | None = None,
    *,
    automation_condition: AutomationCondition | None = None,
    backfill_policy: BackfillPolicy | None = None,
    source_key_prefix: str | Sequence[str] | None = None,
    include_specs: bool = False,
) -> list[LoadedAsset]:
    """The assets of the package importable as `package_name` and all its submodules."""
    return load_assets_from_package_module(
        importlib.import_module(package_name), group_name, key_prefix,
        automation_condition=automation_condition, backfill_policy=backfill_policy,
        source_key_prefix=source_key_prefix, include_specs=include_specs,
    )  # fmt: skip


def load_assets_from_current_module(
    group_name: str | None = None,
    key_prefix: str | Sequence[str] | None = None,
    *,
    automation_condition: AutomationCondition | None = None,
    backfill_policy: BackfillPolicy | None = None,
    source_key_prefix: str | Sequence[str] | None = None,
    include_specs: bool = False,
) -> list[LoadedAsset]:
    """The assets of the module this is called from."""
    return load_assets_from_modules(
        [_calling_module()], group_name, key_prefix,
        automation_condition=automation_condition, backfill_policy=backfill_policy,
        source_key_prefix=source_key_prefix, include_specs=include_specs,
    )  # fmt: skip


def load_asset_checks_from_modules(
    modules: Iterable[ModuleType], asset_key_prefix: str | Sequence[str] | None = None
) -> list[AssetChecksDefinition]:
    """The @asset_check definitions at the top level of `modules`, each once; with
    `asset_key_prefix`, the checked assets' keys are prefixed (as a `key_prefix` given to
    `load_assets_from_modules` prefixes the assets)."""
    checks = [obj for obj, _ in _collect(modules, AssetChecksDefinition)]
    if not asset_key_prefix:
        return checks
    return [_prefixed_check(c, asset_key_prefix) for c in checks]


def load_asset_checks_from_package_module(
    package_module: ModuleType, asset_key_prefix: str | Sequence[str] | None = None
) -> list[AssetChecksDefinition]:
    """The checks of a package and all its submodules."""
    return load_asset_checks_from_modules(_package_modules(package_module), asset_key_prefix)


def load_asset_checks_from_package_name(
    package_name: str, asset_key_prefix: str | Sequence[str] | None = None
) -> list[AssetChecksDefinition]:
    """The checks of the package importable as `package_name` and all its submodules."""
    return load_asset_checks_from_package_module(
        importlib.import_module(package_name), asset_key_prefix
    )


def load_asset_checks_from_current_module(
    asset_key_prefix: str | Sequence[str] | None = None,
) -> list[AssetChecksDefinition]:
    """The checks of the module this is called from."""
    return load_asset_checks_from_modules([_calling_module()], asset_key_prefix)


def _calling_module() -> ModuleType:
    """The module that called the public function calling this one."""
    frame = inspect.currentframe()
    caller = frame.f_back.f_back if frame is not None and frame.f_back is not None else None
    module = inspect.getmodule(caller) if caller is not None else None
    if module is None:
        raise DefinitionError("load_*_from_current_module() must be called from a module")
    return module


def _package_modules(package: ModuleType) -> list[ModuleType]:
    modules = [package]
    path = getattr(package, "__path__", None)
    if path is None:
        return modules  # a plain module: nothing below it
    for info in pkgutil.walk_packages(path, prefix=f"{package.__name__}."):
        modules.append(importlib.import_module(info.name))
    return modules


def _collect(modules: Iterable[ModuleType], kinds: Any) -> list[tuple[Any, str]]:
    """Objects of `kinds` at the top level of `modules`, each once, with a module defining it."""
    seen: dict[int, tuple[Any, str]] = {}
    for module in modules:
        if not isinstance(module, ModuleType):
            raise DefinitionError(f"Expected a module, got {type(module).__name__}: {module!r}")
        for value in _top_level(module):
            if isinstance(value, kinds) and id(value) not in seen:
                seen[id(value)] = (value, module.__name__)
    return list(seen.values())


def _top_level(module: ModuleType) -> Iterator[Any]:
    for value in vars(module).values():
        if isinstance(value, (list, tuple)):
            yield from value  # `assets = [a, b]`, or what another loader returned
        else:
            yield value


def _refuse_duplicate_keys(found: list[tuple[LoadedAsset, str]]) -> None:
    modules_by_key: dict[AssetKey, list[str]] = {}
    for obj, module in found:
        for key in _keys_of(obj):
            modules_by_key.setdefault(key, []).append(module)
    for key, modules in modules_by_key.items():
        if len(modules) > 1:
            raise DefinitionError(
                f"Asset key {key.to_user_string()} is defined multiple times, in modules "
                f"{', '.join(sorted(modules))}; rename one, or load them with a key_prefix"
            )


def _keys_of(asset: LoadedAsset) -> tuple[AssetKey, ...]:
    return (asset.key,) if isinstance(asset, AssetSpec) else asset.keys


@dataclass(frozen=True)
class _Restyle:
    """What a loader changes on every asset it loads."""

    loaded: frozenset[AssetKey]
    group_name: str | None
    key_prefix: str | Sequence[str] | None
    source_key_prefix: str | Sequence[str] | None
    automation_condition: AutomationCondition | None
    backfill_policy: BackfillPolicy | None

    def applied(self, asset: LoadedAsset) -> LoadedAsset:
        changes = (self.group_name, self.key_prefix, self.source_key_prefix,
                   self.automation_condition, self.backfill_policy)  # fmt: skip
        if not any(changes):
            return asset  # nothing to change: the very objects the modules define
        if isinstance(asset, AssetSpec):
            return self._spec(asset)
        moved = _rekeyed_assets_def(asset, self._key, self._spec)
        if self.backfill_policy is not None:
            moved.backfill_policy = self.backfill_policy
        return moved

    def _key(self, key: AssetKey) -> AssetKey:
        prefix = self.key_prefix if key in self.loaded else self.source_key_prefix
        return key.with_prefix(prefix) if prefix else key

    def _spec(self, spec: AssetSpec) -> AssetSpec:
        return spec.replace(
            key=self._key(spec.key),
            deps=[_moved_dep(d, self._key) for d in spec.deps],
            group_name=self.group_name or spec.group_name,
            automation_condition=self.automation_condition or spec.automation_condition,
        )


def _rekeyed_assets_def(
    asset: AssetsDefinition,
    new_key: Callable[[AssetKey], AssetKey],
    new_spec: Callable[[AssetSpec], AssetSpec],
) -> AssetsDefinition:
    """A copy of `asset` with its specs rewritten by `new_spec` and every key it refers to
    (inputs, outputs, I/O managers, checks) by `new_key`. The node keeps its name."""
    moved = copy.copy(asset)
    moved.specs = tuple(new_spec(s) for s in asset.specs)
    moved.specs_by_key = {s.key: s for s in moved.specs}
    moved.input_keys = {param: new_key(k) for param, k in asset.input_keys.items()}
    moved.output_names = {new_key(k): name for k, name in asset.output_names.items()}
    moved.io_manager_keys = {new_key(k): io for k, io in asset.io_manager_keys.items()}
    moved.required_outputs = frozenset(new_key(k) for k in asset.required_outputs)
    moved.check_specs = tuple(
        _replaced_check_spec(c, new_key(c.asset_key)) for c in asset.check_specs
    )
    return moved


def _moved_dep(dep: AssetDep, new_key: Callable[[AssetKey], AssetKey]) -> AssetDep:
    return AssetDep(new_key(dep.asset_key), partition_mapping=dep.partition_mapping)


def _replaced_check_spec(
    spec: AssetCheckSpec, asset_key: AssetKey, additional_deps: Iterable[AssetKey] | None = None
) -> AssetCheckSpec:
    return AssetCheckSpec(
        spec.name, asset=asset_key, description=spec.description, blocking=spec.blocking,
        additional_deps=spec.additional_deps if additional_deps is None else additional_deps,
    )  # fmt: skip


def _prefixed_check(
    check: AssetChecksDefinition, prefix: str | Sequence[str]
) -> AssetChecksDefinition:
    spec = _replaced_check_spec(
        check.spec,
        check.asset_key.with_prefix(prefix),
        [k.with_prefix(prefix) for k in check.spec.additional_deps],
    )
    inputs = {param: k.with_prefix(prefix) for param, k in check.input_keys.items()}
    return AssetChecksDefinition(spec, check.fn, check.params, inputs)
