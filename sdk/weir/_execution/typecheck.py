"""Checks values against type hints: strict for builtins, so ``-> int`` returning "3" fails.

Plain builtin hints take a fast path; anything else goes through a pydantic TypeAdapter,
built once per hint and imported only when first needed.
"""

from __future__ import annotations

import contextlib
import typing
from typing import Any

from weir._errors import TypeCheckError

_FAST = {int, str, bytes, bool, float, list, dict, tuple, set, frozenset}
_adapters: dict[Any, Any] = {}
_SKIP = object()


def _exact_type_ok(hint: type, value: Any) -> bool:
    if hint is float:  # strict pydantic accepts ints for float, and so do we
        return type(value) in (float, int)
    if hint is int:
        return type(value) is int  # bool is not an int here
    return isinstance(value, hint)


def _adapter(hint: Any) -> Any:
    try:
        adapter = _adapters.get(hint)
    except TypeError:  # unhashable hint
        adapter = None
    if adapter is None:
        from pydantic import TypeAdapter

        try:
            adapter = TypeAdapter(hint)
        except Exception:
            try:  # user classes inside generics, e.g. list[MyRecord]
                adapter = TypeAdapter(hint, config={"arbitrary_types_allowed": True})
            except Exception:
                adapter = _SKIP  # a hint pydantic cannot check is documentation only
        with contextlib.suppress(TypeError):
            _adapters[hint] = adapter
    return adapter


def unwrap_output_hint(hint: Any) -> Any:
    """`Output[T]` checks as T; `MaterializeResult`, generators and None check nothing."""
    if hint is None:  # unannotated: before the import, which costs more than the rest
        return None
    from weir._results import MaterializeResult, Output

    if hint is Any or hint is type(None) or hint is MaterializeResult:
        return None
    origin = typing.get_origin(hint)
    if origin is Output:
        (inner,) = typing.get_args(hint) or (None,)
        return inner
    if hint is Output:
        return None
    if origin is not None and getattr(origin, "__module__", "") == "collections.abc":
        name = origin.__name__
        if name in ("Iterator", "Generator", "Iterable"):
            return None
    return hint


def check_value(hint: Any, value: Any, *, what: str) -> None:
    """Raise TypeCheckError naming `what`, the hint and the value's type on a mismatch."""
    if hint is None:
        return
    if hint in _FAST:
        if _exact_type_ok(hint, value):
            return
    else:
        adapter = _adapter(hint)
        if adapter is _SKIP:
            return
        try:
            adapter.validate_python(value, strict=True)
            if json_schema_for(hint) is not None and isinstance(value, hint):
                # Instances are not revalidated by default; one built with model_construct
                # or mutated after construction must still fit its fields.
                hint.model_validate(value.model_dump())
            return
        except Exception as exc:
            detail = str(exc).splitlines()
            reason = f" ({'; '.join(line.strip() for line in detail[1:3])})" if detail else ""
            raise TypeCheckError(
                f"{what} is annotated {_hint_name(hint)} but got a value of type "
                f"{type(value).__name__}{reason}"
            ) from None
    raise TypeCheckError(
        f"{what} is annotated {_hint_name(hint)} but got a value of type {type(value).__name__}"
    )


def _hint_name(hint: Any) -> str:
    return hint.__name__ if isinstance(hint, type) else repr(hint).replace("typing.", "")


def json_schema_for(hint: Any) -> dict[str, Any] | None:
    """The JSON schema of a pydantic model hint, recorded as materialization metadata."""
    model_json_schema = getattr(hint, "model_json_schema", None)
    if isinstance(hint, type) and callable(model_json_schema):
        return model_json_schema()
    return None
