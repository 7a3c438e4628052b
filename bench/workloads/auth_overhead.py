"""What auth costs a request: GetRun over gRPC with and without bearer tokens.

Two API servers over one SQLite database in a temporary directory: one without auth,
one requiring tokens (an admin token of the deployment, sent on every call). Calls
alternate between them in rounds of 200, so drift on a shared machine falls on both
alike. The first call of the token warms the authenticator's cache (by secret hash), as
any token's first call does; every later one is a cache hit, the steady state.

The figures are in the notes: p50 and mean per call for each, their difference (what
auth adds per request), and `Authenticator.authenticate` alone on a cached token.
"""

from __future__ import annotations

import statistics
import time

from bench.spec import Target

TITLE = "auth per request (GetRun over gRPC)"
TIMED = "10 rounds x (200 GetRun without auth + 200 with a bearer token)"
IMPLEMENTATIONS = ("weir",)
NO_EQUIVALENT = "open source Dagster has no API auth"
PARAMS = [{"rounds": 10}]
QUICK_PARAMS = [{"rounds": 3}]
WARMUP_PARAMS = None
REPEAT = 3
ORDER = 62
CALLS_PER_ROUND = 200

_SAMPLES: dict[str, list[float]] = {"without auth": [], "with auth": []}


def target(params):
    return Target(max_seconds=None, min_speedup=None)


def run(bench):
    from datetime import UTC, datetime

    import grpc
    from weir_controlplane.api import ControlPlaneApi, GrpcServerConfig, create_server
    from weir_controlplane.auth.authenticator import Authenticator
    from weir_controlplane.auth.roles import Role
    from weir_controlplane.auth.secrets import hash_secret, new_secret
    from weir_controlplane.locations import CodeLocationRegistry
    from weir_controlplane.runs import RunCoordinator, RunSettings
    from weir_controlplane.storage import NewRun, NewToken, Storage
    from weir_protos.v1 import control_plane_pb2, control_plane_pb2_grpc

    with bench.temp_dir() as tmp:
        storage = Storage.open(f"sqlite:///{tmp}/weir.db")
        scope = storage.deployments.get_scope("prod")
        run_id = storage.runs.create_run(scope, NewRun(code_location="bench")).run_id
        secret = new_secret()
        storage.access.create_token(
            NewToken(
                organization_id=storage.deployments.default_organization_id(),
                kind="user",
                name="bench",
                role=Role.ADMIN.value,
                secret_hash=hash_secret(secret),
                created_at=datetime.now(UTC),
                deployment=scope,
            )
        )
        authenticator = Authenticator(storage.access)
        servers, stubs, closers = {}, {}, []
        for name, auth in (("without auth", None), ("with auth", authenticator)):
            registry = CodeLocationRegistry(storage)
            coordinator = RunCoordinator(storage, registry, RunSettings())
            api = ControlPlaneApi.build(storage, registry, coordinator, authenticator=auth)
            server, port = create_server(GrpcServerConfig(api=api))
            server.start()
            channel = grpc.insecure_channel(
                f"127.0.0.1:{port}", options=[("grpc.enable_http_proxy", 0)]
            )
            servers[name] = server
            stubs[name] = control_plane_pb2_grpc.ControlPlaneServiceStub(channel)
            closers.append((channel, server, coordinator, registry, api))
        metadata = {
            "without auth": (("x-weir-deployment", "prod"),),
            "with auth": (("x-weir-deployment", "prod"), ("authorization", f"Bearer {secret}")),
        }
        request = control_plane_pb2.GetRunRequest(run_id=run_id)
        try:
            for name, stub in stubs.items():  # connect and warm both (and the token cache)
                stub.GetRun(request, metadata=metadata[name], timeout=5)
            with bench.timed():
                for _ in range(bench.params["rounds"]):
                    for name, stub in stubs.items():
                        samples = _SAMPLES[name]
                        for _ in range(CALLS_PER_ROUND):
                            started = time.perf_counter()
                            stub.GetRun(request, metadata=metadata[name], timeout=5)
                            samples.append((time.perf_counter() - started) * 1000)
            header = f"Bearer {secret}"
            started = time.perf_counter()
            for _ in range(10_000):
                authenticator.authenticate(header)
            cached_us = (time.perf_counter() - started) / 10_000 * 1e6
            off, on = (sorted(_SAMPLES[name]) for name in ("without auth", "with auth"))
            for name, ordered in (("without auth", off), ("with auth", on)):
                bench.note(
                    f"GetRun {name} ms",
                    {
                        "p50": round(ordered[len(ordered) // 2], 3),
                        "mean": round(statistics.fmean(ordered), 3),
                        "calls": len(ordered),
                    },
                )
            bench.note(
                "auth adds ms per request",
                {
                    "p50": round(on[len(on) // 2] - off[len(off) // 2], 3),
                    "mean": round(statistics.fmean(on) - statistics.fmean(off), 3),
                },
            )
            bench.note("authenticate() on a cached token, µs", round(cached_us, 1))
        finally:
            for channel, server, coordinator, registry, api in closers:
                channel.close()
                server.stop(None).wait(10)
                coordinator.stop()
                registry.stop()
                api.close()
            storage.close()
