"""A property-based fuzzer of the API's request messages, on both transports.

Messages are built by hypothesis from each method's request descriptor (every field,
nested messages, maps, enums including unknown values, strings with odd characters), or
taken from a valid request and mutated at the byte level (flipped, cut, spliced). Each is
sent as binary protobuf over gRPC and over Connect (`application/proto`). The property:
every call ends, within a bound, with a proper status: never INTERNAL or UNKNOWN over
gRPC, never a 5xx over HTTP (except unimplemented / unavailable, which are answers).
"""

from __future__ import annotations

import contextlib
from typing import Any

import fuzz_harness
import grpc
import httpx
import pytest
from google.protobuf import message_factory
from google.protobuf.descriptor import Descriptor, FieldDescriptor, MethodDescriptor
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from weir_protos.v1 import control_plane_pb2, reporting_pb2

fuzz_target = fuzz_harness.fuzz_target  # the shared server fixture

CALL_TIMEOUT_S = 20  # a call that takes longer is a hang
EXAMPLES = 25
BAD_GRPC = {grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN, grpc.StatusCode.DEADLINE_EXCEEDED}
SERVER_SIDE_ANSWERS = {501: "unimplemented", 503: "unavailable"}

METHODS: list[MethodDescriptor] = [
    method
    for module in (control_plane_pb2, reporting_pb2)
    for service in module.DESCRIPTOR.services_by_name.values()
    for method in service.methods
]

