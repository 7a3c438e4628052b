"""RunReportingService's step-attempt calls, with a bearer token and bounded retries."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

import grpc
from weir_protos.v1 import events_pb2, reporting_pb2, reporting_pb2_grpc

T = TypeVar("T")
_TRANSIENT = frozenset(
    {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.ABORTED}
)
_CHANNEL_OPTIONS = [
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.min_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 1000),
    ("grpc.enable_retries", 0),
]


class StepAttemptClient:
    """One channel to the control plane, for one run's worker or one step attempt."""

    def __init__(
        self,
        address: str,
        *,
        token: str = "",
        deployment: str = "",
        call_timeout: float = 10.0,
        retry_for: float = 60.0,
    ) -> None:
        self._channel = grpc.insecure_channel(address, options=_CHANNEL_OPTIONS)
        self._stub = reporting_pb2_grpc.RunReportingServiceStub(self._channel)
        self._metadata = tuple(
            (key, value)
            for key, value in (
                ("authorization", f"Bearer {token}" if token else ""),
                ("x-weir-deployment", deployment),
            )
            if value
        )
        self._timeout = call_timeout
        self._retry_for = retry_for

    def register(
        self, run_id: str, specs: Sequence[reporting_pb2.StepAttemptSpec]
    ) -> dict[str, str]:
        """Commit attempts; their tokens by launch key."""
        request = reporting_pb2.RegisterStepAttemptsRequest(run_id=run_id, attempts=specs)
        reply = self._call(self._stub.RegisterStepAttempts, request)
        return {attempt.launch_key: attempt.token for attempt in reply.attempts}

    def get(self, run_id: str, launch_keys: Sequence[str]) -> reporting_pb2.GetStepAttemptsResponse:
        request = reporting_pb2.GetStepAttemptsRequest(run_id=run_id, launch_keys=launch_keys)
        return self._call(self._stub.GetStepAttempts, request)

    def claim(
        self, run_id: str, launch_key: str, worker_id: str
    ) -> reporting_pb2.ClaimStepAttemptResponse:
        request = reporting_pb2.ClaimStepAttemptRequest(
            run_id=run_id, launch_key=launch_key, worker_id=worker_id
        )
        return self._call(self._stub.ClaimStepAttempt, request)

    def report(
        self, run_id: str, launch_key: str, events: Sequence[events_pb2.RunEvent]
    ) -> reporting_pb2.ReportStepEventsResponse:
        request = reporting_pb2.ReportStepEventsRequest(
            run_id=run_id, launch_key=launch_key, events=events
        )
        return self._call(self._stub.ReportStepEvents, request)

    def heartbeat(self, run_id: str, launch_key: str) -> reporting_pb2.StepHeartbeatResponse:
        request = reporting_pb2.StepHeartbeatRequest(run_id=run_id, launch_key=launch_key)
        return self._call(self._stub.StepHeartbeat, request)

    def close(self) -> None:
        self._channel.close()

    def _call(self, method: Callable[..., T], request: object) -> T:
        """Retry transient failures (a restarting control plane) with capped backoff."""
        deadline = time.monotonic() + self._retry_for
        delay = 0.05
        while True:
            try:
                return method(request, timeout=self._timeout, metadata=self._metadata)
            except grpc.RpcError as exc:
                code = exc.code() if isinstance(exc, grpc.Call) else None
                if code not in _TRANSIENT or time.monotonic() + delay > deadline:
                    raise
            time.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 2, 2.0)
