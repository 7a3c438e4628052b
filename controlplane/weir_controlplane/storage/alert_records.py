"""The records of alerting: event kinds, alert events, policies and deliveries.

`AlertEvent` is the one shape every trigger builds (storage/alert_triggers.py, and
storage/health.py for health and freshness changes), all queued through `publish`.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from weir_controlplane.storage.errors import AlreadyExistsError, NotFoundError
from weir_controlplane.storage.records import DeploymentScope


class AlertKind(enum.StrEnum):
    """What happened. Each kind a policy can subscribe to."""

    RUN_FAILED = "RUN_FAILED"
    CHECK_FAILED = "CHECK_FAILED"
    CODE_LOCATION_LOAD_ERROR = "CODE_LOCATION_LOAD_ERROR"
    TICK_FAILED = "TICK_FAILED"
    HEALTH_CHANGED = "HEALTH_CHANGED"
    FRESHNESS_FAILED = "FRESHNESS_FAILED"


class BodyFormat(enum.StrEnum):
    JSON = "JSON"  # the event as a plain JSON object
    SLACK = "SLACK"  # {"text": ..., "blocks": [...]}, what Slack's incoming webhooks take


class DeliveryStatus(enum.StrEnum):
    PENDING = "PENDING"
    DELIVERED = "DELIVERED"
    FAILED = "FAILED"


@dataclass(frozen=True)
class AlertEvent:
    """One thing to alert on. `summary` is the line a person reads first; the other
    fields say where it happened (empty when they do not apply)."""

    kind: AlertKind
    summary: str
    occurred_at: datetime
    code_location: str = ""
    run_id: str = ""
    asset_key: str = ""
    check_name: str = ""
    instigator: str = ""  # the schedule's or sensor's name
    message: str = ""
    # Run tags for RUN_FAILED (matched against a policy's `run_tags`), else empty.
    tags: Mapping[str, str] = field(default_factory=dict)
    # Anything else worth sending (a health status and its previous value, say).
    details: Mapping[str, str] = field(default_factory=dict)

    def to_document(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "summary": self.summary,
            "occurred_at": self.occurred_at.astimezone(UTC).isoformat(),
            "code_location": self.code_location,
            "run_id": self.run_id,
            "asset_key": self.asset_key,
            "check_name": self.check_name,
            "instigator": self.instigator,
            "message": self.message,
            "tags": dict(self.tags),
            "details": dict(self.details),
        }


@dataclass(frozen=True)
class NewAlertPolicy:
    name: str
    kinds: frozenset[AlertKind]
    webhook_url: str
    body_format: BodyFormat = BodyFormat.JSON
    # Empty: every code location.
    code_locations: frozenset[str] = frozenset()
    # RUN_FAILED only for runs carrying every one of these tags; empty: every run.
    run_tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class AlertPolicy(NewAlertPolicy):
    policy_id: str = ""
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def matches(self, event: AlertEvent) -> bool:
        if event.kind not in self.kinds:
            return False
        if self.code_locations and event.code_location not in self.code_locations:
            return False
        if self.run_tags and event.kind is AlertKind.RUN_FAILED:
            return all(event.tags.get(k) == v for k, v in self.run_tags.items())
        return True


@dataclass(frozen=True)
class DeliveryAttempt:
    attempt: int
    started_at: datetime
    duration_ms: int
    status_code: int | None  # None: no HTTP answer (refused, timed out)
    error: str | None  # None: delivered


@dataclass(frozen=True)
class AlertDelivery:
    delivery_id: int
    policy_id: str
    kind: AlertKind
    event: Mapping[str, Any]
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    ended_at: datetime | None
    attempt_log: tuple[DeliveryAttempt, ...] = ()


@dataclass(frozen=True)
class ClaimedDelivery:
    """A delivery this worker holds until its lease runs out, with where to post it."""

    delivery_id: int
    scope: DeploymentScope
    attempts: int  # attempts made before this one
    event: Mapping[str, Any]
    webhook_url: str
    body_format: BodyFormat


class AlertPolicyExistsError(AlreadyExistsError):
    def __init__(self, name: str) -> None:
        super().__init__(f"an alert policy named {name!r} already exists in this deployment")
        self.name = name


class AlertPolicyNotFoundError(NotFoundError):
    def __init__(self, policy_id: str) -> None:
        super().__init__(f"no alert policy {policy_id!r} in this deployment")
        self.policy_id = policy_id
