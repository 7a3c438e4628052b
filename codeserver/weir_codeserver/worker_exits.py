"""Telling the control plane at once that a run worker died before its run ended.

The code server sees its worker exit (the zygote notes it, or the spawned process is
waited on). A worker that exits with a non-zero code, by a signal, or before reporting
its run's end cannot say so itself, so the code server reports the RUN_FAILURE in the
worker's place, with how the worker ended, instead of leaving the run to the control
plane's heartbeat timeout.

The event continues the worker's own sequence: Heartbeat replies with the run's
acknowledged sequence N, and the failure is sent as N + 1, so the run's events stay
gapless and the failure takes effect in order. A run that has already ended refuses it
(FAILED_PRECONDITION), which is fine: there was nothing left to report.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from dataclasses import dataclass
from typing import Any

from weir_protos.v1 import events_pb2, reporting_pb2

from weir_codeserver import run_events
from weir_codeserver.wire_values import error_message

log = logging.getLogger(__name__)

# Status codes (by name: grpc is imported only when a report is due, as the zygote must be
# forked before this process loads it).
_TRANSIENT = frozenset(
    {"UNAVAILABLE", "DEADLINE_EXCEEDED", "RESOURCE_EXHAUSTED", "ABORTED", "INTERNAL", "UNKNOWN"}
)


@dataclass(frozen=True)
class WorkerExit:
    """A run worker that ended without its run ending, and where its run reports."""

    run_id: str
    worker_id: str
    exit_code: int  # negative: killed by that signal
    reporting_address: str
    reporting_token: str = ""
    deployment: str = ""
    # Every address the run may report to (ExecuteRunRequest.reporting_addresses).
    reporting_addresses: tuple[str, ...] = ()

    @property
    def addresses(self) -> tuple[str, ...]:
        return self.reporting_addresses or (self.reporting_address,)

    @property
    def description(self) -> str:
        """ "exited with code 3", "was killed by signal 9 (SIGKILL)"."""
        if self.exit_code < 0:
            number = -self.exit_code
            try:
                name = f" ({signal.Signals(number).name})"
            except ValueError:
                name = ""
            return f"was killed by signal {number}{name}"
        if self.exit_code == 0:
            return "exited with code 0 before the run ended"
        return f"exited with code {self.exit_code}"

    @property
    def message(self) -> str:
        return f"The run worker {self.description} (worker {self.worker_id})"


class WorkerExitReporter:
    """Reports RUN_FAILURE for dead workers, each on a thread of its own, retrying a control
    plane that is unreachable for up to `give_up_after_seconds`."""

    def __init__(self, give_up_after_seconds: float = 60.0, call_timeout_seconds: float = 5.0):
        self.give_up_after_seconds = give_up_after_seconds
        self.call_timeout_seconds = call_timeout_seconds
        self._reporter_id = f"codeserver:{os.getpid()}"

    def report(self, exit: WorkerExit) -> threading.Thread:
        thread = threading.Thread(
            target=self._report, args=(exit,), name=f"weir-exit-{exit.run_id}", daemon=True
        )
        thread.start()
        return thread

    def _report(self, exit: WorkerExit) -> None:
        import grpc
        from weir_protos.v1 import reporting_pb2_grpc

        log.warning("Run %s failed: %s", exit.run_id, exit.message)
        metadata = tuple(
            (key, value)
            for key, value in (
                ("authorization", f"Bearer {exit.reporting_token}" if exit.reporting_token else ""),
                ("x-weir-deployment", exit.deployment),
            )
            if value
        )
        deadline = time.monotonic() + self.give_up_after_seconds
        delay = 0.05
        channels = [grpc.insecure_channel(address) for address in exit.addresses]
        stubs = [reporting_pb2_grpc.RunReportingServiceStub(channel) for channel in channels]
        try:
            attempt = 0
            while True:
                # Round the run's addresses: any live control-plane replica records it.
                stub = stubs[attempt % len(stubs)]
                attempt += 1
                try:
                    if self._send(stub, exit, metadata):
                        return
                except grpc.RpcError as exc:
                    code = exc.code() if hasattr(exc, "code") else grpc.StatusCode.UNKNOWN
                    if code.name not in _TRANSIENT:
                        # FAILED_PRECONDITION: the run had ended already; others: nothing
                        # a retry would change.
                        log.info("Run %s: failure not recorded: %s", exit.run_id, exc.details())
                        return
                if time.monotonic() + delay > deadline:
                    log.warning(
                        "Run %s: could not tell the control plane that its worker %s",
                        exit.run_id,
                        exit.description,
                    )
                    return
                time.sleep(delay)
                delay = min(delay * 2, 2.0)
        finally:
            for channel in channels:
                channel.close()

    def _send(
        self,
        stub: Any,
        exit: WorkerExit,
        metadata: tuple[tuple[str, str], ...],
    ) -> bool:
        """One attempt; True once the failure is stored (or the run was seen ended)."""
        beat = stub.Heartbeat(
            reporting_pb2.HeartbeatRequest(run_id=exit.run_id, worker_id=self._reporter_id),
            timeout=self.call_timeout_seconds,
            metadata=metadata,
        )
        reason = (
            events_pb2.RUN_FAILURE_REASON_RUN_WORKER_LOST
            if exit.exit_code <= 0
            else events_pb2.RUN_FAILURE_REASON_RUN_WORKER_ERROR
        )
        event = run_events.run_failure(
            exit.run_id, exit.message, reason, error_message(exit.message, "RunWorkerExited")
        )
        event.sequence = beat.acknowledged_sequence + 1
        event.run_id = exit.run_id
        reply = stub.ReportEvents(
            reporting_pb2.ReportEventsRequest(
                run_id=exit.run_id, events=[event], worker_id=self._reporter_id
            ),
            timeout=self.call_timeout_seconds,
            metadata=metadata,
        )
        # Below our sequence: the slot was not ours to fill (a late event of the worker
        # arrived first); ask again where the run stands.
        return reply.acknowledged_sequence >= event.sequence
