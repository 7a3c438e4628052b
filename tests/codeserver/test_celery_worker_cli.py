"""`weir celery worker` refuses, with a line saying what to fix, what it cannot serve."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

WEIR = Path(sys.executable).parent / "weir"
CODE = Path(__file__).parent / "code"


def _worker(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(WEIR), "celery", "worker", *args], capture_output=True, text=True, timeout=60
    )


def test_a_worker_needs_a_code_location() -> None:
    result = _worker("-Q", "gpu")
    assert result.returncode == 2
    assert "name the code location with -f defs.py or -m module" in result.stderr


def test_a_worker_for_definitions_without_a_celery_executor_says_so() -> None:
    result = _worker("-f", str(CODE / "pipeline.py"))
    assert result.returncode == 1
    assert "use no celery_executor" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_worker_for_code_that_does_not_load_says_why() -> None:
    result = _worker("-m", "no_such_module_anywhere")
    assert result.returncode == 1
    assert "could not load the code location" in result.stderr
    assert "no_such_module_anywhere" in result.stderr
