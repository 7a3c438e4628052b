"""What objects keep of memory, measured in a fresh interpreter.

A budget per object measured inside the test process depends on what ran before it: a
cache or intern table another test filled resizes during the measurement and is charged
to it. A fresh interpreter sees only what the measured code makes.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path

_MEASURE = """
import gc, sys, tracemalloc
sys.path[:0] = {paths!r}
{prepare}
gc.collect()
tracemalloc.start()
kept = [{make} for i in range({count})]
gc.collect()
print(tracemalloc.get_traced_memory()[0] / {count})
"""


def bytes_per_item(
    prepare: str, make: str, count: int = 1000, *, paths: Sequence[str] = ()
) -> float:
    """Bytes traced per item of `[make for i in range(count)]`, once `prepare` ran (with
    `paths` and tests/ first on sys.path, for helpers of the tests to import)."""
    script = _MEASURE.format(
        prepare=textwrap.dedent(prepare),
        make=make,
        count=count,
        paths=[*map(str, paths), str(Path(__file__).parent)],
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    return float(done.stdout.strip())
