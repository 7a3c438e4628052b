"""Alerts over gRPC and HTTP: policies, the triggers that queue alerts, and delivery to
real HTTP receivers started here (one that answers, one that is down, one that hangs)."""

from __future__ import annotations

import itertools
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import grpc
import pytest
from api_harness import (
    ApiServer,
    add_location,
    asset,
    event,
    launch,
    materialized,
    md,
    rpc_error,
    snapshot,
)
from weir_controlplane.alerts import AlertDeliveryWorker, DeliverySettings
from weir_controlplane.daemons import FreshnessDaemon
from weir_controlplane.storage import (
    CodeLocationStatus,
    DeploymentScope,
    InstigatorKind,
    NewTick,
    TickStatus,
)
from weir_protos.v1 import alerts_pb2 as A
from weir_protos.v1 import common_pb2
from weir_protos.v1 import control_plane_pb2 as cp
from weir_protos.v1 import events_pb2 as E

SECRET_PATH = "/services/T000/B000/s3cr3t"


class Receiver:
    """A webhook on a real port: records each POST; `answer` picks the reply."""

    def __init__(self, answer: Callable[[], int] = lambda: 200) -> None:
        self.answer = answer
        self.requests: list[tuple[str, dict[str, str], Any]] = []
        self._arrived = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                status = receiver.answer()
                with receiver._arrived:
                    receiver.requests.append((self.path, dict(self.headers), json.loads(body)))
                    receiver._arrived.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}{SECRET_PATH}"

    def wait_for(self, count: int, timeout: float = 15) -> list[Any]:
        with self._arrived:
            assert self._arrived.wait_for(lambda: len(self.requests) >= count, timeout), (
                f"{len(self.requests)} of {count} alerts arrived"
            )
            return [body for _, _, body in self.requests]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    opened = Receiver()
    yield opened
    opened.close()


@pytest.fixture
def worker(server: ApiServer) -> Iterator[AlertDeliveryWorker]:
    started = AlertDeliveryWorker(
        server.storage.alerts,
        server.storage.deployments,
        DeliverySettings(
            max_attempts=3, retry_base=0.2, retry_max=5, timeout=1.0, poll_interval=0.05
        ),
    )
    started.start()
    yield started
    started.stop()


