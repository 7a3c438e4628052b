"""One error mapping for both transports: gRPC status codes, Connect codes and HTTP statuses."""

from __future__ import annotations

import logging
from typing import Any

import grpc
import httpx
import pytest
from api_harness import serving_api
from weir_controlplane import errors
from weir_controlplane.api import ControlPlaneApi
from weir_controlplane.api.access_interceptors import standard_chain
from weir_controlplane.api.reporting import RunReportingServicer
from weir_controlplane.api.servicer import ControlPlaneServicer
from weir_controlplane.errors import CONNECT_HTTP_STATUS, ApiError, grpc_status_name
from weir_controlplane.storage import Storage
from weir_protos.v1 import control_plane_pb2 as cp
from weir_protos.v1 import control_plane_pb2_grpc as cp_grpc

# The Connect protocol's table of error codes and HTTP statuses
# (https://connectrpc.com/docs/protocol#error-codes).
CONNECT_SPEC = {
    "canceled": 499,
    "unknown": 500,
    "invalid_argument": 400,
    "deadline_exceeded": 504,
    "not_found": 404,
    "already_exists": 409,
    "permission_denied": 403,
    "resource_exhausted": 429,
    "failed_precondition": 400,
    "aborted": 409,
    "out_of_range": 400,
    "unimplemented": 501,
    "internal": 500,
    "unavailable": 503,
    "data_loss": 500,
    "unauthenticated": 401,
}


class FailingServicer(ControlPlaneServicer):
    """GetRun fails as its run_id says: with the ApiError of that code, or "crash" for a bug."""

    def __init__(self) -> None:
        pass  # no services behind it: only GetRun is ever called

    def GetRun(self, request: cp.GetRunRequest, context: Any) -> cp.GetRunResponse:
        if request.run_id == "crash":
            raise RuntimeError("secret internals: password=hunter2")
        raise ApiError.from_code(request.run_id, f"it failed with {request.run_id}")


@pytest.fixture(scope="module")
def failing(storage: Storage) -> Any:
    api = ControlPlaneApi(
        control_plane=FailingServicer(),
        reporting=RunReportingServicer(storage.events, storage.runs, coordinator=None),  # type: ignore[arg-type]
        interceptors=standard_chain(storage.deployments, storage.audit, authenticator=None),
    )
    with serving_api(api, storage) as (_, http_port, channel):
        yield cp_grpc.ControlPlaneServiceStub(channel), f"http://127.0.0.1:{http_port}"


def test_the_error_table_is_the_connect_protocols() -> None:
    assert CONNECT_HTTP_STATUS == CONNECT_SPEC
    # Every code is a gRPC status code too.
    assert {grpc.StatusCode[grpc_status_name(code)] for code in CONNECT_SPEC} == set(
        grpc.StatusCode
    ) - {grpc.StatusCode.OK}


@pytest.mark.parametrize(
    ("error_class", "code", "status"),
    [
        (errors.InvalidArgumentError, "invalid_argument", 400),
        (errors.NotFoundError, "not_found", 404),
        (errors.AlreadyExistsError, "already_exists", 409),
        (errors.FailedPreconditionError, "failed_precondition", 400),
        (errors.PermissionDeniedError, "permission_denied", 403),
        (errors.UnauthenticatedError, "unauthenticated", 401),
        (errors.UnimplementedError, "unimplemented", 501),
        (errors.InternalError, "internal", 500),
        (errors.UnavailableError, "unavailable", 503),
    ],
)
def test_each_error_class_has_its_code_and_status_and_comes_back_as_itself(
    error_class: type[ApiError], code: str, status: int
) -> None:
    error = error_class("what to fix")
    assert (error.code, error.http_status) == (code, status)
    rebuilt = ApiError.from_code(code, "what to fix")
    assert type(rebuilt) is error_class and rebuilt.message == "what to fix"


@pytest.mark.parametrize("code", sorted(CONNECT_SPEC))
def test_both_transports_answer_an_error_with_the_same_code(failing: Any, code: str) -> None:
    stub, url = failing
    with pytest.raises(grpc.RpcError) as caught:
        stub.GetRun(cp.GetRunRequest(run_id=code))
    assert caught.value.code() == grpc.StatusCode[grpc_status_name(code)]
    assert caught.value.details() == f"it failed with {code}"
    reply = httpx.post(
        f"{url}/weir.v1.ControlPlaneService/GetRun", json={"runId": code}, trust_env=False
    )
    assert reply.status_code == CONNECT_SPEC[code]
    assert reply.headers["content-type"] == "application/json"
    assert reply.json() == {"code": code, "message": f"it failed with {code}"}


def test_a_bug_is_logged_with_the_request_id_and_never_shown_to_the_caller(
    failing: Any, caplog: pytest.LogCaptureFixture
) -> None:
    stub, url = failing
    caplog.set_level(logging.ERROR, logger="weir_controlplane.api")
    with pytest.raises(grpc.RpcError) as caught:
        stub.GetRun(cp.GetRunRequest(run_id="crash"), metadata=(("x-request-id", "req-grpc-1"),))
    assert caught.value.code() == grpc.StatusCode.INTERNAL
    assert "req-grpc-1" in caught.value.details()
    assert "hunter2" not in caught.value.details()

    reply = httpx.post(
        f"{url}/weir.v1.ControlPlaneService/GetRun",
        json={"runId": "crash"},
        headers={"x-request-id": "req-http-1"},
        trust_env=False,
    )
    assert reply.status_code == 500
    assert reply.json()["code"] == "internal"
    assert "req-http-1" in reply.json()["message"]
    assert "hunter2" not in reply.text and "Traceback" not in reply.text
    assert reply.headers["x-request-id"] == "req-http-1"

    logged = [r for r in caplog.records if r.exc_info]
    assert {"req-grpc-1", "req-http-1"} <= {r.args[1] for r in logged}  # type: ignore[index]
    assert all("hunter2" in str(r.exc_info[1]) for r in logged)  # type: ignore[index]
