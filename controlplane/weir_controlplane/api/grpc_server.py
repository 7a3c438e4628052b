"""The API over gRPC: ControlPlaneService and RunReportingService on a `grpc.aio` server,
with health and reflection, every call through the shared interceptor chain.

The server runs on an event loop thread of its own. A WatchRun stream is a coroutine
there and holds no thread while it waits; unary calls run their synchronous handler on
the API's pools (`CallPools`: run reporting apart from reads). Calls resolve their
method through `ControlPlaneApi.intercepted`, as HTTP calls do, with a `GrpcCallContext`
that lets the synchronous policy code work on an asyncio call.
"""

from __future__ import annotations

import asyncio
import inspect
import threading
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1.health import aio as health_aio
from grpc_reflection.v1alpha import reflection

from weir_controlplane.api.call_context import RecordedCallContext
from weir_controlplane.api.handlers import SERVICE_NAMES, ControlPlaneApi

# Snapshots and event batches can be large; the default 4 MiB is too tight for them.
MAX_MESSAGE_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class GrpcServerConfig:
    """Where the gRPC server listens. Port 0 picks a free port. Handler threads are the
    API's (`ControlPlaneApi.pools`), not the server's."""

    api: ControlPlaneApi
    host: str = "127.0.0.1"
    port: int = 0


class CallAborted(Exception):
    """Raised by `GrpcCallContext.abort`: the call ends with the status it recorded."""


class GrpcCallContext(RecordedCallContext):
    """The synchronous `grpc.ServicerContext` the interceptors and servicers use, over a
    `grpc.aio` call. What the asyncio context does by awaiting (initial metadata, abort)
    is recorded here and delivered by `deliver()` on the loop after each step."""

    def __init__(self, call: grpc.aio.ServicerContext[Any, Any]) -> None:
        super().__init__(text_metadata(call.invocation_metadata() or ()), call.peer())
        self._call = call
        remaining = call.time_remaining()
        self._deadline = None if remaining is None else time.monotonic() + remaining
        self._initial: list[tuple[str, str]] = []
        self._initial_sent = False
        self._trailing: Sequence[tuple[str, str]] | None = None
        self._aborted = False

    def send_initial_metadata(self, metadata: Sequence[tuple[str, str]]) -> None:
        self._initial.extend(metadata)

    def set_trailing_metadata(self, metadata: Sequence[tuple[str, str]]) -> None:
        self._trailing = tuple(metadata)

    def abort(self, code: grpc.StatusCode, details: str) -> None:
        self._code, self._details, self._aborted = code, details, True
        raise CallAborted(details)

    def is_active(self) -> bool:
        return not self._call.cancelled()

    def time_remaining(self) -> float | None:
        return None if self._deadline is None else max(0.0, self._deadline - time.monotonic())

    def add_callback(self, callback: Callable[[], None]) -> bool:
        return False

    async def deliver(self) -> None:
        """Send what the last step recorded; ends the call if it aborted (raises)."""
        if self._initial and not self._initial_sent:
            self._initial_sent = True
            await self._call.send_initial_metadata(tuple(self._initial))
        if self._trailing is not None:
            self._call.set_trailing_metadata(self._trailing)
        if self._aborted and self._code is not None:
            await self._call.abort(self._code, self._details)
        if self._code is not None:
            self._call.set_code(self._code)
            self._call.set_details(self._details)


