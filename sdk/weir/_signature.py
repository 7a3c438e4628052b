"""Reads an asset or check function's parameters once, at decoration time.

Each parameter is one of: the context (first, named ``context`` or annotated with
AssetExecutionContext), a Config model, a resource (annotated with a ConfigurableResource or
IOManager class, or ResourceParam[T]; the parameter name is the resource key), or an
upstream asset.
"""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from weir._context import AssetExecutionContext
from weir._errors import DefinitionError
from weir._resources import RESOURCE_PARAM_MARKER

_NO_RESOURCES: Mapping[str, str] = MappingProxyType({})


# Slots, and no dict of its own for the resource parameters most functions lack: a code
# server keeps one per asset, in the pages its zygote maps too (1 MB at 10,000 assets).
# resource_params maps each resource parameter to its resource key.
@dataclass(slots=True)
class FunctionParams:
    context_param: str | None = None
    config_param: str | None = None
    config_type: type | None = None  # a weir.Config subclass
    resource_params: Mapping[str, str] = field(default_factory=lambda: _NO_RESOURCES)
    input_params: dict[str, Any] = field(default_factory=dict)  # param -> type hint (or None)
    return_hint: Any = None
    is_generator: bool = False

    def __hash__(self) -> int:
        # For sharing equal ones (`_shared`), which nothing changes once read. Raises
        # TypeError for an unhashable hint.
        return hash((
            self.context_param, self.config_param, self.config_type,
            tuple(self.resource_params.items()), tuple(self.input_params.items()),
            self.return_hint, self.is_generator,
        ))  # fmt: skip


# One FunctionParams for functions whose parameters read the same: generated graphs define
# thousands of assets from one function body. Shared, they keep one object and one
# input_params dict, not one each (2.7 MB of a 10,000-asset location's code server, in the
# pages its zygote maps too). Bounded, so that a location of distinct functions pays at
# most a few hundred KB of table for nothing.
_SHARED: dict[FunctionParams, FunctionParams] = {}
_MAX_SHARED = 10_000


def _shared(params: FunctionParams) -> FunctionParams:
    try:
        known = _SHARED.get(params)
    except TypeError:  # an unhashable hint: this one kept as it is
        return params
    if known is not None:
        return known
    if len(_SHARED) < _MAX_SHARED:
        _SHARED[params] = params
    return params


def _type_hints(fn: Callable[..., Any]) -> dict[str, Any]:
    annotations = getattr(fn, "__annotations__", None)
    if not annotations:
        if annotations is not None and isinstance(fn, types.FunctionType):
            # Reading it gave an unannotated function an empty dict, kept for good: 64
            # bytes an asset, in the code server and in the pages of its zygote. Deleting
            # it leaves the function as it was.
            del fn.__annotations__
        return {}
    try:
        # With extras, to see ResourceParam[...]; other Annotated hints are unwrapped below.
        return typing.get_type_hints(fn, include_extras=True)
    except Exception:
        # An unresolvable forward reference: keep what resolves, skip checks on the rest.
        return {k: v for k, v in annotations.items() if not isinstance(v, str)}


def _is_subclass(hint: Any, base: type) -> bool:
    return isinstance(hint, type) and issubclass(hint, base)


def _param_kind(hint: Any) -> str | None:
    """'config' or 'resource' for Config / resource / IOManager classes, read off a class
    attribute so that classifying parameters never imports pydantic."""
    return getattr(hint, "__weir_param_kind__", None) if isinstance(hint, type) else None


def _is_generator_function(fn: Callable[..., Any]) -> bool:
    code = getattr(fn, "__code__", None)
    if code is None:
        return inspect.isgeneratorfunction(fn)
    return bool(code.co_flags & inspect.CO_GENERATOR)


def _parameter_names(fn: Callable[..., Any]) -> list[str]:
    """Named parameters, skipping *args/**kwargs. Reads the code object of plain functions
    directly: inspect.signature costs ~25 µs, which adds up over thousands of assets."""
    code = getattr(fn, "__code__", None)
    if code is None or not inspect.isfunction(fn):
        params = inspect.signature(fn).parameters.values()
        return [p.name for p in params if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    count = code.co_argcount + code.co_kwonlyargcount
    return list(code.co_varnames[:count])


def _unannotated(hint: Any) -> tuple[Any, tuple[Any, ...]]:
    """``Annotated[T, x, ...]`` as ``(T, (x, ...))``; any other hint as ``(hint, ())``."""
    if hint is not None and typing.get_origin(hint) is typing.Annotated:
        return typing.get_args(hint)[0], hint.__metadata__
    return hint, ()


def read_params(fn: Callable[..., Any], where: str) -> FunctionParams:
    hints = _type_hints(fn)
    out = FunctionParams(
        return_hint=_unannotated(hints.get("return"))[0],
        is_generator=_is_generator_function(fn),
    )
    resources: dict[str, str] = {}
    for i, name in enumerate(_parameter_names(fn)):
        if name not in hints and (i != 0 or name != "context"):
            # Unannotated and not the context: an upstream asset. Most parameters of
            # generated graphs are, and the checks below cost microseconds each.
            out.input_params[name] = None
            continue
        hint, extras = _unannotated(hints.get(name))
        if RESOURCE_PARAM_MARKER in extras:
            resources[name] = name
        elif (i == 0 and name == "context") or _is_subclass(hint, AssetExecutionContext):
            if i != 0:
                raise DefinitionError(f"The context parameter of {where} must come first")
            out.context_param = name
        elif _param_kind(hint) == "config":
            if out.config_param:
                raise DefinitionError(f"{where} takes two Config parameters; merge them into one")
            out.config_param, out.config_type = name, hint
        elif _param_kind(hint) == "resource":
            resources[name] = name
        else:
            out.input_params[name] = hint
    if resources:
        out.resource_params = resources
    return _shared(out)


def check_ins_match(ins: Mapping[str, Any], params: FunctionParams, where: str) -> None:
    inputs = params.input_params
    if all(name in inputs for name in ins):
        return
    unknown = sorted(set(ins) - set(inputs))
    if unknown:
        raise DefinitionError(
            f"{where} has ins={unknown} but no parameters with those names; "
            f"its inputs are {sorted(params.input_params)}"
        )
