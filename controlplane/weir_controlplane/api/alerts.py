"""Alert RPCs: CreateAlertPolicy, ListAlertPolicies, DeleteAlertPolicy, ListAlertDeliveries.

A policy's webhook URL goes in once and never comes back out whole: replies show only
its scheme and host, since the rest may be a secret (Slack's webhook paths are).

A policy sees events of the code locations it names, or of every one; so changing one
takes EDIT on each location it names (on all of them when it names none), and a caller
whose grants are narrowed to some locations sees only policies within them.
"""

from __future__ import annotations

from google.protobuf import struct_pb2
from weir_protos.v1 import alerts_pb2 as pb
from weir_protos.v1 import control_plane_pb2 as cp

from weir_controlplane.alerts import urls
from weir_controlplane.api import convert, limits
from weir_controlplane.api.access_checks import require_location, visible_locations
from weir_controlplane.api.context import current_scope
from weir_controlplane.auth.roles import Permission
from weir_controlplane.errors import InvalidArgumentError, PermissionDeniedError
from weir_controlplane.storage.alerts import (
    AlertDelivery,
    AlertKind,
    AlertPolicy,
    AlertPolicyNotFoundError,
    AlertStorage,
    BodyFormat,
    DeliveryStatus,
    NewAlertPolicy,
)

MAX_NAME_LENGTH = 255
MAX_CODE_LOCATIONS = 100

_KIND_PROTO: dict[AlertKind, int] = {
    kind: getattr(pb, f"ALERT_EVENT_KIND_{kind.value}") for kind in AlertKind
}
_KIND_OF = {value: kind for kind, value in _KIND_PROTO.items()}
_FORMAT_PROTO: dict[BodyFormat, int] = {
    body_format: getattr(pb, f"ALERT_BODY_FORMAT_{body_format.value}") for body_format in BodyFormat
}
_FORMAT_OF = {value: body_format for body_format, value in _FORMAT_PROTO.items()}
_STATUS_PROTO: dict[DeliveryStatus, int] = {
    status: getattr(pb, f"ALERT_DELIVERY_STATUS_{status.value}") for status in DeliveryStatus
}
_STATUS_OF = {value: status for status, value in _STATUS_PROTO.items()}


class AlertsApi:
    """Answers the alert RPCs of ControlPlaneService for the request's deployment."""

    def __init__(self, alerts: AlertStorage) -> None:
        self._alerts = alerts

    def create_alert_policy(
        self, request: cp.CreateAlertPolicyRequest
    ) -> cp.CreateAlertPolicyResponse:
        new = new_policy(request.policy)
        _require_edit(new.code_locations)
        created = self._alerts.create_policy(current_scope(), new)
        return cp.CreateAlertPolicyResponse(policy=policy_proto(created))

    def list_alert_policies(
        self, request: cp.ListAlertPoliciesRequest
    ) -> cp.ListAlertPoliciesResponse:
        visible = visible_locations()
        policies = [
            policy
            for policy in self._alerts.list_policies(current_scope())
            if _within(policy, visible)
        ]
        return cp.ListAlertPoliciesResponse(policies=[policy_proto(p) for p in policies])

    def delete_alert_policy(
        self, request: cp.DeleteAlertPolicyRequest
    ) -> cp.DeleteAlertPolicyResponse:
        if not request.policy_id:
            raise InvalidArgumentError("policy_id is required (see ListAlertPolicies)")
        scope = current_scope()
        policy = self._alerts.get_policy(scope, request.policy_id)
        if not _within(policy, visible_locations()):
            raise AlertPolicyNotFoundError(request.policy_id)
        _require_edit(policy.code_locations)
        self._alerts.delete_policy(scope, request.policy_id)
        return cp.DeleteAlertPolicyResponse()

    def list_alert_deliveries(
        self, request: cp.ListAlertDeliveriesRequest
    ) -> cp.ListAlertDeliveriesResponse:
        if request.limit < 0:
            raise InvalidArgumentError("limit must be 0 (the default, 100) or more")
        scope = current_scope()
        visible = visible_locations()
        if request.policy_id:
            policy = self._alerts.get_policy(scope, request.policy_id)
            if not _within(policy, visible):
                raise AlertPolicyNotFoundError(request.policy_id)
        elif visible is not None:
            raise PermissionDeniedError(
                "the delivery log of every policy takes read access to every code location; "
                "name a policy_id of a policy within your code locations"
            )
        status = None
        if request.status:
            if request.status not in _STATUS_OF:
                raise InvalidArgumentError(f"status {request.status} is not a delivery status")
            status = _STATUS_OF[request.status]
        page = self._alerts.list_deliveries(
            scope,
            policy_id=request.policy_id or None,
            status=status,
            after_cursor=request.cursor or None,
            limit=request.limit or 100,
        )
        return cp.ListAlertDeliveriesResponse(
            deliveries=[delivery_proto(d) for d in page.items],
            next_cursor=page.next_cursor or "",
        )


