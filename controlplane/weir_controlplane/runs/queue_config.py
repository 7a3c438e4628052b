"""The run queue's section of weir.yaml, in the names Dagster's run queue uses:

run_queue:
  max_concurrent_runs: 10          # per deployment
  tag_concurrency_limits:
    - key: team
      value: finance               # runs tagged team=finance: at most 2 at once
      limit: 2
    - key: database                # every run tagged database=<anything>: 4 together
      limit: 4
    - key: customer                # each customer at most 1
      value: {applyLimitPerUniqueValue: true}
      limit: 1
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from weir_controlplane.errors import InvalidArgumentError
from weir_controlplane.locations.workspace import read_workspace_file
from weir_controlplane.storage import TagConcurrencyLimit

_SECTION_KEYS = {"max_concurrent_runs", "tag_concurrency_limits"}
_LIMIT_KEYS = {"key", "value", "limit"}


@dataclass(frozen=True)
class RunQueueConfig:
    max_concurrent_runs: int | None = None  # None: the command line's or the default
    tag_concurrency_limits: tuple[TagConcurrencyLimit, ...] = ()


def load_run_queue(path: str | Path) -> RunQueueConfig:
    """The `run_queue:` section of the weir.yaml at `path` (empty when it has none)."""
    return parse_run_queue(read_workspace_file(Path(path)).get("run_queue"), str(path))


def parse_run_queue(section: Any, where: str) -> RunQueueConfig:
    if section is None:
        return RunQueueConfig()
    if not isinstance(section, dict):
        raise InvalidArgumentError(f"{where}: run_queue must be a mapping, got {section!r}")
    unknown = sorted(set(section) - _SECTION_KEYS)
    if unknown:
        raise InvalidArgumentError(
            f"{where}: run_queue has unknown settings {unknown}; known: {sorted(_SECTION_KEYS)}"
        )
    most = section.get("max_concurrent_runs")
    if most is not None and (isinstance(most, bool) or not isinstance(most, int) or most < 1):
        raise InvalidArgumentError(
            f"{where}: run_queue.max_concurrent_runs must be an integer of at least 1, got {most!r}"
        )
    entries = section.get("tag_concurrency_limits") or []
    if not isinstance(entries, list):
        raise InvalidArgumentError(
            f"{where}: run_queue.tag_concurrency_limits must be a list of "
            "{key, value, limit} entries"
        )
    limits = tuple(
        _limit(entry, f"{where}: run_queue.tag_concurrency_limits[{i}]")
        for i, entry in enumerate(entries)
    )
    return RunQueueConfig(most, limits)


def _limit(entry: Any, where: str) -> TagConcurrencyLimit:
    if not isinstance(entry, dict):
        raise InvalidArgumentError(f"{where} must be a mapping with key and limit, got {entry!r}")
    unknown = sorted(set(entry) - _LIMIT_KEYS)
    if unknown:
        raise InvalidArgumentError(f"{where} has unknown fields {unknown}; use key, value, limit")
    key, value, limit = entry.get("key"), entry.get("value"), entry.get("limit")
    if not isinstance(key, str) or not key:
        raise InvalidArgumentError(f"{where} needs a tag key (key: team)")
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
        raise InvalidArgumentError(f"{where} needs a limit, an integer of at least 0 (limit: 2)")
    if isinstance(value, dict):
        if value != {"applyLimitPerUniqueValue": True}:
            raise InvalidArgumentError(
                f"{where}: value must be a tag value or {{applyLimitPerUniqueValue: true}}, "
                f"got {value!r}"
            )
        return TagConcurrencyLimit(key, limit, per_unique_value=True)
    if value is not None and not isinstance(value, str):
        raise InvalidArgumentError(f"{where}: value must be a string, got {value!r}")
    return TagConcurrencyLimit(key, limit, value)
