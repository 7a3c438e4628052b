"""A hostile or broken code location (any server speaking the protos) is refused with a
clear load error, and the other locations of the deployment are unharmed.

The hostile servers here are hand-written CodeLocationService servers, as a third-party
code location in another language would be."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent import futures
from typing import Any

import grpc
import pytest
from api_harness import asset
from weir_controlplane.locations import CodeLocationRegistry
from weir_controlplane.locations.snapshot_check import SnapshotLimits
from weir_controlplane.locations.workspace import LocationSpec
from weir_controlplane.storage import CodeLocationStatus, DeploymentScope, Storage
from weir_protos.v1 import code_location_pb2 as cl
from weir_protos.v1 import code_location_pb2_grpc as cl_grpc
from weir_protos.v1 import definitions_pb2

Parts = Callable[[], Iterable[definitions_pb2.DefinitionsSnapshot]]


class ServedSnapshot(cl_grpc.CodeLocationServiceServicer):
    """Streams whatever parts it is given, under a fresh content hash."""

    def __init__(self, parts: Parts) -> None:
        self.parts = parts
        self.content_hash = f"sha256:{uuid.uuid4().hex}"
        self.parts_sent = 0

    def GetLocationInfo(self, request: Any, context: Any) -> Any:
        return cl.GetLocationInfoResponse(server_id="hostile", content_hash=self.content_hash)

    def StreamDefinitions(self, request: Any, context: Any) -> Iterator[Any]:
        for index, part in enumerate(self.parts()):
            if index == 0:
                part.content_hash = self.content_hash
            self.parts_sent += 1
            yield cl.StreamDefinitionsResponse(part=part)


@pytest.fixture
def serve() -> Iterator[Callable[[Parts], tuple[str, ServedSnapshot]]]:
    servers: list[grpc.Server] = []

    def start(parts: Parts) -> tuple[str, ServedSnapshot]:
        servicer = ServedSnapshot(parts)
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        cl_grpc.add_CodeLocationServiceServicer_to_server(servicer, server)
        port = server.add_insecure_port("127.0.0.1:0")
        server.start()
        servers.append(server)
        return f"127.0.0.1:{port}", servicer

    yield start
    for server in servers:
        server.stop(0).wait()


def _one(*nodes: definitions_pb2.AssetNode) -> Parts:
    return lambda: [definitions_pb2.DefinitionsSnapshot(assets=list(nodes))]


def _unknown_backoff() -> definitions_pb2.AssetNode:
    node = asset("retried")
    node.retry_policy.max_retries = 2
    node.retry_policy.backoff = 99  # type: ignore[assignment]
    return node


def _unknown_null_in_metadata() -> definitions_pb2.AssetNode:
    """Among assets with no enum-bearing field set, the one whose metadata holds one."""
    node = asset("described")
    node.metadata.add(label="owner").value.text = "data"
    node.metadata.add(label="nothing").value.null = 7  # type: ignore[assignment]
    return node


def _a_million_assets() -> Iterator[definitions_pb2.DefinitionsSnapshot]:
    for start in range(0, 1_000_000, 1000):
        yield definitions_pb2.DefinitionsSnapshot(
            assets=[asset(f"a{n}") for n in range(start, start + 1000)]
        )


@pytest.mark.parametrize(
    ("parts", "complaint"),
    [
        (
            _one(asset("a", deps=["b"]), asset("b", deps=["a"])),
            "dependency cycle among asset(s) 'a', 'b'",
        ),
        (_one(asset("twice"), asset("twice")), "defines asset(s) 'twice' more than once"),
        (_one(_unknown_backoff()), "sent 99 for assets.retry_policy.backoff"),
        (
            _one(asset("plain"), _unknown_null_in_metadata()),
            "sent 7 for assets.metadata.value.null",
        ),
        (_a_million_assets, "defines more than 100,000 assets"),
    ],
    ids=["cycle", "duplicate", "unknown-enum", "unknown-enum-in-metadata", "a-million-assets"],
)
def test_a_hostile_location_is_refused_and_harms_no_other(
    storage: Storage, scope: DeploymentScope, serve: Any, parts: Parts, complaint: str
) -> None:
    good_address, _ = serve(_one(asset("orders"), asset("revenue", deps=["orders"])))
    bad_address, bad = serve(parts)
    registry = CodeLocationRegistry(storage)
    try:
        states = registry.sync(
            scope,
            [LocationSpec("good", address=good_address), LocationSpec("bad", address=bad_address)],
        )
        by_name = {state.name: state for state in states}

        assert by_name["bad"].status is CodeLocationStatus.ERROR
        assert by_name["bad"].error is not None and complaint in by_name["bad"].error
        assert by_name["good"].status is CodeLocationStatus.LOADED
        assert registry.graph(scope, "good").toposorted == ["orders", "revenue"]
        assert set(registry.all_graphs(scope)) == {"good"}
        if parts is _a_million_assets:
            assert bad.parts_sent < 200  # refused as it streamed, not after a million
    finally:
        registry.stop()


def test_a_snapshot_over_the_byte_limit_is_refused(
    storage: Storage, scope: DeploymentScope, serve: Any
) -> None:
    big = asset("big")
    big.description = "x" * 2_000_000
    address, _ = serve(_one(big))
    registry = CodeLocationRegistry(storage, limits=SnapshotLimits(max_bytes=1024 * 1024))
    try:
        state = registry.add(scope, LocationSpec("big", address=address))
        assert state.status is CodeLocationStatus.ERROR
        assert state.error is not None and "snapshot over 1 MiB" in state.error
    finally:
        registry.stop()
