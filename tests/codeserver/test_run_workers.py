"""ExecuteRun, CancelRun and GetRunStatus against a real code server, with events reported
to an in-test RunReportingService."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import grpc
import pytest
from codeserver_harness import CODE, WAIT, E, event_types, execute_request
from google.protobuf import duration_pb2
from weir_protos.v1 import code_location_pb2, events_pb2, partitions_pb2, runs_pb2

PIPELINE = CODE / "pipeline.py"


def _status(server, run_id):
    return server.stub.GetRunStatus(code_location_pb2.GetRunStatusRequest(run_id=run_id))


def _wait_until(predicate, what):
    """Poll something only the code server knows (no event to wait on), up to WAIT."""
    import time

    deadline = time.monotonic() + WAIT
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def test_run_reports_every_event_in_order_with_gapless_sequences(
    start_codeserver, collector, weir_home
):
    events, reporting = collector
    server = start_codeserver(PIPELINE)
    request = execute_request(
        reporting.address, "numbers", "total", reporting_token="tok-1", deployment="staging"
    )

    reply = server.stub.ExecuteRun(request)

    run = events.wait_for_end(request.run_id)
    assert [e.sequence for e in run] == list(range(1, len(run) + 1))
    types = event_types(run)
    assert types[0] == "RUN_STARTED"
    assert types[-1] == "RUN_SUCCESS"
    assert types.count("ASSET_MATERIALIZATION_PLANNED") == 2
    assert types.count("ASSET_CHECK_EVALUATION_PLANNED") == 1
    steps = [(t, e.step_key) for t, e in zip(types, run, strict=True) if t.startswith("STEP_")]
    assert steps == [
        ("STEP_START", "numbers"),
        ("STEP_SUCCESS", "numbers"),
        ("STEP_START", "total"),
        ("STEP_SUCCESS", "total"),
        ("STEP_START", "total__check__total_is_positive"),
        ("STEP_SUCCESS", "total__check__total_is_positive"),
    ]
    (check,) = [e.check_evaluation for e in run if e.HasField("check_evaluation")]
    assert (check.asset_key.path, check.check_name, check.passed) == (
        ["total"],
        "total_is_positive",
        True,
    )
    assert check.metadata[0].value.int == 6
    assert any(e.log.text == "adding 3 numbers" for e in run if e.HasField("log"))
    # Served code locations store values with the filesystem I/O manager under $WEIR_HOME.
    stored = [e.materialization for e in run if e.HasField("materialization")]
    assert [m.asset_key.path for m in stored] == [["numbers"], ["total"]]
    assert json.loads((weir_home / "storage" / "total.json").read_text()) == 6
    # Every call names the worker and carries the run's token and deployment.
    assert events.worker_ids == {reply.worker_id}
    assert all(m["authorization"] == "Bearer tok-1" for m in events.metadata)
    assert all(m["x-weir-deployment"] == "staging" for m in events.metadata)


def test_failing_asset_fails_the_run_with_its_error_text(start_codeserver, collector):
    events, reporting = collector
    server = start_codeserver(PIPELINE)
    request = execute_request(reporting.address, "numbers", "boom", "after_boom")

    server.stub.ExecuteRun(request)

    run = events.wait_for_end(request.run_id)
    failure = next(e for e in run if e.event_type == E.RUN_EVENT_TYPE_STEP_FAILURE)
    assert failure.step_key == "boom"
    assert failure.step_failure.error.class_name == "ValueError"
    assert failure.step_failure.error.message == "kaboom: 3 numbers are too many"
    assert "kaboom" in failure.message
    skipped = [e.step_key for e in run if e.event_type == E.RUN_EVENT_TYPE_STEP_SKIPPED]
    assert skipped == ["after_boom"]
    end = run[-1]
    assert end.event_type == E.RUN_EVENT_TYPE_RUN_FAILURE
    assert list(end.run_failure.failed_step_keys) == ["boom"]
    assert "ValueError: kaboom: 3 numbers are too many" in end.message
    # The step that succeeded keeps its materialization.
    assert [e.step_key for e in run if e.HasField("materialization")] == ["numbers"]


def _engine_note(run):
    return next(e.message for e in run if e.event_type == E.RUN_EVENT_TYPE_ENGINE)


def test_runs_start_on_a_warm_spare_or_a_fresh_fork(start_codeserver, collector):
    """The first run forks its worker; from then on a spare waits for the next one (with
    --spare-workers 0, every run forks)."""
    events, reporting = collector
    warm = start_codeserver(PIPELINE)
    cold = start_codeserver(PIPELINE, "--spare-workers", "0")
    notes: dict[int, list[str]] = {}
    for server in (warm, cold):
        for _ in range(2):
            request = execute_request(reporting.address, "numbers", "total")
            server.stub.ExecuteRun(request)
            run = events.wait_for_end(request.run_id)
            assert run[-1].event_type == E.RUN_EVENT_TYPE_RUN_SUCCESS
            notes.setdefault(server.port, []).append(_engine_note(run))

    first, second = notes[warm.port]
    assert "forked from the zygote" in first
    assert "a warm worker of the zygote" in second
    assert all("forked from the zygote" in note for note in notes[cold.port])


def test_an_idle_code_server_holds_no_spare_worker(start_codeserver):
    server = start_codeserver(PIPELINE)
    (zygote,) = _children(server.process.pid)
    time.sleep(1.0)  # a spare forked at start would be there by now
    assert _children(zygote) == []


def test_an_idle_zygote_shares_most_of_its_memory_with_the_server(start_codeserver):
    """The zygote is forked with the user's code and the SDK loaded, and neither
    process writes to those pages afterwards, so an idle zygote costs the machine little
    beyond the server: most of its anonymous memory is still the server's pages."""
    server = start_codeserver(CODE / "many_assets.py")
    (zygote,) = _children(server.process.pid)
    _wait_until(lambda: _waiting_in_select(zygote), "the zygote to wait for runs")
    memory = _smaps_rollup_kb(zygote)
    assert memory["Private_Dirty"] < memory["Anonymous"] / 2, memory


