"""The Celery executor's StepLauncher, in the run's worker.

Each attempt is committed with the control plane (RegisterStepAttempts) before it is
sent, under its deterministic launch key, which is also the Celery task id; sending it
again after a crash is harmless (the claim lets one delivery run). The payload is JSON
and carries no database URL: where to report, the attempt's own token, the run request.
The run follows its steps by the attempts' states (one GetStepAttempts per poll, for
every step in flight), never by Celery results.

Cancel: the control plane's heartbeat replies tell a running step to stop; a queued one
is revoked at once, and a running one still there after the grace period is revoked
with terminate=True. An attempt left unclaimed past `queued_timeout_seconds` on a queue
no worker served is LOST at the control plane (a late worker's claim is refused); its
task is revoked, and the run retries or fails the step with that reason.
"""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from weir._execution.launcher import Handle, LaunchSpec, Observation, Phase
from weir._key import AssetKey
from weir_protos.v1 import code_location_pb2, reporting_pb2

from weir_codeserver.celery.app import TASK_NAME, make_app
from weir_codeserver.celery.attempts_client import StepAttemptClient

S = reporting_pb2.StepAttemptStatus
_PHASES = {
    S.STEP_ATTEMPT_STATUS_QUEUED: Phase.PENDING,
    S.STEP_ATTEMPT_STATUS_RUNNING: Phase.RUNNING,
    S.STEP_ATTEMPT_STATUS_SUCCESS: Phase.SUCCEEDED,
    S.STEP_ATTEMPT_STATUS_FAILURE: Phase.FAILED,
    S.STEP_ATTEMPT_STATUS_LOST: Phase.LOST,
    S.STEP_ATTEMPT_STATUS_SUPERSEDED: Phase.LOST,
    S.STEP_ATTEMPT_STATUS_CANCELED: Phase.CANCELED,
}
Notice = Callable[[str, Mapping[str, Any]], None]


class CeleryStepLauncher:
    engine = "celery"

    def __init__(
        self,
        config: Mapping[str, Any],
        client: StepAttemptClient,
        *,
        run_id: str,
        request_bytes: bytes,
        reporting_address: str,
        deployment: str,
        notice: Notice,
    ) -> None:
        self._config = config
        self._client = client
        self._run_id = run_id
        self._request = base64.b64encode(request_bytes).decode()
        self._address = reporting_address
        self._deployment = deployment
        self._notice = notice
        self._app = make_app(config)
        self._phases: dict[str, Phase] = {}
        self._stop_at: dict[str, float] = {}  # revoke with terminate=True after this
        self._revoked: set[tuple[str, bool]] = set()
        self._queues_checked: set[str] = set()

    def launch(self, spec: LaunchSpec) -> Handle:
        queue = spec.queue or str(self._config["default_queue"])
        key = spec.launch_key
        tokens = self._client.register(
            self._run_id,
            [
                reporting_pb2.StepAttemptSpec(
                    step_key=spec.step_key,
                    attempt=spec.attempt,
                    launch_key=key,
                    queue=queue,
                    lease_seconds=float(self._config["lease_seconds"]),
                    queued_timeout_seconds=float(self._config["queued_timeout_seconds"]),
                )
            ],
        )
        payload = {
            "run_id": self._run_id,
            "step_key": spec.step_key,
            "partition_key": spec.partition_key,
            "attempt": spec.attempt,
            "launch_key": key,
            "reporting_address": self._address,
            "deployment": self._deployment,
            "token": tokens.get(key, ""),
            "heartbeat_seconds": float(self._config["heartbeat_seconds"]),
            "request": self._request,
        }
        self._app.send_task(TASK_NAME, args=[payload], task_id=key, queue=queue)
        self._phases[key] = Phase.PENDING
        if queue not in self._queues_checked:
            self._queues_checked.add(queue)
            threading.Thread(
                target=self._check_served, args=(queue, spec.step_key), daemon=True
            ).start()
        return Handle(self.engine, spec, {"queue": queue})

    def observe(self, handles: Sequence[Handle]) -> Mapping[str, Observation]:
        time.sleep(float(self._config["poll_seconds"]))
        reply = self._client.get(self._run_id, [h.launch_key for h in handles])
        news: dict[str, Observation] = {}
        for state in reply.attempts:
            key = state.launch_key
            phase = _PHASES.get(state.status, Phase.PENDING)
            if key in self._stop_at and phase is Phase.PENDING:
                phase = Phase.CANCELED  # revoked; a claim would be refused now anyway
            if phase is Phase.RUNNING and self._stop_at.get(key, float("inf")) < time.monotonic():
                self._revoke(key, terminate=True)
            if phase is self._phases.get(key):
                continue
            if phase is Phase.LOST and not state.worker_id:
                self._revoke(key, terminate=False)  # never claimed: its queue went unserved
            self._phases[key] = phase
            news[key] = Observation(
                phase,
                produced=tuple(AssetKey.from_user_string(p) for p in state.produced),
                reason=state.reason or None,
                started=bool(state.worker_id) and phase is not Phase.CANCELED,
            )
        return news

    def terminate(self, handle: Handle, grace: float) -> None:
        key = handle.launch_key
        if key in self._stop_at:
            return
        self._stop_at[key] = time.monotonic() + grace
        if self._phases.get(key) is Phase.PENDING:
            self._revoke(key, terminate=False)

    def close(self) -> None:
        self._client.close()
        self._app.close()

    def _revoke(self, key: str, *, terminate: bool) -> None:
        if (key, terminate) in self._revoked:
            return
        self._revoked.add((key, terminate))
        self._app.control.revoke(key, terminate=terminate)

    def _check_served(self, queue: str, step_key: str) -> None:
        """Say in the run's events when no worker consumes `queue`: its steps would wait."""
        try:
            served = self._app.control.inspect(timeout=1.0).active_queues() or {}
        except Exception as exc:  # the broker is down: the send would have failed first
            self._notice(f"Could not ask the Celery workers which queues they serve: {exc}", {})
            return
        if any(q.get("name") == queue for queues in served.values() for q in queues):
            return
        timeout = float(self._config["queued_timeout_seconds"])
        self._notice(
            f"No Celery worker serves queue {queue!r}: step {step_key} waits until one does, "
            f"and fails if none has within {timeout:g} s "
            f"(start one with `weir celery worker -f <defs.py> -Q {queue}`)",
            {"queue": queue, "workers": len(served)},
        )


def celery_launcher(
    config: Mapping[str, Any], request: code_location_pb2.ExecuteRunRequest, notice: Notice
) -> CeleryStepLauncher:
    """The launcher of one run's worker, reporting where the run itself reports."""
    client = StepAttemptClient(
        request.reporting_address, token=request.reporting_token, deployment=request.deployment
    )
    return CeleryStepLauncher(
        config,
        client,
        run_id=request.run_id,
        request_bytes=request.SerializeToString(),
        reporting_address=request.reporting_address,
        deployment=request.deployment,
        notice=notice,
    )
