"""Roles and the permissions each grants.

A deployment role includes everything the roles before it grant:

    viewer    read everything in the deployment
    launcher  + launch, re-execute and cancel runs (and backfills)
    editor    + code locations, schedules, sensors, dynamic partitions
    admin     + tokens, role bindings and the audit log of the deployment
    org admin + deployments; every permission in every deployment of the organization

Two roles stand apart: an agent registers and reloads code locations and does nothing
else (a team's CI deploy), and a run token reports one run's events and heartbeats.
"""

from __future__ import annotations

import enum


class Permission(enum.StrEnum):
    # Any principal of the organization may ask; what it sees is filtered by its roles.
    SIGNED_IN = "signed_in"
    READ = "read"
    LAUNCH = "launch"
    EDIT = "edit"
    # Register and reload code locations: editors, and agents.
    DEPLOY_LOCATIONS = "deploy_locations"
    MANAGE_ACCESS = "manage_access"
    MANAGE_DEPLOYMENTS = "manage_deployments"
    # Report a run's events and heartbeats: run tokens only, for their own run.
    REPORT_RUN = "report_run"

    @property
    def verb(self) -> str:
        """How an error message names it: "may not <verb>"."""
        return _VERBS[self]


_VERBS = {
    Permission.SIGNED_IN: "call the API",
    Permission.READ: "read",
    Permission.LAUNCH: "launch or cancel runs",
    Permission.EDIT: "edit",
    Permission.DEPLOY_LOCATIONS: "register or reload code locations",
    Permission.MANAGE_ACCESS: "manage tokens, role bindings or the audit log",
    Permission.MANAGE_DEPLOYMENTS: "create or delete deployments",
    Permission.REPORT_RUN: "report run events",
}


class Role(enum.StrEnum):
    VIEWER = "viewer"
    LAUNCHER = "launcher"
    EDITOR = "editor"
    ADMIN = "admin"
    ORG_ADMIN = "org_admin"
    AGENT = "agent"
    RUN = "run"

    @property
    def permissions(self) -> frozenset[Permission]:
        return ROLE_PERMISSIONS[self]

    def includes(self, other: Role) -> bool:
        """Whether this role grants everything `other` grants (no escalation through it)."""
        return other.permissions <= self.permissions


_VIEWER = frozenset({Permission.SIGNED_IN, Permission.READ})
_LAUNCHER = _VIEWER | {Permission.LAUNCH}
_EDITOR = _LAUNCHER | {Permission.EDIT, Permission.DEPLOY_LOCATIONS}
_ADMIN = _EDITOR | {Permission.MANAGE_ACCESS}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.VIEWER: _VIEWER,
    Role.LAUNCHER: _LAUNCHER,
    Role.EDITOR: _EDITOR,
    Role.ADMIN: _ADMIN,
    Role.ORG_ADMIN: _ADMIN | {Permission.MANAGE_DEPLOYMENTS},
    Role.AGENT: frozenset({Permission.DEPLOY_LOCATIONS}),
    Role.RUN: frozenset({Permission.REPORT_RUN}),
}

# The roles CreateRoleBinding may grant in a deployment.
DEPLOYMENT_ROLES = frozenset({Role.VIEWER, Role.LAUNCHER, Role.EDITOR, Role.ADMIN, Role.AGENT})
