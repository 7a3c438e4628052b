"""@op, In and Out: one computation of an op graph, with named inputs and outputs."""

from __future__ import annotations

import copy
import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, overload

from weir._errors import DefinitionError
from weir._execution.typecheck import unwrap_output_hint
from weir._retries import RetryPolicy
from weir._signature import FunctionParams, check_ins_match, read_params
from weir._specs import validate_name

DEFAULT_OUTPUT = "result"


class Nothing:
    """The type of an input that carries no value, only order: an op with
    ``ins={"after": In(Nothing)}`` runs after what is wired to `after` (one output or a
    list) and takes no parameter for it."""

    def __init__(self) -> None:
        raise TypeError("Nothing is a marker for In(Nothing); it has no values")


class _NoDefault:
    def __repr__(self) -> str:
        return "NO_DEFAULT"


NO_DEFAULT: Any = _NoDefault()


@dataclass(frozen=True)
class In:
    """An op input: ``@op(ins={"rows": In(list, description="raw rows")})``.

    `dagster_type` (a Python type) is checked against the value, as a type hint would be;
    `In(Nothing)` orders ops without passing a value. `default_value` is used when a job
    leaves the input unwired (as is a default on the function's parameter).
    """

    dagster_type: Any = None
    description: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    default_value: Any = NO_DEFAULT

    @property
    def is_nothing(self) -> bool:
        return self.dagster_type is Nothing


@dataclass(frozen=True)
class Out:
    """An op output: ``@op(out={"evens": Out(list), "odds": Out(list)})``."""

    dagster_type: Any = None
    description: str | None = None
    is_required: bool = True
    io_manager_key: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)


