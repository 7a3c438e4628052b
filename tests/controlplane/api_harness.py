"""Serving the control-plane API on real ports for the tests/controlplane/test_api_* tests.

The API runs over real storage (the session's SQLite or PostgreSQL database), the real
CodeLocationRegistry and RunCoordinator. Code locations are given as snapshots stored
the way the registry stores a loaded location's, so no code-location process is needed;
the coordinator's queue is not started, so launched runs stay QUEUED until a test
reports events for them.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import grpc
import httpx
import pytest
import uvicorn
from ports import free_port
from weir_controlplane.api import (
    ControlPlaneApi,
    GrpcServerConfig,
    create_connect_app,
    create_server,
)
from weir_controlplane.auth.authenticator import Authenticator
from weir_controlplane.auth.run_tokens import RunTokens
from weir_controlplane.cli import main
from weir_controlplane.locations import CodeLocationRegistry
from weir_controlplane.runs import RunCoordinator, RunSettings
from weir_controlplane.storage import DeploymentScope, Storage
from weir_controlplane.tenancy import DeploymentService
from weir_protos.v1 import (
    common_pb2,
    control_plane_pb2,
    control_plane_pb2_grpc,
    definitions_pb2,
    events_pb2,
    partitions_pb2,
    reporting_pb2,
    reporting_pb2_grpc,
)

CONTROL_PLANE = "/weir.v1.ControlPlaneService"


def key(text: str) -> common_pb2.AssetKey:
    return common_pb2.AssetKey(path=text.split("/"))


def asset(
    name: str,
    *,
    deps: Iterable[str] = (),
    group: str = "default",
    kinds: Iterable[str] = (),
    owners: Iterable[str] = (),
    tags: Mapping[str, str] | None = None,
    checks: Iterable[str] = (),
    partitions: Iterable[str] | None = None,
    executable: bool = True,
) -> definitions_pb2.AssetNode:
    node = definitions_pb2.AssetNode(
        key=key(name),
        deps=[definitions_pb2.AssetDep(asset_key=key(dep)) for dep in deps],
        group_name=group,
        kinds=list(kinds),
        owners=list(owners),
        tags=dict(tags or {}),
        is_executable=executable,
        node_name=name.replace("/", "__"),
        check_specs=[
            definitions_pb2.AssetCheckSpec(name=check, asset_key=key(name)) for check in checks
        ],
    )
    if partitions is not None:
        node.partitions_def.static.CopyFrom(
            partitions_pb2.StaticPartitionsDefinition(keys=list(partitions))
        )
    return node


def sdk_asset(
    name: str,
    partitions_def: Any = None,
    deps: Mapping[str, Any] | None = None,
    backfill_policy: Any = None,
) -> definitions_pb2.AssetNode:
    """An asset as a Python code location's snapshot carries it: SDK partitions definition,
    partition mappings (`deps`: upstream name -> mapping or None) and backfill policy,
    converted by the code server's converters."""
    from weir_codeserver.wire_automation import backfill_policy_message
    from weir_codeserver.wire_partitions import partition_mapping_message, partitions_def_message

    node = asset(name)
    if partitions_def is not None:
        node.partitions_def.CopyFrom(partitions_def_message(partitions_def))
    for upstream, mapping in (deps or {}).items():
        edge = node.deps.add(asset_key=key(upstream))
        if mapping is not None:
            edge.partition_mapping.CopyFrom(partition_mapping_message(mapping))
    if backfill_policy is not None:
        node.backfill_policy.CopyFrom(backfill_policy_message(backfill_policy))
    return node


def snapshot(*assets: definitions_pb2.AssetNode, jobs: Iterable[Any] = ()) -> Any:
    snap = definitions_pb2.DefinitionsSnapshot(assets=list(assets), jobs=list(jobs))
    digest = hashlib.sha256(snap.SerializeToString(deterministic=True)).hexdigest()
    snap.content_hash = f"sha256:{digest}"
    return snap


def add_location(
    storage: Storage, scope: DeploymentScope, name: str, snap: Any, address: str = "127.0.0.1:1"
) -> None:
    """A code location that has loaded `snap`, as the registry records one."""
    storage.code_locations.upsert(scope, name, address=address)
    storage.code_locations.set_loaded(scope, name, snap.content_hash, snap.SerializeToString())


@dataclass
class ApiServer:
    storage: Storage
    registry: CodeLocationRegistry
    coordinator: RunCoordinator
    api: ControlPlaneApi
    grpc_port: int
    http_port: int
    channel: grpc.Channel
    deployments: DeploymentService

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def control_plane(self) -> control_plane_pb2_grpc.ControlPlaneServiceStub:
        return control_plane_pb2_grpc.ControlPlaneServiceStub(self.channel)

    def reporting(self) -> reporting_pb2_grpc.RunReportingServiceStub:
        return reporting_pb2_grpc.RunReportingServiceStub(self.channel)

    def http(self, deployment: str | None = None) -> httpx.Client:
        headers = {"x-weir-deployment": deployment} if deployment else {}
        return httpx.Client(base_url=self.http_url, headers=headers, timeout=30, trust_env=False)

    def report(
        self, scope: DeploymentScope, run_id: str, *events: events_pb2.RunEvent
    ) -> reporting_pb2.ReportEventsResponse:
        return self.reporting().ReportEvents(
            reporting_pb2.ReportEventsRequest(run_id=run_id, events=list(events)),
            metadata=deployment(scope),
        )


