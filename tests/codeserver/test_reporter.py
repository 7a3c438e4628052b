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
