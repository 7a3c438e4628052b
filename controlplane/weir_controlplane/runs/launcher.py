"""Run launchers: where a claimed run's worker starts, and how it is stopped and judged.

The coordinator owns a run's status; a launcher only starts the worker (which then reports
its own events over RunReportingService), asks it to stop, and says whether it is gone.

    CodeLocationLauncher    ExecuteRun on the run's code-location server (the default)
    KubernetesRunLauncher   one Kubernetes Job per run (runs/kubernetes.py)

`launch` raises UnavailableError when the place to run cannot be reached (the run fails as
CODE_LOCATION_UNAVAILABLE) and any other ApiError when it refuses (START_FAILED).
"""

from __future__ import annotations

import logging
from typing import Protocol

from weir_protos.v1 import code_location_pb2, runs_pb2

from weir_controlplane.errors import ApiError, NotFoundError
from weir_controlplane.locations import CodeLocationRegistry
from weir_controlplane.storage import DeploymentScope, Run

log = logging.getLogger(__name__)


class RunLauncher(Protocol):
    def launch(
        self, scope: DeploymentScope, run: Run, request: code_location_pb2.ExecuteRunRequest
    ) -> None:
        """Start the run's worker with `request`. Called again for the same run (after a
        control-plane crash mid-launch) it must not start a second worker."""
        ...

    def terminate(self, scope: DeploymentScope, run: Run) -> None:
        """Ask the run's worker to stop; it reports RUN_CANCELED itself."""
        ...

    def worker_gone(self, scope: DeploymentScope, run: Run) -> str | None:
        """Why the run's worker is gone, for a run an earlier control-plane process left
        executing; None if it lives or the launcher cannot say (heartbeats decide then)."""
        ...


class CodeLocationLauncher:
    """Runs execute inside the code location's own server, which forks a worker per run."""

    def __init__(self, registry: CodeLocationRegistry) -> None:
        self._registry = registry

    def launch(
        self, scope: DeploymentScope, run: Run, request: code_location_pb2.ExecuteRunRequest
    ) -> None:
        self._registry.client(scope, run.code_location).execute_run(request)

    def terminate(self, scope: DeploymentScope, run: Run) -> None:
        self._registry.cancel_run(scope, run.code_location, run.run_id)

    def worker_gone(self, scope: DeploymentScope, run: Run) -> str | None:
        location = run.code_location
        try:
            status = self._registry.run_status(scope, location, run.run_id)
        except NotFoundError:
            return (
                f"The run worker is gone: code location {location} no longer knows the run "
                "(it restarted while the control plane was down)"
            )
        except ApiError as exc:
            log.info("cannot reconcile run %s now: %s", run.run_id, exc.message)
            return None
        if status.worker_alive:
            return None
        return (
            f"The run worker exited without reporting its end (code location {location} last "
            f"saw it {status_name(status.status)}, at event {status.last_sequence})"
        )


def status_name(status: int) -> str:
    """runs_pb2 RUN_STATUS_STARTED -> "STARTED"."""
    return runs_pb2.RunStatus.Name(status).removeprefix("RUN_STATUS_")