def deployment(scope: DeploymentScope) -> tuple[tuple[str, str], ...]:
    """gRPC metadata choosing `scope`'s deployment."""
    return (("x-weir-deployment", scope.name),)


md = deployment


def etl_snapshot() -> definitions_pb2.DefinitionsSnapshot:
    """The "etl" code location most API tests use: raw (external) -> orders -> revenue ->
    report, a partitioned "daily", and a job over orders and revenue."""
    return snapshot(
        asset("raw", group="ingest", kinds=["s3"], executable=False),
        asset("orders", deps=["raw"], group="sales", kinds=["python"], checks=["not_empty"]),
        asset(
            "revenue",
            deps=["orders"],
            group="sales",
            owners=["team:finance"],
            tags={"tier": "gold"},
        ),
        asset("report", deps=["revenue"], group="reporting", kinds=["python"]),
        asset("daily", partitions=["2024-01-01", "2024-01-02"]),
        jobs=[
            definitions_pb2.JobSnapshot(
                name="sales_job", asset_keys=[key("orders"), key("revenue")]
            )
        ],
    )


def launch(server: ApiServer, scope: DeploymentScope, *names: str, **fields: Any) -> Any:
    """A run of the assets `names`, launched over gRPC; returns the weir.v1 Run."""
    request = control_plane_pb2.LaunchRunRequest(asset_keys=[key(n) for n in names], **fields)
    return server.control_plane().LaunchRun(request, metadata=md(scope)).run


def weir(
    server: ApiServer, scope: DeploymentScope, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, str, str]:
    """Run the `weir` command against the test server; (exit code, stdout, stderr)."""
    code = main([*args, "--url", server.http_url, "--deployment", scope.name])
    out, err = capsys.readouterr()
    return code, out, err


def rpc_error(call: Callable[[], Any]) -> grpc.RpcError:
    """The gRPC error `call` fails with."""
    with pytest.raises(grpc.RpcError) as caught:
        call()
    return caught.value


@contextmanager
def serving(storage: Storage, *, auth: bool = False) -> Iterator[ApiServer]:
    """The API over gRPC and HTTP (uvicorn) on free ports, stopped afterwards; with `auth`,
    every call needs a bearer token and launched runs get run tokens."""
    registry = CodeLocationRegistry(storage)
    coordinator = RunCoordinator(storage, registry, RunSettings())
    authenticator = None
    if auth:
        authenticator = Authenticator(storage.access)
        coordinator.run_tokens = RunTokens(storage.access, storage.deployments)
    deployments = DeploymentService(storage.deployments, registry)
    api = ControlPlaneApi.build(
        storage,
        registry,
        coordinator,
        authenticator=authenticator,
        deployment_service=deployments,
    )
    try:
        with serving_api(api, storage) as (grpc_port, http_port, channel):
            yield ApiServer(
                storage, registry, coordinator, api, grpc_port, http_port, channel, deployments
            )
    finally:
        coordinator.stop()
        registry.stop()
        api.close()


@contextmanager
def serving_api(api: ControlPlaneApi, storage: Storage) -> Iterator[tuple[int, int, grpc.Channel]]:
    """`api` on a gRPC port and an HTTP port (uvicorn): (grpc port, http port, channel)."""
    server, grpc_port = create_server(GrpcServerConfig(api=api))
    server.start()
    channel = grpc.insecure_channel(
        f"127.0.0.1:{grpc_port}", options=[("grpc.enable_http_proxy", 0)]
    )
    try:
        with serving_http(create_connect_app(api, storage.deployments)) as http_port:
            yield grpc_port, http_port, channel
    finally:
        channel.close()
        server.stop(None).wait(10)


@contextmanager
def serving_http(app: Any) -> Iterator[int]:
    """An ASGI app on uvicorn on a free loopback port, stopped afterwards: the port."""
    http_port = free_port()
    http = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=http_port,
            log_level="warning",
            lifespan="off",
            access_log=False,
        )
    )
    thread = threading.Thread(target=http.run, name="test-http", daemon=True)
    thread.start()
    started = threading.Event()
    while not http.started and thread.is_alive():
        started.wait(0.01)
    try:
        yield http_port
    finally:
        http.should_exit = True
        thread.join(10)


def event(
    sequence: int, event_type: int, *, step: str = "", message: str = "", **payload: Any
) -> events_pb2.RunEvent:
    """A worker event: `event(2, RUN_EVENT_TYPE_ASSET_MATERIALIZATION, materialization=...)`."""
    return events_pb2.RunEvent(
        sequence=sequence, event_type=event_type, step_key=step, message=message, **payload
    )


def materialized(name: str, partition: str = "") -> events_pb2.AssetMaterialization:
    return events_pb2.AssetMaterialization(asset_key=key(name), partition=partition)
