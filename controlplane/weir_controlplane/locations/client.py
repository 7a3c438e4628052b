"""A gRPC client of one code location's CodeLocationService, with the control plane's timeouts
and errors (UnavailableError when the location is down)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

import grpc
from weir_protos.v1 import code_location_pb2 as cl_pb2
from weir_protos.v1 import code_location_pb2_grpc as cl_grpc
from weir_protos.v1 import definitions_pb2

from weir_controlplane.errors import FailedPreconditionError, NotFoundError, UnavailableError

# Snapshots of tens of thousands of assets stream in parts; a generous receive limit keeps
# a single large part (or an older server's unary reply) loading.
MAX_MESSAGE_BYTES = 256 * 1024 * 1024

log = logging.getLogger("weir_controlplane.locations")
T = TypeVar("T")


class LoadFailedError(FailedPreconditionError):
    """The location serves, but the user's code failed to load."""

    def __init__(self, message: str, stack: str = ""):
        super().__init__(message)
        self.stack = stack


class CodeLocationClient:
    def __init__(self, name: str, address: str, timeout: float = 30.0):
        self.name = name
        self.address = address
        self.timeout = timeout
        self._channel = grpc.insecure_channel(
            address,
            options=[
                ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
                ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
            ],
        )
        self._stub = cl_grpc.CodeLocationServiceStub(self._channel)

    def close(self) -> None:
        self._channel.close()

    def _call(self, what: str, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except grpc.RpcError as err:
            code, details = err.code(), err.details() or ""
            if code == grpc.StatusCode.NOT_FOUND:
                raise NotFoundError(details) from None
            if code == grpc.StatusCode.FAILED_PRECONDITION:
                raise LoadFailedError(details) from None
            # The caller hears only that no code server answered: whether the port is closed
            # or another server listens there would let an API client map the network.
            # The server's log keeps the details.
            log.warning(
                "code location %r at %s: %s failed: %s: %s",
                self.name,
                self.address,
                what,
                code.name if code else "error",
                details or "no answer",
            )
            raise UnavailableError(
                f"Code location '{self.name}' at {self.address} is unavailable: no code "
                f"server answered {what}"
            ) from None

    def info(self) -> cl_pb2.GetLocationInfoResponse:
        return self._call(
            "GetLocationInfo",
            lambda: self._stub.GetLocationInfo(
                cl_pb2.GetLocationInfoRequest(), timeout=min(self.timeout, 10.0)
            ),
        )

    def definitions(self) -> definitions_pb2.DefinitionsSnapshot:
        """The whole snapshot, merged from the streamed parts."""

        def fetch() -> definitions_pb2.DefinitionsSnapshot:
            snapshot = definitions_pb2.DefinitionsSnapshot()
            stream = self._stub.StreamDefinitions(
                cl_pb2.StreamDefinitionsRequest(), timeout=self.timeout * 6
            )
            for part in stream:
                if part.HasField("load_error"):
                    raise LoadFailedError(part.load_error.message, part.load_error.stack)
                snapshot.MergeFrom(part.part)
            return snapshot

        return self._call("StreamDefinitions", fetch)

    def execute_run(self, request: cl_pb2.ExecuteRunRequest) -> cl_pb2.ExecuteRunResponse:
        return self._call("ExecuteRun", lambda: self._stub.ExecuteRun(request, timeout=30.0))

    def cancel_run(self, run_id: str) -> bool:
        request = cl_pb2.CodeLocationServiceCancelRunRequest(run_id=run_id)
        reply = self._call("CancelRun", lambda: self._stub.CancelRun(request, timeout=10.0))
        return reply.was_running

    def run_status(self, run_id: str) -> cl_pb2.GetRunStatusResponse:
        request = cl_pb2.GetRunStatusRequest(run_id=run_id)
        return self._call("GetRunStatus", lambda: self._stub.GetRunStatus(request, timeout=10.0))

    def evaluate_sensor(self, request: Any) -> Any:
        return self._call("EvaluateSensor", lambda: self._stub.EvaluateSensor(request, timeout=60))

    def evaluate_schedule(self, request: Any) -> Any:
        return self._call(
            "EvaluateSchedule", lambda: self._stub.EvaluateSchedule(request, timeout=60)
        )
