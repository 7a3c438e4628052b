"""Automation conditions, freshness, backfill and retry policies as weir.v1 messages."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from weir import AssetKey
from weir_protos.v1 import automation_pb2, definitions_pb2

from weir_codeserver.wire_values import asset_key_message, duration_message

# SDK parameter name -> the dedicated field of AutomationConditionNode it fills.
_CRON_PARAMS = {
    "cron_schedule": "cron_schedule",
    "cron_timezone": "timezone",
    "timezone": "timezone",
}
_KEY_SET_PARAMS = ("allow", "ignore")


def automation_condition_message(condition: Any) -> automation_pb2.AutomationConditionNode:
    """The condition tree, fully expanded; composites keep their name in `label`."""
    message = automation_pb2.AutomationConditionNode(node_type=condition.node_type)
    label = getattr(condition, "label", None)
    if label:
        message.label = label
        # A name alone does not say what the composite does; the expansion one level
        # down does ("eager" -> "in_latest_time_window() & ...").
        expression = getattr(condition, "expression", None)
        if isinstance(expression, str):
            message.description = expression
    for name, value in getattr(condition, "params", ()):
        if value is None:
            continue
        if name in _CRON_PARAMS:
            setattr(message, _CRON_PARAMS[name], str(value))
        elif name == "lookback_seconds" or name == "lookback":
            message.lookback.CopyFrom(duration_message(value))
        elif name in _KEY_SET_PARAMS and _is_key_collection(value):
            getattr(message, name).keys.extend(
                asset_key_message(AssetKey.from_coercible(k)) for k in sorted(_keys(value))
            )
        else:
            message.params[name] = _param_text(value)
    for child in condition.children:
        message.children.append(automation_condition_message(child))
    return message


def _is_key_collection(value: Any) -> bool:
    return isinstance(value, Iterable) and not isinstance(value, str)


def _keys(value: Iterable[Any]) -> list[AssetKey]:
    return [AssetKey.from_coercible(k) for k in value]


def _param_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    return json.dumps(value, sort_keys=True, default=str)


def freshness_policy_message(policy: Any) -> automation_pb2.FreshnessPolicy:
    message = automation_pb2.FreshnessPolicy()
    if getattr(policy, "policy_type", None) == "cron" or hasattr(policy, "deadline_cron"):
        message.cron.deadline_cron = policy.deadline_cron
        message.cron.lower_bound_delta.CopyFrom(duration_message(policy.lower_bound_delta))
        message.cron.timezone = getattr(policy, "timezone", "") or ""
    else:
        message.time_window.fail_window.CopyFrom(duration_message(policy.fail_window))
        warn = getattr(policy, "warn_window", None)
        if warn is not None:
            message.time_window.warn_window.CopyFrom(duration_message(warn))
    return message


def backfill_policy_message(policy: Any) -> definitions_pb2.BackfillPolicy:
    message = definitions_pb2.BackfillPolicy()
    per_run = getattr(policy, "max_partitions_per_run", None)
    if per_run is None:
        message.single_run.SetInParent()
    else:
        message.multi_run.max_partitions_per_run = per_run
    return message


def retry_policy_message(policy: Any) -> definitions_pb2.RetryPolicy:
    message = definitions_pb2.RetryPolicy(max_retries=getattr(policy, "max_retries", 0) or 0)
    delay = getattr(policy, "delay", None)
    if delay:
        message.delay.CopyFrom(duration_message(delay))
    message.backoff = _enum_value(
        definitions_pb2.RetryBackoff, "RETRY_BACKOFF_", getattr(policy, "backoff", None)
    )
    message.jitter = _enum_value(
        definitions_pb2.RetryJitter, "RETRY_JITTER_", getattr(policy, "jitter", None)
    )
    return message


def _enum_value(enum: Any, prefix: str, value: Any) -> int:
    """The wire enum value named like the SDK's (``Backoff.LINEAR`` -> LINEAR), else 0."""
    if value is None:
        return 0
    name = prefix + str(getattr(value, "name", value)).upper()
    return dict(enum.items()).get(name, 0)
