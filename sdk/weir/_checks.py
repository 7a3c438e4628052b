"""Asset checks: @asset_check, AssetCheckSpec and AssetChecksDefinition."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from weir._errors import DefinitionError
from weir._key import AssetKey, CoercibleToAssetKey
from weir._results import AssetCheckKey
from weir._signature import FunctionParams, read_params
from weir._specs import AssetIn, validate_name


@dataclass(frozen=True)
class AssetCheckSpec:
    """A check on an asset. A failing *blocking* check (severity ERROR) stops the asset's
    downstream assets from running."""

    name: str
    asset_key: AssetKey
    description: str | None = None
    blocking: bool = False
    additional_deps: tuple[AssetKey, ...] = ()

    def __init__(
        self,
        name: str,
        *,
        asset: CoercibleToAssetKey | Any,
        description: str | None = None,
        blocking: bool = False,
        additional_deps: Iterable[CoercibleToAssetKey | Any] | None = None,
    ):
        set_ = object.__setattr__
        set_(self, "name", validate_name(name, "Check name"))
        set_(self, "asset_key", AssetKey.from_coercible(asset))
        set_(self, "description", description)
        set_(self, "blocking", blocking)
        set_(
            self,
            "additional_deps",
            tuple(AssetKey.from_coercible(d) for d in additional_deps or ()),
        )

    @property
    def key(self) -> AssetCheckKey:
        return AssetCheckKey(self.asset_key, self.name)


class AssetChecksDefinition:
    """A check function and the check it evaluates; its own step in a run."""

    def __init__(
        self,
        spec: AssetCheckSpec,
        fn: Callable[..., Any],
        params: FunctionParams,
        input_keys: Mapping[str, AssetKey],
    ):
        self.spec = spec
        self.fn = fn
        self.params = params
        self.input_keys = dict(input_keys)
        self.node_name = f"{spec.asset_key.to_python_identifier()}__check__{spec.name}"

    @property
    def check_key(self) -> AssetCheckKey:
        return self.spec.key

    @property
    def check_keys(self) -> set[AssetCheckKey]:
        return {self.spec.key}

    @property
    def asset_key(self) -> AssetKey:
        return self.spec.asset_key

    @property
    def required_resource_keys(self) -> set[str]:
        keys = set(self.params.resource_params.values())
        if self.input_keys:
            keys.add("io_manager")
        return keys

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.params.context_param and not args and "context" not in kwargs:
            from weir._context import build_asset_context

            kwargs["context"] = build_asset_context(asset_key=self.asset_key)
        return self.fn(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<AssetChecksDefinition {self.check_key.to_user_string()}>"


def asset_check(
    *,
    asset: CoercibleToAssetKey | Any,
    name: str | None = None,
    description: str | None = None,
    blocking: bool = False,
    additional_ins: Mapping[str, AssetIn] | None = None,
    additional_deps: Iterable[Any] | None = None,
) -> Callable[[Callable[..., Any]], AssetChecksDefinition]:
    """Declare a check on `asset`. A parameter named like the asset receives its value.

    >>> @asset_check(asset="orders", blocking=True)
    ... def orders_not_empty(orders):
    ...     return AssetCheckResult(passed=len(orders) > 0)
    """
    asset_key = AssetKey.from_coercible(asset)

    def build(fn: Callable[..., Any]) -> AssetChecksDefinition:
        check_name = name or fn.__name__
        where = f"asset check '{check_name}'"
        params = read_params(fn, where)
        extra = dict(additional_ins or {})
        input_keys: dict[str, AssetKey] = {}
        for param in params.input_params:
            if param in extra:
                input_keys[param] = extra[param].resolve_key(param)
            elif param == asset_key.path[-1] or param == asset_key.to_python_identifier():
                input_keys[param] = asset_key
            else:
                raise DefinitionError(
                    f"{where} has a parameter '{param}' that is neither the checked asset "
                    f"'{asset_key.path[-1]}', a resource, nor in additional_ins"
                )
        deps = [*(AssetKey.from_coercible(d) for d in additional_deps or ()), *input_keys.values()]
        spec = AssetCheckSpec(
            check_name,
            asset=asset_key,
            description=description or (fn.__doc__ or "").strip() or None,
            blocking=blocking,
            additional_deps=[d for d in dict.fromkeys(deps) if d != asset_key],
        )
        return AssetChecksDefinition(spec, fn, params, input_keys)

    return build
