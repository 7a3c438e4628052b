"""The examples run as documented."""

import runpy
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_quickstart_materializes_in_process():
    out = subprocess.run(
        [sys.executable, str(EXAMPLES / "quickstart" / "defs.py")],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "RUN_SUCCESS" in out.stdout
    assert "revenue_by_region = {'eu': 37.5, 'us': 12.5}" in out.stdout


def test_quickstart_definitions_load():
    namespace = runpy.run_path(str(EXAMPLES / "quickstart" / "defs.py"))
    graph = namespace["defs"].get_asset_graph()
    assert [k.to_user_string() for k in graph.toposorted_keys] == [
        "orders",
        "revenue_by_region",
        "regional_report",
    ]


def test_features_example_exercises_every_feature():
    results = runpy.run_path(str(EXAMPLES / "features" / "defs.py"))["run_everything"]()
    assert results == {
        "sales_success": True,
        "revenue": 42.5,
        "big_orders": [1, 2],
        "checks": ["has_rows", "orders_have_ids"],
        "visits_yesterday": 1,
        "sales_job_assets": ["big_orders", "clean/orders", "revenue", "small_orders"],
        "schedule_run_keys": ["2024-01-01T07:00:00+01:00"],
        "sensor": (["file-2"], "2"),
    }
