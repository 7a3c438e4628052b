"""A dbt project as a code location through `weir dev`: its models are assets with their
dbt deps, `dbt build` runs for a launched selection, and a failing dbt test is a failed
check that alerts a real receiver."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import BIN, LOCATIONS, Api, Process, WebhookReceiver, free_port, wait_until

ROOT = Path(__file__).resolve().parents[2]
DBT = ROOT / "tests" / "dbt_env" / ".venv" / "bin" / "dbt"

pytestmark = pytest.mark.timeout(600)  # dbt starts slowly


def test_dbt_models_run_from_the_control_plane_and_a_failing_test_alerts(
    e2e_env: dict[str, str], tmp_path: Path
) -> None:
    if not DBT.is_file():
        pytest.fail(f"{DBT} is missing: `make install` builds the dbt environment")
    project = tmp_path / "weir_shop"
    shutil.copytree(ROOT / "tests" / "sdk" / "dbt_project", project)
    env = {
        **e2e_env,
        "E2E_DBT_PROJECT": str(project),
        "E2E_DBT": str(DBT),
        "WEIR_DBT_DUCKDB_PATH": str(project / "shop.duckdb"),
        "WEIR_DBT_MIN_AMOUNT": "20",  # orders_amount_at_least_minimum fails
    }
    subprocess.run(
        [str(DBT), "parse", "--project-dir", str(project), "--profiles-dir", str(project)],
        env=env, check=True, capture_output=True,
    )  # fmt: skip
    receiver = WebhookReceiver()
    bodies = receiver.bodies
    http_port = free_port()
    dev = Process(
        [str(BIN / "weir"), "dev", "-f", str(LOCATIONS / "dbt_shop.py"),
         "--http-port", str(http_port), "--grpc-port", str(free_port())],
        env,
        r"WEIR_CONTROLPLANE_READY",
        timeout=120,
    )  # fmt: skip
    api = Api(http_port)
    try:
        api(
            "CreateAlertPolicy",
            policy={
                "name": "dbt-tests",
                "kinds": ["ALERT_EVENT_KIND_CHECK_FAILED"],
                "webhookUrl": f"http://127.0.0.1:{receiver.server_port}/hook",
            },
        )
        orders = api("GetAsset", key={"path": ["orders"]})["asset"]
        deps = {"/".join(d["assetKey"]["path"]) for d in orders["definition"]["deps"]}
        assert deps == {"stg_orders", "payments_app/raw_payments"}
        assert set(orders["definition"]["kinds"]) == {"dbt", "duckdb"}

        run_id = api.launch("raw_orders or stg_orders or orders")
        run = api.wait_status(run_id, "SUCCESS", "FAILURE", timeout=300)
        assert run["status"] == "RUN_STATUS_FAILURE"
        assert "orders_amount_at_least_minimum" in run["failureReason"]
        for name in ("raw_orders", "stg_orders", "orders"):
            asset = api("GetAsset", key={"path": [name]})["asset"]
            assert asset["latestMaterialization"]["runId"] == run_id, name
        revenue = api("GetAsset", key={"path": ["revenue"]})["asset"]
        assert "latestMaterialization" not in revenue  # not selected, not built
        orders = api("GetAsset", key={"path": ["orders"]})["asset"]
        results = {c["spec"]["name"]: c["latestEvaluation"] for c in orders["checks"]}
        assert {r["runId"] for r in results.values()} == {run_id}
        passed = {name: r["evaluation"].get("passed", False) for name, r in results.items()}
        assert passed == {
            "orders_amount_at_least_minimum": False,
            "orders_few_cheap": False,  # severity warn
            "unique_orders_order_id": True,
        }
        assert results["orders_few_cheap"]["evaluation"]["severity"] == "ASSET_CHECK_SEVERITY_WARN"

        alerts = wait_until(
            "the check-failed alert", lambda: [b for b in bodies if b["kind"] == "CHECK_FAILED"]
        )
        failing = {(b["asset_key"], b["check_name"]) for b in alerts}
        assert ("orders", "orders_amount_at_least_minimum") in failing
    finally:
        api.http.close()
        dev.stop()
        receiver.shutdown()
        receiver.server_close()
