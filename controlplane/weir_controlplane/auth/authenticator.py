"""Bearer tokens to principals, with a cache keyed by the secret's hash.

A lookup hashes the presented secret, finds the token by the hash's unique index and
compares the stored hash with `hmac.compare_digest`. Principals are cached by hash for
a few seconds: revoking through this process drops its entry at once; another replica's
cache forgets it within `cache_seconds`. Expiry is checked on every call, cached or not.
"""

from __future__ import annotations

import hmac
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from weir_controlplane.auth.principal import Grant, Principal, TokenKind
from weir_controlplane.auth.roles import Role
from weir_controlplane.auth.secrets import hash_secret
from weir_controlplane.errors import UnauthenticatedError
from weir_controlplane.storage import AccessStorage

# How much a cached principal may lag a revocation made on another replica.
DEFAULT_CACHE_SECONDS = 5.0
# last_used_at is written at most this often per token: reads must not become writes.
_TOUCH_EVERY = timedelta(minutes=1)


@dataclass
class _Cached:
    principal: Principal
    loaded: float  # time.monotonic()


class Authenticator:
    """Turns an `authorization` value ("Bearer weir_…") into a Principal.

    Example::

        principal = authenticator.authenticate("Bearer weir_…")  # or UnauthenticatedError
        authenticator.forget("tok_…")                            # after revoking it
    """

    def __init__(
        self, access: AccessStorage, *, cache_seconds: float = DEFAULT_CACHE_SECONDS
    ) -> None:
        self._access = access
        self._cache_seconds = cache_seconds
        self._cache: dict[str, _Cached] = {}
        self._hash_of: dict[str, str] = {}  # token id → secret hash, for forget()
        self._touched: dict[str, datetime] = {}
        self._lock = threading.Lock()

    def authenticate(self, authorization: str | None) -> Principal:
        secret = _bearer(authorization)
        secret_hash = hash_secret(secret)
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(secret_hash)
        if cached is None or now - cached.loaded > self._cache_seconds:
            principal = self._load(secret_hash)
            with self._lock:
                self._cache[secret_hash] = _Cached(principal, now)
                self._hash_of[principal.actor] = secret_hash
        else:
            principal = cached.principal
        wall = datetime.now(UTC)
        if principal.expires_at is not None and principal.expires_at <= wall:
            raise UnauthenticatedError(
                f"{principal.describe()} expired at {principal.expires_at.isoformat()}"
            )
        self._touch(principal, wall)
        return principal

    def forget(self, token_id: str) -> None:
        """Drop a token's cached principal (it was revoked or its roles changed)."""
        with self._lock:
            secret_hash = self._hash_of.pop(token_id, None)
            if secret_hash is not None:
                self._cache.pop(secret_hash, None)

    def forget_all(self) -> None:
        """Drop every cached principal (a deployment and its role bindings went away)."""
        with self._lock:
            self._cache.clear()
            self._hash_of.clear()

    def _load(self, secret_hash: str) -> Principal:
        found = self._access.find_by_hash(secret_hash)
        # The database matched on the hash of the secret, which a guesser cannot steer;
        # the stored hash is compared once more in constant time before it counts.
        if found is None or not hmac.compare_digest(found.secret_hash, secret_hash):
            raise UnauthenticatedError("the bearer token is not valid: no such token")
        token, bindings = found.token, found.bindings
        if token.revoked_at is not None:
            raise UnauthenticatedError(f"token {token.name!r} ({token.token_id}) was revoked")
        kind = TokenKind(token.kind)
        if kind is TokenKind.RUN:  # it reports for its run, in the run's deployment
            grants: tuple[Grant, ...] = (Grant(deployment=token.deployment, role=Role.RUN),)
        else:
            grants = tuple(
                Grant(
                    deployment=b.deployment,
                    role=Role(b.role),
                    code_locations=frozenset(b.code_locations) if b.code_locations else None,
                )
                for b in bindings
            )
        return Principal(
            actor=token.token_id,
            name=token.name,
            organization_id=token.organization_id,
            grants=grants,
            kind=kind,
            run_id=token.run_id,
            expires_at=token.expires_at,
        )

    def _touch(self, principal: Principal, now: datetime) -> None:
        if principal.kind is TokenKind.RUN:
            return  # a run's liveness is its heartbeats
        with self._lock:
            last = self._touched.get(principal.actor)
            if last is not None and now - last < _TOUCH_EVERY:
                return
            self._touched[principal.actor] = now
        self._access.touch([principal.actor], now)


def _bearer(authorization: str | None) -> str:
    if not authorization:
        raise UnauthenticatedError(
            'this control plane requires a token: send "authorization: Bearer <token>" '
            "(the CLI reads WEIR_TOKEN or --token)"
        )
    scheme, _, secret = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise UnauthenticatedError('the authorization header must be "Bearer <token>"')
    return secret.strip()
