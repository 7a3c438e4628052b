"""Many WatchRun streams from one process: gRPC (grpc.aio) and HTTP/Connect (httpx).

Run by bench/workloads/watch_streams.py and tests/controlplane/test_api_watch.py in a
process of its own, so the watchers' decoding does not compete with the server under test
for its interpreter lock:

    python bench/workloads/_watch_clients.py '{"grpc": "127.0.0.1:4000",
        "http": "http://127.0.0.1:3000", "deployment": "prod", "runs": ["..."],
        "per_transport": 250}'

Watchers are spread evenly over the runs. Prints one JSON line when every stream has
its first message (or after `ready_timeout` seconds, counting those that have), then
one JSON line when every stream has ended: per watcher, the transport, the run, and
the event sequences it received in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import struct
import sys
from typing import Any

import grpc
import httpx
from weir_protos.v1 import control_plane_pb2 as cp
from weir_protos.v1 import control_plane_pb2_grpc as cp_grpc
from weir_protos.v1 import runs_pb2


class Watcher:
    def __init__(self, transport: str, run_id: str) -> None:
        self.transport = transport
        self.run_id = run_id
        self.sequences: list[int] = []
        self.final_status = ""
        self.error = ""
        self.first = asyncio.Event()

    def result(self) -> dict[str, Any]:
        return {
            "transport": self.transport,
            "run": self.run_id,
            "sequences": self.sequences,
            "status": self.final_status,
            "error": self.error,
        }


async def watch_grpc(stub: Any, deployment: str, watcher: Watcher) -> None:
    call = stub.WatchRun(
        cp.WatchRunRequest(run_id=watcher.run_id),
        metadata=(("x-weir-deployment", deployment),),
    )
    try:
        async for reply in call:
            watcher.sequences.extend(event.sequence for event in reply.events)
            watcher.final_status = runs_pb2.RunStatus.Name(reply.run.status)
            watcher.first.set()
    except grpc.aio.AioRpcError as error:
        watcher.error = f"{error.code().name}: {error.details()}"
    finally:
        watcher.first.set()


async def watch_http(client: httpx.AsyncClient, deployment: str, watcher: Watcher) -> None:
    body = json.dumps({"runId": watcher.run_id}).encode()
    try:
        async with client.stream(
            "POST",
            "/weir.v1.ControlPlaneService/WatchRun",
            content=struct.pack(">BI", 0, len(body)) + body,
            headers={"content-type": "application/connect+json", "x-weir-deployment": deployment},
        ) as reply:
            buffer = b""
            async for chunk in reply.aiter_bytes():
                buffer += chunk
                while len(buffer) >= 5:
                    flags, length = struct.unpack(">BI", buffer[:5])
                    if len(buffer) < 5 + length:
                        break
                    message = json.loads(buffer[5 : 5 + length])
                    buffer = buffer[5 + length :]
                    if flags & 0x02:
                        if "error" in message:
                            watcher.error = json.dumps(message["error"])
                        continue
                    watcher.sequences.extend(int(e["sequence"]) for e in message.get("events", []))
                    watcher.final_status = message.get("run", {}).get("status", "")
                    watcher.first.set()
    except httpx.HTTPError as error:
        watcher.error = f"{type(error).__name__}: {error}"
    finally:
        watcher.first.set()


async def main(options: dict[str, Any]) -> None:
    runs: list[str] = options["runs"]
    per_transport: int = options["per_transport"]
    deployment: str = options["deployment"]
    watchers = [
        Watcher(transport, runs[index % len(runs)])
        for transport in ("grpc", "http")
        for index in range(per_transport)
    ]
    # One HTTP/2 connection carries every gRPC stream; HTTP/1.1 needs one per stream.
    limits = httpx.Limits(max_connections=per_transport + 10, max_keepalive_connections=0)
    async with (
        grpc.aio.insecure_channel(options["grpc"], options=[("grpc.enable_http_proxy", 0)]) as ch,
        httpx.AsyncClient(
            base_url=options["http"], limits=limits, timeout=httpx.Timeout(120), trust_env=False
        ) as client,
    ):
        stub = cp_grpc.ControlPlaneServiceStub(ch)
        tasks = [
            asyncio.create_task(
                watch_grpc(stub, deployment, w)
                if w.transport == "grpc"
                else watch_http(client, deployment, w)
            )
            for w in watchers
        ]
        with contextlib.suppress(TimeoutError):  # then count the streams that are open
            await asyncio.wait_for(
                asyncio.gather(*(w.first.wait() for w in watchers)),
                options.get("ready_timeout", 30),
            )
        ready = {
            transport: sum(1 for w in watchers if w.transport == transport and w.first.is_set())
            for transport in ("grpc", "http")
        }
        print(json.dumps({"ready": ready}), flush=True)
        _, pending = await asyncio.wait(tasks, timeout=options.get("end_timeout", 60))
        for task in pending:
            task.cancel()
        print(json.dumps({"watchers": [w.result() for w in watchers]}), flush=True)


if __name__ == "__main__":
    asyncio.run(main(json.loads(sys.argv[1])))
