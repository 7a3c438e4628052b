"""Object-level access for the services: the request's principal against one object's
code location, and the code locations a list may show. Both go through
`auth.policy.allowed_locations`, so a list never shows what a single read refuses."""

from __future__ import annotations

from weir_controlplane.api.context import current_principal, current_scope
from weir_controlplane.auth import policy
from weir_controlplane.auth.roles import Permission


def require_location(permission: Permission, location: str) -> None:
    """PERMISSION_DENIED unless the caller holds `permission` on `location` here."""
    policy.require(current_principal(), permission, current_scope().name, location)


def visible_locations(permission: Permission = Permission.READ) -> frozenset[str] | None:
    """The code locations whose objects the caller may see; None for all."""
    return policy.allowed_locations(current_principal(), permission, current_scope().name)
