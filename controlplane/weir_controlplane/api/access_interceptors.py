"""The access interceptors: who is calling, in which deployment, and may it.

In the chain (see `standard_chain`), outermost first:

- `AuthenticationInterceptor`: resolves the bearer token to a principal, or the
  anonymous unrestricted principal when auth is off; `current_principal()`.
- `DeploymentScopeInterceptor`: resolves the deployment the call acts on (the
  `x-weir-deployment` header, default "prod", or the request field the RPC's permission
  row names) within the principal's organization; `current_scope()`. A deployment the
  caller holds no role in is PERMISSION_DENIED whether or not it exists, so names do
  not leak.
- `AuditInterceptor`: appends every mutation, allowed or denied, to the audit log.
- `AuthorizationInterceptor`: enforces the RPC's row of auth/permissions.py; a method
  with no row is refused.

Services then check single objects (a run's code location) and filter lists through
the same policy function (auth/policy.py).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import grpc
from google.protobuf.message import Message

from weir_controlplane.api.context import (
    current_principal,
    current_request_id,
    current_scope_or_none,
    principal_var,
    scope_var,
)
from weir_controlplane.api.error_mapping import known_api_error
from weir_controlplane.api.interceptors import (
    ErrorMappingInterceptor,
    MalformedRequestInterceptor,
    RequestIdInterceptor,
    metadata_value,
    wrap_handler,
)
from weir_controlplane.auth import policy
from weir_controlplane.auth.authenticator import Authenticator
from weir_controlplane.auth.permissions import Rule, rule_for
from weir_controlplane.auth.principal import Principal, anonymous
from weir_controlplane.auth.roles import Permission
from weir_controlplane.errors import PermissionDeniedError, grpc_status_name
from weir_controlplane.storage import (
    DEFAULT_DEPLOYMENT,
    AuditEntry,
    AuditLog,
    DeploymentNotFoundError,
    DeploymentScope,
    DeploymentStorage,
)

log = logging.getLogger("weir_controlplane.api")

AUTHORIZATION_HEADER = "authorization"
DEPLOYMENT_HEADER = "x-weir-deployment"
# ListAuditLog's deployment value for "every deployment" (organization admins only).
ALL_DEPLOYMENTS = "*"
_API_METHODS = "/weir."
# How long a resolved deployment name is trusted before it is looked up again, so a
# deployment deleted through another replica stops resolving here soon after.
_SCOPE_CACHE_SECONDS = 5.0


class ScopeResolver:
    """Deployment names to scopes within an organization, cached briefly."""

    def __init__(self, deployments: DeploymentStorage) -> None:
        self._deployments = deployments
        self._known: dict[tuple[int, str], tuple[DeploymentScope, float]] = {}
        self._lock = threading.Lock()

    def resolve(self, organization_id: int, name: str) -> DeploymentScope:
        now = time.monotonic()
        with self._lock:
            cached = self._known.get((organization_id, name))
        if cached is not None and now - cached[1] < _SCOPE_CACHE_SECONDS:
            return cached[0]
        scope = self._deployments.get_scope(name, organization_id=organization_id)
        with self._lock:
            self._known[(organization_id, name)] = (scope, now)
        return scope

    def forget(self, organization_id: int, name: str) -> None:
        with self._lock:
            self._known.pop((organization_id, name), None)


def target_deployment(rule: Rule | None, request: Any, metadata: Any) -> str:
    """The name of the deployment a call acts on: the rule's request field when set,
    else the `x-weir-deployment` header, else "prod"."""
    if rule is not None and rule.deployment_field and isinstance(request, Message):
        named = getattr(request, rule.deployment_field)
        if named:
            return str(named)
    return metadata_value(metadata, DEPLOYMENT_HEADER) or DEFAULT_DEPLOYMENT


def _once_per_call(
    handler: grpc.RpcMethodHandler, enter: Callable[[Any, grpc.ServicerContext], Any], var: Any
) -> grpc.RpcMethodHandler:
    """`handler` with `var` set, in every step of the call, to what `enter` returns for
    the call's first step."""
    value: Any = None
    entered = False

    @contextmanager
    def around(request: Any, context: grpc.ServicerContext) -> Iterator[None]:
        nonlocal value, entered
        if not entered:
            value = enter(request, context)
            entered = True
        token = var.set(value)
        try:
            yield
        finally:
            var.reset(token)

    return wrap_handler(handler, around)


class AuthenticationInterceptor(grpc.ServerInterceptor):
    """Sets `current_principal()`: the bearer token's, or anonymous when auth is off."""

    def __init__(self, authenticator: Authenticator | None, deployments: DeploymentStorage) -> None:
        self._authenticator = authenticator
        self._deployments = deployments

    def intercept_service(self, continuation: Any, details: Any) -> grpc.RpcMethodHandler | None:
        handler = continuation(details)
        if handler is None or not details.method.startswith(_API_METHODS):
            return handler  # health checks and reflection are open to every caller
        metadata = details.invocation_metadata

        def enter(request: Any, context: grpc.ServicerContext) -> Principal:
            if self._authenticator is None:
                return anonymous(self._deployments.default_organization_id())
            return self._authenticator.authenticate(metadata_value(metadata, AUTHORIZATION_HEADER))

        return _once_per_call(handler, enter, principal_var)