def down_url() -> str:
    """A URL where nothing listens: connections are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/hook"


def create_policy(server: ApiServer, scope: DeploymentScope, **fields: Any) -> A.AlertPolicy:
    fields.setdefault("name", "on-call")
    fields.setdefault("kinds", [A.ALERT_EVENT_KIND_RUN_FAILED])
    request = cp.CreateAlertPolicyRequest(policy=A.AlertPolicy(**fields))
    return server.control_plane().CreateAlertPolicy(request, metadata=md(scope)).policy


def deliveries(server: ApiServer, scope: DeploymentScope, **fields: Any) -> list[A.AlertDelivery]:
    request = cp.ListAlertDeliveriesRequest(**fields)
    return list(server.control_plane().ListAlertDeliveries(request, metadata=md(scope)).deliveries)


def fail_run(server: ApiServer, scope: DeploymentScope, **launch_fields: Any) -> str:
    run = launch(server, scope, "orders", **launch_fields)
    server.report(
        scope,
        run.run_id,
        event(1, E.RUN_EVENT_TYPE_RUN_STARTED),
        event(2, E.RUN_EVENT_TYPE_RUN_FAILURE, message="orders: division by zero"),
    )
    return str(run.run_id)


def wait_until(condition: Callable[[], bool], timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


# --- policies ---------------------------------------------------------------------------


def test_policies_are_created_listed_with_masked_urls_and_deleted(
    server: ApiServer, etl: DeploymentScope, receiver: Receiver
) -> None:
    created = create_policy(
        server,
        etl,
        webhook_url=receiver.url,
        body_format=A.ALERT_BODY_FORMAT_SLACK,
        code_locations=["etl"],
        run_tags={"team": "data"},
    )
    assert created.policy_id and created.webhook_url == (
        f"http://127.0.0.1:{receiver.url.split(':')[2].split('/')[0]}/…"
    )
    assert SECRET_PATH not in str(created)
    with server.http(etl.name) as http:
        listed = http.post("/weir.v1.ControlPlaneService/ListAlertPolicies", json={}).json()
    (policy,) = listed["policies"]
    assert policy["name"] == "on-call"
    assert policy["kinds"] == ["ALERT_EVENT_KIND_RUN_FAILED"]
    assert policy["bodyFormat"] == "ALERT_BODY_FORMAT_SLACK"
    assert policy["runTags"] == {"team": "data"}
    assert "s3cr3t" not in json.dumps(listed)

    server.control_plane().DeleteAlertPolicy(
        cp.DeleteAlertPolicyRequest(policy_id=created.policy_id), metadata=md(etl)
    )
    assert (
        not server.control_plane()
        .ListAlertPolicies(cp.ListAlertPoliciesRequest(), metadata=md(etl))
        .policies
    )
    missing = rpc_error(
        lambda: server.control_plane().DeleteAlertPolicy(
            cp.DeleteAlertPolicyRequest(policy_id=created.policy_id), metadata=md(etl)
        )
    )
    assert missing.code() is grpc.StatusCode.NOT_FOUND


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"name": ""}, "policy.name is required"),
        ({"kinds": []}, "policy.kinds is empty"),
        ({"kinds": [42]}, "not an event kind"),
        ({"webhook_url": ""}, "policy.webhook_url is required"),
        ({"webhook_url": "ftp://example.com/x"}, "must be an http:// or https:// URL"),
        ({"webhook_url": "http://"}, "names no host"),
        ({"webhook_url": "http://example.com:99999/"}, "does not parse"),
        ({"code_locations": [""]}, "empty name"),
    ],
)
def test_bad_policies_are_refused_naming_what_to_fix(
    server: ApiServer, etl: DeploymentScope, fields: dict[str, Any], expected: str
) -> None:
    fields = {"webhook_url": "https://hooks.example.com/x", **fields}
    error = rpc_error(lambda: create_policy(server, etl, **fields))
    assert error.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert expected in str(error.details())
    with server.http(etl.name) as http:
        reply = http.post(
            "/weir.v1.ControlPlaneService/CreateAlertPolicy",
            json={"policy": {"name": "x", "kinds": ["ALERT_EVENT_KIND_RUN_FAILED"]}},
        )
    assert reply.status_code == 400
    assert "webhook_url is required" in reply.json()["message"]


def test_a_second_policy_of_one_name_is_refused(server: ApiServer, etl: DeploymentScope) -> None:
    create_policy(server, etl, webhook_url="https://hooks.example.com/a")
    error = rpc_error(lambda: create_policy(server, etl, webhook_url="https://hooks.example.com/b"))
    assert error.code() is grpc.StatusCode.ALREADY_EXISTS
    assert "on-call" in str(error.details())


# --- triggers and delivery --------------------------------------------------------------


def test_a_failed_run_and_a_failed_check_reach_a_real_receiver(
    server: ApiServer, etl: DeploymentScope, receiver: Receiver, worker: AlertDeliveryWorker
) -> None:
    create_policy(
        server,
        etl,
        webhook_url=receiver.url,
        kinds=[A.ALERT_EVENT_KIND_RUN_FAILED, A.ALERT_EVENT_KIND_CHECK_FAILED],
    )
    run = launch(server, etl, "orders")
    check = E.AssetCheckEvaluation(
        asset_key=common_pb2.AssetKey(path=["orders"]), check_name="not_empty", passed=False
    )
    server.report(
        etl,
        run.run_id,
        event(1, E.RUN_EVENT_TYPE_RUN_STARTED),
        event(2, E.RUN_EVENT_TYPE_ASSET_CHECK_EVALUATION, message="0 rows", check_evaluation=check),
        event(3, E.RUN_EVENT_TYPE_RUN_FAILURE, message="orders: division by zero"),
    )
    bodies = receiver.wait_for(2)
    by_kind = {body["kind"]: body for body in bodies}
    assert by_kind["CHECK_FAILED"]["asset_key"] == "orders"
    assert by_kind["CHECK_FAILED"]["check_name"] == "not_empty"
    assert by_kind["CHECK_FAILED"]["message"] == "0 rows"
    failed = by_kind["RUN_FAILED"]
    assert failed["run_id"] == run.run_id
    assert failed["deployment"] == etl.name
    assert failed["code_location"] == "etl"
    assert failed["message"] == "orders: division by zero"
    assert failed["summary"] == f"Run {run.run_id} in etl failed"
    path, headers, _ = receiver.requests[0]
    assert path == SECRET_PATH and headers["Content-Type"] == "application/json"

    wait_until(
        lambda: {d.status for d in deliveries(server, etl)} == {A.ALERT_DELIVERY_STATUS_DELIVERED}
    )
    log = deliveries(server, etl)
    assert len(log) == 2
    for delivery in log:
        (attempt,) = delivery.attempts
        assert attempt.attempt == 1 and attempt.status_code == 200 and not attempt.error
        assert delivery.HasField("ended_at") and not delivery.HasField("next_attempt_at")
    assert {d.event["kind"] for d in log} == {"RUN_FAILED", "CHECK_FAILED"}


def test_a_slack_policy_posts_text_and_blocks(
    server: ApiServer, etl: DeploymentScope, receiver: Receiver, worker: AlertDeliveryWorker
) -> None:
    create_policy(server, etl, webhook_url=receiver.url, body_format=A.ALERT_BODY_FORMAT_SLACK)
    run_id = fail_run(server, etl)
    (body,) = receiver.wait_for(1)
    assert body["text"] == f"Run {run_id} in etl failed"
    section, context = body["blocks"]
    assert section["type"] == "section"
    assert "division by zero" in section["text"]["text"]
    assert f"run `{run_id}`" in context["elements"][0]["text"]


def test_run_failure_policies_filter_by_run_tags_and_code_location(
    server: ApiServer, etl: DeploymentScope
) -> None:
    tagged = create_policy(
        server, etl, name="data-team", webhook_url=down_url(), run_tags={"team": "data"}
    )
    elsewhere = create_policy(
        server, etl, name="other", webhook_url=down_url(), code_locations=["billing"]
    )
    fail_run(server, etl)  # untagged, in etl: neither policy matches
    assert not deliveries(server, etl)
    run_id = fail_run(server, etl, tags={"team": "data", "tier": "1"})
    (queued,) = deliveries(server, etl)
    assert queued.policy_id == tagged.policy_id and queued.event["run_id"] == run_id
    assert queued.event["tags"] == {"team": "data", "tier": "1"}
    assert not deliveries(server, etl, policy_id=elsewhere.policy_id)


def test_a_run_the_control_plane_fails_alerts(server: ApiServer, etl: DeploymentScope) -> None:
    """A failure the control plane decides (a lost worker, a failed launch) alerts too."""
    from weir_controlplane.storage import RunStatus

    create_policy(server, etl, webhook_url=down_url())
    run = launch(server, etl, "orders")
    assert server.storage.runs.transition(
        etl,
        run.run_id,
        from_statuses={RunStatus.QUEUED},
        to=RunStatus.FAILURE,
        failure_reason="its worker stopped heartbeating",
    )
    (queued,) = deliveries(server, etl)
    assert queued.event["run_id"] == run.run_id
    assert queued.event["message"] == "its worker stopped heartbeating"


def test_a_receiver_that_is_down_is_retried_with_backoff_then_marked_failed(
    server: ApiServer, etl: DeploymentScope, worker: AlertDeliveryWorker
) -> None:
    create_policy(server, etl, webhook_url=down_url())
    fail_run(server, etl)
    wait_until(lambda: deliveries(server, etl)[0].status == A.ALERT_DELIVERY_STATUS_FAILED)
    (delivery,) = deliveries(server, etl)
    assert delivery.attempt_count == 3
    attempts = list(delivery.attempts)
    assert [a.attempt for a in attempts] == [1, 2, 3]
    assert all(a.status_code == 0 and "refused" in a.error.lower() for a in attempts)
    assert delivery.last_error == attempts[-1].error
    # Backoff: 0.2 s after the first failure, 0.4 s after the second.
    starts = [a.started_at.ToDatetime(tzinfo=UTC) for a in attempts]
    gaps = [(later - earlier).total_seconds() for earlier, later in itertools.pairwise(starts)]
    assert gaps[0] >= 0.2 and gaps[1] >= 0.4, gaps
    assert "127.0.0.1" not in delivery.last_error  # errors never quote the URL
    with server.http(etl.name) as http:
        failed = http.post(
            "/weir.v1.ControlPlaneService/ListAlertDeliveries",
            json={"status": "ALERT_DELIVERY_STATUS_FAILED"},
        ).json()["deliveries"]
    assert [d["attemptCount"] for d in failed] == [3]


def test_an_error_status_is_retried_until_the_receiver_recovers(
    server: ApiServer, etl: DeploymentScope, worker: AlertDeliveryWorker
) -> None:
    answers = iter([503, 200])
    flaky = Receiver(lambda: next(answers))
    try:
        create_policy(server, etl, webhook_url=flaky.url)
        fail_run(server, etl)
        flaky.wait_for(2)
        wait_until(lambda: deliveries(server, etl)[0].status == A.ALERT_DELIVERY_STATUS_DELIVERED)
    finally:
        flaky.close()
    (delivery,) = deliveries(server, etl)
    assert [(a.status_code, a.error) for a in delivery.attempts] == [
        (503, "HTTP 503 Service Unavailable"),
        (200, ""),
    ]


def test_a_hanging_receiver_blocks_neither_ingest_nor_other_alerts(
    server: ApiServer, etl: DeploymentScope, receiver: Receiver, worker: AlertDeliveryWorker
) -> None:
    released = threading.Event()
    hanging = Receiver(lambda: (released.wait(10), 200)[1])
    try:
        create_policy(server, etl, name="slow", webhook_url=hanging.url)
        fail_run(server, etl)
        hanging.wait_for(1)  # the worker is now stuck in that POST until its timeout
        create_policy(server, etl, name="fast", webhook_url=receiver.url)
        began = time.monotonic()
        fail_run(server, etl)
        ingest_seconds = time.monotonic() - began
        receiver.wait_for(1, timeout=0.9)  # delivered while the slow POST still hangs
        assert not released.is_set()
        assert ingest_seconds < 0.9, ingest_seconds
    finally:
        released.set()
        hanging.close()


# --- triggers outside runs --------------------------------------------------------------


def test_a_code_location_load_error_alerts_once_per_breakage(
    server: ApiServer, etl: DeploymentScope
) -> None:
    create_policy(
        server, etl, webhook_url=down_url(), kinds=[A.ALERT_EVENT_KIND_CODE_LOCATION_LOAD_ERROR]
    )
    locations = server.storage.code_locations
    for _ in range(3):  # every failed health check reports it again
        locations.set_unavailable(etl, "etl", CodeLocationStatus.ERROR, "SyntaxError in defs.py")
    (queued,) = deliveries(server, etl)
    assert queued.kind == A.ALERT_EVENT_KIND_CODE_LOCATION_LOAD_ERROR
    assert queued.event["code_location"] == "etl"
    assert queued.event["message"] == "SyntaxError in defs.py"
    locations.set_unavailable(etl, "etl", CodeLocationStatus.UNREACHABLE, "gone")
    locations.set_unavailable(etl, "etl", CodeLocationStatus.ERROR, "SyntaxError again")
    assert len(deliveries(server, etl)) == 2


def test_a_failed_tick_alerts_once_until_a_tick_succeeds(
    server: ApiServer, etl: DeploymentScope
) -> None:
    create_policy(server, etl, webhook_url=down_url(), kinds=[A.ALERT_EVENT_KIND_TICK_FAILED])
    instigators = server.storage.instigators

    def tick(status: TickStatus, second: int) -> None:
        state = instigators.get(etl, InstigatorKind.SENSOR, ("etl", "new_files"))
        assert instigators.claim(etl, state, "test", ttl=60)
        when = datetime(2026, 1, 1, 0, 0, second, tzinfo=UTC)
        error = "KeyError: 'bucket'" if status is TickStatus.FAILURE else None
        assert instigators.finish(etl, state, "test", NewTick(status, when, error=error))

    tick(TickStatus.FAILURE, 1)
    tick(TickStatus.FAILURE, 2)
    (queued,) = deliveries(server, etl)
    assert queued.event["instigator"] == "new_files"
    assert queued.event["message"] == "KeyError: 'bucket'"
    assert queued.event["summary"] == "A tick of sensor new_files in etl failed"
    tick(TickStatus.SKIPPED, 3)
    tick(TickStatus.FAILURE, 4)
    assert len(deliveries(server, etl)) == 2


def test_an_asset_turning_degraded_alerts_its_health_change(
    server: ApiServer, etl: DeploymentScope, receiver: Receiver, worker: AlertDeliveryWorker
) -> None:
    """Health changes raise HEALTH_CHANGED alerts in the transaction that stores them: a
    built asset whose ERROR check fails goes DEGRADED, and the receiver hears it."""
    create_policy(server, etl, webhook_url=receiver.url, kinds=[A.ALERT_EVENT_KIND_HEALTH_CHANGED])
    run = launch(server, etl, "orders")
    check = E.AssetCheckEvaluation(
        asset_key=common_pb2.AssetKey(path=["orders"]), check_name="not_empty", passed=False
    )
    server.report(
        etl,
        run.run_id,
        event(1, E.RUN_EVENT_TYPE_RUN_STARTED),
        event(2, E.RUN_EVENT_TYPE_ASSET_MATERIALIZATION, materialization=materialized("orders")),
        event(3, E.RUN_EVENT_TYPE_ASSET_CHECK_EVALUATION, message="0 rows", check_evaluation=check),
        event(4, E.RUN_EVENT_TYPE_RUN_SUCCESS),
    )
    wait_until(lambda: any(b["details"].get("current") == "DEGRADED" for b in bodies(receiver)))
    degraded = next(b for b in bodies(receiver) if b["details"]["current"] == "DEGRADED")
    assert degraded["kind"] == "HEALTH_CHANGED"
    assert degraded["asset_key"] == "orders"
    assert degraded["summary"].startswith("Asset orders is DEGRADED")


def test_an_asset_going_stale_raises_freshness_failed_once_its_fail_window_closes(
    server: ApiServer, scope: DeploymentScope, receiver: Receiver, worker: AlertDeliveryWorker
) -> None:
    """The freshness daemon's FAIL is recorded with a FRESHNESS_FAILED alert in the same
    transaction; PASS and WARN raise none."""
    node = asset("daily_sales")
    node.freshness_policy.time_window.fail_window.FromTimedelta(timedelta(hours=1))
    node.freshness_policy.time_window.warn_window.FromTimedelta(timedelta(minutes=30))
    add_location(server.storage, scope, "sales", snapshot(node))
    create_policy(
        server, scope, webhook_url=receiver.url, kinds=[A.ALERT_EVENT_KIND_FRESHNESS_FAILED]
    )
    built = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    run = launch(server, scope, "daily_sales")
    done = event(
        2, E.RUN_EVENT_TYPE_ASSET_MATERIALIZATION, materialization=materialized("daily_sales")
    )
    done.timestamp.FromDatetime(built)
    server.report(scope, run.run_id, event(1, E.RUN_EVENT_TYPE_RUN_STARTED), done)
    daemon = FreshnessDaemon(server.storage, server.registry)
    daemon.tick(scope, built + timedelta(seconds=1))  # PASS
    daemon.tick(scope, built + timedelta(minutes=31))  # WARN
    assert deliveries(server, scope) == []  # neither queued an alert

    daemon.tick(scope, built + timedelta(minutes=61))  # FAIL
    (body,) = receiver.wait_for(1)
    assert body["kind"] == "FRESHNESS_FAILED"
    assert body["asset_key"] == "daily_sales"
    assert body["summary"] == "Asset daily_sales is stale: freshness FAIL"
    assert "more than the fail window" in body["message"]
    assert body["details"] == {"previous": "WARN", "current": "FAIL"}
    (delivery,) = deliveries(server, scope)
    assert delivery.event["kind"] == "FRESHNESS_FAILED"


def bodies(receiver: Receiver) -> list[Any]:
    return [body for _, _, body in list(receiver.requests)]


def test_an_alert_is_posted_when_its_transaction_commits_not_at_the_next_poll(
    server: ApiServer, etl: DeploymentScope, receiver: Receiver
) -> None:
    idle = AlertDeliveryWorker(
        server.storage.alerts, server.storage.deployments, DeliverySettings(poll_interval=60)
    )
    idle.start()
    try:
        time.sleep(0.2)  # its first pass is over: now it sleeps for a minute unless woken
        create_policy(server, etl, webhook_url=receiver.url)
        began = time.monotonic()
        fail_run(server, etl)
        receiver.wait_for(1, timeout=10)
        assert time.monotonic() - began < 5
    finally:
        idle.stop()
