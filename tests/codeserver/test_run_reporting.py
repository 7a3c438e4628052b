"""A worker's events reach the control plane exactly once each, even when it is down at
first, restarts mid-run, or its replies are lost."""

from __future__ import annotations

import time

from codeserver_harness import (
    CODE,
    WAIT,
    CollectorServer,
    E,
    EventCollector,
    execute_request,
    free_port,
)
from weir_protos.v1 import code_location_pb2, runs_pb2

PIPELINE = CODE / "pipeline.py"


def _status(server, run_id):
    return server.stub.GetRunStatus(code_location_pb2.GetRunStatusRequest(run_id=run_id))


def _wait_until(predicate, what):
    deadline = time.monotonic() + WAIT
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def _assert_stored_once_in_order(events, run_id):
    run = events.run_events(run_id)
    assert [e.sequence for e in run] == list(range(1, len(run) + 1))
    assert run[0].event_type == E.RUN_EVENT_TYPE_RUN_STARTED
    return run


def test_events_wait_for_a_control_plane_that_comes_up_later(start_codeserver):
    events = EventCollector()
    port = free_port()
    server = start_codeserver(PIPELINE)
    request = execute_request(f"127.0.0.1:{port}", "numbers", "total")

    server.stub.ExecuteRun(request)
    # Nobody listens yet: the run finishes and its events wait in the worker.
    _wait_until(
        lambda: _status(server, request.run_id).status == runs_pb2.RUN_STATUS_SUCCESS,
        "the run to finish",
    )
    status = _status(server, request.run_id)
    assert status.worker_alive
    assert status.last_sequence > 0
    assert status.acknowledged_sequence == 0
    collector = CollectorServer(events, port).start()
    try:
        run = events.wait_for_end(request.run_id)
        # The worker exits once its last batch is acknowledged, so the collector
        # must stay up until then: stopping it on the last event may drop the reply.
        _wait_until(lambda: not _status(server, request.run_id).worker_alive, "the worker to exit")
    finally:
        collector.stop()

    assert run[-1].event_type == E.RUN_EVENT_TYPE_RUN_SUCCESS
    _assert_stored_once_in_order(events, request.run_id)
    status = _status(server, request.run_id)
    assert status.acknowledged_sequence == status.last_sequence == len(run)


def test_a_control_plane_restart_mid_run_loses_no_event(start_codeserver, gate):
    events = EventCollector()
    collector = CollectorServer(events).start()
    server = start_codeserver(PIPELINE)
    request = execute_request(collector.address, "gated", "after_gate", "last")
    server.stub.ExecuteRun(request)
    events.wait_for_event(request.run_id, E.RUN_EVENT_TYPE_STEP_START, "gated")

    collector.stop()
    (gate / f"{request.run_id}.open").touch()  # the run goes on while the control plane is down
    _wait_until(
        lambda: (
            _status(server, request.run_id).last_sequence
            > _status(server, request.run_id).acknowledged_sequence
        ),
        "events to wait undelivered",
    )
    collector.start()  # same port
    try:
        run = events.wait_for_end(request.run_id)
    finally:
        collector.stop()

    assert run[-1].event_type == E.RUN_EVENT_TYPE_RUN_SUCCESS
    stored = _assert_stored_once_in_order(events, request.run_id)
    assert [e.step_key for e in stored if e.HasField("materialization")] == [
        "gated",
        "after_gate",
        "last",
    ]


def test_a_batch_whose_reply_was_lost_is_sent_again_and_stored_once(start_codeserver):
    events = EventCollector(lose_replies=2)
    collector = CollectorServer(events).start()
    server = start_codeserver(PIPELINE)
    request = execute_request(collector.address, "numbers", "total")
    try:
        server.stub.ExecuteRun(request)
        run = events.wait_for_end(request.run_id)
        # The end can be stored by a batch whose reply is then lost: wait for the resend
        # that follows the two lost replies (the third call is answered).
        events.wait_for(lambda: len(events.metadata) >= 3, "the batches sent again")
    finally:
        collector.stop()

    assert run[-1].event_type == E.RUN_EVENT_TYPE_RUN_SUCCESS
    _assert_stored_once_in_order(events, request.run_id)
    received = events.received[request.run_id]
    assert len(received) > len(set(received))  # some events arrived twice ...
    assert sorted(set(received)) == [e.sequence for e in run]  # ... and are stored once
