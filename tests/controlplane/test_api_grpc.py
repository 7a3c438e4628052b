"""ControlPlaneService over gRPC: every RPC served, health, reflection, request ids,
deployment scoping, code locations."""

from __future__ import annotations

import uuid

import grpc
from api_harness import (
    ApiServer,
    free_port,
    launch,
    md,
    rpc_error,
)
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from weir_controlplane.api.servicer import ControlPlaneServicer
from weir_controlplane.storage import CodeLocationStatus, DeploymentScope
from weir_protos.v1 import control_plane_pb2 as cp

# --- the service is complete ----------------------------------------------------------


def test_every_rpc_of_the_service_descriptor_is_implemented(
    server: ApiServer, etl: DeploymentScope
) -> None:
    service = cp.DESCRIPTOR.services_by_name["ControlPlaneService"]
    missing = [m.name for m in service.methods if m.name not in vars(ControlPlaneServicer)]
    assert missing == []
    # And over the wire: an empty request gets an answer or a real error, never UNIMPLEMENTED.
    for method in service.methods:
        request_class = getattr(cp, method.input_type.name)
        path = f"/{service.full_name}/{method.name}"
        if method.server_streaming:
            call = server.channel.unary_stream(path, request_class.SerializeToString, lambda b: b)
            outcome = lambda c=call, r=request_class: list(c(r(), metadata=md(etl)))  # noqa: E731
        else:
            call = server.channel.unary_unary(path, request_class.SerializeToString, lambda b: b)
            outcome = lambda c=call, r=request_class: c(r(), metadata=md(etl))  # noqa: E731
        try:
            outcome()
        except grpc.RpcError as error:
            assert error.code() != grpc.StatusCode.UNIMPLEMENTED, method.name
            assert error.code() != grpc.StatusCode.INTERNAL, (method.name, error.details())


def test_health_and_reflection_are_served(server: ApiServer) -> None:
    health = health_pb2_grpc.HealthStub(server.channel)
    reply = health.Check(health_pb2.HealthCheckRequest(service="weir.v1.ControlPlaneService"))
    assert reply.status == health_pb2.HealthCheckResponse.SERVING
    reflection = reflection_pb2_grpc.ServerReflectionStub(server.channel)
    replies = reflection.ServerReflectionInfo(
        iter([reflection_pb2.ServerReflectionRequest(list_services="")])
    )
    names = {s.name for s in next(iter(replies)).list_services_response.service}
    assert {"weir.v1.ControlPlaneService", "weir.v1.RunReportingService"} <= names


def test_every_reply_carries_a_request_id_and_echoes_the_callers(
    server: ApiServer, etl: DeploymentScope
) -> None:
    stub = server.control_plane()
    _, call = stub.ListCodeLocations.with_call(cp.ListCodeLocationsRequest(), metadata=md(etl))
    generated = dict(call.initial_metadata())["x-request-id"]
    assert generated
    _, call = stub.ListCodeLocations.with_call(
        cp.ListCodeLocationsRequest(), metadata=(*md(etl), ("x-request-id", "trace-123"))
    )
    assert dict(call.initial_metadata())["x-request-id"] == "trace-123"


# --- deployments ----------------------------------------------------------------------


def test_requests_see_only_the_deployment_their_header_names(
    server: ApiServer, etl: DeploymentScope
) -> None:
    other = server.storage.deployments.ensure_deployment(f"other-{uuid.uuid4().hex[:8]}")
    run = launch(server, etl, "orders")
    stub = server.control_plane()
    assert stub.GetRun(cp.GetRunRequest(run_id=run.run_id), metadata=md(etl)).run.run_id
    error = rpc_error(lambda: stub.GetRun(cp.GetRunRequest(run_id=run.run_id), metadata=md(other)))
    assert error.code() == grpc.StatusCode.NOT_FOUND
    assert stub.ListAssets(cp.ListAssetsRequest(), metadata=md(other)).assets == []
    assert stub.ListRuns(cp.ListRunsRequest(), metadata=md(other)).runs == []


