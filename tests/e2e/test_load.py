"""Load: the queue under 1,000 runs, ingest of 1,000,000 events, and a 10-minute soak, each
against `weir controlplane` on real ports, with memory sampled from /proc.

Marked `load` and left out of a plain `pytest` run; `pytest -m load` runs them at
WEIR_LOAD_SCALE (default 0.03, what CI runs). At scale 1 they are the full sizes whose
figures bench/RESULTS.md records (see load_harness.py).
"""

from __future__ import annotations

import statistics
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
from conftest import LOCATIONS, ON_BOTH_DATABASES, Api
from load_harness import RssSampler, ScriptedLocation, ServedLocation, report, scale, sized
from weir_protos.v1 import common_pb2, events_pb2, reporting_pb2, reporting_pb2_grpc

pytestmark = [pytest.mark.load, pytest.mark.timeout(3600)]

E = events_pb2
ACTIVE = ["RUN_STATUS_QUEUED", "RUN_STATUS_STARTING", "RUN_STATUS_STARTED", "RUN_STATUS_CANCELING"]
IN_PROGRESS = ACTIVE[1:]  # the statuses that hold a concurrency slot
# Growth allowed after warm-up. A leak of 100 bytes per event would be 100 MB at full size.
RSS_GROWTH_LIMIT_MB = 40


def tick_location() -> dict[str, str]:
    return {"name": "tick", "python_file": str(LOCATIONS / "tick.py")}


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _all_runs(api: Api) -> list[dict[str, Any]]:
    runs: list[dict[str, Any]] = []
    cursor = ""
    while True:
        page = api("ListRuns", limit=1000, cursor=cursor)
        runs += page.get("runs", [])
        cursor = page.get("nextCursor", "")
        if not cursor:
            return runs