def new_policy(message: pb.AlertPolicy) -> NewAlertPolicy:
    """The policy a request describes; INVALID_ARGUMENT naming the first thing to fix."""
    name = message.name.strip()
    if not name:
        raise InvalidArgumentError('policy.name is required, e.g. "on-call"')
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidArgumentError(f"policy.name is longer than {MAX_NAME_LENGTH} characters")
    if not message.kinds:
        raise InvalidArgumentError(
            "policy.kinds is empty: name at least one event kind, e.g. ALERT_EVENT_KIND_RUN_FAILED"
        )
    kinds = set()
    for value in message.kinds:
        if value not in _KIND_OF:
            raise InvalidArgumentError(f"policy.kinds holds {value}, which is not an event kind")
        kinds.add(_KIND_OF[value])
    problem = urls.problem(message.webhook_url)
    if problem is not None:
        raise InvalidArgumentError(f"policy.{problem}")
    if message.body_format and message.body_format not in _FORMAT_OF:
        raise InvalidArgumentError(f"policy.body_format {message.body_format} is not a format")
    if len(message.code_locations) > MAX_CODE_LOCATIONS:
        raise InvalidArgumentError(
            f"policy.code_locations names more than {MAX_CODE_LOCATIONS} code locations"
        )
    if any(not location for location in message.code_locations):
        raise InvalidArgumentError("policy.code_locations holds an empty name")
    limits.check_tags(message.run_tags, field="policy.run_tags")
    return NewAlertPolicy(
        name=name,
        kinds=frozenset(kinds),
        webhook_url=message.webhook_url,
        body_format=_FORMAT_OF.get(message.body_format, BodyFormat.JSON),
        code_locations=frozenset(message.code_locations),
        run_tags=dict(message.run_tags),
    )


def policy_proto(policy: AlertPolicy) -> pb.AlertPolicy:
    return pb.AlertPolicy(
        policy_id=policy.policy_id,
        name=policy.name,
        kinds=sorted(_KIND_PROTO[kind] for kind in policy.kinds),  # type: ignore[misc]
        webhook_url=urls.masked(policy.webhook_url),
        body_format=_FORMAT_PROTO[policy.body_format],  # type: ignore[arg-type]
        code_locations=sorted(policy.code_locations),
        run_tags=dict(policy.run_tags),
        created_at=convert.timestamp(policy.created_at),
    )


def delivery_proto(delivery: AlertDelivery) -> pb.AlertDelivery:
    event = struct_pb2.Struct()
    event.update(dict(delivery.event))
    message = pb.AlertDelivery(
        delivery_id=delivery.delivery_id,
        policy_id=delivery.policy_id,
        kind=_KIND_PROTO[delivery.kind],  # type: ignore[arg-type]
        status=_STATUS_PROTO[delivery.status],  # type: ignore[arg-type]
        event=event,
        attempt_count=delivery.attempts,
        last_error=delivery.last_error or "",
        created_at=convert.timestamp(delivery.created_at),
        attempts=[
            pb.AlertDeliveryAttempt(
                attempt=attempt.attempt,
                started_at=convert.timestamp(attempt.started_at),
                duration_ms=attempt.duration_ms,
                status_code=attempt.status_code or 0,
                error=attempt.error or "",
            )
            for attempt in delivery.attempt_log
        ],
    )
    if delivery.status is DeliveryStatus.PENDING:
        message.next_attempt_at.CopyFrom(convert.timestamp(delivery.next_attempt_at))
    if delivery.ended_at is not None:
        message.ended_at.CopyFrom(convert.timestamp(delivery.ended_at))
    return message


def _within(policy: AlertPolicy, visible: frozenset[str] | None) -> bool:
    """Whether a caller who sees `visible` code locations (None: all) sees `policy`."""
    if visible is None:
        return True
    return bool(policy.code_locations) and policy.code_locations <= visible


def _require_edit(code_locations: frozenset[str]) -> None:
    for location in sorted(code_locations):
        require_location(Permission.EDIT, location)
    if not code_locations and visible_locations(Permission.EDIT) is not None:
        raise PermissionDeniedError(
            "a policy for every code location takes edit access to every code location; "
            "name the policy's code_locations"
        )