_TEXT = st.one_of(
    st.sampled_from(["", "orders", "raw/orders", "*", "daily", "2024-01-01", "etl", "prod"]),
    st.text(max_size=40),
    st.text(alphabet="()+* notand,:\"'\\/", max_size=300),
    st.integers(min_value=0, max_value=2**70).map(str),
)
_INTS = {
    FieldDescriptor.TYPE_INT32: st.integers(-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_SINT32: st.integers(-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_SFIXED32: st.integers(-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_UINT32: st.integers(0, 2**32 - 1),
    FieldDescriptor.TYPE_FIXED32: st.integers(0, 2**32 - 1),
    FieldDescriptor.TYPE_INT64: st.integers(-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_SINT64: st.integers(-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_SFIXED64: st.integers(-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_UINT64: st.integers(0, 2**64 - 1),
    FieldDescriptor.TYPE_FIXED64: st.integers(0, 2**64 - 1),
}


def _scalar(field: FieldDescriptor) -> st.SearchStrategy[Any]:
    if field.type in _INTS:
        return _INTS[field.type]
    if field.type == FieldDescriptor.TYPE_ENUM:
        known = [value.number for value in field.enum_type.values]
        return st.one_of(st.sampled_from(known), st.integers(-5, 1000))  # unknown values too
    if field.type == FieldDescriptor.TYPE_BOOL:
        return st.booleans()
    if field.type in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
        return st.floats(allow_nan=True, allow_infinity=True, width=32)
    if field.type == FieldDescriptor.TYPE_BYTES:
        return st.binary(max_size=40)
    return _TEXT


def _is_repeated(field: FieldDescriptor) -> bool:
    return bool(field.is_repeated)


def messages(descriptor: Descriptor, depth: int = 0) -> st.SearchStrategy[Any]:
    """Random messages of `descriptor`: each field set or not, nesting up to 3 levels."""
    message_class = message_factory.GetMessageClass(descriptor)

    @st.composite
    def build(draw: Any) -> Any:
        message = message_class()
        for field in descriptor.fields:
            if not draw(st.booleans()):
                continue
            if field.type == FieldDescriptor.TYPE_MESSAGE:
                if field.message_type.GetOptions().map_entry:
                    value_field = field.message_type.fields_by_name["value"]
                    if value_field.type == FieldDescriptor.TYPE_MESSAGE:
                        continue
                    entries = draw(st.dictionaries(_TEXT, _scalar(value_field), max_size=4))
                    getattr(message, field.name).update(entries)
                    continue
                if depth >= 3 or field.message_type.full_name.startswith("google.protobuf"):
                    continue
                inner = messages(field.message_type, depth + 1)
                if _is_repeated(field):
                    for item in draw(st.lists(inner, max_size=3)):
                        getattr(message, field.name).add().CopyFrom(item)
                else:
                    getattr(message, field.name).CopyFrom(draw(inner))
            elif _is_repeated(field):
                getattr(message, field.name).extend(draw(st.lists(_scalar(field), max_size=4)))
            else:
                # A value this field type cannot hold (say, an odd float width) is skipped.
                with contextlib.suppress(ValueError, TypeError):
                    setattr(message, field.name, draw(_scalar(field)))
        return message

    return build()


@st.composite
def mutated(draw: Any, descriptor: Descriptor) -> bytes:
    """A valid message's bytes with a few byte-level mutations."""
    data = bytearray(draw(messages(descriptor)).SerializeToString())
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "cut", "insert", "duplicate"]))
        position = draw(st.integers(0, len(data)))
        if kind == "flip" and data:
            data[min(position, len(data) - 1)] ^= draw(st.integers(1, 255))
        elif kind == "cut":
            del data[position : position + draw(st.integers(1, 8))]
        elif kind == "insert":
            data[position:position] = draw(st.binary(min_size=1, max_size=8))
        else:
            data += data[:position]
    return bytes(data)


def payloads(descriptor: Descriptor) -> st.SearchStrategy[bytes]:
    return st.one_of(
        messages(descriptor).map(lambda message: message.SerializeToString()),
        mutated(descriptor),
        st.binary(max_size=64),
    )


def _grpc_call(fuzz_target: Any, method: MethodDescriptor, payload: bytes) -> None:
    channel = fuzz_target.server.channel
    path = f"/{method.containing_service.full_name}/{method.name}"
    metadata = (("x-weir-deployment", fuzz_target.deployment),)
    identity: Any = lambda data: data  # noqa: E731 - bytes in, bytes out
    try:
        if method.server_streaming:
            stream = channel.unary_stream(
                path, request_serializer=identity, response_deserializer=identity
            )(payload, timeout=CALL_TIMEOUT_S, metadata=metadata)
            for _ in stream:
                pass
        else:
            channel.unary_unary(path, request_serializer=identity, response_deserializer=identity)(
                payload, timeout=CALL_TIMEOUT_S, metadata=metadata
            )
    except grpc.RpcError as error:
        code = error.code()  # type: ignore[attr-defined]
        assert code not in BAD_GRPC, (path, payload, code, error.details())  # type: ignore[attr-defined]
        assert error.details(), (path, payload, code)  # type: ignore[attr-defined]


def _connect_call(fuzz_target: Any, method: MethodDescriptor, payload: bytes) -> None:
    path = f"/{method.containing_service.full_name}/{method.name}"
    streaming = method.server_streaming
    body = (b"\x00" + len(payload).to_bytes(4, "big") + payload) if streaming else payload
    content_type = "application/connect+proto" if streaming else "application/proto"
    with httpx.Client(timeout=CALL_TIMEOUT_S, trust_env=False) as client:
        reply = client.post(
            f"{fuzz_target.server.http_url}{path}",
            content=body,
            headers={"content-type": content_type, "x-weir-deployment": fuzz_target.deployment},
        )
    if reply.status_code == 200:
        if streaming:  # the end-of-stream message carries any error
            assert b'"code": "internal"' not in reply.content, (path, payload, reply.content)
            assert b'"code": "unknown"' not in reply.content, (path, payload, reply.content)
        return
    error = reply.json()
    assert isinstance(error.get("code"), str), (path, payload, reply.text)
    if reply.status_code >= 500:
        assert SERVER_SIDE_ANSWERS.get(reply.status_code) == error["code"], (path, payload, error)


@pytest.mark.parametrize("method", METHODS, ids=[method.name for method in METHODS])
def test_random_and_mutated_requests_get_a_proper_status_on_both_transports(
    fuzz_target: Any, method: MethodDescriptor
) -> None:
    @given(payload=payloads(method.input_type))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    def check(payload: bytes) -> None:
        _grpc_call(fuzz_target, method, payload)
        _connect_call(fuzz_target, method, payload)

    check()
