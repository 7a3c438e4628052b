"""Test modules are imported by basename (no packages under tests/), so two test files
of one name in different folders stop the whole suite at collection: refuse that here,
naming the files, before it reaches CI."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

TESTS = Path(__file__).parent
SKIPPED = {".venv", "node_modules", "__pycache__"}


def test_no_two_test_modules_share_a_basename() -> None:
    by_name: dict[str, list[str]] = defaultdict(list)
    for path in TESTS.rglob("test_*.py"):
        if SKIPPED.isdisjoint(path.relative_to(TESTS).parts):
            by_name[path.name].append(str(path.relative_to(TESTS)))
    clashes = {name: paths for name, paths in by_name.items() if len(paths) > 1}
    assert not clashes, f"rename one of each: {clashes}"
