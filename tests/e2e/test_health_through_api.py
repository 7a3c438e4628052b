"""End to end: asset health, freshness and check history through `weir controlplane` with
a real Python code location, over the Connect JSON API."""

from __future__ import annotations

from typing import Any

from conftest import LOCATIONS, ON_BOTH_DATABASES, Api, wait_until


def health(api: Api, name: str) -> dict[str, Any]:
    return api("GetAssetHealth", key={"path": [name]})["health"]


@ON_BOTH_DATABASES
def test_health_freshness_and_check_history_of_a_real_location(start_control_plane):
    location = {"name": "shop", "python_file": str(LOCATIONS / "health.py")}
    api = start_control_plane([location], freshness_interval=0.5).api

    # Never built: health UNKNOWN, and under its policy freshness FAIL.
    never = wait_until(
        "archive's first freshness evaluation",
        lambda: (h := health(api, "archive"))["freshnessState"]["state"] == "FRESHNESS_FAIL" and h,
    )
    assert never["status"] == "HEALTH_UNKNOWN"
    assert never["materialization"]["reason"] == "never materialized"
    assert never["freshnessState"]["reason"] == "never materialized"

    run = api.launch("orders or ledger")
    assert api.wait_status(run, "SUCCESS", "FAILURE")["status"] == "RUN_STATUS_SUCCESS"

    # A passing check and a recent materialization: HEALTHY, freshness PASS (the daemon
    # is woken by the materialization, well before its 0.5 s interval matters).
    fresh = wait_until(
        "orders fresh",
        lambda: (h := health(api, "orders"))["freshnessState"]["state"] == "FRESHNESS_PASS" and h,
    )
    assert fresh["status"] == "HEALTH_HEALTHY"
    assert fresh["checks"]["status"] == "HEALTH_HEALTHY"
    assert fresh["checks"]["reason"] == "2 checks passing"  # has_ids, orders_exist
    assert "within" in fresh["freshnessState"]["reason"]

    # A failing ERROR check: DEGRADED, with the check named.
    degraded = health(api, "ledger")
    assert degraded["status"] == "HEALTH_DEGRADED"
    assert degraded["checks"]["reason"] == "ERROR check failing: balanced"

    # Check history with descriptions and metadata, newest first.
    history = api("ListCheckEvaluations", assetKey={"path": ["ledger"]}, checkName="balanced")
    (evaluation,) = history["evaluations"]
    assert evaluation["runId"] == run
    assert evaluation["evaluation"].get("passed", False) is False  # JSON omits false
    assert evaluation["evaluation"]["description"] == "debits exceed credits by 12"
    assert evaluation["evaluation"]["metadata"][0]["label"] == "gap"
    ok = api("ListCheckEvaluations", assetKey={"path": ["orders"]}, checkName="has_ids")
    assert ok["evaluations"][0]["evaluation"]["description"] == "3 rows, all with ids"

    # The listing filters and the deployment summary agree.
    degraded_keys = api("ListAssets", health=["HEALTH_DEGRADED"]).get("assets", [])
    assert [a["key"]["path"] for a in degraded_keys] == [["ledger"]]
    summary = api("GetDeploymentHealth")
    counts = {c["status"]: int(c.get("count", 0)) for c in summary["health"]}
    assert counts["HEALTH_HEALTHY"] == 1 and counts["HEALTH_DEGRADED"] == 1
    assert counts["HEALTH_UNKNOWN"] == 1
    by_metadata = api("ListAssets", metadataKey="row_count").get("assets", [])
    assert [a["key"]["path"] for a in by_metadata] == [["orders"]]
    by_definition = api("ListAssets", metadataKey="docs").get("assets", [])
    assert [a["key"]["path"] for a in by_definition] == [["orders"]]

    bad = api.raw("ListAssets", {"health": ["HEALTH_SUPERB"]})
    assert bad.status_code == 400, bad.text
