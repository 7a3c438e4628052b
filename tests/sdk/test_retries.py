"""weir/_retries.py: Dagster's delay arithmetic, jitter bounds, and bad policies refused."""

import doctest

import pytest
import weir as dg
import weir._retries as retries
from hypothesis import given
from hypothesis import strategies as st


@pytest.mark.parametrize(
    ("backoff", "expected"),
    [
        (None, [0.5, 0.5, 0.5]),
        (dg.Backoff.LINEAR, [0.5, 1.0, 1.5]),
        (dg.Backoff.EXPONENTIAL, [0.5, 1.5, 3.5]),
    ],
)
def test_backoff_grows_the_delay_as_dagster_does(backoff, expected):
    policy = dg.RetryPolicy(max_retries=3, delay=0.5, backoff=backoff)

    assert [policy.delay_before(n) for n in (1, 2, 3)] == expected


@given(retry=st.integers(1, 6), delay=st.floats(0, 10))
def test_jitter_stays_within_its_bounds(retry, delay):
    exponential = dg.RetryPolicy(3, delay, dg.Backoff.EXPONENTIAL).delay_before(retry)
    full = dg.RetryPolicy(3, delay, dg.Backoff.EXPONENTIAL, dg.Jitter.FULL).delay_before(retry)
    plus_minus = dg.RetryPolicy(3, delay, None, dg.Jitter.PLUS_MINUS).delay_before(retry)

    assert 0 <= full <= exponential
    assert 0 <= plus_minus <= 2 * delay


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_retries": -1}, "max_retries=-1"),
        ({"delay": -2}, "delay=-2"),
        ({"backoff": "EXPONENTIAL", "delay": 1}, "Backoff.LINEAR, Backoff.EXPONENTIAL"),
        ({"backoff": dg.Backoff.LINEAR}, "set delay= too"),
    ],
)
def test_a_policy_that_cannot_work_is_refused_saying_why(kwargs, message):
    with pytest.raises(dg.DefinitionError, match=message):
        dg.RetryPolicy(**kwargs)


def test_retry_requested_carries_its_own_limit_ahead_of_the_policy():
    policy = dg.RetryPolicy(max_retries=5, delay=1.0)
    request = dg.RetryRequested(max_retries=1, seconds_to_wait=0.25)

    assert retries.retry_delay(request, policy, retries_done=0) == 0.25
    assert retries.retry_delay(request, policy, retries_done=1) is None
    assert retries.retry_delay(ValueError(), policy, retries_done=4) == 1.0
    assert retries.retry_delay(ValueError(), None, retries_done=0) is None


def test_the_documented_examples_run():
    assert doctest.testmod(retries).failed == 0
