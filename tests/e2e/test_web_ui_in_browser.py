"""The web UI in Debian's chromium: ui/e2e/ui.test.mjs under `node --test`, against a real
`weir dev` it starts itself (catalog, lineage graph, click through, launch a run and
watch it succeed, its events, a failed run's error, every other page), and
ui/e2e/auth.test.mjs against one with auth on (the token prompt). Screenshots of
each page are kept in ui/artifacts/ (gitignored) for CI to keep as artifacts."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


@pytest.mark.timeout(180)
def test_the_web_ui_works_in_a_browser() -> None:
    if not Path(CHROMIUM).exists() and not os.environ.get("CI"):
        pytest.skip(f"no browser at {CHROMIUM}: apt-get install chromium (.ci/run does)")
    if not (ROOT / "controlplane" / "weir_controlplane" / "ui_static" / "index.html").exists():
        pytest.fail("the web UI is not built: run `make ui`")
    node = shutil.which("node")
    assert node, "node is needed to drive the browser tests"
    done = subprocess.run(
        [
            node,
            "--test",
            "--test-concurrency=1",
            "--test-reporter=spec",
            *(str(path) for path in sorted((ROOT / "ui" / "e2e").glob("*.test.mjs"))),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=170,
    )
    assert done.returncode == 0, (
        f"browser tests failed:\n{done.stdout[-6000:]}\n{done.stderr[-3000:]}"
    )
    passed = re.search(r"pass (\d+)", done.stdout)
    assert passed and int(passed.group(1)) >= 11 and "fail 0" in done.stdout, done.stdout[-2000:]
