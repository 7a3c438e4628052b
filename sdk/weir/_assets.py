"""@asset, @multi_asset and AssetsDefinition: assets and the function that computes them."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, overload

from weir._asset_views import AssetKeys, AssetsDefinitionViews
from weir._automation.validation import check_backfill_policy
from weir._checks import AssetCheckSpec
from weir._errors import DefinitionError, InvocationError
from weir._key import AssetKey, CoercibleToAssetKey
from weir._one_key import OneKeyMapping, OneKeySet, compact_mapping, compact_set
from weir._retries import RetryPolicy
from weir._signature import FunctionParams, check_ins_match, read_params
from weir._small_mapping import small_mapping
from weir._specs import AssetDep, AssetIn, AssetOut, AssetSpec, validate_name

if TYPE_CHECKING:
    from weir._partitions import PartitionsDefinition

DEFAULT_IO_MANAGER_KEY = "io_manager"
_EMPTY: Mapping[Any, Any] = MappingProxyType({})  # shared by the many definitions with none


class AssetsDefinition(AssetsDefinitionViews):
    """One computation (a node of the execution plan) and the assets it produces.

    Made by `@asset` or `@multi_asset`; an `AssetSpec` passed to `Definitions` becomes an
    external one with no function. `specs` describes what it produces.
    """

    # Slots, not a __dict__: a code server keeps one per asset, in the pages its zygote
    # maps too (0.6 MB of each at 10,000 assets).
    __slots__ = (
        "_required_outputs", "_specs_by_key", "backfill_policy", "can_subset", "check_specs",
        "fn", "input_keys", "input_metadata", "io_manager_keys", "node_name", "op_tags",
        "output_names", "params", "pool", "resource_defs", "retry_policy", "specs",
    )  # fmt: skip

    def __init__(
        self,
        *,
        node_name: str,
        specs: Sequence[AssetSpec],
        fn: Callable[..., Any] | None = None,
        params: FunctionParams | None = None,
        input_keys: Mapping[str, AssetKey] | None = None,
        input_metadata: Mapping[str, Mapping[str, Any]] | None = None,
        output_names: Mapping[AssetKey, str] | None = None,
        io_manager_keys: Mapping[AssetKey, str] | None = None,
        check_specs: Sequence[AssetCheckSpec] = (),
        required_outputs: frozenset[AssetKey] | None = None,
        can_subset: bool = False,
        retry_policy: RetryPolicy | None = None,
        op_tags: Mapping[str, str] | None = None,
        backfill_policy: Any = None,
        pool: str | None = None,
    ):
        self.node_name = node_name
        self.specs = tuple(specs)
        self.fn = fn
        self.params = params or FunctionParams()
        self.input_keys = small_mapping(input_keys or {})
        self.input_metadata = dict(input_metadata) if input_metadata else _EMPTY
        # The per-key mappings of a single-asset definition hold their one entry compactly.
        self.output_names = compact_mapping(output_names or {s.key: "result" for s in self.specs})
        self.io_manager_keys = dict(io_manager_keys) if io_manager_keys else _EMPTY
        self.check_specs = tuple(check_specs)
        # A single asset's own key set and spec mapping are made when read, not kept: 90
        # bytes an asset, in the code server and in the pages of its zygote.
        self._required_outputs: AbstractSet[AssetKey] | None = None
        if required_outputs is not None or len(self.specs) != 1 or self.specs[0].skippable:
            self._required_outputs = compact_set(
                required_outputs
                if required_outputs is not None
                else (s.key for s in self.specs if not s.skippable)
            )
        self.can_subset = can_subset
        self.retry_policy = retry_policy
        self.op_tags = dict(op_tags) if op_tags else _EMPTY
        self.backfill_policy = check_backfill_policy(backfill_policy, f"'{node_name}'")
        self.pool = pool
        self._specs_by_key: Mapping[AssetKey, AssetSpec] | None = None
        if len(self.specs) != 1:
            self._specs_by_key = {s.key: s for s in self.specs}
        # Resources bound to these assets by `with_resources`, joining those of Definitions.
        self.resource_defs: Mapping[str, Any] = _EMPTY
        partitions = {id(s.partitions_def): s.partitions_def for s in self.specs}
        if len(partitions) > 1:
            raise DefinitionError(
                f"All assets of '{node_name}' must share one partitions definition"
            )

    @property
    def required_outputs(self) -> AbstractSet[AssetKey]:
        """The keys a run of this definition must produce (not the skippable ones)."""
        if self._required_outputs is None:
            return OneKeySet(self.specs[0].key)
        return self._required_outputs

    @required_outputs.setter
    def required_outputs(self, keys: AbstractSet[AssetKey]) -> None:
        self._required_outputs = keys

    @property
    def specs_by_key(self) -> Mapping[AssetKey, AssetSpec]:
        if self._specs_by_key is None:
            spec = self.specs[0]
            return OneKeyMapping(spec.key, spec)
        return self._specs_by_key

    @specs_by_key.setter
    def specs_by_key(self, specs: Mapping[AssetKey, AssetSpec]) -> None:
        self._specs_by_key = specs

    @property
    def is_executable(self) -> bool:
        return self.fn is not None

    @property
    def keys(self) -> AssetKeys:
        return AssetKeys(s.key for s in self.specs)

    @property
    def key(self) -> AssetKey:
        if len(self.specs) != 1:
            raise DefinitionError(
                f"'{self.node_name}' produces {len(self.specs)} assets; use .keys instead of .key"
            )
        return self.specs[0].key

    @property
    def partitions_def(self) -> PartitionsDefinition | None:
        return self.specs[0].partitions_def if self.specs else None

    @property
    def output_names_by_key(self) -> Mapping[AssetKey, str]:
        return self.output_names

    @property
    def keys_by_output_name(self) -> dict[str, AssetKey]:
        return {name: key for key, name in self.output_names.items()}

    @property
    def dependency_keys(self) -> set[AssetKey]:
        return {d for s in self.specs for d in s.dep_keys}

    @property
    def required_resource_keys(self) -> set[str]:
        keys = set(self.params.resource_params.values())
        if self.is_executable:
            io_manager_keys = self.io_manager_keys
            if io_manager_keys:
                keys.update(io_manager_keys.get(s.key, DEFAULT_IO_MANAGER_KEY) for s in self.specs)
            elif self.specs:  # most assets: a snapshot of 10,000 asks 10,000 times
                keys.add(DEFAULT_IO_MANAGER_KEY)
        return keys

    def io_manager_key_for(self, key: AssetKey) -> str:
        return self.io_manager_keys.get(key, DEFAULT_IO_MANAGER_KEY)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Call the function directly, as in a unit test: ``assert my_asset(upstream) == 3``."""
        if self.fn is None:
            raise DefinitionError(f"'{self.node_name}' is an external asset with no function")
        if self.params.context_param and not args and "context" not in kwargs:
            from weir._context import build_asset_context

            kwargs["context"] = build_asset_context(
                asset_key=self.keys[0] if len(self.specs) == 1 else None
            )
        try:
            inspect.signature(self.fn).bind(*args, **kwargs)
        except TypeError as exc:  # said in terms of the asset, not of a Python call
            raise InvocationError(f"Asset '{self.node_name}' called directly: {exc}") from None
        return self.fn(*args, **kwargs)

    def __repr__(self) -> str:
        keys = ", ".join(k.to_user_string() for k in self.keys)
        return f"<AssetsDefinition {self.node_name}: {keys}>"

    @staticmethod
    def external(spec: AssetSpec) -> AssetsDefinition:
        io_manager_key = spec.io_manager_key
        return AssetsDefinition(
            node_name=spec.key.to_python_identifier(),
            specs=[spec],
            io_manager_keys={spec.key: io_manager_key} if io_manager_key else None,
        )


