"""The API over HTTP: the Connect protocol, served by a small Starlette app.

    curl -X POST localhost:3000/weir.v1.ControlPlaneService/GetRun \\
         -H 'content-type: application/json' -d '{"runId": "..."}'

Unary calls follow Connect's unary form: `POST /<service>/<method>`, the request as
protobuf JSON (lowerCamelCase names; `application/proto` bodies work too), the reply
likewise with status 200, and failures as Connect error JSON
(`{"code": "not_found", "message": "..."}`) with the HTTP status the protocol assigns
to the code. Server-streaming calls (WatchRun) use Connect's streaming form: enveloped
`application/connect+json` messages and an end-of-stream message that carries any error.

Calls run through the same interceptors as gRPC calls (request id, error mapping,
deployment scope), with a context object that stands in for gRPC's, so both transports
share one implementation and one error policy. Also served: `GET /healthz` and
`GET /openapi.json`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import struct
import threading
import zlib
from collections import OrderedDict
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Sequence
from typing import Any

import grpc
from google.protobuf import json_format, message_factory
from google.protobuf.descriptor import MethodDescriptor
from google.protobuf.message import DecodeError, Message
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from weir_controlplane.api.call_context import RecordedCallContext
from weir_controlplane.api.handlers import SERVICE_NAMES, ControlPlaneApi
from weir_controlplane.api.host_check import HostCheckMiddleware, host_names
from weir_controlplane.api.json_mapping import to_json_text
from weir_controlplane.api.openapi import openapi_document
from weir_controlplane.errors import CONNECT_HTTP_STATUS, connect_code
from weir_controlplane.storage import DeploymentStorage

log = logging.getLogger("weir_controlplane.api")

JSON = "application/json"
PROTO = "application/proto"
STREAM_JSON = "application/connect+json"
STREAM_PROTO = "application/connect+proto"
MAX_BODY_BYTES = 64 * 1024 * 1024
_ANY_METHOD = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
# Request body encodings Connect clients may use (`content-encoding`); others are refused.
_DECODERS = {"gzip", "identity"}
# A content type the server does not speak: HTTP 415, and the code Connect uses for what
# a server does not support (as for an unsupported compression).
_UNSUPPORTED_MEDIA = "unimplemented"
_END_STREAM_FLAG = 0x02
_END = object()
# Request headers that describe the HTTP exchange, not the call: not passed as metadata.
_TRANSPORT_HEADERS = frozenset(
    {
        "host",
        "content-type",
        "content-length",
        "content-encoding",
        "accept",
        "accept-encoding",
        "connection",
    }
)


class ConnectAbort(Exception):
    """A call ended with a status: raised by `ConnectCallContext.abort`."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class ConnectCallContext(RecordedCallContext):
    """The parts of `grpc.ServicerContext` the interceptors and servicers use, for a call
    that arrived over HTTP."""

    def __init__(self, metadata: Sequence[tuple[str, str]], peer: str) -> None:
        super().__init__(metadata, peer)
        self._active = True
        self.initial_metadata: list[tuple[str, str]] = []
        self.trailing_metadata: list[tuple[str, str]] = []

    def send_initial_metadata(self, metadata: Sequence[tuple[str, str]]) -> None:
        self.initial_metadata.extend(metadata)

    def set_trailing_metadata(self, metadata: Sequence[tuple[str, str]]) -> None:
        self.trailing_metadata = list(metadata)

    def abort(self, code: grpc.StatusCode, details: str) -> None:
        self._code, self._details = code, details
        raise ConnectAbort(connect_code(code.name), details)

    def is_active(self) -> bool:
        return self._active

    def time_remaining(self) -> float | None:
        return None

    def add_callback(self, callback: Callable[[], None]) -> bool:
        return False  # the call's end is visible to servicers through is_active()

    def close(self) -> None:
        self._active = False

    def response_headers(self) -> dict[str, str]:
        headers = dict(self.initial_metadata)
        headers.update({f"trailer-{key}": value for key, value in self.trailing_metadata})
        return headers


