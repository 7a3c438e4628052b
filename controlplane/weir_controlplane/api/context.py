"""Per-request values the interceptors set and the services read.

The interceptors run each call (or each step of a streaming call) inside these context
variables, so a service method asks for `current_scope()` or `current_principal()`
instead of threading them through every signature.
"""

from __future__ import annotations

from contextvars import ContextVar

from weir_controlplane.auth.principal import Principal
from weir_controlplane.storage import DeploymentScope

_request_id: ContextVar[str] = ContextVar("weir_request_id", default="-")
_scope: ContextVar[DeploymentScope | None] = ContextVar("weir_deployment_scope", default=None)
_principal: ContextVar[Principal | None] = ContextVar("weir_principal", default=None)


def current_request_id() -> str:
    """The id of the request being served ("-" outside one), as logged and echoed back."""
    return _request_id.get()


def current_scope() -> DeploymentScope:
    """The deployment the request acts on, chosen by its `x-weir-deployment` header (or,
    for some RPCs, a request field; see auth/permissions.py)."""
    scope = _scope.get()
    if scope is None:
        raise RuntimeError("no deployment scope: the call did not pass the scope interceptor")
    return scope


def current_scope_or_none() -> DeploymentScope | None:
    """The request's deployment, or None for an organization-wide call."""
    return _scope.get()


def current_principal() -> Principal:
    """Who is calling (the anonymous, unrestricted principal when auth is off)."""
    principal = _principal.get()
    if principal is None:
        raise RuntimeError("no principal: the call did not pass the authentication interceptor")
    return principal


request_id_var = _request_id
scope_var = _scope
principal_var = _principal
