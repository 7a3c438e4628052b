"""Freshness policies evaluated by the control plane: the state at an instant and when it
would next change by the clock alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from weir_controlplane.freshness import InvalidPolicyError, evaluate
from weir_controlplane.storage import FreshnessState
from weir_protos.v1 import automation_pb2

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
S = FreshnessState


def window(fail: timedelta, warn: timedelta | None = None) -> automation_pb2.FreshnessPolicy:
    policy = automation_pb2.FreshnessPolicy()
    policy.time_window.fail_window.FromTimedelta(fail)
    if warn is not None:
        policy.time_window.warn_window.FromTimedelta(warn)
    return policy


def cron(expression: str, delta: timedelta, tz: str = "UTC") -> automation_pb2.FreshnessPolicy:
    policy = automation_pb2.FreshnessPolicy()
    policy.cron.deadline_cron = expression
    policy.cron.lower_bound_delta.FromTimedelta(delta)
    policy.cron.timezone = tz
    return policy


@pytest.mark.parametrize(
    ("age", "state", "due"),
    [
        (timedelta(0), S.PASS, timedelta(minutes=30)),
        (timedelta(minutes=29, seconds=59), S.PASS, timedelta(minutes=30)),
        (timedelta(minutes=30), S.WARN, timedelta(hours=1)),
        (timedelta(minutes=59), S.WARN, timedelta(hours=1)),
        (timedelta(hours=1), S.FAIL, None),
        (timedelta(days=9), S.FAIL, None),
    ],
)
def test_a_time_window_passes_warns_then_fails(
    age: timedelta, state: FreshnessState, due: timedelta | None
) -> None:
    outcome = evaluate(window(timedelta(hours=1), timedelta(minutes=30)), T0, T0 + age)
    assert outcome.state is state
    assert outcome.next_due == (None if due is None else T0 + due)


def test_without_a_warn_window_it_passes_until_it_fails() -> None:
    outcome = evaluate(window(timedelta(hours=1)), T0, T0 + timedelta(minutes=45))
    assert (outcome.state, outcome.next_due) == (S.PASS, T0 + timedelta(hours=1))


def test_never_materialized_fails_until_a_materialization() -> None:
    for policy in (window(timedelta(hours=1)), cron("0 9 * * *", timedelta(hours=1))):
        outcome = evaluate(policy, None, T0)
        assert (outcome.state, outcome.next_due) == (S.FAIL, None)
        assert "never materialized" in outcome.reason


def test_a_cron_deadline_is_met_by_an_update_within_its_window() -> None:
    policy = cron("0 9 * * *", timedelta(hours=2))
    on_time = evaluate(policy, datetime(2026, 3, 2, 7, 30, tzinfo=UTC), T0 + timedelta(hours=3))
    assert on_time.state is S.PASS
    assert on_time.next_due == datetime(2026, 3, 3, 9, 0, tzinfo=UTC)
    late = evaluate(policy, datetime(2026, 3, 2, 6, 30, tzinfo=UTC), T0 + timedelta(hours=3))
    assert (late.state, late.next_due) == (S.FAIL, None)
    assert "2026-03-02T07:00:00+00:00" in late.reason


def test_an_update_ahead_of_the_next_deadline_counts_for_it_too() -> None:
    # 08:30 is inside the window of the 09:00 deadline still to come: fresh past it.
    outcome = evaluate(
        cron("0 9 * * *", timedelta(hours=1)), T0 + timedelta(minutes=30), T0 + timedelta(hours=1)
    )
    assert outcome.state is S.PASS
    assert outcome.next_due == datetime(2026, 3, 3, 9, 0, tzinfo=UTC)


def test_cron_deadlines_follow_the_policys_time_zone_across_dst() -> None:
    # Europe/Paris moves to summer time on 2026-03-29: 09:00 local is 08:00 UTC, then 07:00.
    policy = cron("0 9 * * *", timedelta(hours=1), "Europe/Paris")
    before = datetime(2026, 3, 28, 7, 30, tzinfo=UTC)  # 08:30 local
    outcome = evaluate(policy, before, datetime(2026, 3, 28, 8, 5, tzinfo=UTC))
    assert outcome.state is S.PASS
    assert outcome.next_due == datetime(2026, 3, 29, 7, 0, tzinfo=UTC)


def test_a_policy_with_neither_form_is_an_error() -> None:
    with pytest.raises(InvalidPolicyError, match="neither time_window nor cron"):
        evaluate(automation_pb2.FreshnessPolicy(), T0, T0)