def create_connect_app(
    api: ControlPlaneApi,
    deployments: DeploymentStorage | None = None,
    *,
    routes: Sequence[BaseRoute] = (),
    bind_host: str = "",
    allowed_hosts: Sequence[str] = (),
) -> Starlette:
    """The HTTP app: every API method under `/<service>/<method>`, plus health and OpenAPI.

    `routes` come first (say, the web UI); `deployments`, when given, lets `/healthz`
    check the database answers. Requests are answered only when their Host header is
    loopback, `bind_host` or one of `allowed_hosts` (see `host_check`).
    """
    methods = _method_descriptors()
    document: dict[str, Any] = {}

    async def call(request: Request) -> Response:
        path = request.url.path
        descriptor = methods.get(path)
        if descriptor is None:
            return error_response(
                "unimplemented", f"no method {path.lstrip('/')!r}; see /openapi.json", 404
            )
        if request.method != "POST":
            response = error_response(
                "unimplemented", f"{path} takes POST requests, not {request.method}", 405
            )
            response.headers["allow"] = "POST"
            return response
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if descriptor.server_streaming:
            return await _streaming_call(api, request, path, descriptor, content_type)
        return await _unary_call(api, request, path, descriptor, content_type)

    async def healthz(request: Request) -> Response:
        try:
            if deployments is not None:
                await run_in_threadpool(deployments.list_deployments)
        except Exception:
            log.exception("health check: the database does not answer")
            return JSONResponse({"status": "NOT_SERVING"}, status_code=503)
        # Which replica answered, so a probe behind a balancer can tell them apart.
        return JSONResponse({"status": "SERVING", "replica": api.replica_id()})

    async def openapi(request: Request) -> Response:
        if not document:
            document.update(openapi_document())
        return JSONResponse(document)

    return Starlette(
        routes=[
            *routes,
            Route("/healthz", healthz, methods=["GET"]),
            Route("/openapi.json", openapi, methods=["GET"]),
            # Every method reaches `call`, which answers all but POST with a Connect
            # error and `Allow: POST` (Starlette's own 405 would list these methods).
            Route("/{service}/{method}", call, methods=list(_ANY_METHOD)),
        ],
        middleware=[Middleware(HostCheckMiddleware, allowed=host_names(bind_host, allowed_hosts))],
    )


def error_response(
    code: str, message: str, status: int | None = None, headers: dict[str, str] | None = None
) -> Response:
    """A Connect error: `{"code", "message"}` with the code's HTTP status."""
    return JSONResponse(
        {"code": code, "message": message},
        status_code=status or CONNECT_HTTP_STATUS.get(code, 500),
        headers=headers,
    )


def _method_descriptors() -> dict[str, MethodDescriptor]:
    from weir_protos.v1 import control_plane_pb2, reporting_pb2

    found: dict[str, MethodDescriptor] = {}
    for module in (control_plane_pb2, reporting_pb2):
        for service in module.DESCRIPTOR.services_by_name.values():
            if service.full_name in SERVICE_NAMES:
                for method in service.methods:
                    found[f"/{service.full_name}/{method.name}"] = method
    return found


def _metadata(request: Request) -> list[tuple[str, str]]:
    return [
        (name.decode("latin-1").lower(), _header_text(value))
        for name, value in request.headers.raw
        if name.decode("latin-1").lower() not in _TRANSPORT_HEADERS
    ]


def _header_text(value: bytes) -> str:
    """A header value as its sender meant it: UTF-8 (what clients send for non-ASCII,
    gRPC included), else latin-1, the HTTP/1.1 default."""
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value.decode("latin-1")


def _peer(request: Request) -> str:
    client = request.client
    return f"ipv4:{client.host}:{client.port}" if client else "unknown"


async def _read_body(request: Request) -> bytes | Response:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        return error_response(
            "resource_exhausted", f"request body over the limit of {MAX_BODY_BYTES} bytes"
        )
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        return error_response(
            "resource_exhausted", f"request body over the limit of {MAX_BODY_BYTES} bytes"
        )
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in _DECODERS:
        # Connect: a compression the server does not support is `unimplemented`, and the
        # reply says which it does.
        return error_response(
            "unimplemented",
            f"content-encoding {encoding!r} is not supported; send gzip or identity",
            headers={"accept-encoding": "gzip, identity"},
        )
    if encoding == "gzip":
        return _gunzip(body)
    return body


def _gunzip(body: bytes) -> bytes | Response:
    """A gzip body decompressed, refusing one that expands past `MAX_BODY_BYTES`."""
    decompressor = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        data = decompressor.decompress(body, MAX_BODY_BYTES + 1)
    except zlib.error:
        return error_response("invalid_argument", "request body is not valid gzip")
    if len(data) > MAX_BODY_BYTES or decompressor.unconsumed_tail:
        return error_response(
            "resource_exhausted",
            f"request body decompresses past the limit of {MAX_BODY_BYTES} bytes",
        )
    if not decompressor.eof:
        return error_response("invalid_argument", "request body is truncated gzip")
    return data


