"""Executors: how a run's steps execute, chosen per code location or per job.

`in_process_executor` runs the steps one after another in the run's process (the default).
`multiprocess_executor` runs each step in a child process, independent steps in parallel,
at most `max_concurrent` at a time:

>>> executor = multiprocess_executor.configured({"max_concurrent": 4})
>>> executor.max_concurrent
4

Pass it as ``Definitions(executor=...)`` or ``define_asset_job(..., executor_def=...)``.
The choice lives in the code location; the control plane never needs it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from weir._errors import DefinitionError

IN_PROCESS, MULTIPROCESS = "in_process", "multiprocess"
# Each executor's settings and their defaults; 0 concurrent steps means one per CPU.
_SETTINGS: dict[str, dict[str, Any]] = {IN_PROCESS: {}, MULTIPROCESS: {"max_concurrent": 0}}


class ExecutorDefinition:
    """An executor and its settings. Make a configured copy with `configured`."""

    def __init__(self, name: str, config: Mapping[str, Any] | None = None):
        if name not in _SETTINGS:
            raise DefinitionError(f"Unknown executor {name!r}; known: {sorted(_SETTINGS)}")
        self.name = name
        self.config = _validated(name, {**_SETTINGS[name], **(config or {})})

    def configured(self, config: Mapping[str, Any]) -> ExecutorDefinition:
        """A copy with `config` applied over these settings."""
        if not isinstance(config, Mapping):
            raise DefinitionError(
                f"{self.name}_executor.configured() takes a dict of settings, got "
                f"{type(config).__name__}"
            )
        return ExecutorDefinition(self.name, {**self.config, **config})

    @property
    def is_multiprocess(self) -> bool:
        return self.name == MULTIPROCESS

    @property
    def max_concurrent(self) -> int:
        """How many steps run at once: 1 in process, else the setting (0: one per CPU)."""
        if not self.is_multiprocess:
            return 1
        return int(self.config["max_concurrent"]) or os.cpu_count() or 1

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ExecutorDefinition) and (self.name, self.config) == (
            other.name,
            other.config,
        )

    def __hash__(self) -> int:
        return hash((self.name, tuple(sorted(self.config.items()))))

    def __repr__(self) -> str:
        return f"<ExecutorDefinition {self.name} {self.config}>"


def _validated(name: str, config: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(config) - set(_SETTINGS[name]))
    if unknown:
        known = sorted(_SETTINGS[name]) or "none"
        raise DefinitionError(
            f"The {name} executor has no setting {', '.join(map(repr, unknown))}; its settings: "
            f"{known}"
        )
    most = config.get("max_concurrent", 0)
    if isinstance(most, bool) or not isinstance(most, int) or most < 0:
        raise DefinitionError(
            f"max_concurrent must be a whole number of steps (0 means one per CPU), got {most!r}"
        )
    return config


in_process_executor = ExecutorDefinition(IN_PROCESS)
multiprocess_executor = ExecutorDefinition(MULTIPROCESS)
