"""CodeLocationClient: a location's status codes keep their meaning on the control plane's side.

The location here is a bare gRPC server that answers ExecuteRun with one status, as any
code location (in any language) might.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import grpc
import pytest
from api_harness import free_port
from weir_controlplane.errors import (
    ApiError,
    InternalError,
    InvalidArgumentError,
    NotFoundError,
    UnavailableError,
    UnimplementedError,
)
from weir_controlplane.locations import CodeLocationClient, LoadFailedError
from weir_protos.v1 import code_location_pb2 as cl_pb2


@pytest.fixture
def refusing_location() -> Iterator[tuple[str, list[grpc.StatusCode]]]:
    """A location whose ExecuteRun aborts with the status last put in the list."""
    answer: list[grpc.StatusCode] = [grpc.StatusCode.OK]

    def execute_run(request: bytes, context: grpc.ServicerContext) -> bytes:
        context.abort(answer[-1], f"said {answer[-1].name}")

    handler = grpc.method_handlers_generic_handler(
        "weir.v1.CodeLocationService",
        {"ExecuteRun": grpc.unary_unary_rpc_method_handler(execute_run)},
    )
    server = grpc.server(ThreadPoolExecutor(max_workers=2))
    server.add_generic_rpc_handlers((handler,))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield f"127.0.0.1:{port}", answer
    server.stop(0)


@pytest.mark.parametrize(
    ("status", "error_class", "says"),
    [
        (grpc.StatusCode.INVALID_ARGUMENT, InvalidArgumentError, "refused ExecuteRun"),
        (grpc.StatusCode.FAILED_PRECONDITION, LoadFailedError, "refused ExecuteRun"),
        (grpc.StatusCode.NOT_FOUND, NotFoundError, "said NOT_FOUND"),
        (grpc.StatusCode.INTERNAL, InternalError, "failed ExecuteRun: INTERNAL"),
        (grpc.StatusCode.UNKNOWN, InternalError, "failed ExecuteRun: UNKNOWN"),
        (grpc.StatusCode.UNAVAILABLE, UnavailableError, "is unavailable"),
        (grpc.StatusCode.RESOURCE_EXHAUSTED, UnavailableError, "is unavailable"),
    ],
)
def test_an_answer_keeps_its_meaning_and_the_locations_message(
    refusing_location: tuple[str, list[grpc.StatusCode]],
    status: grpc.StatusCode,
    error_class: type[ApiError],
    says: str,
) -> None:
    address, answer = refusing_location
    answer.append(status)
    client = CodeLocationClient("etl", address)
    try:
        with pytest.raises(error_class) as raised:
            client.execute_run(cl_pb2.ExecuteRunRequest(run_id="r1"))
    finally:
        client.close()
    assert type(raised.value) is error_class
    assert says in raised.value.message
    if error_class is UnavailableError:
        # Whatever answered, a caller learns only that no code server did (what it said
        # would tell a closed port from another server); the server's log keeps it.
        assert "said" not in raised.value.message
    else:
        assert f"said {status.name}" in raised.value.message


def test_an_unimplemented_rpc_says_so(refusing_location) -> None:
    address, _ = refusing_location
    client = CodeLocationClient("etl", address)
    try:
        with pytest.raises(UnimplementedError, match="does not implement GetRunStatus"):
            client.run_status("r1")
    finally:
        client.close()


def test_nothing_listening_is_unavailable() -> None:
    address = f"127.0.0.1:{free_port()}"
    client = CodeLocationClient("etl", address, timeout=2)
    try:
        with pytest.raises(UnavailableError, match=f"'etl' at {address} is unavailable"):
            client.execute_run(cl_pb2.ExecuteRunRequest(run_id="r1"))
    finally:
        client.close()