def _parse(body: bytes, descriptor: MethodDescriptor, binary: bool) -> Message:
    """The request message; ConnectAbort(invalid_argument) naming what is wrong, in words
    of the API (fields, types), never a Python exception's text."""
    message = message_factory.GetMessageClass(descriptor.input_type)()
    type_name = descriptor.input_type.full_name
    if binary:
        try:
            message.ParseFromString(body)
        except DecodeError:
            raise ConnectAbort(
                "invalid_argument", f"request body is not a valid protobuf {type_name}"
            ) from None
        return message
    try:
        document = json.loads(body) if body.strip() else {}
    except (ValueError, RecursionError):  # bad JSON, bad UTF-8, absurd nesting
        raise ConnectAbort(
            "invalid_argument", f"request body is not valid JSON (expected a {type_name})"
        ) from None
    if not isinstance(document, dict):
        raise ConnectAbort(
            "invalid_argument", f"request body must be a JSON object (a {type_name})"
        )
    try:
        json_format.ParseDict(document, message)
    except (json_format.ParseError, RecursionError) as error:
        raise ConnectAbort("invalid_argument", _parse_error(str(error), type_name)) from None
    return message


# The parts of json_format's messages that are its own words; anything else after
# "Failed to parse <field> field:" is a Python exception's text and is not passed on.
_PROTOBUF_PHRASES = (
    "Invalid enum value",
    "Couldn't parse",
    "Value out of range",
    "Map field",
    "Failed to parse timestamp",
    "Failed to parse duration",
    "Repeated field",
    "Expected",
)
_FIELD_ERROR = re.compile(r"^Failed to parse (\w+) field: (.*)$", re.DOTALL)
_UNKNOWN_FIELD = re.compile(r'has no field named "([^"]*)"')


def _parse_error(text: str, type_name: str) -> str:
    unknown = _UNKNOWN_FIELD.search(text)
    if unknown:
        return f"request body has no field {unknown.group(1)[:100]!r} in {type_name}"
    match = _FIELD_ERROR.match(text)
    if match is None:
        return f"request body is not a valid {type_name}"
    field, reason = match.groups()
    while (inner := _FIELD_ERROR.match(reason)) is not None:  # nested messages
        field, reason = f"{field}.{inner.group(1)}", inner.group(2)
    if reason.startswith(_PROTOBUF_PHRASES):
        return f"field {field} of {type_name}: {reason[:300]}"
    return f"field {field} of {type_name} has the wrong type or format"


def _serialize(message: Message, binary: bool) -> bytes:
    if binary:
        return message.SerializeToString()
    return _json(message)


def _wire(message: Message) -> bytes:
    return message.SerializeToString()


def _json(message: Message) -> bytes:
    return to_json_text(message).encode()


def _call_and_encode(
    api: ControlPlaneApi,
    handler: Any,
    message: Message,
    context: ConnectCallContext,
    binary: bool,
) -> bytes:
    # Encoded in the worker thread too: converting a large reply to JSON takes long enough
    # to stall every other request if done on the event loop.
    reply = handler.unary_unary(message, context)
    if binary:
        return api.replies.wire(reply, _wire)  # a kept reply is serialized once
    return api.replies.encoded(reply, _json)  # a kept reply is converted once


async def _unary_call(
    api: ControlPlaneApi,
    request: Request,
    path: str,
    descriptor: MethodDescriptor,
    content_type: str,
) -> Response:
    if content_type not in (JSON, PROTO):
        return error_response(
            _UNSUPPORTED_MEDIA,
            f"unsupported content type {content_type or '(none)'!r}: send {JSON} (or {PROTO})",
            415,
            headers={"accept-post": f"{JSON}, {PROTO}"},
        )
    version = request.headers.get("connect-protocol-version")
    if version is not None and version != "1":
        return error_response(
            "invalid_argument", f"connect-protocol-version {version!r} is not supported; use 1"
        )
    body = await _read_body(request)
    if isinstance(body, Response):
        return body
    binary = content_type == PROTO
    context = ConnectCallContext(_metadata(request), _peer(request))
    try:
        message = _parse(body, descriptor, binary)
        handler = api.intercepted(path, context.invocation_metadata())
        # The same pools as gRPC's: reporting keeps threads (and storage connections) of
        # its own however many HTTP reads arrive.
        encoded = await asyncio.get_running_loop().run_in_executor(
            api.pools.for_method(path), _call_and_encode, api, handler, message, context, binary
        )
    except ConnectAbort as abort:
        return error_response(abort.code, abort.message, headers=context.response_headers())
    except Exception:
        # The error interceptor maps everything raised inside the call; this only
        # catches a failure of the chain itself.
        log.exception("unhandled error serving %s", path)
        return error_response("internal", "internal error", headers=context.response_headers())
    return Response(
        encoded,
        media_type=PROTO if binary else JSON,
        headers=context.response_headers(),
    )


