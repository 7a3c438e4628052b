"""Delivers one run's events to RunReportingService: numbered, batched, retried until stored.

`emit` numbers each event (1, 2, 3, ... with no gaps) and returns at once; a sender thread
ships batches: as soon as a batch is full, when nothing new arrived for a few
milliseconds, or at once for the events that end a step or the run. Every event is
kept until the control plane acknowledges it, so a lost reply or a control plane that is
down (or restarting) only delays delivery: the same events are sent again, with capped
exponential backoff, and stored once by their (run_id, sequence). A heartbeat thread
calls Heartbeat every interval until the last event is acknowledged.

A run may be given several reporting addresses (every live control-plane replica; see
ExecuteRunRequest.reporting_addresses). Both threads use the current one; when a call to
it fails as unreachable, they move on to the next (round the list), and the sender sends
again from the acknowledged sequence there. Every replica writes the same database, so
nothing is lost or stored twice by moving.

Nothing the control plane replies can stop delivery by surprise: an acknowledgement of
more than was sent is taken only up to what was sent, a refusal because the run has
ended stops the run, and an unexpected error in the sender is reported and ends
delivery as given up, so `finish` returns. Every wait is bounded.

Runs in the worker process only (it imports grpc).
"""

from __future__ import annotations

import contextlib
import logging
import random
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import grpc
from weir_protos.v1 import code_location_pb2, events_pb2, reporting_pb2, reporting_pb2_grpc

log = logging.getLogger(__name__)
E = events_pb2.RunEventType

# Events after which the control plane should hear at once: a step or the run ended.
_URGENT = frozenset(
    {
        E.RUN_EVENT_TYPE_RUN_STARTED,
        E.RUN_EVENT_TYPE_STEP_SUCCESS,
        E.RUN_EVENT_TYPE_STEP_FAILURE,
        E.RUN_EVENT_TYPE_STEP_SKIPPED,
        E.RUN_EVENT_TYPE_RUN_SUCCESS,
        E.RUN_EVENT_TYPE_RUN_FAILURE,
        E.RUN_EVENT_TYPE_RUN_CANCELED,
    }
)
# The control plane refuses the events because the run has ended (the run monitor failed
# it, it was canceled), or refuses the run's token (it is dead once the run ended, or the
# deployment was deleted): sending again cannot help, and the worker should stop.
_RUN_ENDED = frozenset({grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.UNAUTHENTICATED})
# Longest single wait on a condition; loops around it re-check why they wait.
_WAIT_SLICE_SECONDS = 1.0
# Worth retrying for as long as the deadline allows; anything else is a refusal.
_TRANSIENT = frozenset(
    {
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        grpc.StatusCode.ABORTED,
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.UNKNOWN,
        grpc.StatusCode.CANCELLED,
    }
)
_CHANNEL_OPTIONS = [
    # Reconnect quickly once a restarted control plane listens again (gRPC's default
    # backoff grows to two minutes).
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.min_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 1000),
    ("grpc.max_send_message_length", 64 * 1024 * 1024),
    ("grpc.enable_retries", 0),
]


# Not worth moving to another address for: the replica answered, and any other would
# answer the same (they share one database).
_ANSWERED = frozenset(
    {grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.ABORTED, grpc.StatusCode.INTERNAL}
)


def reporting_addresses(request: code_location_pb2.ExecuteRunRequest) -> tuple[str, ...]:
    """Where the run's worker reports: `reporting_addresses`, else `reporting_address`."""
    addresses = tuple(dict.fromkeys(a for a in request.reporting_addresses if a))
    return addresses or (request.reporting_address,)


@dataclass(frozen=True)
class ReportingOptions:
    batch_events: int = 1000  # the most events in one ReportEvents call
    batch_bytes: int = 1024 * 1024
    quiet_seconds: float = 0.005  # send after this long without a new event ...
    max_delay_seconds: float = 0.05  # ... or this long after the oldest unsent one
    call_timeout_seconds: float = 10.0
    backoff_initial_seconds: float = 0.05
    backoff_max_seconds: float = 2.0
    # How long the control plane may stay unreachable before the events are given up:
    # well past any heartbeat timeout, after which a restarted control plane has failed
    # the run anyway; bounded so a worker whose control plane never returns exits.
    give_up_after_seconds: float = 300.0
    # How often a refused batch (bad token, unknown run) is tried before giving up.
    refusals_tolerated: int = 5