def test_runs_through_the_default_io_manager_load_no_pydantic(
    start_codeserver, collector, weir_home
):
    """The default I/O manager stores values without a pydantic model: a location whose
    own code needs no pydantic has none in its idle zygote (10 MB) nor in its runs."""
    events, reporting = collector
    server = start_codeserver(CODE / "modules_seen.py")
    (zygote,) = _children(server.process.pid)
    _wait_until(lambda: _waiting_in_select(zygote), "the zygote to wait for runs")
    assert _mapped_libraries(zygote, "_pydantic_core") == []

    request = execute_request(reporting.address, "pydantic_modules")
    server.stub.ExecuteRun(request)
    run = events.wait_for_end(request.run_id)

    assert run[-1].event_type == E.RUN_EVENT_TYPE_RUN_SUCCESS
    stored = weir_home / "storage" / "pydantic_modules.json"
    assert json.loads(stored.read_text()) == []


def test_an_idle_zygote_loads_grpc_at_its_first_run(start_codeserver, collector):
    """grpc and the worker's modules (5 MB) wait in the zygote for its first run, which
    loads them for every worker forked after it."""
    events, reporting = collector
    server = start_codeserver(PIPELINE)
    (zygote,) = _children(server.process.pid)
    _wait_until(lambda: _waiting_in_select(zygote), "the zygote to wait for runs")
    assert _mapped_libraries(zygote, "cygrpc") == []

    for _ in range(2):
        request = execute_request(reporting.address, "numbers", "total")
        server.stub.ExecuteRun(request)
        assert events.wait_for_end(request.run_id)[-1].event_type == E.RUN_EVENT_TYPE_RUN_SUCCESS

    assert _mapped_libraries(zygote, "cygrpc") != []


def _mapped_libraries(pid: int, name: str) -> list[str]:
    lines = Path(f"/proc/{pid}/maps").read_text().splitlines()
    return sorted({line.split()[-1] for line in lines if name in line.split()[-1]})


def _waiting_in_select(pid: int) -> bool:
    return "poll" in Path(f"/proc/{pid}/wchan").read_text()  # select() sleeps in poll code


def _smaps_rollup_kb(pid: int) -> dict[str, int]:
    lines = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]
    return {line.split(":")[0]: int(line.split()[1]) for line in lines}


