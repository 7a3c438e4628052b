"""Who is calling: the principal a bearer token resolves to, and its grants."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from weir_controlplane.auth.roles import Role


class TokenKind(enum.StrEnum):
    USER = "user"
    AGENT = "agent"
    RUN = "run"


@dataclass(frozen=True)
class Grant:
    """A role in one deployment (None: every deployment of the organization), maybe
    narrowed to code locations (None: all of them)."""

    deployment: str | None
    role: Role
    code_locations: frozenset[str] | None = None


@dataclass(frozen=True)
class Principal:
    """A caller. `unrestricted` stands for every caller when auth is off."""

    actor: str  # the token id ("tok_…"), or "anonymous" when auth is off
    name: str
    organization_id: int
    grants: tuple[Grant, ...] = ()
    kind: TokenKind | None = None
    run_id: str | None = None  # a run token's run
    expires_at: datetime | None = None
    unrestricted: bool = False

    def grants_in(self, deployment: str) -> list[Grant]:
        return [g for g in self.grants if g.deployment is None or g.deployment == deployment]

    @property
    def is_org_admin(self) -> bool:
        return self.unrestricted or any(g.role is Role.ORG_ADMIN for g in self.grants)

    def describe(self) -> str:
        """How an error message names the caller: 'token "ci" (tok_…)'."""
        if self.unrestricted:
            return "the caller"
        return f"token {self.name!r} ({self.actor})"


def anonymous(organization_id: int) -> Principal:
    """The principal of every call when the control plane runs without auth."""
    return Principal(
        actor="anonymous", name="anonymous", organization_id=organization_id, unrestricted=True
    )