class DeploymentScopeInterceptor(grpc.ServerInterceptor):
    """Sets `current_scope()` to the deployment the call acts on (None for an
    organization-wide call)."""

    def __init__(self, resolver: ScopeResolver) -> None:
        self._resolver = resolver

    def intercept_service(self, continuation: Any, details: Any) -> grpc.RpcMethodHandler | None:
        handler = continuation(details)
        if handler is None or not details.method.startswith(_API_METHODS):
            return handler
        rule = rule_for(details.method)
        if rule is not None and rule.organization_wide:
            return handler
        metadata = details.invocation_metadata

        def enter(request: Any, context: grpc.ServicerContext) -> DeploymentScope | None:
            name = target_deployment(rule, request, metadata)
            if name == ALL_DEPLOYMENTS:
                return None
            principal = current_principal()
            try:
                return self._resolver.resolve(principal.organization_id, name)
            except DeploymentNotFoundError:
                if rule is not None and not principal.is_org_admin:
                    policy.require(principal, Permission.SIGNED_IN, name)
                raise

        return _once_per_call(handler, enter, scope_var)


class AuditInterceptor(grpc.ServerInterceptor):
    """Appends each mutation (its row says `mutation=True`) to the audit log with who
    made it, the target, the deployment, the outcome and the caller's address."""

    def __init__(self, audit: AuditLog) -> None:
        self._audit = audit

    def intercept_service(self, continuation: Any, details: Any) -> grpc.RpcMethodHandler | None:
        handler = continuation(details)
        rule = rule_for(details.method)
        if handler is None or rule is None or not rule.mutation or handler.unary_unary is None:
            return handler
        behaviour = handler.unary_unary
        method = details.method.lstrip("/")

        def run(request: Any, context: grpc.ServicerContext) -> Any:
            reply, outcome = None, "OK"
            try:
                reply = behaviour(request, context)
                return reply
            except Exception as exc:
                outcome = _outcome(exc, context)
                raise
            finally:
                self._record(method, rule, request, reply, outcome, context)

        return handler._replace(unary_unary=run)

    def _record(
        self, method: str, rule: Rule, request: Any, reply: Any, outcome: str, context: Any
    ) -> None:
        principal = current_principal()
        entry = AuditEntry(
            organization_id=principal.organization_id,
            deployment=current_scope_or_none(),
            at=datetime.now(UTC),
            actor=principal.actor,
            actor_name=principal.name,
            method=method,
            target=_target(rule, request, reply),
            outcome=outcome,
            client_address=context.peer() or "",
            request_id=current_request_id(),
        )
        try:
            self._audit.append(entry)
        except Exception:  # the call's own outcome stands; the log says what is missing
            log.exception("could not append to the audit log: %s by %s", method, principal.actor)


def _outcome(exc: Exception, context: Any) -> str:
    error = known_api_error(exc)
    if error is not None:
        return grpc_status_name(error.code)
    code = context.code()
    return code.name if code is not None and code != grpc.StatusCode.OK else "INTERNAL"


def _target(rule: Rule, request: Any, reply: Any) -> str:
    if rule.target is None:
        return ""
    source, path = (
        (reply, rule.target[len("reply.") :])
        if rule.target.startswith("reply.")
        else (request, rule.target)
    )
    value: Any = source
    for part in path.split("."):
        if not isinstance(value, Message):
            return ""
        value = getattr(value, part)
    return str(value)[:1000]


class AuthorizationInterceptor(grpc.ServerInterceptor):
    """Enforces the RPC's permission row before the method runs."""

    def intercept_service(self, continuation: Any, details: Any) -> grpc.RpcMethodHandler | None:
        handler = continuation(details)
        if handler is None or not details.method.startswith(_API_METHODS):
            return handler
        rule = rule_for(details.method)
        method = details.method
        checked = False

        @contextmanager
        def around(request: Any, context: grpc.ServicerContext) -> Iterator[None]:
            nonlocal checked
            if not checked:
                _authorize(method, rule, current_principal())
                checked = True
            yield

        return wrap_handler(handler, around)


def _authorize(method: str, rule: Rule | None, principal: Principal) -> None:
    if rule is None:  # fail closed: an RPC nobody classified is nobody's to call
        raise PermissionDeniedError(f"{method} has no permission rule; no one may call it")
    scope = current_scope_or_none()
    if rule.organization_wide or scope is None:  # scope None: every deployment ("*")
        if rule.organization_wide and rule.permission is Permission.SIGNED_IN:
            # Listing deployments: any role will do; the reply shows only its own.
            allowed = principal.unrestricted or any(
                Permission.SIGNED_IN in g.role.permissions for g in principal.grants
            )
        else:
            allowed = policy.holds_organization_wide(principal, rule.permission)
        if not allowed:
            where = "" if rule.organization_wide else ' in every deployment ("*")'
            raise PermissionDeniedError(
                f"{principal.describe()} may not {rule.permission.verb}{where}: that takes "
                "an organization admin token"
            )
        return
    policy.require(principal, rule.permission, scope.name)


def standard_chain(
    deployments: DeploymentStorage,
    audit: AuditLog,
    authenticator: Authenticator | None,
    resolver: ScopeResolver | None = None,
) -> list[grpc.ServerInterceptor]:
    """The interceptor chain, outermost first: request id, error mapping,
    authentication, deployment scope, audit, authorization, malformed requests.
    `authenticator` None runs without auth (every caller is the anonymous principal)."""
    return [
        RequestIdInterceptor(),
        ErrorMappingInterceptor(),
        AuthenticationInterceptor(authenticator, deployments),
        DeploymentScopeInterceptor(resolver or ScopeResolver(deployments)),
        AuditInterceptor(audit),
        AuthorizationInterceptor(),
        MalformedRequestInterceptor(),
    ]