class OpDefinition:
    """A function and its wiring: inputs from parameters, outputs from `out`.

    Call it inside a @graph or @job body to wire it; call it outside one to run the function
    directly, as in a unit test.
    """

    def __init__(
        self,
        *,
        name: str,
        fn: Callable[..., Any],
        params: FunctionParams,
        ins: Mapping[str, In],
        outs: Mapping[str, Out],
        required_resource_keys: frozenset[str],
        description: str | None,
        tags: Mapping[str, str],
        retry_policy: RetryPolicy | None = None,
    ):
        self.name = name
        self.fn = fn
        self.params = params
        self.ins = dict(ins)
        self.outs = dict(outs)
        self.required_resource_keys = required_resource_keys | frozenset(
            params.resource_params.values()
        )
        self.description = description
        self.tags = dict(tags)
        self.retry_policy = retry_policy
        self.nothing_inputs = [name for name, declared in self.ins.items() if declared.is_nothing]
        self.input_defaults = _input_defaults(fn, self.ins, params)

    @property
    def input_names(self) -> list[str]:
        """Value inputs (the function's parameters), then Nothing inputs."""
        return [*self.params.input_params, *self.nothing_inputs]

    def input_hint(self, name: str) -> Any:
        declared = self.ins.get(name)
        if declared is not None and declared.dagster_type is not None:
            return declared.dagster_type
        return self.params.input_params.get(name)

    def output_hint(self, name: str) -> Any:
        declared = self.outs[name].dagster_type
        if declared is Nothing:
            return None  # an output that only orders what runs after it
        if declared is not None:
            return declared
        if len(self.outs) == 1:
            return unwrap_output_hint(self.params.return_hint)
        return None  # a tuple annotation describes all outputs together

    def with_retry_policy(self, retry_policy: RetryPolicy) -> OpDefinition:
        """This op retried by `retry_policy` where it is wired with the returned copy:
        ``fetch.with_retry_policy(RetryPolicy(max_retries=3))()`` in a job body."""
        if not isinstance(retry_policy, RetryPolicy):
            raise DefinitionError(f"with_retry_policy takes a RetryPolicy, got {retry_policy!r}")
        retried = copy.copy(self)
        retried.retry_policy = retry_policy
        return retried

    def alias(self, name: str) -> Any:
        """This op under another node name, for using it twice in one graph."""
        from weir._ops.compose import PendingInvocation

        return PendingInvocation(self, validate_name(name, "Op alias"))

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from weir._ops.compose import current_composition, invoke

        if current_composition() is not None:
            return invoke(self, self.name, args, kwargs)
        return self.fn(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<OpDefinition {self.name}>"


def _input_defaults(
    fn: Callable[..., Any], ins: Mapping[str, In], params: FunctionParams
) -> dict[str, Any]:
    """Values for inputs a job may leave unwired: `In(default_value=)`, else the
    parameter's own default."""
    defaults = {
        name: p.default
        for name, p in inspect.signature(fn).parameters.items()
        if name in params.input_params and p.default is not p.empty
    }
    for name, declared in ins.items():
        if declared.default_value is not NO_DEFAULT:
            defaults[name] = declared.default_value
    return defaults


def _outs(out: Out | Mapping[str, Out] | None, where: str) -> dict[str, Out]:
    if out is None:
        return {DEFAULT_OUTPUT: Out()}
    if isinstance(out, Out):
        return {DEFAULT_OUTPUT: out}
    if not isinstance(out, Mapping) or not out:
        raise DefinitionError(f"{where}: out= takes an Out or a dict of name -> Out")
    for name, value in out.items():
        validate_name(name, f"Output name of {where}")
        if not isinstance(value, Out):
            raise DefinitionError(f"{where}: out[{name!r}] must be an Out, got {value!r}")
    return dict(out)


@overload
def op(fn: Callable[..., Any], /) -> OpDefinition: ...
@overload
def op(
    *,
    name: str | None = ...,
    ins: Mapping[str, In] | None = ...,
    out: Out | Mapping[str, Out] | None = ...,
    required_resource_keys: Sequence[str] | None = ...,
    description: str | None = ...,
    tags: Mapping[str, str] | None = ...,
    retry_policy: RetryPolicy | None = ...,
) -> Callable[[Callable[..., Any]], OpDefinition]: ...
def op(
    fn: Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    ins: Mapping[str, In] | None = None,
    out: Out | Mapping[str, Out] | None = None,
    required_resource_keys: Sequence[str] | None = None,
    description: str | None = None,
    tags: Mapping[str, str] | None = None,
    retry_policy: RetryPolicy | None = None,
) -> Any:
    """Declare an op: a step of an op graph, wired to others in a @graph or @job body.

    Parameters are, as for assets, the context, a Config, resources, and inputs. Several
    outputs are returned as a tuple in the order of `out`, or yielded as ``Output(v, name)``.

    >>> @op(out={"evens": Out(), "odds": Out()})
    ... def split(numbers: list[int]):
    ...     return [n for n in numbers if n % 2 == 0], [n for n in numbers if n % 2]
    """

    def build(func: Callable[..., Any]) -> OpDefinition:
        op_name = validate_name(name or func.__name__, "Op name")
        where = f"op '{op_name}'"
        params = read_params(func, where)
        nothing = {name for name, declared in (ins or {}).items() if declared.is_nothing}
        clash = sorted(nothing & set(params.input_params))
        if clash:
            raise DefinitionError(
                f"{where}: In(Nothing) inputs {clash} carry no value, so the function takes no "
                "parameter for them; remove the parameter or give the input a type"
            )
        check_ins_match({k: v for k, v in (ins or {}).items() if k not in nothing}, params, where)
        doc = inspect.cleandoc(func.__doc__) if func.__doc__ else None
        return OpDefinition(
            name=op_name,
            fn=func,
            params=params,
            ins=ins or {},
            outs=_outs(out, where),
            required_resource_keys=frozenset(required_resource_keys or ()),
            description=description or doc,
            tags=tags or {},
            retry_policy=retry_policy,
        )

    return build(fn) if fn is not None else build
