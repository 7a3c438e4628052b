"""Evaluating a freshness policy: the state now, and when it would next change by itself.

    evaluate(policy, last_updated, now) -> PolicyOutcome(state, reason, next_due)

- time window: PASS while the last update is younger than `warn_window` (or
  `fail_window` without one), WARN until `fail_window`, then FAIL;
- cron: at each `deadline_cron` tick (in `timezone`) the asset must have been updated at
  or after the tick minus `lower_bound_delta`: PASS when the latest deadline's window
  saw an update, FAIL when it did not (no WARN).

Never updated is FAIL. `next_due` is the instant the state would change with no new
update (None: only an update can change it), which the daemon stores as the asset's
due time. The cron engine is weir_partitions', the one the schedules use.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from weir_partitions import CronClock, load_timezone, parse_cron
from weir_protos.v1 import automation_pb2

from weir_controlplane.storage import FreshnessState


@dataclass(frozen=True)
class PolicyOutcome:
    state: FreshnessState
    reason: str
    next_due: datetime | None


class InvalidPolicyError(Exception):
    """A stored policy the evaluator cannot read (the SDK validates them at definition)."""


def evaluate(
    policy: automation_pb2.FreshnessPolicy, last_updated: datetime | None, now: datetime
) -> PolicyOutcome:
    kind = policy.WhichOneof("kind")
    if kind == "time_window":
        return _time_window(policy.time_window, last_updated, now)
    if kind == "cron":
        return _cron(policy.cron, last_updated, now)
    raise InvalidPolicyError("the freshness policy sets neither time_window nor cron")


def _time_window(
    policy: automation_pb2.TimeWindowFreshnessPolicy, last_updated: datetime | None, now: datetime
) -> PolicyOutcome:
    fail = policy.fail_window.ToTimedelta()
    warn = policy.warn_window.ToTimedelta() if policy.HasField("warn_window") else None
    if fail <= timedelta(0):
        raise InvalidPolicyError("the time-window freshness policy has no fail_window")
    if last_updated is None:
        return PolicyOutcome(FreshnessState.FAIL, "never materialized", None)
    age = now - last_updated
    ago = f"last materialized {_span(age)} ago"
    if age >= fail:
        return PolicyOutcome(
            FreshnessState.FAIL, f"{ago}, more than the fail window of {_span(fail)}", None
        )
    if warn is not None and age >= warn:
        return PolicyOutcome(
            FreshnessState.WARN,
            f"{ago}, more than the warn window of {_span(warn)}",
            last_updated + fail,
        )
    window = warn if warn is not None else fail
    return PolicyOutcome(
        FreshnessState.PASS, f"{ago}, within {_span(window)}", last_updated + window
    )


def _cron(
    policy: automation_pb2.CronFreshnessPolicy, last_updated: datetime | None, now: datetime
) -> PolicyOutcome:
    clock = _clock(policy.deadline_cron, policy.timezone or "UTC")
    delta = policy.lower_bound_delta.ToTimedelta()
    at = int(now.timestamp())
    deadline = clock.prev_tick(at)
    window_start = _moment(deadline) - delta
    if last_updated is not None and last_updated >= window_start:
        # Fresh until the first later deadline whose window it does not reach.
        following = clock.next_tick(deadline + 1)
        while last_updated >= _moment(following) - delta:
            following = clock.next_tick(following + 1)
        return PolicyOutcome(
            FreshnessState.PASS,
            f"materialized at {_iso(last_updated)}, on time for the deadline of "
            f"{_iso(_moment(deadline))}",
            _moment(following),
        )
    when = "never materialized" if last_updated is None else f"last at {_iso(last_updated)}"
    return PolicyOutcome(
        FreshnessState.FAIL,
        f"not materialized between {_iso(window_start)} and the deadline of "
        f"{_iso(_moment(deadline))} ({when})",
        None,
    )


@lru_cache(maxsize=256)
def _clock(expression: str, timezone: str) -> CronClock:
    try:
        return CronClock(parse_cron(expression), load_timezone(timezone))
    except Exception as exc:  # the SDK validated it; say which policy if not
        raise InvalidPolicyError(
            f"deadline_cron {expression!r} in {timezone!r} cannot be evaluated: {exc}"
        ) from exc


def _moment(ts: int) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def _span(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    if seconds < 172800:
        return f"{seconds // 3600}h{(seconds % 3600) // 60:02d}m"
    return f"{seconds // 86400}d{(seconds % 86400) // 3600}h"
