"""The Celery app of a code location: Weir's safe settings, the task's name and payload.

Weir owns retries and outcomes, so Celery is set up to deliver each step once and keep
no state: acks late with prefetch 1 (a worker holds one unacked task per process), no
requeue of a task whose worker died (Weir's heartbeat lease notices and launches a new
attempt), JSON only, no results (the control plane's event log is the only record), and a
Redis visibility timeout longer than any step (a day unless config_source sets one) so
Redis never re-delivers a running one; a copy it does deliver is refused at the claim.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from celery import Celery

TASK_NAME = "weir.execute_step"
# A day: longer than any step should run; redelivery is never how Weir recovers.
VISIBILITY_TIMEOUT_SECONDS = 86_400
# Settings config_source cannot change: they are what makes delivery safe.
_FIXED: dict[str, Any] = {
    "task_acks_late": True,
    "worker_prefetch_multiplier": 1,
    "task_reject_on_worker_lost": False,
    "task_acks_on_failure_or_timeout": True,
    "task_serializer": "json",
    "result_serializer": "json",
    "accept_content": ["json"],
    "task_ignore_result": True,
    "result_backend": None,
}
_DEFAULTS: dict[str, Any] = {
    "broker_connection_retry_on_startup": True,
    "worker_cancel_long_running_tasks_on_connection_loss": False,
    "worker_soft_shutdown_timeout": 30.0,
    "task_create_missing_queues": True,
    "worker_hijack_root_logger": False,
}


def celery_settings(config: Mapping[str, Any]) -> dict[str, Any]:
    """Celery settings for a celery_executor's config: defaults, then config_source, then
    the fixed ones; the visibility timeout is a day unless config_source says otherwise."""
    source = dict(config.get("config_source") or {})
    options = {**dict(source.pop("broker_transport_options", None) or {})}
    options.setdefault("visibility_timeout", VISIBILITY_TIMEOUT_SECONDS)
    settings = {**_DEFAULTS, **source, **_FIXED}
    settings["broker_transport_options"] = options
    settings["task_default_queue"] = config.get("default_queue", "weir")
    settings["include"] = list(config.get("include") or [])
    return settings


def make_app(config: Mapping[str, Any], broker: str | None = None) -> Celery:
    app = Celery("weir", broker=broker or config["broker"], set_as_current=False)
    app.conf.update(celery_settings(config))
    return app
