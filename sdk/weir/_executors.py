"""Executors: how a run's steps execute, chosen per code location or per job.

`in_process_executor` runs the steps one after another in the run's process (the default).
`multiprocess_executor` runs each step in a child process, independent steps in parallel,
at most `max_concurrent` at a time:

>>> executor = multiprocess_executor.configured({"max_concurrent": 4})
>>> executor.max_concurrent
4

`celery_executor` sends each step to Celery workers (`weir celery worker -f defs.py`),
configured as `dagster_celery.celery_executor` is:

>>> celery = celery_executor.configured({"broker": "redis://127.0.0.1:6379/0"})
>>> celery.config["default_queue"]
'weir'

A step goes to the queue named by its op tag or asset tag ``weir-celery/queue`` (or
``dagster-celery/queue``), else to ``default_queue``; ``queue_concurrency`` caps the steps
in flight per queue. Celery itself (the `weir[celery]` extra) is imported only by the code
server and the workers, when a run uses it.

Pass it as ``Definitions(executor=...)`` or ``define_asset_job(..., executor_def=...)``.
The choice lives in the code location; the control plane never needs it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from weir._errors import DefinitionError

IN_PROCESS, MULTIPROCESS, CELERY = "in_process", "multiprocess", "celery"
QUEUE_TAGS = ("weir-celery/queue", "dagster-celery/queue")
# Each executor's settings and their defaults; 0 concurrent steps means one per CPU (for
# Celery: no limit but the plan's).
_SETTINGS: dict[str, dict[str, Any]] = {
    IN_PROCESS: {},
    MULTIPROCESS: {"max_concurrent": 0},
    CELERY: {
        "broker": "redis://127.0.0.1:6379/0",
        # Modules every worker imports besides the code location (Celery's `include`).
        "include": [],
        # Celery settings over Weir's safe defaults (acks late, prefetch 1, JSON only).
        "config_source": {},
        "default_queue": "weir",
        # {queue: most steps in flight on it}; a queue left out has no limit.
        "queue_concurrency": {},
        "max_concurrent": 0,
        # A worker beats every heartbeat_seconds; one silent for lease_seconds is lost
        # and its step retried by its RetryPolicy as a new attempt.
        "heartbeat_seconds": 10.0,
        "lease_seconds": 60.0,
        # How long a canceled step may take to stop before its task is revoked.
        "cancel_grace_seconds": 10.0,
        # A step no worker claims for this long, while no worker of its queue shows life
        # (claims, heartbeats), fails naming the queue, or is retried by its RetryPolicy;
        # its task is revoked. Steps waiting behind busy workers are not timed out.
        "queued_timeout_seconds": 600.0,
        "poll_seconds": 0.1,
    },
}


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
    def is_celery(self) -> bool:
        return self.name == CELERY

    @property
    def launches_steps(self) -> bool:
        """Whether each step runs apart from the run's process, through a step launcher."""
        return self.name in (MULTIPROCESS, CELERY)

    @property
    def max_concurrent(self) -> int:
        """How many steps run at once: 1 in process, else the setting (0: one per CPU;
        for Celery, as many as the plan allows)."""
        if self.is_celery:
            return int(self.config["max_concurrent"]) or 1_000_000
        if not self.is_multiprocess:
            return 1
        return int(self.config["max_concurrent"]) or os.cpu_count() or 1

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ExecutorDefinition) and (self.name, self.config) == (
            other.name,
            other.config,
        )

    def __hash__(self) -> int:
        return hash((self.name, repr(sorted(self.config.items()))))

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
    if name == CELERY:
        _check_celery(config)
    return config


def _check_celery(config: dict[str, Any]) -> None:
    def fail(what: str) -> None:
        raise DefinitionError(f"celery_executor: {what}")

    if not isinstance(config["broker"], str) or "://" not in config["broker"]:
        fail(f"broker must be a URL such as redis://host:6379/0, got {config['broker']!r}")
    include = config["include"]
    if not isinstance(include, list | tuple) or not all(isinstance(m, str) for m in include):
        fail(f"include must be a list of module names, got {include!r}")
    if not isinstance(config["config_source"], Mapping):
        fail(f"config_source must be a dict of Celery settings, got {config['config_source']!r}")
    if not isinstance(config["default_queue"], str) or not config["default_queue"]:
        fail(f"default_queue must be a queue name, got {config['default_queue']!r}")
    limits = config["queue_concurrency"]
    if not isinstance(limits, Mapping) or not all(
        isinstance(q, str) and isinstance(n, int) and not isinstance(n, bool) and n > 0
        for q, n in limits.items()
    ):
        fail(f"queue_concurrency must map queue names to whole numbers above 0, got {limits!r}")
    timed = ("heartbeat_seconds", "lease_seconds", "cancel_grace_seconds", "poll_seconds")
    for key in (*timed, "queued_timeout_seconds"):
        value = config[key]
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            fail(f"{key} must be a positive number of seconds, got {value!r}")
    if config["lease_seconds"] <= config["heartbeat_seconds"]:
        fail(
            f"lease_seconds ({config['lease_seconds']}) must be longer than heartbeat_seconds "
            f"({config['heartbeat_seconds']})"
        )


def step_queue(definition: Any, default: str) -> str:
    """The Celery queue of a step: its op tag, else any of its assets' tags, else `default`."""
    tag_sets = [getattr(definition, "op_tags", {})]
    tag_sets += [spec.tags for spec in getattr(definition, "specs", ())]
    for tags in tag_sets:
        for name in QUEUE_TAGS:
            if tags.get(name):
                return str(tags[name])
    return default


in_process_executor = ExecutorDefinition(IN_PROCESS)
multiprocess_executor = ExecutorDefinition(MULTIPROCESS)
celery_executor = ExecutorDefinition(CELERY)
