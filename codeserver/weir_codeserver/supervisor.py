"""The code server's view of the runs it executes: start, cancel, status, shutdown.

Workers are started by the zygote when there is one and it is alive, else spawned as
fresh interpreters (logged: it is much slower). What a worker reports (status, last and
acknowledged sequence) and the zygote's note of its exit arrive as status datagrams,
read by one thread. A worker that dies before its run ended is reported to the control
plane at once, as the run's RUN_FAILURE saying how it died.

A run worker is a process of its own, in its own process group: it reports to the
control plane directly, so it outlives the code server. Stopping the code server (or the
control plane that started it) leaves live runs running; only a cancel ends them early.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from dataclasses import dataclass, field, replace

from weir_protos.v1 import code_location_pb2

from weir_codeserver import ipc
from weir_codeserver.launchers import LauncherUnavailableError, SpawnLauncher, ZygoteLauncher
from weir_codeserver.location import LoadedLocation
from weir_codeserver.run_plan import prepare_run
from weir_codeserver.worker_exits import WorkerExit, WorkerExitReporter

log = logging.getLogger(__name__)

FINAL_STATUSES = frozenset({"SUCCESS", "FAILURE", "CANCELED"})


@dataclass
class RunRecord:
    run_id: str
    worker_id: str
    pid: int
    launcher: str
    accepted_at: float
    status: str = "STARTING"  # a RunStatus name without its prefix
    last_sequence: int = 0
    acknowledged_sequence: int = 0
    exit_code: int | None = None
    reporting_address: str = ""
    reporting_addresses: tuple[str, ...] = ()
    reporting_token: str = ""
    deployment: str = ""

    @property
    def ended(self) -> bool:
        return self.exit_code is not None


@dataclass
class _Starting:
    """A run whose worker ExecuteRun is starting."""

    done: threading.Event = field(default_factory=threading.Event)
    notes: list[dict] = field(default_factory=list)


class RunSupervisor:
    def __init__(
        self,
        location: LoadedLocation,
        status_receiving: socket.socket,
        status_sending: socket.socket,
        zygote: ZygoteLauncher | None,
        exits: WorkerExitReporter | None = None,
    ):
        self.location = location
        self.exits = exits or WorkerExitReporter()
        self.zygote = zygote
        self.spawner = SpawnLauncher(location.target, status_sending, self._on_exit)
        self._status_receiving = status_receiving
        self._status_sending = status_sending
        self._records: dict[str, RunRecord] = {}
        # Runs whose worker is being started, and the notes that arrived meanwhile.
        self._starting: dict[str, _Starting] = {}
        self._lock = threading.Lock()
        self._closing = False
        self._hostname = socket.gethostname()
        status_receiving.settimeout(0.5)
        self._reader = threading.Thread(target=self._read_status, name="weir-status", daemon=True)
        self._reader.start()

    # ---- RPC operations ----------------------------------------------------------------

    def execute(self, request: code_location_pb2.ExecuteRunRequest) -> RunRecord:
        """Start a worker for the run (once per run_id). Raises RunRequestError for a request
        the definitions cannot run.

        The lock is never held while a worker starts: the status reader takes it for every
        note, and a reader stalled behind a launch lets the status datagrams back up until
        the zygote, whose exit notes then wait out their send timeout, stalls every launch
        after it. Concurrent requests for one run wait for the first to finish.
        """
        accepted_at = time.time()
        while True:
            with self._lock:
                known = self._records.get(request.run_id)
                if known is not None:
                    return replace(known)
                starting = self._starting.get(request.run_id)
                if starting is None:
                    starting = self._starting[request.run_id] = _Starting()
                    break
            starting.done.wait()  # a concurrent retry of the same request: its outcome
        try:
            record = self._start(request, accepted_at)
            with self._lock:
                self._records[request.run_id] = record
                for note in starting.notes:  # what the worker said before its record existed
                    self._apply_locked(note)
                return replace(record)
        finally:
            with self._lock:
                del self._starting[request.run_id]
            starting.done.set()

    def _start(self, request: code_location_pb2.ExecuteRunRequest, accepted_at: float) -> RunRecord:
        """Start the run's worker; its record, not yet kept."""
        assert self.location.definitions is not None
        prepare_run(self.location.definitions, self.location.resources, request)
        pid, launcher = self._launch(request.run_id, request.SerializeToString(), accepted_at)
        return RunRecord(
            run_id=request.run_id,
            worker_id=f"pid:{pid}@{self._hostname}",
            pid=pid,
            launcher=launcher,
            accepted_at=accepted_at,
            reporting_address=request.reporting_address,
            reporting_addresses=tuple(request.reporting_addresses),
            reporting_token=request.reporting_token,
            deployment=request.deployment,
        )

    def _launch(self, run_id: str, payload: bytes, accepted_at: float) -> tuple[int, str]:
        zygote = self.zygote  # another launch may drop it meanwhile
        if zygote is not None:
            try:
                return zygote.launch(run_id, payload, accepted_at), zygote.name
            except LauncherUnavailableError as exc:
                log.warning(
                    "The zygote is gone (%s); run workers now start as fresh interpreters, "
                    "which is slower",
                    exc,
                )
                self.zygote = None
        return self.spawner.launch(run_id, payload, accepted_at), self.spawner.name

    def cancel(self, run_id: str) -> bool | None:
        """True if a live worker was told to stop, False if the run had ended, None if unknown."""
        with self._lock:
            record = self._records.get(run_id)
            if record is None:
                return None
            if not self._alive(record) or record.status in FINAL_STATUSES:
                return False
            record.status = "CANCELING"
            pid = record.pid
        try:
            os.kill(pid, signal.SIGUSR1)
        except ProcessLookupError:
            return False
        return True

    def status(self, run_id: str) -> tuple[RunRecord, bool] | None:
        """A copy of the run's record and whether its worker is alive, or None if unknown."""
        with self._lock:
            record = self._records.get(run_id)
            if record is None:
                return None
            return replace(record), self._alive(record)

    def _alive(self, record: RunRecord) -> bool:
        if record.ended:
            return False
        if record.launcher == ZygoteLauncher.name and (
            self.zygote is None or not self.zygote.alive
        ):
            # No one is left to note the exit of this zygote's workers: ask the system.
            try:
                os.kill(record.pid, 0)
            except ProcessLookupError:
                record.exit_code = -1
                return False
        return True

    # ---- status from workers and the zygote --------------------------------------------

    def _read_status(self) -> None:
        while not self._closing:
            try:
                note = ipc.recv_status(self._status_receiving)
            except TimeoutError:
                continue
            except OSError:
                return
            if note is not None:
                self._apply(note)

    def _apply(self, note: dict) -> None:
        with self._lock:
            self._apply_locked(note)

    def _apply_locked(self, note: dict) -> None:
        run_id = note.get("run_id", "")
        record = self._records.get(run_id)
        if record is None and run_id in self._starting:
            # The worker (or the zygote, of its exit) spoke before ExecuteRun recorded
            # its pid: keep the note for when it has.
            self._starting[run_id].notes.append(note)
            return
        if record is None or record.pid != note.get("pid"):
            return
        if note["kind"] == "exit":
            if record.exit_code is not None:
                return
            record.exit_code = int(note["code"])
            self._log_exit(record)
            if _died_mid_run(record) and record.reporting_address:
                self.exits.report(
                    WorkerExit(
                        run_id=record.run_id,
                        worker_id=record.worker_id,
                        exit_code=record.exit_code,
                        reporting_address=record.reporting_address,
                        reporting_addresses=record.reporting_addresses,
                        reporting_token=record.reporting_token,
                        deployment=record.deployment,
                    )
                )
                record.status = "FAILURE"
            return
        record.last_sequence = max(record.last_sequence, int(note["last_sequence"]))
        record.acknowledged_sequence = max(
            record.acknowledged_sequence, int(note["acknowledged_sequence"])
        )
        status = note.get("status")
        if status and not (status == "STARTED" and record.status == "CANCELING"):
            record.status = status

    def _on_exit(self, run_id: str, pid: int, code: int) -> None:
        self._apply({"kind": "exit", "run_id": run_id, "pid": pid, "code": code})

    def _log_exit(self, record: RunRecord) -> None:
        if record.exit_code != 0:
            log.warning(
                "Run worker %s of run %s exited with %s",
                record.worker_id,
                record.run_id,
                _describe_exit(record.exit_code),
            )

    # ---- shutdown ----------------------------------------------------------------------

    def shutdown(self, grace: float) -> None:
        """Stop starting workers. Live runs go on in their own processes and report to
        the control plane themselves; idle spare workers exit with the zygote."""
        with self._lock:
            live = [r for r in self._records.values() if self._alive(r)]
        for record in live:
            log.info(
                "Run %s continues in its worker %s after this code server stops",
                record.run_id,
                record.worker_id,
            )
        self._closing = True
        if self.zygote is not None:
            self.zygote.close()
        self._reader.join(timeout=1.0)


def _died_mid_run(record: RunRecord) -> bool:
    """The worker ended without saying its run ended, or could not deliver that it had."""
    return record.exit_code != 0 or record.status not in FINAL_STATUSES


def _describe_exit(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            return f"signal {signal.Signals(-code).name}"
        except ValueError:
            return f"signal {-code}"
    return f"code {code}"
