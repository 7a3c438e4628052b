"""Measure the asset reads of a 10,000-asset deployment over the API (targets in issue 16).

    .venv/bin/python bench/asset_reads.py            # print the figures
    .venv/bin/python bench/asset_reads.py --write    # and put them in RESULTS.md
    .venv/bin/python bench/asset_reads.py --assets 1000 --profile /tmp/reads.prof

In this process, on a SQLite file (as `weir dev` runs): one code location whose snapshot
is what the code server builds from bench/workloads/_layered.py (10,000 assets, 100 a
layer, each reading two of the layer before), with every asset materialized and checked
through the real ingest. The API is served on real ports (gRPC, and HTTP/JSON on
uvicorn) and called by a client, twice over: in the same process (its parsing of the
replies counted in the process's CPU time with the server's) and in a process of its own,
as a real client is (the server's CPU time and the client's apart). Timed, each as the
median of `--repeat` runs:

- every asset through `ListAssets` over HTTP/JSON, pages of 1,000, full view and HEALTH
  view: "cold" right after a recorded state change (one new materialization, so no built
  reply can be reused) and "warm" (nothing changed since the last listing);
- `GetAssetLineage` of the whole graph (`selection: "*"`, full and HEALTH view) and of
  everything upstream of one sink (5,050 assets), over gRPC, cold and warm likewise.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import multiprocessing
import re
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, NamedTuple

ROOT = Path(__file__).resolve().parents[1]
if __package__ in (None, ""):  # run as a script: make the `bench` package importable
    sys.path.insert(0, str(ROOT))

import grpc  # noqa: E402
import uvicorn  # noqa: E402
import weir  # noqa: E402
from weir_codeserver.snapshot import build_snapshot  # noqa: E402
from weir_controlplane.api import (  # noqa: E402
    ControlPlaneApi,
    GrpcServerConfig,
    create_connect_app,
    create_server,
)
from weir_controlplane.locations import CodeLocationRegistry  # noqa: E402
from weir_controlplane.runs import RunCoordinator, RunSettings  # noqa: E402
from weir_controlplane.runs.events import to_new_event  # noqa: E402
from weir_controlplane.storage import NewRun, Storage  # noqa: E402
from weir_protos.v1 import common_pb2, events_pb2  # noqa: E402
from weir_protos.v1 import control_plane_pb2 as cp  # noqa: E402
from weir_protos.v1 import control_plane_pb2_grpc as cp_grpc  # noqa: E402

from bench.report import Took, run_context_lines, show_kept_section, timed_call  # noqa: E402
from bench.workloads._layered import layered_assets  # noqa: E402

RESULTS = ROOT / "bench" / "RESULTS.md"
PAGE = 1000
_NEXT_CURSOR = re.compile(rb'"nextCursor":"([^"]+)"\}$')
BATCH = 500
E = events_pb2


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assets", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--write", action="store_true", help="put the figures in RESULTS.md")
    parser.add_argument("--profile", help="cProfile the cold reads into this file")
    args = parser.parse_args()
    began = _now()
    with tempfile.TemporaryDirectory() as home:
        storage = Storage.open(f"sqlite:///{home}/bench.db")
        try:
            lines, apart = Reads(storage, args.assets).measure(args.repeat, args.profile)
        finally:
            storage.close()
    section = "\n".join(
        [
            "## Asset reads at 10,000 assets (`bench/asset_reads.py`)",
            "",
            "Written by `bench/asset_reads.py --write` (see its docstring): a 10,000-asset "
            "layered location, every asset materialized and checked, the API on real ports, "
            "its client in the same process and then in one of its own. Cold: the first read "
            "after a recorded state "
            "change (nothing built can be reused); warm: the same read again. Built replies "
            "are kept per (deployment, definitions hash, locations the caller may read, "
            "request, asset state revision) in `api/reply_cache.py`, their JSON beside them. "
            "Each figure is the median of the runs, wall clock with CPU time (on this shared "
            "2-core machine the steadier figure: see the load average; at a load of 13-16, "
            "wall clock is mostly waiting for a core). "
            "HTTP listings are timed to the last reply body read; decoding 13 MB of JSON "
            "into Python objects is the client's cost (about 250 ms here) and not counted.",
            "",
            *run_context_lines(began, _now()),
            "",
            "Client in the server's process (its parsing of the replies in the CPU time):",
            "",
            "| read | assets | cold: after a state change | warm: kept reply | target |",
            "| --- | --- | --- | --- | --- |",
            *lines,
            "",
            "Client in a process of its own, as a real client is (wall clock as the client "
            "sees it; the server's process's CPU time and the client's apart):",
            "",
            "| read | assets | cold: after a state change | warm: kept reply | target |",
            "| --- | --- | --- | --- | --- |",
            *apart,
        ]
    )
    show_kept_section(RESULTS, "asset-reads", section, write=args.write)
    return 0


class Reads:
    def __init__(self, storage: Storage, assets: int) -> None:
        self.storage = storage
        self.assets = assets
        self.scope = storage.deployments.ensure_deployment("bench")
        built = build_snapshot(weir.Definitions(assets=layered_assets(weir, assets)), {})
        storage.code_locations.upsert(self.scope, "bench", address="127.0.0.1:1")
        storage.code_locations.set_loaded(
            self.scope, "bench", built.content_hash, built.snapshot_bytes
        )
        self.names = [f"a_{i // 100}_{i % 100}" for i in range(assets)]
        registry = CodeLocationRegistry(storage)
        coordinator = RunCoordinator(storage, registry, RunSettings())  # queue not started
        api = ControlPlaneApi.build(storage, registry, coordinator)
        self.server, self.grpc_port = create_server(GrpcServerConfig(api=api))
        self.server.start()
        self.http_port = _serve_http(create_connect_app(api, storage.deployments))
        self.client = Client(self.grpc_port, self.http_port, self.scope.name)
        registry.all_graphs(self.scope)  # the snapshot loaded, as at start-up
        self.run_id = storage.runs.create_run(
            self.scope, NewRun(code_location="bench", asset_keys=tuple(self.names))
        ).run_id
        self.sequence = 0
        self._report(self.names, checks=True)

    def measure(self, repeat: int, profile: str | None) -> tuple[list[str], list[str]]:
        """The table rows with the client in this process, then in a process of its own."""
        calls = read_calls(self)
        reads: list[tuple[str, Callable[[], int | list[bytes]], str]] = [
            (
                "ListAssets over HTTP/JSON, every page (reply bodies read, not decoded)",
                calls["list"],
                "< 200 ms",
            ),
            (
                "ListAssets view HEALTH over HTTP/JSON, every page (likewise)",
                calls["list_health"],
                "< 200 ms",
            ),
            ("GetAssetLineage `*` over gRPC, every page", calls["lineage_all"], "< 50 ms"),
            (
                "GetAssetLineage `*` view HEALTH (key, location, health) over gRPC",
                calls["lineage_all_health"],
                "< 50 ms",
            ),
            (
                f"GetAssetLineage upstream of {self.sink} over gRPC, every page",
                calls["lineage_upstream"],
                "< 50 ms",
            ),
        ]
        profiler = cProfile.Profile() if profile else None
        lines = []
        for what, read, target in reads:
            cold: list[Took] = []
            warm: list[Took] = []
            found = 0
            for _ in range(repeat):
                self.change()
                if profiler is not None:
                    profiler.enable()
                result, took = timed_call(read)
                if profiler is not None:
                    profiler.disable()
                cold.append(took)
                warm.append(timed_call(read)[1])
                found = count(result)
            lines.append(f"| {what} | {found:,} | {_median(cold)} | {_median(warm)} | {target} |")
        if profiler is not None and profile:
            profiler.dump_stats(profile)
        return lines, self._measure_apart(
            [(what, name, target) for (what, _, target), name in zip(reads, READS, strict=True)],
            repeat,
        )

    def _measure_apart(self, reads: list[tuple[str, str, str]], repeat: int) -> list[str]:
        """The same reads by a client in another process: wall clock as it sees it, this
        process's CPU time (the server's alone) and the client's."""
        context = multiprocessing.get_context("spawn")
        ours, theirs = context.Pipe()
        child = context.Process(
            target=_client_process,
            args=(theirs, self.grpc_port, self.http_port, self.scope.name, self.sink),
            daemon=True,
        )
        child.start()
        try:
            lines = []
            for what, name, target in reads:
                cold: list[Apart] = []
                warm: list[Apart] = []
                found = 0
                for _ in range(repeat):
                    self.change()
                    cold.append(_apart(ours, name))
                    warm.append(_apart(ours, name))
                    found = cold[-1].found
                lines.append(
                    f"| {what} | {found:,} | {_median_apart(cold)} | {_median_apart(warm)} "
                    f"| {target} |"
                )
            ours.send(None)
            return lines
        finally:
            child.join(10)

    @property
    def sink(self) -> str:
        return self.names[-100]  # a_<last layer>_0: everything upstream is 5,050 of 10,000

    def change(self) -> None:
        """One recorded materialization: no reply built before it can be reused."""
        self._report(self.names[:1], checks=False)

    def _report(self, names: list[str], *, checks: bool) -> None:
        events = []
        for name in names:
            key = common_pb2.AssetKey(path=[name])
            events.append(
                E.RunEvent(
                    event_type=E.RUN_EVENT_TYPE_ASSET_MATERIALIZATION,
                    step_key=name,
                    materialization=E.AssetMaterialization(asset_key=key),
                )
            )
            if checks:
                events.append(
                    E.RunEvent(
                        event_type=E.RUN_EVENT_TYPE_ASSET_CHECK_EVALUATION,
                        step_key=name,
                        check_evaluation=E.AssetCheckEvaluation(
                            asset_key=key, check_name="valid", passed=True
                        ),
                    )
                )
        for event in events:
            self.sequence += 1
            event.sequence = self.sequence
            event.timestamp.GetCurrentTime()
        stored = [to_new_event(event) for event in events]
        for start in range(0, len(stored), BATCH):
            self.storage.events.store_batch(self.scope, self.run_id, stored[start : start + BATCH])


