"""What the load tests (test_load.py) share: their size, memory sampling, a code location
the test itself plays the run worker for, and where their figures go.

Sizes scale with `WEIR_LOAD_SCALE`: 1 is the full size whose figures bench/RESULTS.md
records (`bench/load_suite.py` runs it); `.ci/run` uses a small fraction so CI stays fast.
With `WEIR_LOAD_REPORT=path`, each test appends its figures to that file as a JSON line.
"""

from __future__ import annotations

import hashlib
import json
import os
import queue
import statistics
import threading
import time
from collections.abc import Iterator
from concurrent import futures
from pathlib import Path
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from weir_protos.v1 import code_location_pb2 as cl_pb2
from weir_protos.v1 import code_location_pb2_grpc as cl_grpc
from weir_protos.v1 import common_pb2, definitions_pb2

SCALE_ENV = "WEIR_LOAD_SCALE"
REPORT_ENV = "WEIR_LOAD_REPORT"
DEFAULT_SCALE = 0.03  # what `pytest -m load` runs without the variable: CI's size


def scale() -> float:
    text = os.environ.get(SCALE_ENV, str(DEFAULT_SCALE))
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{SCALE_ENV} must be a number such as 0.05 or 1, not {text!r}") from None
    if not 0 < value <= 10:
        raise ValueError(f"{SCALE_ENV} must be above 0 and at most 10, not {value}")
    return value


def sized(full: int, minimum: int) -> int:
    """`full` scaled by WEIR_LOAD_SCALE, never below `minimum`."""
    return max(minimum, round(full * scale()))


def report(test: str, **figures: Any) -> None:
    """Print the figures (shown with `-s`) and append them to $WEIR_LOAD_REPORT if set."""
    line = json.dumps({"test": test, "scale": scale(), **figures}, sort_keys=True)
    print(line)
    path = os.environ.get(REPORT_ENV)
    if path:
        with Path(path).open("a") as out:
            out.write(line + "\n")


def rss_mb(pid: int) -> float:
    """The resident set size of process `pid`, in MB (0 once it has exited)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0.0


class RssSampler:
    """Samples a process's RSS every `interval` seconds on a thread, as (seconds, MB)."""

    def __init__(self, pid: int, interval: float = 0.25) -> None:
        self.pid = pid
        self.samples: list[tuple[float, float]] = []
        self._interval = interval
        self._stop = threading.Event()
        self._started = time.monotonic()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while True:
            self.samples.append((time.monotonic() - self._started, rss_mb(self.pid)))
            if self._stop.wait(self._interval):
                return

    def window(self, start: float, end: float) -> list[float]:
        """The MB samples taken between fractions `start` and `end` of the sampling: at
        least one, however few were taken (a fast ingest at CI size takes a handful)."""
        count = len(self.samples)  # at least one: the sampler takes one as it starts
        first = min(int(count * start), count - 1)
        return [mb for _, mb in self.samples[first : max(int(count * end), first + 1)]]

    def growth_after_warmup(self, warmup: float = 0.25) -> tuple[float, float, float]:
        """(median MB just after warm-up, peak MB after it, peak minus that median)."""
        settled = statistics.median(self.window(warmup, warmup + 0.1))
        peak = max(self.window(warmup, 1.0))
        return settled, peak, peak - settled


def node(name: str) -> definitions_pb2.AssetNode:
    return definitions_pb2.AssetNode(
        key=common_pb2.AssetKey(path=[name]), is_executable=True, node_name=name
    )


class ScriptedLocation(cl_grpc.CodeLocationServiceServicer):
    """A code location that accepts every run and leaves its running to the test, which
    then reports the run's events itself, as any worker speaking the contract would."""

    def __init__(self, *asset_names: str) -> None:
        snapshot = definitions_pb2.DefinitionsSnapshot(assets=[node(n) for n in asset_names])
        digest = hashlib.sha256(snapshot.SerializeToString(deterministic=True)).hexdigest()
        snapshot.content_hash = f"sha256:{digest}"
        self.snapshot = snapshot
        self.launched: queue.Queue[cl_pb2.ExecuteRunRequest] = queue.Queue()

    def GetLocationInfo(self, request: Any, context: Any) -> cl_pb2.GetLocationInfoResponse:
        return cl_pb2.GetLocationInfoResponse(
            server_id="scripted",
            content_hash=self.snapshot.content_hash,
            runtime=cl_pb2.RuntimeInfo(language="python", sdk="test"),
        )

    def StreamDefinitions(self, request: Any, context: Any) -> Iterator[Any]:
        yield cl_pb2.StreamDefinitionsResponse(part=self.snapshot)

    def ExecuteRun(self, request: cl_pb2.ExecuteRunRequest, context: Any) -> Any:
        self.launched.put(request)
        return cl_pb2.ExecuteRunResponse(worker_id=f"scripted-{request.run_id}")

    def CancelRun(self, request: Any, context: Any) -> Any:
        return cl_pb2.CodeLocationServiceCancelRunResponse(was_running=False)


class ServedLocation:
    """A ScriptedLocation on a loopback port, with standard health."""

    def __init__(self, location: ScriptedLocation) -> None:
        self.location = location
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
        cl_grpc.add_CodeLocationServiceServicer_to_server(location, self.server)
        checks = health.HealthServicer()
        checks.set("", health_pb2.HealthCheckResponse.SERVING)
        health_pb2_grpc.add_HealthServicer_to_server(checks, self.server)
        self.port = self.server.add_insecure_port("127.0.0.1:0")
        self.server.start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.stop(None).wait(5)
