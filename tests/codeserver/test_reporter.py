"""EventReporter against a control plane that replies what it should not: an ack past what
was sent, a refusal because the run ended, a failure inside the sender, no answer at all.
The reporter never dies silently and `finish` always returns."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent import futures
from typing import Any

import grpc
import pytest
from codeserver_harness import free_port
from weir_codeserver.reporter import EventReporter, ReportingOptions
from weir_protos.v1 import events_pb2, reporting_pb2, reporting_pb2_grpc

E = events_pb2

Reply = Callable[[reporting_pb2.ReportEventsRequest, grpc.ServicerContext], Any]


class ScriptedReporting(reporting_pb2_grpc.RunReportingServiceServicer):
    """Answers ReportEvents with `reply`, remembering every sequence it was sent."""

    def __init__(self, reply: Reply) -> None:
        self.reply = reply
        self.sent: list[int] = []

    def ReportEvents(self, request: Any, context: grpc.ServicerContext) -> Any:
        self.sent.extend(event.sequence for event in request.events)
        return self.reply(request, context)

    def Heartbeat(self, request: Any, context: grpc.ServicerContext) -> Any:
        return reporting_pb2.HeartbeatResponse()


@pytest.fixture
def serve() -> Iterator[Callable[[Reply], tuple[str, ScriptedReporting]]]:
    servers: list[grpc.Server] = []

    def start(reply: Reply) -> tuple[str, ScriptedReporting]:
        servicer = ScriptedReporting(reply)
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        reporting_pb2_grpc.add_RunReportingServiceServicer_to_server(servicer, server)
        port = server.add_insecure_port("127.0.0.1:0")
        server.start()
        servers.append(server)
        return f"127.0.0.1:{port}", servicer

    yield start
    for server in servers:
        server.stop(0).wait()


def _reporter(address: str, **kwargs: Any) -> EventReporter:
    return EventReporter("run-1", "pid:1@test", address, heartbeat_seconds=30, **kwargs)


def _log(sequence_hint: str = "") -> events_pb2.RunEvent:
    return E.RunEvent(event_type=E.RUN_EVENT_TYPE_LOG, message=sequence_hint)


def test_an_ack_past_what_was_sent_does_not_stop_delivery(serve: Any) -> None:
    # A forged report made the control plane hold sequences 1..50 before the worker sent any.
    address, servicer = serve(
        lambda request, context: reporting_pb2.ReportEventsResponse(acknowledged_sequence=50)
    )
    reporter = _reporter(address)
    reporter.start()
    reporter.emit(E.RunEvent(event_type=E.RUN_EVENT_TYPE_RUN_STARTED))
    for _ in range(5):
        reporter.emit(_log())
    reporter.emit(E.RunEvent(event_type=E.RUN_EVENT_TYPE_RUN_SUCCESS))

    started = time.monotonic()
    assert reporter.finish(timeout=10) is True
    assert time.monotonic() - started < 5
    assert not reporter.gave_up
    assert reporter.acknowledged_sequence == 7  # only what it sent
    assert sorted(set(servicer.sent)) == list(range(1, 8))


def test_a_refusal_because_the_run_ended_stops_the_run_at_once(serve: Any) -> None:
    def refuse(request: Any, context: grpc.ServicerContext) -> Any:
        context.abort(grpc.StatusCode.FAILED_PRECONDITION, "run 'run-1' has ended (FAILURE)")

    address, servicer = serve(refuse)
    canceled = threading.Event()
    reporter = _reporter(address, on_cancel=canceled.set)
    reporter.start()
    reporter.emit(E.RunEvent(event_type=E.RUN_EVENT_TYPE_RUN_STARTED))

    assert canceled.wait(10), "the worker was not told to stop"
    started = time.monotonic()
    assert reporter.finish(timeout=10) is False
    assert time.monotonic() - started < 2
    assert reporter.gave_up
    assert servicer.sent == [1]  # refused once, not retried


def test_an_error_inside_the_sender_ends_delivery_and_finish_returns(
    serve: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    address, _ = serve(
        lambda request, context: reporting_pb2.ReportEventsResponse(
            acknowledged_sequence=request.events[-1].sequence
        )
    )

    def broken_progress(last: int, acked: int) -> None:
        raise RuntimeError("progress sink is broken")

    reporter = _reporter(address, on_progress=broken_progress)
    reporter.start()
    reporter.emit(E.RunEvent(event_type=E.RUN_EVENT_TYPE_RUN_STARTED))
    reporter.emit(_log())

    started = time.monotonic()
    reporter.finish(timeout=10)
    assert time.monotonic() - started < 5
    assert reporter.gave_up
    assert "progress sink is broken" in capfd.readouterr().err


def test_finish_waits_no_longer_than_its_timeout_for_an_unreachable_control_plane() -> None:
    reporter = _reporter(
        f"127.0.0.1:{free_port()}", options=ReportingOptions(backoff_max_seconds=0.2)
    )
    reporter.start()
    reporter.emit(E.RunEvent(event_type=E.RUN_EVENT_TYPE_RUN_STARTED))
    started = time.monotonic()
    assert reporter.finish(timeout=1.0) is False
    assert time.monotonic() - started < 4  # the timeout plus joining the threads


def test_finish_is_bounded_by_default() -> None:
    reporter = _reporter(
        f"127.0.0.1:{free_port()}",
        options=ReportingOptions(give_up_after_seconds=0.5, call_timeout_seconds=0.5),
    )
    reporter.start()
    reporter.emit(E.RunEvent(event_type=E.RUN_EVENT_TYPE_RUN_STARTED))
    started = time.monotonic()
    assert reporter.finish() is False
    assert time.monotonic() - started < 5


class SharedLog:
    """What two control-plane replicas on one database would store: each sequence once,
    acknowledged up to the first gap, whichever replica received it."""

    def __init__(self) -> None:
        self.stored: dict[int, int] = {}  # sequence -> times delivered
        self.beats: list[str] = []
        self.lock = threading.Lock()

    def replica(self, name: str, fail: Callable[[Any], bool] | None = None) -> Any:
        log = self

        class Replica(reporting_pb2_grpc.RunReportingServiceServicer):
            def ReportEvents(self, request: Any, context: grpc.ServicerContext) -> Any:
                with log.lock:
                    for event in request.events:
                        log.stored[event.sequence] = log.stored.get(event.sequence, 0) + 1
                    ack = 0
                    while ack + 1 in log.stored:
                        ack += 1
                if fail is not None and fail(request):
                    # Stored, but the reply is lost: the worker must send again elsewhere.
                    context.abort(grpc.StatusCode.UNAVAILABLE, f"{name} is going away")
                return reporting_pb2.ReportEventsResponse(acknowledged_sequence=ack)

            def Heartbeat(self, request: Any, context: grpc.ServicerContext) -> Any:
                with log.lock:
                    log.beats.append(name)
                return reporting_pb2.HeartbeatResponse()

        return Replica()


def _serve_replica(servicer: Any) -> tuple[str, grpc.Server]:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    reporting_pb2_grpc.add_RunReportingServiceServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    return f"127.0.0.1:{port}", server


def test_a_worker_whose_replica_dies_moves_to_another_and_loses_nothing() -> None:
    shared = SharedLog()
    first, first_server = _serve_replica(shared.replica("a"))
    second, second_server = _serve_replica(shared.replica("b"))
    reporter = EventReporter("run-1", "pid:1@test", [first, second], heartbeat_seconds=0.2)
    try:
        reporter.start()
        reporter.emit(E.RunEvent(event_type=E.RUN_EVENT_TYPE_RUN_STARTED))
        deadline = time.monotonic() + 10
        while reporter.acknowledged_sequence < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert reporter.acknowledged_sequence == 1 and reporter.address == first
        first_server.stop(0).wait()  # replica a is killed
        killed = time.monotonic()
        # An idle worker notices by its heartbeat, and beats on b from then on.
        while "b" not in shared.beats and time.monotonic() < killed + 10:
            time.sleep(0.01)
        assert "b" in shared.beats
        assert time.monotonic() - killed < 3, "the worker took too long to move"
        for _ in range(5):
            reporter.emit(_log())
        reporter.emit(E.RunEvent(event_type=E.RUN_EVENT_TYPE_RUN_SUCCESS))
        assert reporter.finish(timeout=10) is True
    finally:
        second_server.stop(0).wait()
    assert reporter.address == second
    assert sorted(shared.stored) == list(range(1, 8))


def test_events_whose_ack_was_lost_are_sent_again_to_the_next_replica() -> None:
    shared = SharedLog()
    # Replica a stores every batch but never gets its reply out, as when it is killed
    # between commit and reply.
    first, first_server = _serve_replica(shared.replica("a", fail=lambda request: True))
    second, second_server = _serve_replica(shared.replica("b"))
    reporter = EventReporter("run-1", "pid:1@test", [first, second], heartbeat_seconds=30)
    try:
        reporter.start()
        reporter.emit(E.RunEvent(event_type=E.RUN_EVENT_TYPE_RUN_STARTED))
        for _ in range(3):
            reporter.emit(_log())
        reporter.emit(E.RunEvent(event_type=E.RUN_EVENT_TYPE_RUN_SUCCESS))
        started = time.monotonic()
        assert reporter.finish(timeout=10) is True
        assert time.monotonic() - started < 3
    finally:
        first_server.stop(0).wait()
        second_server.stop(0).wait()
    assert reporter.acknowledged_sequence == 5
    assert sorted(shared.stored) == list(range(1, 6))
    assert max(shared.stored.values()) >= 2  # resent after the lost reply, stored once
