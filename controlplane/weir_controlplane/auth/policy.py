"""The one policy function: which code locations of a deployment a principal may act on.

Every check goes through `allowed_locations`: the interceptor's per-RPC check (may the
caller do this at all in the deployment?), single-object checks in the services (may it
on this run's code location?) and list filters (which locations' rows may it see?). So
a list can never show what a single read would refuse.
"""

from __future__ import annotations

from weir_controlplane.auth.principal import Principal
from weir_controlplane.auth.roles import Permission
from weir_controlplane.errors import PermissionDeniedError

# `allowed_locations` answer meaning "every code location of the deployment".
EVERY_LOCATION = None


def allowed_locations(
    principal: Principal, permission: Permission, deployment: str
) -> frozenset[str] | None:
    """The code locations of `deployment` on which `principal` holds `permission`:
    None for all of them, an empty set for none."""
    if principal.unrestricted:
        return EVERY_LOCATION
    allowed: set[str] = set()
    for grant in principal.grants_in(deployment):
        if permission in grant.role.permissions:
            if grant.code_locations is None:
                return EVERY_LOCATION
            allowed |= grant.code_locations
    return frozenset(allowed)


def allows(
    principal: Principal, permission: Permission, deployment: str, location: str | None = None
) -> bool:
    """Whether `principal` holds `permission` in `deployment`: on `location`, or (None)
    on at least one code location there."""
    allowed = allowed_locations(principal, permission, deployment)
    if allowed is EVERY_LOCATION:
        return True
    return location in allowed if location is not None else bool(allowed)


def require(
    principal: Principal, permission: Permission, deployment: str, location: str | None = None
) -> None:
    """PERMISSION_DENIED unless `allows(...)`, with a message naming what is missing."""
    if allows(principal, permission, deployment, location):
        return
    where = f"code location {location!r} of deployment" if location else "deployment"
    raise PermissionDeniedError(
        f"{principal.describe()} may not {permission.verb} in {where} {deployment!r}"
        f"{_held(principal, deployment)}"
    )


def holds_organization_wide(principal: Principal, permission: Permission) -> bool:
    """Whether `principal` holds `permission` in every deployment (an organization admin)."""
    return principal.unrestricted or any(
        g.deployment is None and permission in g.role.permissions for g in principal.grants
    )


def _held(principal: Principal, deployment: str) -> str:
    grants = principal.grants_in(deployment)
    if not grants:
        return "; it holds no role there"
    held = ", ".join(
        grant.role.value
        + (
            f" (code locations {', '.join(sorted(grant.code_locations))})"
            if grant.code_locations
            else ""
        )
        for grant in grants
    )
    return f"; it holds: {held}"