class Client:
    """An API client's side of the timed reads: gRPC for lineage, HTTP/JSON for listings."""

    def __init__(self, grpc_port: int, http_port: int, deployment: str) -> None:
        channel = grpc.insecure_channel(
            f"127.0.0.1:{grpc_port}", options=[("grpc.max_receive_message_length", 64 << 20)]
        )
        self.stub = cp_grpc.ControlPlaneServiceStub(channel)
        self.metadata = (("x-weir-deployment", deployment),)
        self.http_port = http_port
        self.deployment = deployment

    def list_http(self, view: str) -> list[bytes]:
        """Every page's reply body. The client's decoding of 10,000 nested JSON objects is
        not the API's time: the next cursor is read off each body's end (the reply's last
        field), the bodies are decoded after the timing (`count`)."""
        url = f"http://127.0.0.1:{self.http_port}/weir.v1.ControlPlaneService/ListAssets"
        pages, cursor = [], ""
        while True:
            body: dict[str, Any] = {"limit": PAGE, "cursor": cursor}
            if view:
                body["view"] = view
            request = urllib.request.Request(
                url,
                data=json.dumps(body).encode(),
                headers={"content-type": "application/json", "x-weir-deployment": self.deployment},
            )
            with urllib.request.urlopen(request) as reply:
                pages.append(reply.read())
            found = _NEXT_CURSOR.search(pages[-1][-200:])
            if found is None:
                return pages
            cursor = found.group(1).decode()

    def lineage(self, request: cp.GetAssetLineageRequest) -> int:
        seen = 0
        page = cp.GetAssetLineageRequest()
        page.CopyFrom(request)
        while True:
            reply = self.stub.GetAssetLineage(page, metadata=self.metadata)
            seen += len(reply.assets)
            if not reply.next_cursor:
                return seen
            page.cursor = reply.next_cursor


