"""Step retries in runs served by a code location: the run worker retries a step after the
delay its RetryPolicy computes (or a RetryRequested asks for) and reports that delay."""

from __future__ import annotations

import pytest
from codeserver_harness import event_types, execute_request

LOCATION = """
import weir as dg

calls = {"readings": 0, "prices": 0, "counts": 0}


@dg.asset(
    retry_policy=dg.RetryPolicy(max_retries=3, delay=0.2, backoff=dg.Backoff.EXPONENTIAL)
)
def readings() -> list[int]:
    calls["readings"] += 1
    if calls["readings"] < 3:
        raise ConnectionError(f"sensor offline on attempt {calls['readings']}")
    return [3, 1, 4]


@dg.asset
def prices() -> int:
    calls["prices"] += 1
    try:
        if calls["prices"] < 2:
            raise TimeoutError("price feed timed out")
    except TimeoutError as error:
        raise dg.RetryRequested(max_retries=1, seconds_to_wait=0.3) from error
    return 10


@dg.asset
def counts() -> int:
    calls["counts"] += 1
    if calls["counts"] < 2:
        raise ConnectionError("counter busy")
    return 7


counts_job = dg.define_asset_job(
    "counts_job", selection=["counts"], op_retry_policy=dg.RetryPolicy(max_retries=1, delay=0.1)
)

defs = dg.Definitions(assets=[readings, prices, counts], jobs=[counts_job])
"""


def _seconds(timestamp) -> float:
    return timestamp.seconds + timestamp.nanos / 1e9


@pytest.fixture
def run_served(start_codeserver, collector, tmp_path):
    """Runs a request against the location above and returns all of the run's events."""
    events, reporting = collector
    path = tmp_path / "retrying_location.py"
    path.write_text(LOCATION)
    server = start_codeserver(path)

    def run(*asset_keys: str, **fields):
        request = execute_request(reporting.address, *asset_keys, **fields)
        server.stub.ExecuteRun(request)
        return events.wait_for_end(request.run_id)

    return run


def test_a_served_run_retries_each_step_after_its_computed_delay(run_served):
    run = run_served("readings", "prices")

    assert event_types(run)[-1] == "RUN_SUCCESS"
    retries = [e for e in run if e.HasField("step_retry")]
    by_step = {
        step: [
            (e.step_retry.attempt, e.step_retry.delay.ToMilliseconds())
            for e in retries
            if e.step_key == step
        ]
        for step in ("readings", "prices")
    }
    # Exponential backoff: (2**1 - 1) * 0.2 s, then (2**2 - 1) * 0.2 s.
    assert by_step == {"readings": [(1, 200), (2, 600)], "prices": [(1, 300)]}
    assert "sensor offline on attempt 1" in retries[0].step_retry.error.message
    restarted = [e for e in run if event_types([e]) == ["STEP_RESTARTED"]]
    assert [e.step_key for e in restarted] == ["readings", "readings", "prices"]
    for retry, restart in zip(retries, restarted, strict=True):
        waited = _seconds(restart.timestamp) - _seconds(retry.timestamp)
        assert waited >= retry.step_retry.delay.ToMilliseconds() / 1000 - 0.01


def test_a_served_job_retries_its_steps_by_the_jobs_op_retry_policy(run_served):
    run = run_served(job_name="counts_job")

    assert event_types(run)[-1] == "RUN_SUCCESS"
    (retry,) = [e.step_retry for e in run if e.HasField("step_retry")]
    assert (retry.attempt, retry.delay.ToMilliseconds()) == (1, 100)
    assert "counter busy" in retry.error.message