def test_concurrent_runs_each_get_their_own_worker(start_codeserver, collector, gate):
    events, reporting = collector
    server = start_codeserver(PIPELINE)
    requests = [execute_request(reporting.address, "gated") for _ in range(3)]

    workers = {server.stub.ExecuteRun(r).worker_id for r in requests}
    for request in requests:  # all three steps run at once
        events.wait_for_event(request.run_id, E.RUN_EVENT_TYPE_STEP_START, "gated")
    for request in requests:
        (gate / f"{request.run_id}.open").touch()

    assert len(workers) == 3
    for request in requests:
        assert events.wait_for_end(request.run_id)[-1].event_type == E.RUN_EVENT_TYPE_RUN_SUCCESS


def test_partition_range_runs_each_partition(start_codeserver, collector, weir_home):
    events, reporting = collector
    server = start_codeserver(PIPELINE)
    request = execute_request(
        reporting.address,
        "regional",
        partition_range=partitions_pb2.PartitionKeyRange(start="eu", end="us"),
    )

    server.stub.ExecuteRun(request)

    run = events.wait_for_end(request.run_id)
    assert run[-1].event_type == E.RUN_EVENT_TYPE_RUN_SUCCESS
    planned = [
        e.materialization_planned.partition for e in run if e.HasField("materialization_planned")
    ]
    stored = [e.materialization.partition for e in run if e.HasField("materialization")]
    assert planned == stored == ["eu", "us"]
    assert (weir_home / "storage" / "regional" / "us.json").exists()


def test_job_run_materializes_the_jobs_assets(start_codeserver, collector):
    events, reporting = collector
    server = start_codeserver(PIPELINE)
    request = execute_request(reporting.address, job_name="sums")

    server.stub.ExecuteRun(request)

    run = events.wait_for_end(request.run_id)
    assert run[-1].event_type == E.RUN_EVENT_TYPE_RUN_SUCCESS
    assert [e.step_key for e in run if e.HasField("materialization")] == ["numbers", "total"]


def test_execute_run_twice_starts_one_worker(start_codeserver, collector):
    events, reporting = collector
    server = start_codeserver(PIPELINE)
    request = execute_request(reporting.address, "numbers")

    first = server.stub.ExecuteRun(request)
    second = server.stub.ExecuteRun(request)

    assert first.worker_id == second.worker_id
    events.wait_for_end(request.run_id)
    assert events.worker_ids == {first.worker_id}


def test_execute_run_refuses_unknown_assets_and_bad_partitions(start_codeserver, collector):
    _, reporting = collector
    server = start_codeserver(PIPELINE)

    with pytest.raises(grpc.RpcError) as unknown:
        server.stub.ExecuteRun(execute_request(reporting.address, "numbers", "nope"))
    assert unknown.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "nope" in unknown.value.details()

    with pytest.raises(grpc.RpcError) as partitioned:
        server.stub.ExecuteRun(execute_request(reporting.address, "numbers", partition_key="x"))
    assert partitioned.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "partition" in partitioned.value.details()


def test_cancel_stops_between_steps_keeping_finished_steps(start_codeserver, collector, gate):
    events, reporting = collector
    server = start_codeserver(PIPELINE)
    request = execute_request(reporting.address, "gated", "after_gate", "last")
    server.stub.ExecuteRun(request)
    events.wait_for_event(request.run_id, E.RUN_EVENT_TYPE_STEP_START, "gated")

    reply = server.stub.CancelRun(
        code_location_pb2.CodeLocationServiceCancelRunRequest(run_id=request.run_id)
    )
    assert reply.was_running
    assert _status(server, request.run_id).status == runs_pb2.RUN_STATUS_CANCELING
    (gate / f"{request.run_id}.open").touch()  # the running step finishes

    run = events.wait_for_end(request.run_id)
    assert run[-1].event_type == E.RUN_EVENT_TYPE_RUN_CANCELED
    assert [e.step_key for e in run if e.HasField("materialization")] == ["gated"]
    skipped = [e.step_key for e in run if e.event_type == E.RUN_EVENT_TYPE_STEP_SKIPPED]
    assert skipped == ["after_gate", "last"]
    _wait_until(lambda: not _status(server, request.run_id).worker_alive, "the worker to exit")
    assert _status(server, request.run_id).status == runs_pb2.RUN_STATUS_CANCELED
    again = server.stub.CancelRun(
        code_location_pb2.CodeLocationServiceCancelRunRequest(run_id=request.run_id)
    )
    assert not again.was_running