def test_an_unknown_deployment_is_not_found_by_name(server: ApiServer) -> None:
    error = rpc_error(
        lambda: server.control_plane().ListRuns(
            cp.ListRunsRequest(), metadata=(("x-weir-deployment", "nowhere"),)
        )
    )
    assert error.code() == grpc.StatusCode.NOT_FOUND
    assert "nowhere" in error.details()


# --- code locations -------------------------------------------------------------------


def test_code_locations_are_listed_with_status_and_asset_count(
    server: ApiServer, etl: DeploymentScope
) -> None:
    server.storage.code_locations.upsert(etl, "broken", address="127.0.0.1:2")
    server.storage.code_locations.set_unavailable(
        etl, "broken", CodeLocationStatus.ERROR, "SyntaxError: invalid syntax (defs.py, line 3)"
    )
    reply = server.control_plane().ListCodeLocations(
        cp.ListCodeLocationsRequest(), metadata=md(etl)
    )
    by_name = {location.name: location for location in reply.code_locations}
    assert [location.name for location in reply.code_locations] == ["broken", "etl"]
    assert by_name["etl"].status == cp.CODE_LOCATION_STATUS_LOADED
    assert by_name["etl"].asset_count == 5
    assert by_name["broken"].status == cp.CODE_LOCATION_STATUS_ERROR
    assert "SyntaxError" in by_name["broken"].error.message


def test_launching_in_a_location_whose_code_failed_to_load_is_a_failed_precondition(
    server: ApiServer, etl: DeploymentScope
) -> None:
    server.storage.code_locations.set_unavailable(
        etl, "etl", CodeLocationStatus.ERROR, "ImportError: no module named pandas"
    )
    error = rpc_error(lambda: launch(server, etl, "orders"))
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "pandas" in error.details()


# --- adding and removing code locations -----------------------------------------------


def test_a_code_location_added_over_the_api_is_loaded_and_reported(
    server: ApiServer, etl: DeploymentScope
) -> None:
    stub = server.control_plane()
    nothing_there = f"127.0.0.1:{free_port()}"
    created = stub.CreateCodeLocation(
        cp.CreateCodeLocationRequest(name="remote", address=nothing_there), metadata=md(etl)
    ).code_location
    assert created.name == "remote" and created.address == nothing_there
    assert created.status == cp.CODE_LOCATION_STATUS_UNREACHABLE
    # Says no code server answered, not why: a closed port and another server read alike.
    assert created.error.message.endswith("is unavailable: no code server answered GetLocationInfo")
    reloaded = stub.ReloadCodeLocation(
        cp.ReloadCodeLocationRequest(name="remote"), metadata=md(etl)
    ).code_location
    assert reloaded.status == cp.CODE_LOCATION_STATUS_UNREACHABLE
    for name, code in (("remote", grpc.StatusCode.ALREADY_EXISTS), ("bad name!", None)):
        error = rpc_error(
            lambda name=name: stub.CreateCodeLocation(
                cp.CreateCodeLocationRequest(name=name, address=nothing_there), metadata=md(etl)
            )
        )
        assert error.code() == (code or grpc.StatusCode.INVALID_ARGUMENT)
    error = rpc_error(
        lambda: stub.ReloadCodeLocation(cp.ReloadCodeLocationRequest(name="x"), metadata=md(etl))
    )
    assert error.code() == grpc.StatusCode.NOT_FOUND


def test_a_code_location_added_over_the_api_can_be_removed(
    server: ApiServer, etl: DeploymentScope
) -> None:
    stub = server.control_plane()
    stub.CreateCodeLocation(
        cp.CreateCodeLocationRequest(name="remote", address=f"127.0.0.1:{free_port()}"),
        metadata=md(etl),
    )
    stub.DeleteCodeLocation(cp.DeleteCodeLocationRequest(name="remote"), metadata=md(etl))
    listed = stub.ListCodeLocations(cp.ListCodeLocationsRequest(), metadata=md(etl))
    assert [location.name for location in listed.code_locations] == ["etl"]
    error = rpc_error(
        lambda: stub.DeleteCodeLocation(
            cp.DeleteCodeLocationRequest(name="remote"), metadata=md(etl)
        )
    )
    assert error.code() == grpc.StatusCode.NOT_FOUND
