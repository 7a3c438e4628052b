"""Per-request values the interceptors set and the services read.

The interceptors run each call (or each step of a streaming call) inside these context
variables, so a service method asks for `current_scope()` instead of threading the
deployment through every signature.
"""

from __future__ import annotations

from contextvars import ContextVar

from weir_controlplane.storage import DeploymentScope

_request_id: ContextVar[str] = ContextVar("weir_request_id", default="-")
_scope: ContextVar[DeploymentScope | None] = ContextVar("weir_deployment_scope", default=None)


def current_request_id() -> str:
    """The id of the request being served ("-" outside one), as logged and echoed back."""
    return _request_id.get()


def current_scope() -> DeploymentScope:
    """The deployment the request acts on, chosen by its `x-weir-deployment` header."""
    scope = _scope.get()
    if scope is None:
        raise RuntimeError("no deployment scope: the call did not pass the scope interceptor")
    return scope


request_id_var = _request_id
scope_var = _scope
