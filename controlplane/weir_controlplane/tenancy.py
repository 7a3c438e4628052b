"""Deployments as a service: creating, deleting (with everything running in them) and
reaping expired branch deployments.

`DeploymentReaper` is a daemon thread; on several replicas each may reap the same
deployment, and deletion is idempotent, so no lease is needed.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from weir_controlplane.errors import FailedPreconditionError, InvalidArgumentError
from weir_controlplane.locations import CodeLocationRegistry
from weir_controlplane.storage import DEFAULT_DEPLOYMENT, Deployment, DeploymentStorage
from weir_controlplane.storage.errors import DatabaseUnavailableError

log = logging.getLogger("weir_controlplane.tenancy")

_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
# The longest a branch deployment may be asked to live: a year.
MAX_EXPIRY_SECONDS = 366 * 24 * 3600


def check_deployment_name(name: str) -> str:
    if not _NAME.match(name):
        raise InvalidArgumentError(
            f"deployment name {name[:80]!r} is not valid: use 1 to 63 lower-case letters, "
            'digits and "-", starting and ending with a letter or digit (e.g. "pr-1234")'
        )
    return name


class DeploymentService:
    """Creates and deletes deployments; deleting stops their code locations first."""

    def __init__(self, deployments: DeploymentStorage, registry: CodeLocationRegistry) -> None:
        self._deployments = deployments
        self._registry = registry
        self._listeners: list[Callable[[Deployment], None]] = []

    def add_listener(self, on_deleted: Callable[[Deployment], None]) -> None:
        """Call `on_deleted` after each deletion (caches of names and grants drop it)."""
        self._listeners.append(on_deleted)

    def create(
        self,
        organization_id: int,
        name: str,
        *,
        base: str | None = None,
        expires_in_seconds: int = 0,
    ) -> Deployment:
        check_deployment_name(name)
        if expires_in_seconds > MAX_EXPIRY_SECONDS:
            raise InvalidArgumentError(
                f"expiresInSeconds is at most {MAX_EXPIRY_SECONDS} (a year); got "
                f"{expires_in_seconds}"
            )
        base_scope = (
            self._deployments.get_scope(base, organization_id=organization_id) if base else None
        )
        now = datetime.now(UTC)
        return self._deployments.create(
            name,
            organization_id=organization_id,
            base=base_scope,
            expires_at=now + timedelta(seconds=expires_in_seconds) if expires_in_seconds else None,
            now=now,
        )

    def delete(self, deployment: Deployment) -> None:
        if deployment.name == DEFAULT_DEPLOYMENT:
            raise FailedPreconditionError(
                f"deployment {DEFAULT_DEPLOYMENT!r} is the default deployment and cannot be deleted"
            )
        scope = deployment.scope
        for state in self._registry.list_locations(scope):
            self._registry.remove(scope, state.name)
        self._deployments.delete(scope)
        for listener in self._listeners:
            listener(deployment)
        log.info("deleted deployment %s", deployment.name)


class DeploymentReaper:
    """Deletes branch deployments once they expire, checking every `interval` seconds."""

    def __init__(
        self, deployments: DeploymentStorage, service: DeploymentService, interval: float = 10.0
    ) -> None:
        self._deployments = deployments
        self._service = service
        self._interval = interval
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="deployment-reaper", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def reap(self) -> list[str]:
        """Delete every expired deployment now; their names."""
        reaped = []
        for deployment in self._deployments.expired():
            self._service.delete(deployment)
            reaped.append(deployment.name)
        return reaped

    def _loop(self) -> None:
        while not self._stopping.wait(self._interval):
            try:
                self.reap()
            except DatabaseUnavailableError:
                log.warning("deployment reaper: the database is unavailable; retrying")
            except Exception:
                log.exception("deployment reaper pass failed; retrying")
