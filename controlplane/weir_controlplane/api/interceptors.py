"""The interceptor chain every call goes through, on gRPC and on HTTP alike.

Each interceptor does one job:

- `RequestIdInterceptor`: takes the caller's `x-request-id` or makes one, echoes it
  back, and makes it `current_request_id()` for logs and error messages.
- `ErrorMappingInterceptor`: turns whatever the call raised into a status code and a
  message (see `error_mapping`); nothing raised ever reaches a caller as a traceback.
- `MalformedRequestInterceptor`: refuses request bytes that are no valid message.

Who may call what, and in which deployment, is the job of the access interceptors
(`access_interceptors.py`), which sit between these in the chain that `standard_chain`
builds.

They are standard `grpc.ServerInterceptor`s; both transports resolve a method through
`ControlPlaneApi.intercepted`, which runs the same instances, so a policy added here
holds for gRPC and HTTP alike. An interceptor wraps the method's behaviour in a context
manager (`Around`): a unary call runs inside it once, a streaming call runs each step
(start, every next message) inside it, so context variables are set wherever the step
runs and errors in mid-stream are mapped too. Steps may be synchronous (unary calls,
run in a worker thread) or awaited (WatchRun, an async generator on an event loop);
the policy code is the same for both. The call context it sees answers synchronously:
`send_initial_metadata` and `abort` are recorded or raised, and the transport sends
them (see `grpc_server.GrpcCallContext`, `connect.ConnectCallContext`).
"""

from __future__ import annotations

import inspect
import re
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import grpc

from weir_controlplane.api.context import current_request_id, request_id_var
from weir_controlplane.api.error_mapping import to_api_error
from weir_controlplane.errors import InvalidArgumentError, grpc_status_name

# What an interceptor wraps every step of a call in, given the call's request (None for
# a streamed request) and context.
Around = Callable[[Any, grpc.ServicerContext], AbstractContextManager[None]]

REQUEST_ID_HEADER = "x-request-id"
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,64}$")
_END = object()


def metadata_value(metadata: Sequence[tuple[str, Any]] | None, key: str) -> str | None:
    """The first value of `key` in call metadata (keys are lower case on the wire)."""
    for name, value in metadata or ():
        if name.lower() == key:
            return value if isinstance(value, str) else value.decode()
    return None


def wrap_handler(handler: grpc.RpcMethodHandler, around: Around) -> grpc.RpcMethodHandler:
    """`handler` with its behaviour run inside `around` (each step, for streamed replies)."""
    replacements: dict[str, Callable[..., Any]] = {}
    for kind in ("unary_unary", "stream_unary"):
        behaviour = getattr(handler, kind)
        if behaviour is not None:
            replacements[kind] = (
                _awaited_reply(behaviour, around)
                if inspect.iscoroutinefunction(behaviour)
                else _unary_reply(behaviour, around)
            )
    for kind in ("unary_stream", "stream_stream"):
        behaviour = getattr(handler, kind)
        if behaviour is not None:
            replacements[kind] = (
                _async_streamed_reply(behaviour, around)
                if inspect.isasyncgenfunction(behaviour)
                else _streamed_reply(behaviour, around)
            )
    return handler._replace(**replacements)  # type: ignore[attr-defined]


def _unary_reply(behaviour: Callable[[Any, Any], Any], around: Around) -> Callable[..., Any]:
    def run(request: Any, context: grpc.ServicerContext) -> Any:
        with around(request, context):
            return behaviour(request, context)

    return run


def _awaited_reply(behaviour: Callable[[Any, Any], Any], around: Around) -> Callable[..., Any]:
    async def run(request: Any, context: grpc.ServicerContext) -> Any:
        with around(request, context):
            return await behaviour(request, context)

    return run