class _StreamEncodings:
    """Encoded stream messages by message object. Watchers of one run share their reply
    messages (run_watch.SharedReads), so each is encoded once rather than once per
    stream; the last `size` are kept, with the message itself so its id stays unique."""

    def __init__(self, size: int = 64) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._by_id: OrderedDict[tuple[int, bool], tuple[Message, bytes]] = OrderedDict()

    def encode(self, message: Message, binary: bool) -> bytes:
        key = (id(message), binary)
        with self._lock:
            known = self._by_id.get(key)
            if known is not None and known[0] is message:
                self._by_id.move_to_end(key)
                return known[1]
        encoded = _serialize(message, binary)
        with self._lock:
            self._by_id[key] = (message, encoded)
            while len(self._by_id) > self._size:
                self._by_id.popitem(last=False)
        return encoded


_stream_encodings = _StreamEncodings()


def _envelope(flags: int, payload: bytes) -> bytes:
    return struct.pack(">BI", flags, len(payload)) + payload


def _unwrap_envelope(body: bytes) -> bytes:
    if len(body) < 5:
        raise ConnectAbort("invalid_argument", "streaming request body holds no enveloped message")
    flags, length = struct.unpack(">BI", body[:5])
    if flags & 0x01:
        raise ConnectAbort("unimplemented", "compressed messages are not supported")
    if len(body) != 5 + length:
        raise ConnectAbort(
            "invalid_argument", "streaming request body must hold exactly one enveloped message"
        )
    return body[5:]


async def _streaming_call(
    api: ControlPlaneApi,
    request: Request,
    path: str,
    descriptor: MethodDescriptor,
    content_type: str,
) -> Response:
    if content_type not in (STREAM_JSON, STREAM_PROTO):
        return error_response(
            _UNSUPPORTED_MEDIA,
            f"{path} streams its reply: send {STREAM_JSON} (Connect's streaming form), "
            f"not {content_type or '(none)'!r}",
            415,
            headers={"accept-post": f"{STREAM_JSON}, {STREAM_PROTO}"},
        )
    body = await _read_body(request)
    if isinstance(body, Response):
        return body
    binary = content_type == STREAM_PROTO
    context = ConnectCallContext(_metadata(request), _peer(request))
    replies: AsyncGenerator[Any, None] | None = None
    first: Any = _END
    failure: ConnectAbort | None = None
    try:
        message = _parse(_unwrap_envelope(body), descriptor, binary)
        handler = api.intercepted(path, context.invocation_metadata())
        # An async generator on this loop: waiting for the next message holds no thread.
        replies = handler.unary_stream(message, context)
        # Run the first step before answering, so that the headers it sets (the request
        # id) go out with the response.
        first = await anext(replies, _END)
    except ConnectAbort as abort:
        failure = abort
    except Exception:
        log.exception("unhandled error serving %s", path)
        failure = ConnectAbort("internal", "internal error")

    async def stream() -> AsyncIterator[bytes]:
        nonlocal failure
        reply = first
        try:
            while reply is not _END and failure is None and replies is not None:
                yield _envelope(0, _stream_encodings.encode(reply, binary))
                try:
                    reply = await anext(replies, _END)
                except ConnectAbort as abort:
                    failure = abort
                except Exception:
                    log.exception("unhandled error serving %s", path)
                    failure = ConnectAbort("internal", "internal error")
            end: dict[str, Any] = {}
            if failure is not None:
                end["error"] = {"code": failure.code, "message": failure.message}
            if context.trailing_metadata:
                end["metadata"] = {key: [value] for key, value in context.trailing_metadata}
            yield _envelope(_END_STREAM_FLAG, json.dumps(end).encode())
        finally:
            # A client that left cancels this generator: end the method's stream with it.
            if replies is not None:
                await replies.aclose()
            context.close()

    return StreamingResponse(
        stream(),
        media_type=STREAM_PROTO if binary else STREAM_JSON,
        headers=dict(context.initial_metadata),
    )
