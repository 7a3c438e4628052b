"""CodeLocationService over gRPC: each RPC maps to the location, the run supervisor or ticks.

Handlers may return bytes that are already a serialized reply (the cached definitions),
which go out as they are: registering the methods here, rather than through the
generated helper, is what lets a 50,000-asset snapshot be sent without serializing it
on every call.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

import grpc
from google.protobuf import message_factory
from weir_protos.v1 import code_location_pb2

from weir_codeserver.location import LoadedLocation
from weir_codeserver.run_plan import RunRequestError
from weir_codeserver.supervisor import RunSupervisor
from weir_codeserver.ticks import (
    UnknownInstigatorError,
    evaluate_schedule,
    evaluate_sensor,
)

log = logging.getLogger(__name__)

SERVICE_NAME = "weir.v1.CodeLocationService"
_SERVICE = code_location_pb2.DESCRIPTOR.services_by_name["CodeLocationService"]


class CodeLocationServicer:
    def __init__(self, location: LoadedLocation, supervisor: RunSupervisor | None):
        self.location = location
        self.supervisor = supervisor

    def _require_loaded(self, context: grpc.ServicerContext) -> None:
        if self.location.load_error is not None:
            context.abort(grpc.StatusCode.FAILED_PRECONDITION, self.location.load_error.message)

    def GetLocationInfo(self, request: Any, context: grpc.ServicerContext) -> Any:
        return self.location.info()

    def GetDefinitions(self, request: Any, context: grpc.ServicerContext) -> Any:
        if self.location.load_error is not None:  # the contract's answer, not a status error
            return code_location_pb2.GetDefinitionsResponse(load_error=self.location.error())
        return self.location.definitions_response()

    def StreamDefinitions(self, request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
        if self.location.load_error is not None:
            yield code_location_pb2.StreamDefinitionsResponse(load_error=self.location.error())
            return
        yield from self.location.stream_responses()

    def EvaluateSensor(self, request: Any, context: grpc.ServicerContext) -> Any:
        self._require_loaded(context)
        return self._tick(evaluate_sensor, request, context)

    def EvaluateSchedule(self, request: Any, context: grpc.ServicerContext) -> Any:
        self._require_loaded(context)
        return self._tick(evaluate_schedule, request, context)

    def _tick(self, evaluate: Callable[..., Any], request: Any, context: Any) -> Any:
        try:
            return evaluate(self.location.definitions, request)
        except UnknownInstigatorError as exc:
            context.abort(grpc.StatusCode.NOT_FOUND, str(exc.args[0]))

    def ExecuteRun(self, request: Any, context: grpc.ServicerContext) -> Any:
        self._require_loaded(context)
        assert self.supervisor is not None
        try:
            record = self.supervisor.execute(request)
        except RunRequestError as exc:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        return code_location_pb2.ExecuteRunResponse(worker_id=record.worker_id)

    def CancelRun(self, request: Any, context: grpc.ServicerContext) -> Any:
        was_running = self.supervisor.cancel(request.run_id) if self.supervisor else None
        if was_running is None:
            context.abort(
                grpc.StatusCode.NOT_FOUND, f"This code location has no run '{request.run_id}'"
            )
        return code_location_pb2.CodeLocationServiceCancelRunResponse(was_running=was_running)

    def GetRunStatus(self, request: Any, context: grpc.ServicerContext) -> Any:
        found = self.supervisor.status(request.run_id) if self.supervisor else None
        if found is None:
            context.abort(
                grpc.StatusCode.NOT_FOUND, f"This code location has no run '{request.run_id}'"
            )
        record, alive = found
        return code_location_pb2.GetRunStatusResponse(
            status=f"RUN_STATUS_{record.status}",  # the status name our workers report
            worker_alive=alive,
            worker_id=record.worker_id,
            last_sequence=record.last_sequence,
            acknowledged_sequence=record.acknowledged_sequence,
        )


def _serialize(response: Any) -> bytes:
    return response if isinstance(response, bytes) else response.SerializeToString()


def add_to_server(servicer: CodeLocationServicer, server: grpc.Server) -> None:
    """Register every method of the service; fails if the servicer lacks one."""
    handlers = {}
    for method in _SERVICE.methods:
        implementation = getattr(servicer, method.name)
        request_class = message_factory.GetMessageClass(method.input_type)
        factory = (
            grpc.unary_stream_rpc_method_handler
            if method.server_streaming
            else grpc.unary_unary_rpc_method_handler
        )
        handlers[method.name] = factory(
            implementation,
            request_deserializer=request_class.FromString,
            response_serializer=_serialize,
        )
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE_NAME, handlers),))