def _streamed_reply(
    behaviour: Callable[[Any, Any], Any], around: Around
) -> Callable[..., Iterator[Any]]:
    def run(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
        with around(request, context):
            replies = iter(behaviour(request, context))
        while True:
            with around(request, context):
                reply = next(replies, _END)
            if reply is _END:
                return
            yield reply

    return run


def _async_streamed_reply(
    behaviour: Callable[[Any, Any], Any], around: Around
) -> Callable[..., AsyncIterator[Any]]:
    async def run(request: Any, context: grpc.ServicerContext) -> AsyncIterator[Any]:
        with around(request, context):
            replies = behaviour(request, context).__aiter__()
        try:
            while True:
                with around(request, context):
                    reply = await anext(replies, _END)
                if reply is _END:
                    return
                yield reply
        finally:
            await replies.aclose()  # a caller that left ends the method's stream now

    return run


class RequestIdInterceptor(grpc.ServerInterceptor):
    """Gives every call a request id: the caller's `x-request-id` if sane, else a new one."""

    def intercept_service(self, continuation: Any, details: Any) -> grpc.RpcMethodHandler | None:
        handler = continuation(details)
        if handler is None:
            return None
        incoming = metadata_value(details.invocation_metadata, REQUEST_ID_HEADER)
        request_id = (
            incoming if incoming and _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex[:16]
        )
        echoed = False

        @contextmanager
        def around(request: Any, context: grpc.ServicerContext) -> Iterator[None]:
            nonlocal echoed
            if not echoed:
                echoed = True
                context.send_initial_metadata(((REQUEST_ID_HEADER, request_id),))
            token = request_id_var.set(request_id)
            try:
                yield
            finally:
                request_id_var.reset(token)

        return wrap_handler(handler, around)


class ErrorMappingInterceptor(grpc.ServerInterceptor):
    """Ends a failed call with the status `error_mapping.to_api_error` chooses."""

    def intercept_service(self, continuation: Any, details: Any) -> grpc.RpcMethodHandler | None:
        handler = continuation(details)
        if handler is None:
            return None
        method = details.method

        @contextmanager
        def around(request: Any, context: grpc.ServicerContext) -> Iterator[None]:
            try:
                yield
            except Exception as exc:
                if _already_aborted(context):
                    raise  # an inner layer ended the call with a status of its own
                error = to_api_error(exc, method=method, request_id=current_request_id())
                context.abort(grpc.StatusCode[grpc_status_name(error.code)], error.message)
                raise  # abort raises; this only satisfies the type checker

        return wrap_handler(handler, around)


def _already_aborted(context: grpc.ServicerContext) -> bool:
    # grpcio has had ServicerContext.code() since 1.38; types-grpcio does not list it.
    code = context.code()  # type: ignore[attr-defined]
    return code is not None and code != grpc.StatusCode.OK


class _Malformed:
    """What a request that failed to parse becomes, so the call can refuse it by name."""

    def __init__(self, error: Exception) -> None:
        self.error = error


class MalformedRequestInterceptor(grpc.ServerInterceptor):
    """Refuses a request whose bytes are not a valid message with INVALID_ARGUMENT.

    grpcio answers a request it cannot deserialize with INTERNAL ("Exception
    deserializing request!"), which reads as a bug of ours; the fault is the caller's.
    The handler's deserializer keeps what it could not parse, and the call raises
    InvalidArgumentError for the error layer to answer. (Connect calls parse their body
    themselves; their requests arrive here already parsed.)
    """

    def intercept_service(self, continuation: Any, details: Any) -> grpc.RpcMethodHandler | None:
        handler = continuation(details)
        if handler is None or handler.request_deserializer is None:
            return handler
        deserialize = handler.request_deserializer
        method = details.method

        def tolerant(data: bytes) -> Any:
            try:
                return deserialize(data)
            except Exception as exc:  # DecodeError, or whatever a deserializer raises
                return _Malformed(exc)

        def check(request: Any) -> None:
            if isinstance(request, _Malformed):
                raise InvalidArgumentError(
                    f"the request of {method} is not a valid protobuf message"
                )

        def refuse(behaviour: Callable[..., Any]) -> Callable[..., Any]:
            # The wrapper keeps the behaviour's kind: the servers tell an awaited stream
            # (WatchRun) from a threaded call by it.
            if inspect.isasyncgenfunction(behaviour):

                async def stream(request: Any, context: grpc.ServicerContext) -> Any:
                    check(request)
                    replies = behaviour(request, context)
                    try:
                        async for reply in replies:
                            yield reply
                    finally:
                        await replies.aclose()

                return stream

            def run(request: Any, context: grpc.ServicerContext) -> Any:
                check(request)
                return behaviour(request, context)

            return run

        replacements: dict[str, Any] = {"request_deserializer": tolerant}
        for kind in ("unary_unary", "unary_stream"):
            behaviour = getattr(handler, kind)
            if behaviour is not None:
                replacements[kind] = refuse(behaviour)
        return handler._replace(**replacements)
