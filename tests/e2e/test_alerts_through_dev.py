"""Alerts through `weir dev`: a real run that fails after a failed check alerts a real
HTTP receiver started here; a receiver that is down is retried."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import BIN, LOCATIONS, Api, Process, WebhookReceiver, free_port, wait_until


@pytest.fixture
def dev(e2e_env: dict[str, str]) -> Iterator[Api]:
    http_port = free_port()
    process = Process(
        [str(BIN / "weir"), "dev", "-f", str(LOCATIONS / "alerting.py"),
         "--http-port", str(http_port), "--grpc-port", str(free_port())],
        e2e_env,
        r"WEIR_CONTROLPLANE_READY",
    )  # fmt: skip
    api = Api(http_port)
    try:
        yield api
    finally:
        api.http.close()
        process.stop()


def test_a_failed_run_and_check_alert_a_real_receiver_and_a_down_one_is_retried(
    dev: Api, tmp_path: Path
) -> None:
    receiver = WebhookReceiver()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        down = f"http://127.0.0.1:{sock.getsockname()[1]}/hook"
    kinds = ["ALERT_EVENT_KIND_RUN_FAILED", "ALERT_EVENT_KIND_CHECK_FAILED"]
    url = f"http://127.0.0.1:{receiver.server_port}/hook"
    dev("CreateAlertPolicy", policy={"name": "up", "kinds": kinds, "webhookUrl": url})
    down_policy = dev(
        "CreateAlertPolicy",
        policy={"name": "down", "kinds": ["ALERT_EVENT_KIND_RUN_FAILED"], "webhookUrl": down},
    )["policy"]
    try:
        run_id = dev.launch("*")
        run = dev.wait_status(run_id, "SUCCESS", "FAILURE")
        assert run["status"] == "RUN_STATUS_FAILURE"
        wait_until("two alerts", lambda: len(receiver.bodies) >= 2)
        by_kind = {body["kind"]: body for body in receiver.bodies}
        assert by_kind["RUN_FAILED"]["run_id"] == run_id
        assert by_kind["RUN_FAILED"]["message"] == run["failureReason"] != ""
        assert by_kind["CHECK_FAILED"]["check_name"] == "orders_not_empty"
        assert by_kind["CHECK_FAILED"]["asset_key"] == "orders"

        # The down receiver: refused, then retried after the backoff (2 s by default).
        def retried() -> list[dict[str, Any]]:
            (delivery,) = dev("ListAlertDeliveries", policyId=down_policy["policyId"])["deliveries"]
            return delivery["attempts"] if len(delivery.get("attempts", [])) >= 2 else []

        attempts = wait_until("the retried delivery", retried, timeout=30)
        assert all("refused" in attempt["error"].lower() for attempt in attempts)
        up = dev("ListAlertDeliveries", status="ALERT_DELIVERY_STATUS_DELIVERED")["deliveries"]
        assert {d["kind"] for d in up} == set(kinds)
    finally:
        receiver.shutdown()
        receiver.server_close()