def _asset_key(
    name: str | None, key: CoercibleToAssetKey | None, key_prefix: Any, fn_name: str
) -> AssetKey:
    if key is not None:
        if name is not None or key_prefix is not None:
            raise DefinitionError(f"@asset {fn_name}: pass key, or name/key_prefix, not both")
        return AssetKey.from_coercible(key)
    base = AssetKey(validate_name(name or fn_name, "Asset name"))  # no '/': one part
    return base.with_prefix(key_prefix) if key_prefix else base


def _input_deps(
    params: FunctionParams, ins: Mapping[str, AssetIn], where: str
) -> tuple[dict[str, AssetKey], dict[str, Any], list[AssetDep]]:
    check_ins_match(ins, params, where)
    keys: dict[str, AssetKey] = {}
    metadata: dict[str, Any] = {}
    deps: list[AssetDep] = []
    for param in params.input_params:
        asset_in = ins.get(param)
        if asset_in is None:
            key = AssetKey(param)  # a parameter name holds no '/': one part, cached
            deps.append(AssetDep(key))
        else:
            key = asset_in.key if asset_in.key is not None else asset_in.resolve_key(param)
            if asset_in.metadata:
                metadata[param] = dict(asset_in.metadata)
            deps.append(AssetDep(key, partition_mapping=asset_in.partition_mapping))
        keys[param] = key
    return keys, metadata, deps


