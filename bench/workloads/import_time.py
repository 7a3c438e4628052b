"""`import dg` in a fresh interpreter, and which heavy modules it drags in."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.spec import Target

TITLE = "import"
TIMED = "`import dg` in a fresh interpreter (startup excluded)"
IMPLEMENTATIONS = ("weir", "dagster")
PARAMS: list[dict[str, Any]] = [{}]
QUICK_PARAMS: list[dict[str, Any]] = [{}]
# A first import may compile bytecode; that is not what we measure.
WARMUP_PARAMS: dict[str, Any] = {}
REPEAT = 5
ORDER = 10

# Top-level packages a library for writing assets should not need at import time.
HEAVY_MODULES = ("grpc", "google.protobuf", "sqlalchemy")

_CHILD = """
import json, sys, time
start = time.perf_counter()
import {module}
elapsed = time.perf_counter() - start
print(json.dumps({{"seconds": elapsed, "modules": sorted(sys.modules)}}))
"""

_PROFILED_CHILD = """
import cProfile
cProfile.run("import {module}", {path!r})
"""


def target(params):
    return Target(max_seconds=0.1)


def run(bench):
    if bench.profile_path:
        code = _PROFILED_CHILD.format(module=bench.module_name, path=bench.profile_path)
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        bench.record(time.perf_counter() - start)
        # -X importtime says which modules cost the most, which cProfile shows poorly.
        importtime = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", f"import {bench.module_name}"],
            check=True,
            capture_output=True,
            text=True,
        )
        Path(bench.profile_path + ".importtime").write_text(importtime.stderr)
        return
    code = _CHILD.format(module=bench.module_name)
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    report = json.loads(out.stdout.strip().splitlines()[-1])
    bench.record(report["seconds"])
    modules = set(report["modules"])
    bench.note("modules_in_sys_modules", len(modules))
    bench.note("heavy_modules", {name: name in modules for name in HEAVY_MODULES})