class Apart(NamedTuple):
    """A read by the client in its own process."""

    wall: float
    server_cpu: float
    client_cpu: float
    found: int


def _client_process(
    conn: Connection, grpc_port: int, http_port: int, deployment: str, sink: str
) -> None:
    """Runs in the client's process: each read named on `conn`, timed there."""
    calls = client_calls(Client(grpc_port, http_port, deployment), sink)
    while (name := conn.recv()) is not None:
        result, took = timed_call(calls[name])
        conn.send((took.wall, took.cpu, count(result)))


def _apart(conn: Connection, name: str) -> Apart:
    cpu = time.process_time()
    conn.send(name)
    wall, client_cpu, found = conn.recv()
    return Apart(wall, time.process_time() - cpu, client_cpu, found)


def _median_apart(took: list[Apart]) -> str:
    wall = statistics.median(t.wall for t in took) * 1000
    server = statistics.median(t.server_cpu for t in took) * 1000
    client = statistics.median(t.client_cpu for t in took) * 1000
    return f"{wall:.1f} ms (server CPU {server:.1f} ms, client CPU {client:.1f} ms)"


def count(result: int | list[bytes]) -> int:
    """How many assets a read returned: its count, or the assets in its JSON pages."""
    if isinstance(result, int):
        return result
    return sum(len(json.loads(page).get("assets", [])) for page in result)


READS = ("list", "list_health", "lineage_all", "lineage_all_health", "lineage_upstream")


def read_calls(reads: Reads) -> dict[str, Callable[[], int | list[bytes]]]:
    """The timed reads by name, by the client in this process; `count` tells how many
    assets each returned."""
    return client_calls(reads.client, reads.sink)


def client_calls(client: Client, sink: str) -> dict[str, Callable[[], int | list[bytes]]]:
    upstream = cp.GetAssetLineageRequest(key=common_pb2.AssetKey(path=[sink]))
    upstream.downstream_depth = 0
    return {
        "list": lambda: client.list_http(""),
        "list_health": lambda: client.list_http("ASSET_VIEW_HEALTH"),
        "lineage_all": lambda: client.lineage(cp.GetAssetLineageRequest(selection="*")),
        "lineage_all_health": lambda: client.lineage(
            cp.GetAssetLineageRequest(selection="*", view=cp.ASSET_VIEW_HEALTH)
        ),
        "lineage_upstream": lambda: client.lineage(upstream),
    }


def _serve_http(app: Any) -> int:
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, name="http", daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    return server.servers[0].sockets[0].getsockname()[1]


def _median(took: list[Took]) -> str:
    wall = statistics.median(t.wall for t in took)
    cpu = statistics.median(t.cpu for t in took)
    return f"{wall * 1000:.1f} ms (CPU {cpu * 1000:.1f} ms)"


def _now() -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())


if __name__ == "__main__":
    raise SystemExit(main())