class _ApiHandlers(grpc.GenericRpcHandler):
    """Finds each call's method through the API's interceptor chain, and runs it on
    asyncio: unary handlers in the API's pool for the method, streams on the loop."""

    def __init__(self, api: ControlPlaneApi) -> None:
        self._api = api

    def service(self, details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler | None:
        method: str = details.method
        if method not in self._api.method_handlers:
            return None
        handler = self._api.intercepted(method, text_metadata(details.invocation_metadata))
        if handler is None:
            return None
        if handler.unary_unary is not None:
            serialize, replies = handler.response_serializer, self._api.replies
            return grpc.unary_unary_rpc_method_handler(
                self._unary(method, handler.unary_unary),
                request_deserializer=handler.request_deserializer,
                # A kept reply is serialized once, or sent as joined (api/reply_cache.py).
                response_serializer=lambda reply: replies.wire(reply, serialize),
            )
        return grpc.unary_stream_rpc_method_handler(
            _stream(handler.unary_stream),
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )

    def _unary(self, method: str, behaviour: Callable[..., Any]) -> Callable[..., Any]:
        pool = self._api.pools.for_method(method)

        async def run(request: Any, call: grpc.aio.ServicerContext[Any, Any]) -> Any:
            context = GrpcCallContext(call)
            loop = asyncio.get_running_loop()
            try:
                reply = await loop.run_in_executor(pool, behaviour, request, context)
            except CallAborted:
                reply = None
            await context.deliver()
            return reply

        return run


def _stream(behaviour: Callable[..., AsyncGenerator[Any]]) -> Callable[..., AsyncIterator[Any]]:
    async def run(request: Any, call: grpc.aio.ServicerContext[Any, Any]) -> AsyncIterator[Any]:
        context = GrpcCallContext(call)
        replies = behaviour(request, context)
        try:
            async for reply in replies:
                await context.deliver()
                yield reply
        except CallAborted:
            pass
        finally:
            await replies.aclose()
        await context.deliver()

    return run


def _check_handlers(api: ControlPlaneApi) -> None:
    """Every method is a synchronous unary call or an async server stream: the two kinds
    `_ApiHandlers` serves."""
    for path, handler in api.method_handlers.items():
        unary = handler.unary_unary is not None and not inspect.iscoroutinefunction(
            handler.unary_unary
        )
        stream = handler.unary_stream is not None and inspect.isasyncgenfunction(
            handler.unary_stream
        )
        if not (unary or stream):
            raise TypeError(
                f"{path}: served are synchronous unary methods and async generator streams"
            )


class GrpcApiServer:
    """The API's `grpc.aio` server on its own event loop thread, for synchronous callers.

    Example::

        server, port = create_server(GrpcServerConfig(api=api, port=0))
        server.start()
        ...
        api.set_serving(False)
        server.stop(grace=5).wait()
    """

    def __init__(self, config: GrpcServerConfig) -> None:
        self._api = config.api
        self._loop = asyncio.new_event_loop()
        self._stopped = threading.Event()
        self._stopping = False
        self._thread = threading.Thread(target=self._run_loop, name="grpc-api", daemon=True)
        self._thread.start()
        try:
            self._server, self._health, self.port = self._call(self._build(config))
        except BaseException:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)
            raise
        self._api.serving_listeners.append(self._set_health)

    def start(self) -> None:
        self._call(self._server.start())

    def stop(self, grace: float | None) -> threading.Event:
        """Stop taking calls; in-flight ones get `grace` seconds. The event is set once the
        server and its loop have stopped."""
        if not self._stopping:
            self._stopping = True
            if self._set_health in self._api.serving_listeners:
                self._api.serving_listeners.remove(self._set_health)
            stopping = asyncio.run_coroutine_threadsafe(self._server.stop(grace), self._loop)
            stopping.add_done_callback(lambda _: self._loop.call_soon_threadsafe(self._loop.stop))
        return self._stopped

    async def _build(
        self, config: GrpcServerConfig
    ) -> tuple[grpc.aio.Server, health_aio.HealthServicer, int]:
        _check_handlers(config.api)
        server = grpc.aio.server(
            handlers=(_ApiHandlers(config.api),),
            options=[
                ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
                ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
                # gRPC binds with SO_REUSEPORT by default: a second server on a taken port
                # would share its connections silently instead of failing to start.
                ("grpc.so_reuseport", 0),
            ],
        )
        health = health_aio.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(health, server)
        reflection.enable_server_reflection(
            (
                *SERVICE_NAMES,
                health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
                reflection.SERVICE_NAME,
            ),
            server,
        )
        try:
            port = server.add_insecure_port(f"{config.host}:{config.port}")
        except RuntimeError:  # grpc's word for a failed bind
            port = 0
        if port == 0:
            raise OSError(f"cannot listen for gRPC on {config.host}:{config.port} (in use?)")
        await _set_statuses(health, serving=config.api.serving)
        return server, health, port

    def _set_health(self, serving: bool) -> None:
        if not self._stopping:
            self._call(_set_statuses(self._health, serving=serving))

    def _call(self, coroutine: Any) -> Any:
        future: Future[Any] = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        return future.result(30)

    def _run_loop(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_forever()
            self._loop.run_until_complete(self._loop.shutdown_asyncgens())
        finally:
            self._loop.close()
            self._stopped.set()


async def _set_statuses(health: health_aio.HealthServicer, *, serving: bool) -> None:
    status = (
        health_pb2.HealthCheckResponse.SERVING
        if serving
        else health_pb2.HealthCheckResponse.NOT_SERVING
    )
    for service in ("", *SERVICE_NAMES):
        await health.set(service, status)


def create_server(config: GrpcServerConfig) -> tuple[GrpcApiServer, int]:
    """A bound, not yet started gRPC server and its port; reports SERVING.

    Example::

        server, port = create_server(GrpcServerConfig(api=api, port=0))
        server.start()
        ...
        api.set_serving(False)
        server.stop(grace=5).wait()
    """
    server = GrpcApiServer(config)
    config.api.set_serving(True)
    return server, server.port


def text_metadata(
    metadata: Iterable[tuple[str, str | bytes]],
) -> tuple[tuple[str, str], ...]:
    """The text entries of a call's metadata; binary (`-bin`) entries carry nothing the
    API reads, and the policy layer takes text only."""
    return tuple((key, value) for key, value in metadata if isinstance(value, str))
