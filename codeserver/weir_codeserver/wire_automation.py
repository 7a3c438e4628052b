"""Automation conditions, freshness, backfill and retry policies as weir.v1 messages.

Each converter takes the real SDK class and reads its attributes directly, so a renamed
SDK field fails loudly here rather than dropping out of the snapshot.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import singledispatch
from typing import Any

from weir._automation.conditions import AutomationCondition
from weir._automation.freshness import (
    CronFreshnessPolicy,
    FreshnessPolicy,
    TimeWindowFreshnessPolicy,
)
from weir._automation.policies import BackfillPolicy
from weir._retries import Backoff, Jitter, RetryPolicy
from weir_protos.v1 import automation_pb2, definitions_pb2

from weir_codeserver.wire_values import UnsupportedOnWireError, duration_message

_Node = automation_pb2.AutomationConditionNode


def _set_cron_schedule(message: _Node, value: Any) -> None:
    message.cron_schedule = value


def _set_timezone(message: _Node, value: Any) -> None:
    message.timezone = value


def _set_lookback(message: _Node, seconds: Any) -> None:
    message.lookback.CopyFrom(duration_message(seconds))


def _set_blocking_only(message: _Node, value: Any) -> None:
    if value:  # unset is False, as the evaluator reads it
        message.params["blocking_only"] = "true"


# Every parameter an SDK node can carry (weir._automation.conditions.NODE_TYPES) -> where
# it goes on the wire. A parameter missing here is an error, not a silent drop.
PARAM_SETTERS: dict[str, Callable[[_Node, Any], None]] = {
    "cron_schedule": _set_cron_schedule,
    "cron_timezone": _set_timezone,
    "lookback_seconds": _set_lookback,
    "blocking_only": _set_blocking_only,
}


def automation_condition_message(condition: AutomationCondition) -> _Node:
    """The condition tree, fully expanded; composites keep their name in `label`."""
    message = _Node(node_type=condition.node_type)
    if condition.label is not None:
        message.label = condition.label
        # A name alone does not say what the composite does; the expansion one level
        # down does ("eager" -> "in_latest_time_window() & ...").
        message.description = condition.expression
    for name, value in condition.params:
        setter = PARAM_SETTERS.get(name)
        if setter is None:
            raise UnsupportedOnWireError(
                f"automation condition {condition.node_type!r} has a parameter {name!r} that "
                "weir.v1 has no field for"
            )
        if value is not None:  # None is the parameter's default (e.g. no lookback)
            setter(message, value)
    message.children.extend(automation_condition_message(c) for c in condition.children)
    return message


@singledispatch
def freshness_policy_message(policy: FreshnessPolicy) -> automation_pb2.FreshnessPolicy:
    raise UnsupportedOnWireError(
        f"freshness policy {type(policy).__qualname__} has no weir.v1 form"
    )


@freshness_policy_message.register
def _time_window(policy: TimeWindowFreshnessPolicy) -> automation_pb2.FreshnessPolicy:
    message = automation_pb2.FreshnessPolicy()
    message.time_window.fail_window.CopyFrom(duration_message(policy.fail_window))
    if policy.warn_window is not None:
        message.time_window.warn_window.CopyFrom(duration_message(policy.warn_window))
    return message


@freshness_policy_message.register
def _cron(policy: CronFreshnessPolicy) -> automation_pb2.FreshnessPolicy:
    return automation_pb2.FreshnessPolicy(
        cron=automation_pb2.CronFreshnessPolicy(
            deadline_cron=policy.deadline_cron,
            lower_bound_delta=duration_message(policy.lower_bound_delta),
            timezone=policy.timezone,
        )
    )


def backfill_policy_message(policy: BackfillPolicy) -> definitions_pb2.BackfillPolicy:
    message = definitions_pb2.BackfillPolicy()
    if policy.max_partitions_per_run is None:
        message.single_run.SetInParent()
    else:
        message.multi_run.max_partitions_per_run = policy.max_partitions_per_run
    return message


_BACKOFF = {
    None: definitions_pb2.RETRY_BACKOFF_UNSPECIFIED,
    Backoff.LINEAR: definitions_pb2.RETRY_BACKOFF_LINEAR,
    Backoff.EXPONENTIAL: definitions_pb2.RETRY_BACKOFF_EXPONENTIAL,
}
_JITTER = {
    None: definitions_pb2.RETRY_JITTER_UNSPECIFIED,
    Jitter.FULL: definitions_pb2.RETRY_JITTER_FULL,
    Jitter.PLUS_MINUS: definitions_pb2.RETRY_JITTER_PLUS_MINUS,
}


def retry_policy_message(policy: RetryPolicy) -> definitions_pb2.RetryPolicy:
    # No backoff is the wire's UNSPECIFIED (the same delay every time), no jitter likewise.
    message = definitions_pb2.RetryPolicy(
        max_retries=policy.max_retries,
        backoff=_BACKOFF[policy.backoff],
        jitter=_JITTER[policy.jitter],
    )
    if policy.delay is not None:
        message.delay.CopyFrom(duration_message(policy.delay))
    return message
