"""A gRPC client of one code location's CodeLocationService, with the control plane's timeouts
and errors.

A status from the location keeps its meaning: UNAVAILABLE (and a call that timed out) means
the location cannot be reached; INVALID_ARGUMENT and FAILED_PRECONDITION mean it answered
and refused the request, with its reason; INTERNAL and UNKNOWN are its own bugs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

import grpc
from weir_protos.v1 import code_location_pb2 as cl_pb2
from weir_protos.v1 import code_location_pb2_grpc as cl_grpc
from weir_protos.v1 import common_pb2, definitions_pb2

from weir_controlplane.errors import (
    ApiError,
    FailedPreconditionError,
    InternalError,
    InvalidArgumentError,
    NotFoundError,
    UnavailableError,
    UnimplementedError,
)
from weir_controlplane.locations.snapshot_check import SnapshotBudget

# Snapshots of tens of thousands of assets stream in parts; a generous receive limit keeps
# a single large part (or an older server's unary reply) loading.
MAX_MESSAGE_BYTES = 256 * 1024 * 1024

log = logging.getLogger("weir_controlplane.locations")
T = TypeVar("T")


class LoadFailedError(FailedPreconditionError):
    """The location serves, but the user's code failed to load."""

    def __init__(self, message: str, error: common_pb2.Error | None = None):
        super().__init__(message)
        # The location's own report (class name, stack, cause), kept whole for the API.
        self.error = error if error is not None else common_pb2.Error(message=message)

    @classmethod
    def reported(cls, error: common_pb2.Error) -> LoadFailedError:
        return cls(error.message, error)


# Statuses that say the location could not be reached (or did not answer in time): the
# request may succeed later. Any other status is the location's answer.
_UNREACHABLE = frozenset(
    {
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.CANCELLED,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
    }
)


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
                # Reconnect within seconds of a restarted location listening again, not
                # after gRPC's default backoff of up to two minutes.
                ("grpc.initial_reconnect_backoff_ms", 200),
                ("grpc.min_reconnect_backoff_ms", 200),
                ("grpc.max_reconnect_backoff_ms", 2000),
            ],
        )
        self._stub = cl_grpc.CodeLocationServiceStub(self._channel)

    @property
    def channel(self) -> grpc.Channel:
        """The connection, shared with whoever checks the location's health."""
        return self._channel

    def close(self) -> None:
        self._channel.close()

    def _call(self, what: str, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except grpc.RpcError as err:
            raise self._error(what, err.code(), err.details() or "") from None

    def _error(self, what: str, code: grpc.StatusCode | None, details: str) -> ApiError:
        if code is None or code in _UNREACHABLE:
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
            return UnavailableError(
                f"Code location '{self.name}' at {self.address} is unavailable: no code "
                f"server answered {what}"
            )
        if code == grpc.StatusCode.NOT_FOUND:
            return NotFoundError(details)
        if code == grpc.StatusCode.INVALID_ARGUMENT:
            return InvalidArgumentError(f"Code location '{self.name}' refused {what}: {details}")
        if code == grpc.StatusCode.FAILED_PRECONDITION:
            return LoadFailedError(f"Code location '{self.name}' refused {what}: {details}")
        if code == grpc.StatusCode.UNIMPLEMENTED:
            return UnimplementedError(f"Code location '{self.name}' does not implement {what}")
        return InternalError(
            f"Code location '{self.name}' failed {what}: {code.name}: {details or 'no details'}"
        )

    def info(self) -> cl_pb2.GetLocationInfoResponse:
        return self._call(
            "GetLocationInfo",
            lambda: self._stub.GetLocationInfo(
                cl_pb2.GetLocationInfoRequest(), timeout=min(self.timeout, 10.0)
            ),
        )

    def definitions(
        self, budget: SnapshotBudget | None = None
    ) -> definitions_pb2.DefinitionsSnapshot:
        """The whole snapshot, merged from the streamed parts; `budget` refuses (with
        SnapshotRefusedError) a stream that grows past its limits, before holding it all."""

        def fetch() -> definitions_pb2.DefinitionsSnapshot:
            snapshot = definitions_pb2.DefinitionsSnapshot()
            stream = self._stub.StreamDefinitions(
                cl_pb2.StreamDefinitionsRequest(), timeout=self.timeout * 6
            )
            try:
                for part in stream:
                    if part.HasField("load_error"):
                        raise LoadFailedError.reported(part.load_error)
                    if budget is not None:
                        budget.add(part.part)
                    snapshot.MergeFrom(part.part)
            finally:
                stream.cancel()
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

    def evaluate_sensor(
        self, request: cl_pb2.EvaluateSensorRequest, timeout: float = 60.0
    ) -> cl_pb2.EvaluateSensorResponse:
        return self._evaluate(
            "EvaluateSensor", lambda: self._stub.EvaluateSensor(request, timeout=timeout), timeout
        )

    def evaluate_schedule(
        self, request: cl_pb2.EvaluateScheduleRequest, timeout: float = 60.0
    ) -> cl_pb2.EvaluateScheduleResponse:
        return self._evaluate(
            "EvaluateSchedule",
            lambda: self._stub.EvaluateSchedule(request, timeout=timeout),
            timeout,
        )

    def _evaluate(self, what: str, fn: Callable[[], T], timeout: float) -> T:
        """A tick's call: running out of time is the user function's doing, said so."""
        try:
            return fn()
        except grpc.RpcError as err:
            if err.code() == grpc.StatusCode.DEADLINE_EXCEEDED:
                raise UnavailableError(
                    f"Code location '{self.name}' did not answer {what} within {timeout:g} s "
                    "(the function took too long, or the server is stuck)"
                ) from None
            raise self._error(what, err.code(), err.details() or "") from None