def _merge_deps(*groups: Iterable[AssetDep]) -> tuple[AssetDep, ...]:
    merged: dict[AssetKey, AssetDep] = {}
    for group in groups:
        for dep in group:
            if dep.asset_key not in merged or dep.partition_mapping is not None:
                merged[dep.asset_key] = dep
    return tuple(merged.values())


@overload
def asset(fn: Callable[..., Any], /) -> AssetsDefinition: ...
@overload
def asset(
    *,
    name: str | None = ...,
    key: CoercibleToAssetKey | None = ...,
    key_prefix: str | Sequence[str] | None = ...,
    ins: Mapping[str, AssetIn] | None = ...,
    deps: Iterable[Any] | None = ...,
    group_name: str | None = ...,
    description: str | None = ...,
    metadata: Mapping[str, Any] | None = ...,
    tags: Mapping[str, str] | None = ...,
    owners: Sequence[str] | None = ...,
    kinds: Iterable[str] | None = ...,
    code_version: str | None = ...,
    io_manager_key: str | None = ...,
    partitions_def: PartitionsDefinition | None = ...,
    automation_condition: Any = ...,
    freshness_policy: Any = ...,
    check_specs: Sequence[AssetCheckSpec] | None = ...,
    retry_policy: RetryPolicy | None = ...,
    backfill_policy: Any = ...,
    op_tags: Mapping[str, str] | None = ...,
    pool: str | None = ...,
) -> Callable[[Callable[..., Any]], AssetsDefinition]: ...
def asset(
    fn: Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    key: CoercibleToAssetKey | None = None,
    key_prefix: str | Sequence[str] | None = None,
    ins: Mapping[str, AssetIn] | None = None,
    deps: Iterable[Any] | None = None,
    group_name: str | None = None,
    description: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    tags: Mapping[str, str] | None = None,
    owners: Sequence[str] | None = None,
    kinds: Iterable[str] | None = None,
    code_version: str | None = None,
    io_manager_key: str | None = None,
    partitions_def: PartitionsDefinition | None = None,
    automation_condition: Any = None,
    freshness_policy: Any = None,
    check_specs: Sequence[AssetCheckSpec] | None = None,
    retry_policy: RetryPolicy | None = None,
    backfill_policy: Any = None,
    op_tags: Mapping[str, str] | None = None,
    pool: str | None = None,
) -> Any:
    """Declare an asset computed by the decorated function.

    Upstream assets come from parameter names (``def orders_by_day(orders): ...``), from
    `ins`, or, when no value is passed, from ``deps=[...]``.

    >>> @asset
    ... def numbers() -> list[int]:
    ...     return [1, 2, 3]
    >>> @asset(group_name="stats")
    ... def total(numbers: list[int]) -> int:
    ...     return sum(numbers)
    """

    def build(func: Callable[..., Any]) -> AssetsDefinition:
        asset_key = _asset_key(name, key, key_prefix, func.__name__)
        where = f"asset '{asset_key.to_user_string()}'"
        params = read_params(func, where)
        input_keys, input_metadata, input_deps = _input_deps(params, ins or {}, where)
        spec = AssetSpec(
            asset_key,
            deps=_merge_deps(input_deps, (AssetDep.coerce(d) for d in deps or ())),
            description=description or _docstring(func),
            metadata=metadata,
            group_name=group_name,
            code_version=code_version,
            automation_condition=automation_condition,
            freshness_policy=freshness_policy,
            owners=owners,
            tags=tags,
            kinds=kinds,
            partitions_def=partitions_def,
        )
        if any(dep.asset_key == asset_key for dep in spec.deps):
            raise DefinitionError(f"{where} depends on itself")
        checks = _own_checks(check_specs, [asset_key], where)
        return AssetsDefinition(
            node_name=asset_key.to_python_identifier(),
            specs=[spec],
            fn=func,
            params=params,
            input_keys=input_keys,
            input_metadata=input_metadata,
            io_manager_keys={asset_key: io_manager_key} if io_manager_key else None,
            check_specs=checks,
            retry_policy=retry_policy,
            backfill_policy=backfill_policy,
            op_tags=op_tags,
            pool=pool,
        )

    return build(fn) if fn is not None else build