def test_cancel_requested_by_the_control_plane_reply_stops_the_run(
    start_codeserver, collector, gate
):
    events, reporting = collector
    server = start_codeserver(PIPELINE)
    request = execute_request(
        reporting.address,
        "gated",
        "after_gate",
        heartbeat_interval=duration_pb2.Duration(nanos=50_000_000),
    )
    server.stub.ExecuteRun(request)
    events.wait_for_event(request.run_id, E.RUN_EVENT_TYPE_STEP_START, "gated")

    with events.cond:
        events.cancel_requested.add(request.run_id)
        beats = events.heartbeats
    # The worker sends a heartbeat only after handling the reply to the one before.
    events.wait_for(lambda: events.heartbeats >= beats + 2, "two heartbeats")
    (gate / f"{request.run_id}.open").touch()

    run = events.wait_for_end(request.run_id)
    assert run[-1].event_type == E.RUN_EVENT_TYPE_RUN_CANCELED
    assert [e.step_key for e in run if e.HasField("materialization")] == ["gated"]


def test_killed_worker_is_reported_dead(start_codeserver, collector):
    events, reporting = collector
    server = start_codeserver(PIPELINE)
    request = execute_request(reporting.address, "gated")
    reply = server.stub.ExecuteRun(request)
    events.wait_for_event(request.run_id, E.RUN_EVENT_TYPE_STEP_START, "gated")
    reported = len(events.run_events(request.run_id))
    # The worker tells the server how far the control plane has acknowledged.
    _wait_until(
        lambda: _status(server, request.run_id).acknowledged_sequence >= reported,
        "the acknowledged sequence to reach the server",
    )
    status = _status(server, request.run_id)
    assert status.worker_alive and status.status == runs_pb2.RUN_STATUS_STARTED

    os.kill(int(reply.worker_id.split(":")[1].split("@")[0]), signal.SIGKILL)

    _wait_until(lambda: not _status(server, request.run_id).worker_alive, "the worker to die")
    status = _status(server, request.run_id)
    assert status.worker_id == reply.worker_id
    assert status.status == runs_pb2.RUN_STATUS_FAILURE
    assert status.last_sequence == status.acknowledged_sequence == reported
    # The code server tells the control plane at once, continuing the worker's sequence.
    events.wait_for_event(request.run_id, E.RUN_EVENT_TYPE_RUN_FAILURE)
    failure = events.run_events(request.run_id)[-1]
    assert failure.sequence == reported + 1
    assert f"run worker was killed by signal 9 (SIGKILL) (worker {reply.worker_id})" in (
        failure.message
    )
    assert failure.run_failure.reason == events_pb2.RUN_FAILURE_REASON_RUN_WORKER_LOST
    canceled = server.stub.CancelRun(
        code_location_pb2.CodeLocationServiceCancelRunRequest(run_id=request.run_id)
    )
    assert not canceled.was_running


def test_unknown_run_is_not_found(start_codeserver):
    server = start_codeserver(PIPELINE)
    with pytest.raises(grpc.RpcError) as status:
        _status(server, "no-such-run")
    assert status.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.RpcError) as cancel:
        server.stub.CancelRun(code_location_pb2.CodeLocationServiceCancelRunRequest(run_id="x"))
    assert cancel.value.code() == grpc.StatusCode.NOT_FOUND


def test_without_the_zygote_workers_start_as_fresh_interpreters(start_codeserver, collector):
    events, reporting = collector
    server = start_codeserver(PIPELINE)
    zygote = _children(server.process.pid)
    assert len(zygote) == 1
    os.kill(zygote[0], signal.SIGKILL)
    request = execute_request(reporting.address, "numbers", "total")

    server.stub.ExecuteRun(request)

    run = events.wait_for_end(request.run_id)
    assert run[-1].event_type == E.RUN_EVENT_TYPE_RUN_SUCCESS
    engine = next(e for e in run if e.event_type == E.RUN_EVENT_TYPE_ENGINE)
    assert "fresh interpreter" in engine.message
    _wait_until(lambda: "zygote is gone" in "".join(server.output), "the fallback to be logged")


