"""Measure alerts: what queueing costs ingest, and how fast the worker delivers.

    .venv/bin/python bench/alerts.py

On a SQLite file (as `weir dev` runs), with one HTTP receiver in this process answering
204 at once:

- ingest: one run's batch of 1,000 events, 100 of them failed check evaluations,
  stored by `EventIngest.store_batch` with no alert policy and with one policy matching
  every check failure (100 deliveries queued in the same transaction); 20 batches each,
  alternating;
- delivery: 1,000 queued alerts drained by an `AlertDeliveryWorker` (4 senders);
- latency: from the commit that queues an alert to the receiver's reply, worker idle
  (woken by the commit, not a poll), 50 times.
"""

from __future__ import annotations

import platform
import statistics
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from weir_controlplane.alerts import AlertDeliveryWorker, DeliverySettings
from weir_controlplane.storage import DeploymentScope, NewEvent, NewRun, Storage
from weir_controlplane.storage.alerts import AlertEvent, AlertKind, NewAlertPolicy

BATCH, FAILED_CHECKS, BATCHES = 1_000, 100, 20
DELIVERIES, LATENCY_SAMPLES = 1_000, 50


class _Receiver(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        self.arrived: list[float] = []
        arrived = self.arrived

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["Content-Length"]))
                arrived.append(time.monotonic())
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()


def _batch(asset_keys: list[str]) -> list[NewEvent]:
    now = datetime.now(UTC)
    events = []
    for sequence in range(1, BATCH + 1):
        key = asset_keys[sequence % len(asset_keys)]
        if sequence % (BATCH // FAILED_CHECKS) == 0:
            events.append(
                NewEvent(sequence, "ASSET_CHECK_EVALUATION", now, asset_key=key,
                         check_name="not_empty", check_passed=False)
            )  # fmt: skip
        else:
            events.append(NewEvent(sequence, "ASSET_MATERIALIZATION", now, asset_key=key))
    return events


def _ingest_ms(storage: Storage, scope: DeploymentScope) -> float:
    keys = [f"asset_{i}" for i in range(50)]
    run = storage.runs.create_run(
        scope, NewRun(code_location="etl", selection="*", asset_keys=tuple(keys))
    )
    events = _batch(keys)
    began = time.perf_counter()
    storage.events.store_batch(scope, run.run_id, events)
    return (time.perf_counter() - began) * 1000


def main() -> None:
    receiver = _Receiver()
    url = f"http://127.0.0.1:{receiver.server_port}/hook"
    with tempfile.TemporaryDirectory() as directory:
        storage = Storage.open(f"sqlite:///{directory}/bench.db")
        quiet = storage.deployments.ensure_deployment(f"quiet-{uuid.uuid4().hex[:6]}")
        alerted = storage.deployments.ensure_deployment(f"alerted-{uuid.uuid4().hex[:6]}")
        policy = NewAlertPolicy(
            name="checks", kinds=frozenset({AlertKind.CHECK_FAILED}), webhook_url=url
        )
        storage.alerts.create_policy(alerted, policy)
        _ingest_ms(storage, quiet)  # warm-up
        without, with_policy = [], []
        for _ in range(BATCHES):  # alternating, so load on the machine falls on both
            without.append(_ingest_ms(storage, quiet))
            with_policy.append(_ingest_ms(storage, alerted))
        queued = storage.alerts.list_deliveries(alerted, limit=500)
        assert len(queued.items) == 500, "the policy queued no deliveries"

        prod = storage.deployments.get_scope("prod")
        storage.alerts.create_policy(
            prod,
            NewAlertPolicy(name="runs", kinds=frozenset({AlertKind.RUN_FAILED}), webhook_url=url),
        )
        now = datetime.now(UTC)
        for i in range(DELIVERIES):
            storage.alerts.publish(prod, [AlertEvent(AlertKind.RUN_FAILED, f"run {i}", now)])
        worker = AlertDeliveryWorker(
            storage.alerts, storage.deployments, DeliverySettings(poll_interval=60)
        )
        total = DELIVERIES + BATCHES * FAILED_CHECKS
        began = time.monotonic()
        worker.start()
        while len(receiver.arrived) < total and time.monotonic() - began < 300:
            time.sleep(0.01)
        drained = time.monotonic() - began
        time.sleep(0.5)  # idle: the next alert must wake it
        latencies = []
        for _ in range(LATENCY_SAMPLES):
            count, sent = len(receiver.arrived), time.monotonic()
            storage.alerts.publish(prod, [AlertEvent(AlertKind.RUN_FAILED, "late", now)])
            while len(receiver.arrived) == count:
                time.sleep(0.0002)
            latencies.append((receiver.arrived[-1] - sent) * 1000)
        worker.stop()
        storage.close()
    receiver.shutdown()
    print(f"machine: {platform.machine()}, load average {_load():.2f}")
    print(
        f"store_batch of {BATCH} events ({FAILED_CHECKS} failed checks), median of {BATCHES}: "
        f"{statistics.median(without):.1f} ms without a policy, "
        f"{statistics.median(with_policy):.1f} ms queueing {FAILED_CHECKS} alerts"
    )
    print(f"delivered {total} alerts in {drained:.2f} s ({total / drained:.0f}/s, 4 senders)")
    latencies.sort()
    print(
        f"commit -> receiver latency, {LATENCY_SAMPLES} alerts: median "
        f"{statistics.median(latencies):.1f} ms, max {latencies[-1]:.1f} ms"
    )


def _load() -> float:
    try:
        return float(open("/proc/loadavg").read().split()[0])
    except OSError:
        return float("nan")


if __name__ == "__main__":
    main()
