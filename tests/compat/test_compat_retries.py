"""Retrying flaky steps, as the op-retries guide does: a RetryPolicy on the asset or op
(with backoff and jitter), or RetryRequested raised from the function itself."""

import time

import pytest
from compat_target import dg


class FlakyAPI:
    """Fails its first `failures` calls, then answers."""

    def __init__(self, failures: int):
        self.failures = failures
        self.calls = 0

    def fetch(self) -> list[int]:
        self.calls += 1
        if self.calls <= self.failures:
            raise ConnectionError(f"timeout on call {self.calls}")
        return [1, 2, 3]

    def fetch_or_request_retry(self, max_retries: int, seconds_to_wait=None) -> list[int]:
        """As the guide does it: turn a timeout into a request to run the step again."""
        try:
            return self.fetch()
        except ConnectionError as error:
            raise dg.RetryRequested(max_retries, seconds_to_wait) from error


def retry_events(result) -> list:
    return [e for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]


def test_an_asset_with_a_retry_policy_succeeds_on_a_later_attempt():
    api = FlakyAPI(failures=2)

    @dg.asset(retry_policy=dg.RetryPolicy(max_retries=3, delay=0.01))
    def readings() -> list[int]:
        return api.fetch()

    result = dg.materialize([readings])

    assert result.success
    assert result.output_for_node("readings") == [1, 2, 3]
    assert api.calls == 3
    assert len(retry_events(result)) == 2


def test_retries_stop_at_max_retries_and_the_step_fails():
    api = FlakyAPI(failures=10)

    @dg.asset(retry_policy=dg.RetryPolicy(max_retries=2))
    def readings() -> list[int]:
        return api.fetch()

    result = dg.materialize([readings], raise_on_error=False)

    assert not result.success
    assert api.calls == 3
    assert result.get_failed_step_keys() == {"readings"}


def test_exponential_backoff_waits_longer_before_each_retry():
    api = FlakyAPI(failures=2)

    @dg.asset(retry_policy=dg.RetryPolicy(max_retries=2, delay=0.1, backoff=dg.Backoff.EXPONENTIAL))
    def readings() -> list[int]:
        return api.fetch()

    started = time.monotonic()
    result = dg.materialize([readings])
    elapsed = time.monotonic() - started

    # (2**1 - 1) * 0.1 before the first retry, (2**2 - 1) * 0.1 before the second.
    assert result.success
    assert elapsed >= 0.4


def test_linear_backoff_with_full_jitter_never_waits_longer_than_the_backoff():
    api = FlakyAPI(failures=2)

    @dg.asset(
        retry_policy=dg.RetryPolicy(
            max_retries=2, delay=0.2, backoff=dg.Backoff.LINEAR, jitter=dg.Jitter.FULL
        )
    )
    def readings() -> list[int]:
        return api.fetch()

    started = time.monotonic()
    result = dg.materialize([readings])

    # Full jitter waits a random part of 0.2 s, then of 0.4 s: never more than 0.6 s.
    assert result.success
    assert time.monotonic() - started < 0.6 + 0.5


def test_jitter_or_backoff_needs_a_delay():
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="delay"):
        dg.RetryPolicy(max_retries=2, jitter=dg.Jitter.PLUS_MINUS)


def test_retry_requested_reruns_the_asset_after_seconds_to_wait():
    api = FlakyAPI(failures=1)

    @dg.asset
    def readings() -> list[int]:
        return api.fetch_or_request_retry(max_retries=2, seconds_to_wait=0.2)

    started = time.monotonic()
    result = dg.materialize([readings])

    assert result.success
    assert api.calls == 2
    assert time.monotonic() - started >= 0.2
    assert len(retry_events(result)) == 1


def test_retry_requested_fails_the_step_once_its_max_retries_are_used():
    api = FlakyAPI(failures=10)

    @dg.asset
    def readings() -> list[int]:
        return api.fetch_or_request_retry(max_retries=2)

    result = dg.materialize([readings], raise_on_error=False)

    assert not result.success
    assert api.calls == 3
    (failure,) = result.get_step_failure_events()
    assert "max_retries of 2" in failure.step_failure_data.error.message


def test_an_op_with_a_retry_policy_is_retried_in_its_job():
    api = FlakyAPI(failures=1)

    @dg.op(retry_policy=dg.RetryPolicy(max_retries=1, delay=0.01))
    def fetch_readings() -> list[int]:
        return api.fetch()

    @dg.op
    def count(readings: list[int]) -> int:
        return len(readings)

    @dg.job
    def readings_job():
        count(fetch_readings())

    result = readings_job.execute_in_process()

    assert result.success
    assert result.output_for_node("count") == 3
    assert api.calls == 2


def test_an_op_can_request_its_own_retry():
    api = FlakyAPI(failures=2)

    @dg.op
    def fetch_readings() -> list[int]:
        return api.fetch_or_request_retry(max_retries=3)

    @dg.job
    def readings_job():
        fetch_readings()

    result = readings_job.execute_in_process()

    assert result.success
    assert api.calls == 3


def test_a_job_retry_policy_covers_ops_without_their_own():
    api = FlakyAPI(failures=1)

    @dg.op
    def fetch_readings() -> list[int]:
        return api.fetch()

    @dg.job(op_retry_policy=dg.RetryPolicy(max_retries=1))
    def readings_job():
        fetch_readings()

    assert readings_job.execute_in_process().success
    assert api.calls == 2


def test_an_asset_job_retry_policy_covers_its_assets():
    api = FlakyAPI(failures=2)

    @dg.asset
    def readings() -> list[int]:
        return api.fetch()

    job = dg.define_asset_job("readings_job", op_retry_policy=dg.RetryPolicy(max_retries=2))
    defs = dg.Definitions(assets=[readings], jobs=[job])

    result = defs.get_job_def("readings_job").execute_in_process()

    assert result.success
    assert api.calls == 3


def test_one_use_of_an_op_can_carry_its_own_retry_policy():
    api = FlakyAPI(failures=1)

    @dg.op
    def fetch_readings() -> list[int]:
        return api.fetch()

    @dg.job
    def readings_job():
        fetch_readings.with_retry_policy(dg.RetryPolicy(max_retries=1))()

    assert readings_job.execute_in_process().success
    assert api.calls == 2