class EventReporter:
    """Numbers, buffers and delivers the events of one run.

    >>> # reporter = EventReporter("run-1", "pid:1@host", "127.0.0.1:4000")
    >>> # reporter.start(); reporter.emit(event); reporter.finish()
    """

    def __init__(
        self,
        run_id: str,
        worker_id: str,
        address: str | Sequence[str],
        *,
        token: str = "",
        deployment: str = "",
        heartbeat_seconds: float = 10.0,
        options: ReportingOptions | None = None,
        on_progress: Callable[[int, int], None] | None = None,
        on_cancel: Callable[[], None] | None = None,
    ):
        self.run_id = run_id
        self.worker_id = worker_id
        self.addresses = (address,) if isinstance(address, str) else tuple(address)
        if not self.addresses:
            raise ValueError("a run needs at least one reporting address")
        self._current = 0  # index into addresses of the one in use
        self.options = options or ReportingOptions()
        self.heartbeat_seconds = heartbeat_seconds
        self.metadata = tuple(
            (k, v)
            for k, v in (
                ("authorization", f"Bearer {token}" if token else ""),
                ("x-weir-deployment", deployment),
            )
            if v
        )
        self.on_progress = on_progress or (lambda last, acked: None)
        self.on_cancel = on_cancel or (lambda: None)
        self.last_sequence = 0
        self.acknowledged_sequence = 0
        self.gave_up = False
        self._pending: deque[tuple[int, events_pb2.RunEvent]] = deque()
        self._sent_upto = 0  # highest sequence in the batch being (or last) sent
        self._urgent_upto = 0
        self._oldest_unsent_at: float | None = None
        self._closing = False
        self._cond = threading.Condition()
        self._stopped = threading.Event()
        self._connected = threading.Event()
        # Guards the address in use and the channels; never held while waiting on _cond.
        self._address_lock = threading.Lock()
        self._channels: dict[int, grpc.Channel] = {}
        self._stubs: dict[int, reporting_pb2_grpc.RunReportingServiceStub] = {}
        self._threads: list[threading.Thread] = []

    # ---- producer side -----------------------------------------------------------------

    def start(self) -> None:
        """Start delivering. Returns at once: the gRPC channel is made on the sender thread,
        because the first channel of a process initializes gRPC (tens of milliseconds) and
        the run's first step should not wait for that."""
        for target, name in ((self._send_loop, "weir-report"), (self._heartbeat_loop, "weir-hb")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def emit(self, event: events_pb2.RunEvent) -> int:
        """Number `event` and queue it; returns its sequence."""
        with self._cond:
            nothing_unsent = self.last_sequence <= self._sent_upto
            self.last_sequence += 1
            event.sequence = self.last_sequence
            event.run_id = self.run_id
            self._pending.append((self.last_sequence, event))
            if self._oldest_unsent_at is None:
                self._oldest_unsent_at = time.monotonic()
            urgent = event.event_type in _URGENT
            if urgent:
                self._urgent_upto = self.last_sequence
            # Wake the sender only for what it waits for: the first unsent event, an
            # urgent one, a full batch. Otherwise it is in a call, or waiting out its
            # quiet time and wakes by itself; waking it for each of a run's thousands
            # of events cost the steps a tenth of their time.
            if (
                nothing_unsent
                or urgent
                or self.last_sequence - self._sent_upto >= self.options.batch_events
            ):
                self._cond.notify_all()
            return self.last_sequence

    def finish(self, timeout: float | None = None) -> bool:
        """Wait until every event is acknowledged (or given up), then stop. True if all
        events were stored.

        Waits at most `timeout` seconds; by default as long as the sender keeps trying
        (`give_up_after_seconds` of outage, plus one call)."""
        if timeout is None:
            timeout = self.options.give_up_after_seconds + self.options.call_timeout_seconds
        with self._cond:
            self._closing = True
            self._urgent_upto = self.last_sequence
            self._cond.notify_all()
            deadline = time.monotonic() + timeout
            while self._pending and not self.gave_up and self._sender_alive():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(min(remaining, _WAIT_SLICE_SECONDS))
            delivered = not self._pending
        self._stopped.set()
        self._connected.set()
        with self._cond:
            self._cond.notify_all()
        for thread in self._threads:
            thread.join(timeout=1.0)
        with self._address_lock:
            channels = list(self._channels.values())
        for channel in channels:
            channel.close()
        return delivered

    # ---- sender ------------------------------------------------------------------------

    def _sender_alive(self) -> bool:
        return bool(self._threads) and self._threads[0].is_alive()

    @property
    def address(self) -> str:
        """The reporting address in use."""
        return self.addresses[self._current]

    def _connect(self) -> None:
        self._stub()
        self._connected.set()

    def _stub(self) -> tuple[int, reporting_pb2_grpc.RunReportingServiceStub]:
        """The current address's index and stub (its channel made on first use)."""
        with self._address_lock:
            index = self._current
            stub = self._stubs.get(index)
            if stub is None:
                channel = grpc.insecure_channel(self.addresses[index], options=_CHANNEL_OPTIONS)
                self._channels[index] = channel
                stub = self._stubs[index] = reporting_pb2_grpc.RunReportingServiceStub(channel)
            return index, stub

    def _move_on(self, index: int, code: grpc.StatusCode) -> bool:
        """After a failed call to address `index`: use the next address, unless the other
        thread already moved or there is no other. True if the address changed now."""
        if len(self.addresses) < 2 or code in _ANSWERED:
            return False
        with self._address_lock:
            if self._current != index:
                return False
            self._current = (index + 1) % len(self.addresses)
            to = self.addresses[self._current]
        _note(
            f"run {self.run_id}: {self.addresses[index]} unreachable ({code.name}); "
            f"reporting to {to} from now on"
        )
        return True

    def _send_loop(self) -> None:
        try:
            self._deliver()
        except BaseException as exc:  # never die silently: say why, and let finish() return
            with self._cond:
                lost = len(self._pending)
                self.gave_up = True
                self._cond.notify_all()
            _note(
                f"run {self.run_id}: event delivery stopped by an unexpected error, "
                f"{lost} events undelivered: {type(exc).__name__}: {exc}\n"
                + "".join(traceback.format_exception(exc))
            )

    def _deliver(self) -> None:
        self._connect()
        failures_since: float | None = None
        attempt = 0
        while not self._stopped.is_set():
            batch = self._next_batch()
            if batch is None:
                return
            index, stub = self._stub()
            try:
                response = stub.ReportEvents(
                    reporting_pb2.ReportEventsRequest(
                        run_id=self.run_id, events=batch, worker_id=self.worker_id
                    ),
                    timeout=self.options.call_timeout_seconds,
                    metadata=self.metadata,
                )
            except grpc.RpcError as exc:
                code = exc.code() if hasattr(exc, "code") else grpc.StatusCode.UNKNOWN
                if code in _RUN_ENDED:
                    self._stop_for_ended_run(exc)
                    return
                failures_since = failures_since or time.monotonic()
                attempt += 1
                if self._should_give_up(code, attempt, failures_since, exc):
                    return
                self._resend_from_ack()
                self.on_progress(self.last_sequence, self.acknowledged_sequence)
                moved = self._move_on(index, code)
                # A fresh address is tried at once; the same one again after a backoff.
                self._stopped.wait(self.options.backoff_initial_seconds if moved else
                                   self._backoff(attempt))  # fmt: skip
                continue
            failures_since, attempt = None, 0
            self._acknowledge(response.acknowledged_sequence, batch[-1].sequence)
            if response.cancel_requested:
                self.on_cancel()

    def _next_batch(self) -> list[events_pb2.RunEvent] | None:
        """Wait for events worth sending and take a batch, or None once stopped."""
        opts = self.options
        with self._cond:
            while not self._stopped.is_set():
                unsent = self.last_sequence - self._sent_upto
                if unsent <= 0:
                    self._cond.wait(_WAIT_SLICE_SECONDS)
                    continue
                due = (
                    unsent >= opts.batch_events
                    or self._urgent_upto > self._sent_upto
                    or self._closing
                )
                if not due:
                    seen = self.last_sequence
                    waited = time.monotonic() - (self._oldest_unsent_at or time.monotonic())
                    self._cond.wait(
                        min(opts.quiet_seconds, max(0.0, opts.max_delay_seconds - waited))
                    )
                    # Quiet for a moment, or waited long enough.
                    due = self.last_sequence == seen or waited >= opts.max_delay_seconds
                if due:
                    batch = self._take_batch()
                    if batch:
                        return batch
            return None

    def _take_batch(self) -> list[events_pb2.RunEvent]:
        """The next events after the ack, up to the batch limits (lock held). Empty when
        everything pending is acknowledged already."""
        opts = self.options
        batch: list[events_pb2.RunEvent] = []
        size = 0
        for sequence, event in self._pending:
            if sequence <= self.acknowledged_sequence:
                continue
            size += event.ByteSize()
            if batch and (len(batch) >= opts.batch_events or size > opts.batch_bytes):
                break
            batch.append(event)
        if not batch:
            self._sent_upto = max(self._sent_upto, self.acknowledged_sequence)
            return batch
        self._sent_upto = batch[-1].sequence
        self._oldest_unsent_at = None if self._sent_upto >= self.last_sequence else time.monotonic()
        return batch

    def _acknowledge(self, acknowledged: int, sent_upto: int) -> None:
        if acknowledged > sent_upto:
            # The control plane holds events this reporter never sent (someone else
            # reported for the run). Ours are the ones sent; take the ack only that far.
            _note(
                f"run {self.run_id}: the control plane acknowledged sequence {acknowledged}, "
                f"past the {sent_upto} events sent; events with those numbers came from "
                "elsewhere"
            )
            acknowledged = sent_upto
        with self._cond:
            if acknowledged > self.acknowledged_sequence:
                self.acknowledged_sequence = acknowledged
            while self._pending and self._pending[0][0] <= self.acknowledged_sequence:
                self._pending.popleft()
            if self.acknowledged_sequence < sent_upto:
                # Stored out of order or not at all: send again from the first gap.
                self._sent_upto = self.acknowledged_sequence
            self._cond.notify_all()
            last, acked = self.last_sequence, self.acknowledged_sequence
        self.on_progress(last, acked)

    def _resend_from_ack(self) -> None:
        with self._cond:
            self._sent_upto = self.acknowledged_sequence

    def _stop_for_ended_run(self, exc: grpc.RpcError) -> None:
        """The run ended without this worker (failed by the run monitor, canceled): its
        events no longer count. Stop delivering, and stop the run."""
        detail = exc.details() if hasattr(exc, "details") else str(exc)
        with self._cond:
            lost = len(self._pending)
            self.gave_up = True
            self._cond.notify_all()
        _note(f"run {self.run_id}: the control plane refused {lost} events: {detail}")
        self.on_cancel()

    def _should_give_up(
        self, code: grpc.StatusCode, attempt: int, failing_since: float, exc: grpc.RpcError
    ) -> bool:
        transient = code in _TRANSIENT
        outage = time.monotonic() - failing_since
        if transient and outage < self.options.give_up_after_seconds:
            if attempt == 1:
                _note(f"run {self.run_id}: {self.address} unreachable ({code.name}); retrying")
            return False
        if not transient and attempt < self.options.refusals_tolerated:
            return False
        detail = exc.details() if hasattr(exc, "details") else str(exc)
        with self._cond:
            lost = len(self._pending)
            self.gave_up = True
            self._cond.notify_all()
        _note(
            f"run {self.run_id}: giving up on {lost} undelivered events after {attempt} attempts "
            f"over {outage:.0f}s: {code.name}: {detail}"
        )
        return True

    def _backoff(self, attempt: int) -> float:
        opts = self.options
        delay = min(opts.backoff_max_seconds, opts.backoff_initial_seconds * 2 ** (attempt - 1))
        return delay * random.uniform(0.5, 1.0)

    # ---- heartbeat ---------------------------------------------------------------------

    def _heartbeat_loop(self) -> None:
        while not self._connected.wait(_WAIT_SLICE_SECONDS):
            if self._stopped.is_set() or not self._sender_alive():
                return
        wait = self.heartbeat_seconds
        while not self._stopped.wait(wait):
            wait = self.heartbeat_seconds
            index, stub = self._stub()
            try:
                response = stub.Heartbeat(
                    reporting_pb2.HeartbeatRequest(
                        run_id=self.run_id,
                        worker_id=self.worker_id,
                        last_sequence=self.last_sequence,
                    ),
                    timeout=min(self.heartbeat_seconds, self.options.call_timeout_seconds),
                    metadata=self.metadata,
                )
            except grpc.RpcError as exc:
                code = exc.code() if hasattr(exc, "code") else grpc.StatusCode.UNKNOWN
                if code == grpc.StatusCode.UNAUTHENTICATED:
                    self.on_cancel()  # the run's token is dead: nothing this run does counts
                    return
                if code in _TRANSIENT and self._move_on(index, code):
                    wait = 0.0  # an idle sender would not notice; beat there at once
                continue  # the sender reports outages; the next beat tries again
            if response.cancel_requested:
                self.on_cancel()


def _note(text: str) -> None:
    # The code server whose pipe stderr is may be gone; a note is never worth a crash.
    with contextlib.suppress(OSError, ValueError):
        print(f"weir worker: {text}", file=sys.stderr, flush=True)
