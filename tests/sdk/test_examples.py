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