def test_user_code_that_starts_threads_runs_in_fresh_interpreters(start_codeserver, collector):
    """Forking a process with other threads running is unsafe, so there is no zygote."""
    events, reporting = collector
    server = start_codeserver(CODE / "threads_at_import.py")
    request = execute_request(reporting.address, "numbers")

    server.stub.ExecuteRun(request)

    run = events.wait_for_end(request.run_id)
    assert run[-1].event_type == E.RUN_EVENT_TYPE_RUN_SUCCESS
    assert "fresh interpreter" in _engine_note(run)
    assert "No zygote" in "".join(server.output)


def test_sigterm_stops_the_server_and_its_runs_go_on(start_codeserver, collector, gate):
    """A run worker is its own process: the code server stopping (or the control plane
    that started it stopping it with its whole process group) does not end the run."""
    events, reporting = collector
    server = start_codeserver(PIPELINE)
    request = execute_request(reporting.address, "gated", "after_gate")
    reply = server.stub.ExecuteRun(request)
    events.wait_for_event(request.run_id, E.RUN_EVENT_TYPE_STEP_START, "gated")
    worker = int(reply.worker_id.split(":")[1].split("@")[0])
    assert os.getpgid(worker) != os.getpgid(server.process.pid)

    os.killpg(os.getpgid(server.process.pid), signal.SIGTERM)
    assert server.process.wait(WAIT) == 0
    (gate / f"{request.run_id}.open").touch()

    run = events.wait_for_end(request.run_id)
    assert run[-1].event_type == E.RUN_EVENT_TYPE_RUN_SUCCESS
    assert [e.sequence for e in run] == list(range(1, len(run) + 1))


def _children(pid: int) -> list[int]:
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    return [int(p) for p in text.split()]


def test_finished_workers_are_reaped(start_codeserver, collector):
    """Workers are children of the zygote; once one exits, no zombie stays behind. (The
    zygote also keeps one spare worker waiting for the next run.)"""
    events, reporting = collector
    server = start_codeserver(PIPELINE)
    request = execute_request(reporting.address, "numbers")
    reply = server.stub.ExecuteRun(request)
    events.wait_for_end(request.run_id)
    _wait_until(lambda: not _status(server, request.run_id).worker_alive, "the worker to exit")
    (zygote,) = _children(server.process.pid)
    worker = int(reply.worker_id.split(":")[1].split("@")[0])
    _wait_until(lambda: worker not in _children(zygote), "the worker to be reaped")
    for child in _children(zygote):
        state = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()[0]
        assert state != "Z"


def test_a_worker_that_exits_mid_run_fails_the_run_at_once_with_its_exit_code(
    start_codeserver, collector
):
    events, reporting = collector
    server = start_codeserver(CODE / "exits.py")
    request = execute_request(reporting.address, "exits")
    started = time.monotonic()
    server.stub.ExecuteRun(request)

    run = events.wait_for_end(request.run_id)
    assert time.monotonic() - started < 10  # not a heartbeat timeout later
    assert run[-1].event_type == E.RUN_EVENT_TYPE_RUN_FAILURE
    assert "The run worker exited with code 3" in run[-1].message
    assert run[-1].run_failure.reason == events_pb2.RUN_FAILURE_REASON_RUN_WORKER_ERROR
    assert [e.sequence for e in run] == list(range(1, len(run) + 1))
    assert _status(server, request.run_id).status == runs_pb2.RUN_STATUS_FAILURE


def test_an_idle_spare_worker_exits_when_its_code_server_is_killed(start_codeserver, collector):
    events, reporting = collector
    server = start_codeserver(PIPELINE)
    request = execute_request(reporting.address, "numbers")
    worker = int(server.stub.ExecuteRun(request).worker_id.split(":")[1].split("@")[0])
    events.wait_for_end(request.run_id)
    (zygote,) = _children(server.process.pid)
    _wait_until(
        lambda: [pid for pid in _children(zygote) if pid != worker],
        "the zygote to fork its spare worker",
    )
    (spare,) = [pid for pid in _children(zygote) if pid != worker]

    server.process.kill()
    server.process.wait(WAIT)

    _wait_until(
        lambda: not _running(zygote) and not _running(spare), "the zygote and spare to exit"
    )


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"
