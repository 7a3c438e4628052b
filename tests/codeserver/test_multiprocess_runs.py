"""Runs with the multiprocess executor on a real code server: steps in child processes,
two at a time, overlapping (as their own STEP_START / STEP_SUCCESS events show), one
gapless event stream, and a failure that skips only its downstream steps."""

from __future__ import annotations

import json

import pytest
from codeserver_harness import CODE, E, event_types, execute_request
from weir_protos.v1 import events_pb2

PARALLEL = CODE / "parallel.py"
# Every way a worker starts: a warm spare, a fresh fork of the zygote, a fresh interpreter.
LAUNCHES = [[], ["--spare-workers", "0"], ["--no-zygote"]]


def _windows(run: list[events_pb2.RunEvent]) -> dict[str, tuple[int, int]]:
    """Each step's (start, end) in nanoseconds, as its own events give them."""
    starts, ends = {}, {}
    for event in run:
        if event.event_type == E.RUN_EVENT_TYPE_STEP_START:
            starts[event.step_key] = event.timestamp.ToNanoseconds()
        elif event.event_type in (E.RUN_EVENT_TYPE_STEP_SUCCESS, E.RUN_EVENT_TYPE_STEP_FAILURE):
            ends[event.step_key] = event.timestamp.ToNanoseconds()
    return {step: (starts[step], ends[step]) for step in ends}


def _most_at_once(windows: dict[str, tuple[int, int]]) -> int:
    edges = sorted([(s, 1) for s, _ in windows.values()] + [(e, -1) for _, e in windows.values()])
    running = most = 0
    for _, change in edges:
        running += change
        most = max(most, running)
    return most


def _worker_pid(run: list[events_pb2.RunEvent]) -> int:
    note = next(e for e in run if e.event_type == E.RUN_EVENT_TYPE_ENGINE)
    return next(entry.value.int for entry in note.engine.metadata if entry.label == "pid")


@pytest.mark.parametrize("launch", LAUNCHES, ids=["spare", "fork", "interpreter"])
def test_independent_steps_overlap_in_child_processes_with_gapless_sequences(
    start_codeserver, collector, weir_home, launch
):
    events, reporting = collector
    server = start_codeserver(PARALLEL, *launch)
    request = execute_request(reporting.address, "nap_0", "nap_1", "pids")

    server.stub.ExecuteRun(request)

    run = events.wait_for_end(request.run_id)
    assert run[-1].event_type == E.RUN_EVENT_TYPE_RUN_SUCCESS, event_types(run)
    assert [e.sequence for e in run] == list(range(1, len(run) + 1))
    windows = _windows(run)
    (start_0, end_0), (start_1, end_1) = windows["nap_0"], windows["nap_1"]
    assert start_0 < end_1 and start_1 < end_0, f"the steps did not overlap: {windows}"
    assert windows["pids"][0] >= max(end_0, end_1), "pids started before its inputs existed"
    assert any("at most 2 at once" in e.message for e in run if e.HasField("engine"))
    step_pids = json.loads((weir_home / "storage" / "pids.json").read_text())
    assert len({*step_pids, _worker_pid(run)}) == 3, "each step runs in a process of its own"


def test_no_more_than_max_concurrent_steps_run_at_once(start_codeserver, collector):
    events, reporting = collector
    server = start_codeserver(PARALLEL)
    request = execute_request(reporting.address, "nap_0", "nap_1", "nap_2", "nap_3")

    server.stub.ExecuteRun(request)

    run = events.wait_for_end(request.run_id)
    assert run[-1].event_type == E.RUN_EVENT_TYPE_RUN_SUCCESS
    assert _most_at_once(_windows(run)) == 2


def test_a_failed_step_skips_its_downstream_steps_and_the_others_finish(
    start_codeserver, collector
):
    events, reporting = collector
    server = start_codeserver(PARALLEL)
    request = execute_request(reporting.address, "broken", "after_broken", "nap_0")

    server.stub.ExecuteRun(request)

    run = events.wait_for_end(request.run_id)
    assert run[-1].event_type == E.RUN_EVENT_TYPE_RUN_FAILURE
    assert list(run[-1].run_failure.failed_step_keys) == ["broken"]
    assert "ValueError: no data today" in run[-1].message
    outcomes = {(E.Name(e.event_type), e.step_key) for e in run if e.step_key}
    assert ("RUN_EVENT_TYPE_STEP_SKIPPED", "after_broken") in outcomes
    assert ("RUN_EVENT_TYPE_STEP_SUCCESS", "nap_0") in outcomes
    assert [e.sequence for e in run] == list(range(1, len(run) + 1))


def test_a_jobs_own_executor_wins_over_the_locations(start_codeserver, collector):
    events, reporting = collector
    server = start_codeserver(PARALLEL)
    request = execute_request(reporting.address, job_name="one_at_a_time")

    server.stub.ExecuteRun(request)

    run = events.wait_for_end(request.run_id)
    assert run[-1].event_type == E.RUN_EVENT_TYPE_RUN_SUCCESS
    assert _most_at_once(_windows(run)) == 1