def _wait_until_idle(api: Api, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while api("ListRuns", statuses=ACTIVE, limit=1).get("runs"):
        assert time.monotonic() < deadline, "runs still queued or running at the deadline"
        time.sleep(0.1)


class InProgressSampler:
    """Counts the runs holding a slot, over the API, every few milliseconds."""

    def __init__(self, api: Api) -> None:
        self.samples: list[int] = []
        self._client = httpx.Client(base_url=api.base, timeout=30)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> InProgressSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._client.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            body = {"statuses": IN_PROGRESS, "limit": 500}
            reply = self._client.post("/weir.v1.ControlPlaneService/ListRuns", json=body)
            self.samples.append(len(reply.json().get("runs", [])))
            self._stop.wait(0.01)


# --- the queue -----------------------------------------------------------------------


@ON_BOTH_DATABASES
def test_a_thousand_queued_runs_finish_in_order_within_the_limit(start_control_plane, database):
    limit = 20
    total = sized(1000, 40)
    api = start_control_plane([tick_location()], max_concurrent_runs=limit).api

    started = time.monotonic()
    with InProgressSampler(api) as in_progress:
        launched = [api.launch("tick") for _ in range(total)]
        _wait_until_idle(api, timeout=120 + total)
    elapsed = time.monotonic() - started

    runs = {run["runId"]: run for run in _all_runs(api)}
    assert {runs[run_id]["status"] for run_id in launched} == {"RUN_STATUS_SUCCESS"}
    assert max(in_progress.samples) <= limit, f"{max(in_progress.samples)} runs held a slot"
    # Claims are strictly oldest first; starts can reorder only among runs launched
    # together. So no run is overtaken by more than a couple of slots' worth of later ones.
    by_start = sorted(launched, key=lambda run_id: _time(runs[run_id]["startTime"]))
    start_rank = {run_id: rank for rank, run_id in enumerate(by_start)}
    overtaken = max(start_rank[run_id] - index for index, run_id in enumerate(launched))
    assert overtaken <= 2 * limit, f"a run was overtaken by {overtaken} later runs"
    waits = sorted(
        (_time(runs[r]["startTime"]) - _time(runs[r]["createTime"])).total_seconds()
        for r in launched
    )
    report(
        "queue",
        database=(database and "postgresql") or "sqlite",
        runs=total,
        limit=limit,
        seconds=round(elapsed, 2),
        runs_per_second=round(total / elapsed, 1),
        most_in_progress=max(in_progress.samples),
        most_overtaken=overtaken,
        queue_wait_p50_s=round(statistics.median(waits), 3),
        queue_wait_max_s=round(waits[-1], 3),
    )


# --- ingest ---------------------------------------------------------------------------


def _events(run_id: str, first: int, last: int, total: int) -> list[events_pb2.RunEvent]:
    """Events `first`..`last` of a run of `total`: its start, then logs and
    materializations of its one asset in turn, then its end."""
    batch = []
    for sequence in range(first, last + 1):
        event = events_pb2.RunEvent(run_id=run_id, sequence=sequence, step_key="events")
        if sequence == 1:
            event.event_type = E.RUN_EVENT_TYPE_RUN_STARTED
        elif sequence == 2:
            event.event_type = E.RUN_EVENT_TYPE_STEP_START
        elif sequence == total - 1:
            event.event_type = E.RUN_EVENT_TYPE_STEP_SUCCESS
        elif sequence == total:
            event.event_type = E.RUN_EVENT_TYPE_RUN_SUCCESS
        elif sequence % 2:
            event.event_type = E.RUN_EVENT_TYPE_LOG
            event.log.text = f"loaded batch {sequence} of 1,000 rows"
        else:
            event.event_type = E.RUN_EVENT_TYPE_ASSET_MATERIALIZATION
            event.materialization.asset_key.path.append("events")
            event.materialization.metadata.add(
                label="rows", value=common_pb2.MetadataValue(int=sequence)
            )
        event.timestamp.GetCurrentTime()
        batch.append(event)
    return batch


@ON_BOTH_DATABASES
def test_a_million_events_are_ingested_with_steady_memory(start_control_plane, database):
    per_run, batch = 10_000, 500
    run_count = sized(100, 4)
    served = ServedLocation(ScriptedLocation("events"))
    try:
        plane = start_control_plane(
            [{"name": "scripted", "address": served.address}],
            max_concurrent_runs=run_count,  # every run in progress at once, as ingest sees them
            heartbeat_timeout=3600,  # the test reports events, not heartbeats
        )
        api = plane.api
        run_ids = [api.launch("events") for _ in range(run_count)]
        for _ in run_ids:  # every run reached the location: the test is its worker now
            served.location.launched.get(timeout=60)
        assert plane.process is not None
        channel = grpc.insecure_channel(
            f"127.0.0.1:{plane.grpc_port}", options=[("grpc.enable_http_proxy", 0)]
        )
        report_events = reporting_pb2_grpc.RunReportingServiceStub(channel).ReportEvents
        started = time.monotonic()
        with RssSampler(plane.process.proc.pid, interval=0.05) as rss:
            for run_id in run_ids:
                for first in range(1, per_run + 1, batch):
                    last = first + batch - 1
                    request = reporting_pb2.ReportEventsRequest(
                        run_id=run_id, events=_events(run_id, first, last, per_run)
                    )
                    assert report_events(request, timeout=60).acknowledged_sequence == last
        elapsed = time.monotonic() - started
        channel.close()
    finally:
        served.stop()

    assert {api.run(run_id)["status"] for run_id in run_ids} == {"RUN_STATUS_SUCCESS"}
    stored = api.events(run_ids[-1])
    assert [int(e["sequence"]) for e in stored if e.get("sequence")] == list(range(1, per_run + 1))
    asset = api("GetAsset", key={"path": ["events"]})["asset"]
    assert asset["latestMaterialization"]["runId"] == run_ids[-1]
    settled, peak, growth = rss.growth_after_warmup()
    total = per_run * run_count
    report(
        "ingest",
        database=(database and "postgresql") or "sqlite",
        events=total,
        batch=batch,
        seconds=round(elapsed, 2),
        events_per_second=round(total / elapsed),
        rss_settled_mb=round(settled, 1),
        rss_peak_mb=round(peak, 1),
        rss_growth_mb=round(growth, 1),
    )
    assert growth < RSS_GROWTH_LIMIT_MB, (
        f"the control plane grew {growth:.1f} MB while ingesting (from {settled:.1f} MB)"
    )


# --- soak -----------------------------------------------------------------------------


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except (FileNotFoundError, ProcessLookupError):
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def test_a_ten_minute_soak_keeps_memory_bounded(start_control_plane):
    duration = max(15.0, 600 * scale())
    plane = start_control_plane([tick_location()], max_concurrent_runs=4)
    api = plane.api
    assert plane.process is not None
    (code_server,) = _children(plane.process.proc.pid)
    interval = max(0.25, duration / 400)
    launched: list[str] = []
    reads = 0
    started = time.monotonic()
    with (
        RssSampler(plane.process.proc.pid, interval) as plane_rss,
        RssSampler(code_server, interval) as server_rss,
    ):
        while time.monotonic() - started < duration:
            # Keep the queue busy but bounded: launch while fewer than 8 are active.
            if len(api("ListRuns", statuses=ACTIVE, limit=8).get("runs", [])) < 8:
                launched.append(api.launch("tick"))
            recent = api("ListRuns", limit=20)["runs"]
            api.run(recent[0]["runId"])
            api("GetRunEvents", runId=recent[-1]["runId"], limit=100)
            api("GetAsset", key={"path": ["tick"]})
            api("ListAssets")
            reads += 5
        _wait_until_idle(api, timeout=120)
    elapsed = time.monotonic() - started

    statuses = {api.run(run_id)["status"] for run_id in launched}
    assert statuses == {"RUN_STATUS_SUCCESS"}
    figures: dict[str, Any] = {
        "seconds": round(elapsed, 1),
        "runs": len(launched),
        "runs_per_second": round(len(launched) / elapsed, 1),
        "reads": reads,
    }
    for name, sampler in (("control_plane", plane_rss), ("code_server", server_rss)):
        settled, peak, growth = sampler.growth_after_warmup()
        figures |= {
            f"{name}_rss_settled_mb": round(settled, 1),
            f"{name}_rss_peak_mb": round(peak, 1),
            f"{name}_rss_growth_mb": round(growth, 1),
        }
    report("soak", **figures)
    for name in ("control_plane", "code_server"):
        growth = figures[f"{name}_rss_growth_mb"]
        assert growth < RSS_GROWTH_LIMIT_MB, f"the {name} grew {growth} MB over the soak"