def _docstring(fn: Callable[..., Any]) -> str | None:
    doc = fn.__doc__
    return inspect.cleandoc(doc) or None if doc else None


def _own_checks(
    check_specs: Sequence[AssetCheckSpec] | None, keys: Sequence[AssetKey], where: str
) -> tuple[AssetCheckSpec, ...]:
    checks = tuple(check_specs or ())
    for spec in checks:
        if spec.asset_key not in keys:
            raise DefinitionError(
                f"{where} declares check '{spec.name}' on '{spec.asset_key.to_user_string()}', "
                "which it does not produce"
            )
    return checks


def multi_asset(
    *,
    outs: Mapping[str, AssetOut] | None = None,
    specs: Sequence[AssetSpec] | None = None,
    name: str | None = None,
    ins: Mapping[str, AssetIn] | None = None,
    deps: Iterable[Any] | None = None,
    group_name: str | None = None,
    description: str | None = None,
    partitions_def: PartitionsDefinition | None = None,
    can_subset: bool = False,
    internal_asset_deps: Mapping[str, Iterable[CoercibleToAssetKey]] | None = None,
    check_specs: Sequence[AssetCheckSpec] | None = None,
    retry_policy: RetryPolicy | None = None,
    backfill_policy: Any = None,
    op_tags: Mapping[str, str] | None = None,
    pool: str | None = None,
) -> Callable[[Callable[..., Any]], AssetsDefinition]:
    """Declare several assets computed by one function.

    The function returns one value per entry of `outs`, in order (a tuple), or yields
    ``Output(value, output_name=...)`` / ``MaterializeResult(asset_key=...)`` per asset.
    `internal_asset_deps` narrows, per output name, which of the upstream assets (or
    sibling outputs) each asset depends on. With `can_subset`, a run may select some of
    the assets: the function reads ``context.selected_output_names`` and yields only those.

    >>> @multi_asset(outs={"users": AssetOut(), "orders": AssetOut()})
    ... def load():
    ...     return [1], [2]
    """
    if bool(outs) == bool(specs):
        raise DefinitionError("@multi_asset takes exactly one of outs= or specs=")
    if internal_asset_deps is not None and specs:
        raise DefinitionError(
            "@multi_asset(specs=...) takes each asset's deps from its AssetSpec(deps=...); "
            "internal_asset_deps= is for outs="
        )

    def build(func: Callable[..., Any]) -> AssetsDefinition:
        node_name = validate_name(name or func.__name__, "Multi-asset name")
        where = f"multi_asset '{node_name}'"
        params = read_params(func, where)
        input_keys, input_metadata, input_deps = _input_deps(params, ins or {}, where)
        shared_deps = _merge_deps(input_deps, (AssetDep.coerce(d) for d in deps or ()))
        built: list[AssetSpec] = []
        output_names: dict[AssetKey, str] = {}
        io_keys: dict[AssetKey, str] = {}
        if outs:
            keys_by_name = {
                n: o.key or AssetKey((*(o.key_prefix or ()), n)) for n, o in outs.items()
            }
            deps_by_name = _internal_deps(internal_asset_deps, shared_deps, keys_by_name, where)
            for out_name, out in outs.items():
                validate_name(out_name, f"Output name of {where}")
                key = keys_by_name[out_name]
                built.append(
                    AssetSpec(
                        key,
                        deps=deps_by_name.get(out_name, shared_deps),
                        description=out.description or description,
                        metadata=out.metadata,
                        skippable=not out.is_required,
                        group_name=out.group_name or group_name,
                        code_version=out.code_version,
                        automation_condition=out.automation_condition,
                        freshness_policy=out.freshness_policy,
                        owners=out.owners,
                        tags=out.tags,
                        kinds=out.kinds,
                        partitions_def=partitions_def,
                    )
                )
                output_names[key] = out_name
                if out.io_manager_key:
                    io_keys[key] = out.io_manager_key
        else:
            for spec in specs or ():
                built.append(
                    spec.replace(
                        deps=_merge_deps(shared_deps, spec.deps),
                        group_name=spec.group_name or group_name,
                        partitions_def=spec.partitions_def or partitions_def,
                    )
                )
                output_names[spec.key] = spec.key.to_python_identifier()
                if spec.io_manager_key:
                    io_keys[spec.key] = spec.io_manager_key
        keys = [s.key for s in built]
        if len(set(keys)) != len(keys):
            raise DefinitionError(f"{where} produces the same asset key twice")
        own_keys = set(keys)
        for s in built:
            # An AssetSpec may depend on a sibling (dbt models built by one `dbt build`): the
            # function orders them itself. Only shared deps and self-dependencies are errors.
            if s.key in s.dep_keys or {d.asset_key for d in shared_deps} & own_keys:
                raise DefinitionError(
                    f"{where}: asset '{s.key.to_user_string()}' depends on an asset the same "
                    "function produces"
                )
        return AssetsDefinition(
            node_name=node_name,
            specs=built,
            fn=func,
            params=params,
            input_keys=input_keys,
            input_metadata=input_metadata,
            output_names=output_names,
            io_manager_keys=io_keys,
            check_specs=_own_checks(check_specs, keys, where),
            can_subset=can_subset,
            retry_policy=retry_policy,
            backfill_policy=backfill_policy,
            op_tags=op_tags,
            pool=pool,
        )

    return build


