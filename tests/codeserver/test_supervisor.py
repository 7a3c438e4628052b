"""RunSupervisor: starting one run's worker holds up nothing else in the code server.

The zygote here is a stand-in whose hand-over blocks until the test releases it (a busy
zygote under load); everything else (the location, the status datagrams, the request
checks) is the real thing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from codeserver_harness import execute_request
from weir_codeserver import ipc
from weir_codeserver.launchers import ZygoteLauncher
from weir_codeserver.loader import CodeTarget
from weir_codeserver.location import LoadedLocation
from weir_codeserver.supervisor import RunSupervisor

PIPELINE = Path(__file__).parent / "code" / "pipeline.py"


class HeldZygote:
    """Hands each run to a "worker" (pid 4242 + n) once `release` is set."""

    name = ZygoteLauncher.name
    alive = True

    def __init__(self) -> None:
        self.release = threading.Event()
        self.entered = threading.Event()
        self.started = 0

    def launch(self, run_id: str, request: bytes, accepted_at: float) -> int:
        self.entered.set()
        assert self.release.wait(30), "the test never released the zygote"
        self.started += 1
        return 4242 + self.started

    def close(self) -> None:
        pass


@pytest.fixture
def supervised() -> Iterator[tuple[RunSupervisor, HeldZygote, ipc.StatusSender]]:
    location = LoadedLocation.load(CodeTarget(python_file=str(PIPELINE)))
    assert location.load_error is None, location.load_error
    receiving, sending = ipc.status_pair()
    zygote = HeldZygote()
    supervisor = RunSupervisor(location, receiving, sending, zygote)  # type: ignore[arg-type]
    yield supervisor, zygote, ipc.StatusSender(sending)
    zygote.release.set()
    supervisor.shutdown(grace=0)
    receiving.close()
    sending.close()


def _wait_until(predicate: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 10
    while not predicate():
        assert time.monotonic() < deadline, what
        time.sleep(0.01)


def test_a_worker_being_started_holds_up_neither_status_nor_other_requests(
    supervised: tuple[RunSupervisor, HeldZygote, ipc.StatusSender],
) -> None:
    supervisor, zygote, status = supervised
    zygote.release.set()
    first = supervisor.execute(execute_request("127.0.0.1:1", "numbers"))
    zygote.release.clear()
    zygote.entered.clear()
    pool = ThreadPoolExecutor(max_workers=3)
    try:
        request = execute_request("127.0.0.1:1", "numbers")
        second = pool.submit(supervisor.execute, request)
        retry = pool.submit(supervisor.execute, request)  # the same run again, at once
        assert zygote.entered.wait(10)
        # While the zygote holds the second run's start: the first run's status is read,
        # and the notes its worker sends are taken in.
        status({"kind": "progress", "run_id": first.run_id, "pid": first.pid,
                "status": "STARTED", "last_sequence": 3, "acknowledged_sequence": 2})  # fmt: skip
        answered = pool.submit(supervisor.status, first.run_id)
        began = time.monotonic()
        _wait_until(answered.done, "GetRunStatus waited for another run's start")
        assert time.monotonic() - began < 2
        _wait_until(
            lambda: supervisor.status(first.run_id)[0].last_sequence == 3,  # type: ignore[index]
            "a worker's note waited for another run's start",
        )
        # The second run's worker speaks before ExecuteRun has its pid: kept, not lost.
        status({"kind": "progress", "run_id": request.run_id, "pid": 4242 + 2,
                "status": "SUCCESS", "last_sequence": 7, "acknowledged_sequence": 7})  # fmt: skip
        status({"kind": "exit", "run_id": request.run_id, "pid": 4242 + 2, "code": 0})
        time.sleep(0.2)  # the reader takes both notes while the start is held
        zygote.release.set()
        record, retried = second.result(10), retry.result(10)
    finally:
        zygote.release.set()
        pool.shutdown(wait=True)
    assert record.pid == retried.pid == 4242 + 2
    assert zygote.started == 2, "a concurrent retry started a second worker"
    after, alive = supervisor.status(request.run_id)  # type: ignore[misc]
    assert (after.status, after.last_sequence, after.exit_code, alive) == ("SUCCESS", 7, 0, False)
