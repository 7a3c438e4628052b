"""Run tokens: minted by the launcher for one run and passed to its worker in
ExecuteRun. They authenticate RunReportingService calls for that run alone and are
dead once the run has ended (the reporting service refuses them then)."""

from __future__ import annotations

from datetime import UTC, datetime

from weir_controlplane.auth.principal import TokenKind
from weir_controlplane.auth.roles import Role
from weir_controlplane.auth.secrets import hash_secret, new_secret
from weir_controlplane.storage import AccessStorage, DeploymentScope, DeploymentStorage, NewToken


class RunTokens:
    def __init__(self, access: AccessStorage, deployments: DeploymentStorage) -> None:
        self._access = access
        self._deployments = deployments

    def mint_for_attempt(
        self, scope: DeploymentScope, run_id: str, launch_key: str
    ) -> tuple[str, str]:
        """A token (id, secret) for one step attempt of `run_id`: it reports that attempt
        alone, and only while the attempt is current (the reporting service checks)."""
        return self._create(scope, run_id, f"attempt {launch_key}")

    def mint(self, scope: DeploymentScope, run_id: str) -> str:
        """A new secret for `run_id`'s worker; only its hash is stored."""
        return self._create(scope, run_id, f"run {run_id}")[1]

    def _create(self, scope: DeploymentScope, run_id: str, name: str) -> tuple[str, str]:
        secret = new_secret()
        record = self._access.create_token(
            NewToken(
                organization_id=self._deployments.organization_of(scope),
                kind=TokenKind.RUN.value,
                name=name,
                role=Role.RUN.value,
                secret_hash=hash_secret(secret),
                created_at=datetime.now(UTC),
                deployment=scope,
                run_id=run_id,
            )
        )
        return record.token_id, secret
