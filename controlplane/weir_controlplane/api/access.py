"""Token, role-binding and audit-log RPCs: CreateToken, ListTokens, RevokeToken,
CreateRoleBinding, ListRoleBindings, DeleteRoleBinding, ListAuditLog.

The interceptors have checked that the caller manages access in the target deployment;
here the rest: no one grants a role beyond their own, organization-wide tokens and
bindings are for organization admins, and a revoked token or changed binding drops
out of the authenticator's cache at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from weir_protos.v1 import control_plane_pb2 as cp
from weir_protos.v1 import tenancy_pb2

from weir_controlplane.api import convert, paging
from weir_controlplane.api.context import current_principal, current_scope, current_scope_or_none
from weir_controlplane.auth import policy
from weir_controlplane.auth.authenticator import Authenticator
from weir_controlplane.auth.permissions import PERMISSIONS
from weir_controlplane.auth.principal import Principal, TokenKind
from weir_controlplane.auth.roles import DEPLOYMENT_ROLES, Permission, Role
from weir_controlplane.auth.secrets import hash_secret, new_secret
from weir_controlplane.errors import InvalidArgumentError, NotFoundError, PermissionDeniedError
from weir_controlplane.storage import (
    AccessStorage,
    AuditEntry,
    AuditFilter,
    AuditLog,
    BindingRecord,
    DeploymentScope,
    NewToken,
    TokenRecord,
)
from weir_controlplane.tenancy import MAX_EXPIRY_SECONDS


class AccessApi:
    def __init__(
        self, access: AccessStorage, audit: AuditLog, authenticator: Authenticator | None
    ) -> None:
        self._access = access
        self._audit = audit
        self._authenticator = authenticator

    # --- tokens -----------------------------------------------------------------------

    def create_token(self, request: cp.CreateTokenRequest) -> cp.CreateTokenResponse:
        principal = current_principal()
        role = role_of(request.role)
        if not request.name or len(request.name) > 255:
            raise InvalidArgumentError(
                'name is required (at most 255 characters), e.g. "ci-deploy"'
            )
        if request.expires_in_seconds > MAX_EXPIRY_SECONDS:
            raise InvalidArgumentError(f"expiresInSeconds is at most {MAX_EXPIRY_SECONDS} (a year)")
        if role is Role.ORG_ADMIN:
            _require_org_admin(principal, "create organization admin tokens")
            scope = None
            if request.code_locations:
                raise InvalidArgumentError(
                    "an organization admin token cannot be narrowed to code locations"
                )
        else:
            scope = current_scope()
            _check_grantable(principal, scope, role, request.code_locations)
        secret = new_secret()
        now = datetime.now(UTC)
        token = self._access.create_token(
            NewToken(
                organization_id=principal.organization_id,
                kind=(TokenKind.AGENT if role is Role.AGENT else TokenKind.USER).value,
                name=request.name,
                role=role.value,
                secret_hash=hash_secret(secret),
                created_at=now,
                deployment=scope,
                expires_at=(
                    now + timedelta(seconds=request.expires_in_seconds)
                    if request.expires_in_seconds
                    else None
                ),
                code_locations=list(request.code_locations) or None,
            )
        )
        return cp.CreateTokenResponse(token=token_proto(token), secret=secret)

    def list_tokens(self, request: cp.ListTokensRequest) -> cp.ListTokensResponse:
        principal = current_principal()
        tokens = self._access.list_tokens(
            principal.organization_id, current_scope(), include_revoked=request.include_revoked
        )
        return cp.ListTokensResponse(tokens=[token_proto(t) for t in tokens])

    def revoke_token(self, request: cp.RevokeTokenRequest) -> cp.RevokeTokenResponse:
        principal = current_principal()
        token_id = _required(request.token_id, "tokenId")
        token = self._access.get_token(principal.organization_id, token_id)
        _require_manager_of(principal, token.deployment)
        revoked = self._access.revoke(principal.organization_id, token_id, datetime.now(UTC))
        if self._authenticator is not None:
            self._authenticator.forget(token_id)
        return cp.RevokeTokenResponse(token=token_proto(revoked))

    # --- role bindings ----------------------------------------------------------------

    def create_role_binding(
        self, request: cp.CreateRoleBindingRequest
    ) -> cp.CreateRoleBindingResponse:
        principal = current_principal()
        token_id = _required(request.token_id, "tokenId")
        role = role_of(request.role)
        if role not in DEPLOYMENT_ROLES:
            raise InvalidArgumentError(
                "role must be a deployment role: ROLE_VIEWER, ROLE_LAUNCHER, ROLE_EDITOR, "
                "ROLE_ADMIN or ROLE_AGENT (organization admins are made with CreateToken)"
            )
        scope = current_scope()
        _check_grantable(principal, scope, role, request.code_locations)
        binding = self._access.create_binding(
            principal.organization_id,
            token_id,
            scope,
            role.value,
            list(request.code_locations) or None,
            datetime.now(UTC),
        )
        if self._authenticator is not None:
            self._authenticator.forget(token_id)
        return cp.CreateRoleBindingResponse(role_binding=binding_proto(binding))

    def list_role_bindings(
        self, request: cp.ListRoleBindingsRequest
    ) -> cp.ListRoleBindingsResponse:
        bindings = self._access.list_bindings(current_scope())
        return cp.ListRoleBindingsResponse(role_bindings=[binding_proto(b) for b in bindings])

    def delete_role_binding(
        self, request: cp.DeleteRoleBindingRequest
    ) -> cp.DeleteRoleBindingResponse:
        principal = current_principal()
        binding_id = _required(request.binding_id, "bindingId")
        binding = self._access.get_binding(principal.organization_id, binding_id)
        if binding is None:
            raise NotFoundError(f"role binding {binding_id!r} does not exist")
        _require_manager_of(principal, binding.deployment)
        self._access.delete_binding(binding_id)
        if self._authenticator is not None:
            self._authenticator.forget(binding.token_id)
        return cp.DeleteRoleBindingResponse()

    # --- audit log --------------------------------------------------------------------

    def get_caller_permissions(
        self, request: cp.GetCallerPermissionsRequest
    ) -> cp.GetCallerPermissionsResponse:
        principal = current_principal()
        deployment = current_scope().name
        held = []
        for permission in sorted(Permission, key=lambda p: p.value):
            if permission is Permission.REPORT_RUN:
                continue  # a run token's, never a person's
            where = policy.allowed_locations(principal, permission, deployment)
            if where is None:
                held.append(
                    cp.CallerPermission(permission=permission.value, all_code_locations=True)
                )
            elif where:
                held.append(
                    cp.CallerPermission(permission=permission.value, code_locations=sorted(where))
                )
        return cp.GetCallerPermissionsResponse(
            actor=principal.actor,
            name=principal.name if principal.kind is not None else "",
            organization_admin=principal.is_org_admin,
            permissions=held,
        )

    def list_audit_log(self, request: cp.ListAuditLogRequest) -> cp.ListAuditLogResponse:
        principal = current_principal()
        audit_filter = AuditFilter(
            deployment=current_scope_or_none(),
            actor=request.actor or None,
            method=_method_name(request.method) if request.method else None,
        )
        page = self._audit.list(
            principal.organization_id,
            audit_filter,
            cursor=request.cursor or None,
            limit=paging.page_size(request.limit),
        )
        return cp.ListAuditLogResponse(
            entries=[audit_entry_proto(e) for e in page.items], next_cursor=page.next_cursor or ""
        )


def role_of(value: int) -> Role:
    if value in (tenancy_pb2.ROLE_UNSPECIFIED,) or value not in tenancy_pb2.Role.values():
        raise InvalidArgumentError(
            "role is required: one of ROLE_VIEWER, ROLE_LAUNCHER, ROLE_EDITOR, ROLE_ADMIN, "
            "ROLE_ORG_ADMIN, ROLE_AGENT"
        )
    return Role(tenancy_pb2.Role.Name(value).removeprefix("ROLE_").lower())


def role_proto(role: str) -> tenancy_pb2.Role:
    if role == Role.RUN:
        return tenancy_pb2.ROLE_UNSPECIFIED
    return tenancy_pb2.Role.Value("ROLE_" + role.upper())  # type: ignore[return-value]


def _check_grantable(
    principal: Principal, scope: DeploymentScope, role: Role, locations: Sequence[str]
) -> None:
    """No escalation: a caller grants only roles within its own in that deployment, and
    no code location beyond the ones it manages."""
    if principal.is_org_admin:
        return
    if not any(grant.role.includes(role) for grant in principal.grants_in(scope.name)):
        raise PermissionDeniedError(
            f"{principal.describe()} may not grant role {role.value} in deployment "
            f"{scope.name!r}: it exceeds the caller's own role there"
        )
    managed = policy.allowed_locations(principal, Permission.MANAGE_ACCESS, scope.name)
    if managed is not None and (not locations or not set(locations) <= managed):
        raise PermissionDeniedError(
            f"{principal.describe()} manages only code locations {', '.join(sorted(managed))} "
            f"of deployment {scope.name!r}; narrow the grant to those"
        )


def _require_org_admin(principal: Principal, what: str) -> None:
    if not principal.is_org_admin:
        raise PermissionDeniedError(
            f"{principal.describe()} may not {what}: that takes an organization admin token"
        )


def _require_manager_of(principal: Principal, deployment: str | None) -> None:
    """Managing access to a deployment's tokens takes admin there; organization-wide
    ones take an organization admin."""
    if deployment is None:
        _require_org_admin(principal, "manage organization-wide tokens and bindings")
    else:
        policy.require(principal, Permission.MANAGE_ACCESS, deployment)


def _required(value: str, field: str) -> str:
    if not value:
        raise InvalidArgumentError(f"{field} is required")
    return value


def _method_name(method: str) -> str:
    """ "LaunchRun" or "weir.v1.ControlPlaneService/LaunchRun" as the audit log stores it."""
    if "/" in method:
        return method.lstrip("/")
    for path in PERMISSIONS:
        if path.endswith("/" + method):
            return path.lstrip("/")
    raise InvalidArgumentError(f"method {method[:100]!r} is not an RPC of the API")


def token_proto(token: TokenRecord) -> tenancy_pb2.Token:
    message = tenancy_pb2.Token(
        token_id=token.token_id,
        name=token.name,
        role=role_proto(token.role),
        deployment=token.deployment or "",
        create_time=convert.timestamp(token.created_at),
        code_locations=list(token.code_locations or ()),
    )
    for field, moment in (
        ("last_used_time", token.last_used_at),
        ("expire_time", token.expires_at),
        ("revoke_time", token.revoked_at),
    ):
        if moment is not None:
            getattr(message, field).CopyFrom(convert.timestamp(moment))
    return message


def binding_proto(binding: BindingRecord) -> tenancy_pb2.RoleBinding:
    return tenancy_pb2.RoleBinding(
        binding_id=binding.binding_id,
        token_id=binding.token_id,
        deployment=binding.deployment or "",
        role=role_proto(binding.role),
        code_locations=list(binding.code_locations or ()),
        create_time=convert.timestamp(binding.created_at),
    )


def audit_entry_proto(entry: AuditEntry) -> tenancy_pb2.AuditEntry:
    return tenancy_pb2.AuditEntry(
        entry_id=str(entry.entry_id),
        time=convert.timestamp(entry.at),
        actor=entry.actor,
        actor_name=entry.actor_name,
        method=entry.method,
        target=entry.target,
        deployment=entry.deployment.name if entry.deployment else "",
        outcome=entry.outcome,
        client_address=entry.client_address,
        request_id=entry.request_id,
    )
