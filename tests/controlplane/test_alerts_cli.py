"""`weir alerts …` against a control plane's HTTP API on a real port."""

from __future__ import annotations

import pytest
from api_harness import ApiServer, event, launch, weir
from weir_controlplane.cli.alerts import KINDS, STATUSES
from weir_controlplane.storage import DeploymentScope
from weir_protos.v1 import alerts_pb2
from weir_protos.v1 import events_pb2 as E


def test_alerts_create_list_deliveries_and_delete(
    server: ApiServer, etl: DeploymentScope, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = weir(
        server, etl, capsys, "alerts", "create", "on-call",
        "--webhook", "https://hooks.slack.com/services/T0/B0/secret",
        "--on", "run-failed", "--on", "check-failed", "--slack",
        "--code-location", "etl", "--tag", "team=data",
    )  # fmt: skip
    assert code == 0
    assert "posting to https://hooks.slack.com/…" in out and "secret" not in out
    policy_id = out.split()[3]

    code, out, _ = weir(server, etl, capsys, "alerts", "list")
    header, row = out.strip().splitlines()
    assert header.split() == ["ID", "NAME", "ON", "LOCATIONS", "TAGS", "BODY", "WEBHOOK"]
    assert row.split() == [
        policy_id, "on-call", "run-failed,check-failed", "etl", "team=data", "SLACK",
        "https://hooks.slack.com/…",
    ]  # fmt: skip

    run = launch(server, etl, "orders", tags={"team": "data"})
    server.report(
        etl,
        run.run_id,
        event(1, E.RUN_EVENT_TYPE_RUN_STARTED),
        event(2, E.RUN_EVENT_TYPE_RUN_FAILURE, message="boom"),
    )
    code, out, _ = weir(server, etl, capsys, "alerts", "deliveries", "--status", "pending")
    assert code == 0
    (line,) = out.strip().splitlines()[1:]
    assert policy_id in line and "run-failed" in line and "PENDING" in line
    assert f"Run {run.run_id} in etl failed" in line

    assert weir(server, etl, capsys, "alerts", "delete", policy_id)[0] == 0
    assert weir(server, etl, capsys, "alerts", "list")[1].strip().splitlines()[1:] == []
    assert weir(server, etl, capsys, "alerts", "deliveries")[1].strip().splitlines()[1:] == []


def test_alerts_create_errors_name_the_flag(
    server: ApiServer, etl: DeploymentScope, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = weir(
        server, etl, capsys, "alerts", "create", "x", "--webhook", "ftp://h/x", "--on", "run-failed"
    )
    assert code == 1
    assert err.startswith("error: --webhook must be an http:// or https:// URL")
    assert "invalid_argument" in err and "Traceback" not in err


def test_the_cli_kind_and_status_names_are_the_proto_enums() -> None:
    kinds = [
        name.removeprefix("ALERT_EVENT_KIND_").lower().replace("_", "-")
        for name in alerts_pb2.AlertEventKind.keys()  # noqa: SIM118  # an enum wrapper, not a dict
        if not name.endswith("UNSPECIFIED")
    ]
    assert list(KINDS) == kinds
    statuses = [
        name.removeprefix("ALERT_DELIVERY_STATUS_").lower()
        for name in alerts_pb2.AlertDeliveryStatus.keys()  # noqa: SIM118
        if not name.endswith("UNSPECIFIED")
    ]
    assert list(STATUSES) == statuses