def _internal_deps(
    internal_asset_deps: Mapping[str, Iterable[CoercibleToAssetKey]] | None,
    shared_deps: tuple[AssetDep, ...],
    keys_by_name: Mapping[str, AssetKey],
    where: str,
) -> dict[str, tuple[AssetDep, ...]]:
    """Each listed output's deps: the shared deps it names (keeping their partition
    mappings) and the sibling outputs it names."""
    if internal_asset_deps is None:
        return {}
    unknown = sorted(set(internal_asset_deps) - set(keys_by_name))
    if unknown:
        raise DefinitionError(
            f"{where}: internal_asset_deps names outputs {unknown}; its outputs are "
            f"{sorted(keys_by_name)}"
        )
    shared = {d.asset_key: d for d in shared_deps}
    siblings = set(keys_by_name.values())
    deps_by_name: dict[str, tuple[AssetDep, ...]] = {}
    for out_name, listed in internal_asset_deps.items():
        deps: list[AssetDep] = []
        for coercible in listed:
            key = AssetKey.from_coercible(coercible)
            if key == keys_by_name[out_name]:
                raise DefinitionError(f"{where}: output '{out_name}' depends on itself")
            if key not in shared and key not in siblings:
                raise DefinitionError(
                    f"{where}: internal_asset_deps['{out_name}'] names "
                    f"'{key.to_user_string()}', which is neither an input or dep of the "
                    "multi-asset nor one of its outputs; add it to ins= or deps="
                )
            deps.append(shared.get(key, AssetDep(key)))
        deps_by_name[out_name] = tuple(deps)
    return deps_by_name
