"""The zygote: a process with the user's code loaded that forks one run worker per run.

Forked from the code server after the definitions are loaded and before the server has
imported grpc (grpcio's threads and polling state do not survive fork; a process that never
created a gRPC object forks safely, and importing grpc creates none). What the zygote holds
is, but for a few MB, the server's pages, shared until one of the two writes to them: the
server reads the definitions before the fork, and both keep the cyclic garbage collector
off what existed then (gc.freeze).

The worker's modules, grpc among them, are imported by the zygote when its first run
comes (some 30 ms, once): an idle zygote does without them (5 MB), and every worker it
forks from then on has user code, the SDK and grpc already loaded and starts executing
within milliseconds.

Once it has started a run, it keeps `spare_workers` children forked ahead of need, each
with gRPC already initialized (the first gRPC channel of a process costs tens of
milliseconds, GIL held), and hands the next run to one of them; without a spare it forks a
worker for the run. None is forked before the first run: a spare holds some 40 MB, which a
code server nobody runs on (`weir dev` left open, a location only browsed) should not.

The zygote serves one kind of request on the control stream, "start this run", and
notes each worker's exit on the status socket. It exits when the server closes the
control stream or on SIGTERM.

A worker with a run leaves the code server's process group as it takes the run, so a
signal to the group (the control plane stopping the code server) does not reach it: the
run goes on and reports to the control plane directly. An idle spare stays in the group
and exits with the zygote: it has no run to finish.
"""

from __future__ import annotations

import contextlib
import gc
import os
import select
import signal
import socket
import sys
import traceback
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from weir import AssetChecksDefinition, AssetsDefinition, Definitions
from weir._execution.typecheck import check_value, unwrap_output_hint

from weir_codeserver import ipc
from weir_codeserver.heap import release_free_heap
from weir_codeserver.step_forker import StepForker, uses_multiprocess


class ZygoteUnsafeError(RuntimeError):
    """This process runs other threads (gRPC's, or the user's), so forking it is unsafe."""


@dataclass
class Zygote:
    """The server's handle on its zygote."""

    pid: int
    control: socket.socket


def fork_zygote(
    defs: Definitions,
    resources: Mapping[str, Any],
    status_sending: socket.socket,
    close_in_child: Iterable[socket.socket] = (),
    spare_workers: int = 1,
) -> Zygote:
    """Fork the zygote from this process, which must run no other thread yet.

    Any gRPC channel or server starts threads, so a single-threaded process holds no gRPC
    state a child could inherit half-made (importing grpc alone starts none).
    """
    hints = _share_with_zygote(defs)
    threads = _os_thread_count()
    if threads > 1:
        raise ZygoteUnsafeError(f"{threads} threads are running in the code server process")
    server_end, zygote_end = ipc.control_pair()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # the zygote
        code = 1
        try:
            server_end.close()
            for sock in close_in_child:
                sock.close()
            loop = _ZygoteLoop(zygote_end, status_sending, defs, resources, spare_workers)
            code = loop.serve(hints)
        except BaseException:
            traceback.print_exc()
        finally:
            os._exit(code)
    zygote_end.close()
    return Zygote(pid, server_end)


@dataclass
class _Spare:
    pid: int
    conn: socket.socket  # the zygote's end; the run is handed over on it


class _ZygoteLoop:
    def __init__(
        self,
        control: socket.socket,
        status_sending: socket.socket,
        defs: Definitions,
        resources: Mapping[str, Any],
        spare_workers: int,
    ):
        self.control = control
        self.status = ipc.StatusSender(status_sending)
        self.defs = defs
        self.resources = resources
        self.spare_workers = spare_workers
        self.children: dict[int, str | None] = {}  # pid -> run id (None: an idle spare)
        self.spares: deque[_Spare] = deque()

    def serve(self, hints: list[Any]) -> int:
        # The server decides about shutdown (Ctrl-C reaches the whole process group);
        # SIGTERM (e.g. the group being stopped) ends the zygote at once.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_r, False)
        os.set_blocking(self.wake_w, False)
        signal.set_wakeup_fd(self.wake_w)
        signal.signal(signal.SIGCHLD, lambda *_: None)  # wakes select via the wakeup fd
        _build_type_checkers(hints)
        # What the zygote made itself is shared with every worker too; keep it from the
        # garbage collector as well, so forked workers do not copy its pages.
        gc.collect()
        gc.freeze()
        while True:
            watched: list[socket.socket | int] = [self.control, self.wake_r]
            ready, _, _ = select.select(watched, [], [])
            if self.wake_r in ready:
                _drain(self.wake_r)
                self._reap()
            if self.control in ready:
                frame = ipc.recv_frame(self.control)
                if frame is None:
                    return 0  # the server is gone or shutting down
                header, payload = frame
                self._start(header, payload)

    # ---- starting runs -----------------------------------------------------------------

    def _start(self, header: dict[str, Any], payload: bytes) -> None:
        _load_worker_modules()
        pid = self._hand_to_spare(header, payload)
        if pid is None:
            try:
                pid = self._fork(lambda: self._become_worker(header, payload))
            except OSError as exc:
                ipc.send_frame(self.control, {"error": f"fork failed: {exc}"})
                return
        self.children[pid] = header["run_id"]
        ipc.send_frame(self.control, {"pid": pid})
        self._replenish()  # after replying: the next run, not this one, waits for the fork

    def _hand_to_spare(self, header: dict[str, Any], payload: bytes) -> int | None:
        while self.spares:
            spare = self.spares.popleft()
            try:
                ipc.send_frame(spare.conn, header, payload)
            except OSError:  # it died while idle; it is reaped like any child
                continue
            finally:
                spare.conn.close()
            return spare.pid
        return None

    def _replenish(self) -> None:
        while len(self.spares) < self.spare_workers:
            zygote_end, spare_end = socket.socketpair()
            try:
                pid = self._fork(partial(self._become_spare, spare_end), zygote_end)
            except OSError:
                zygote_end.close()
                return
            finally:
                spare_end.close()
            self.children[pid] = None
            self.spares.append(_Spare(pid, zygote_end))

    def _fork(self, child: Any, *close_in_child: socket.socket) -> int:
        """Fork; the child runs `child` and never returns. Cancel signals stay blocked until
        the child has its handlers, so a cancel sent the moment the server learns the pid is
        never lost."""
        from weir_codeserver.worker import CANCEL_SIGNALS

        self._mask = signal.pthread_sigmask(signal.SIG_BLOCK, CANCEL_SIGNALS)
        try:
            pid = os.fork()
        except OSError:
            signal.pthread_sigmask(signal.SIG_SETMASK, self._mask)
            raise
        if pid == 0:
            code = 4
            try:
                self._leave_zygote()
                for sock in close_in_child:
                    sock.close()
                code = child()
            except BaseException:
                traceback.print_exc()
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        signal.pthread_sigmask(signal.SIG_SETMASK, self._mask)
        return pid

    # ---- in a child --------------------------------------------------------------------

    def _leave_zygote(self) -> None:
        """Drop what belongs to the zygote: its control stream, the spares' hand-over
        sockets, its signal wake-up."""
        self.control.close()
        for spare in self.spares:
            spare.conn.close()
        signal.set_wakeup_fd(-1)
        os.close(self.wake_r)
        os.close(self.wake_w)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)

    def _become_worker(self, header: dict[str, Any], payload: bytes) -> int:
        from weir_codeserver.worker import CancelFlag, install_cancel_handlers

        os.setpgid(0, 0)  # the run outlives the code server's process group
        steps = self._start_step_forker()
        cancel = CancelFlag()
        install_cancel_handlers(cancel)
        signal.pthread_sigmask(signal.SIG_SETMASK, self._mask)
        return self._run(header, payload, cancel, "forked from the zygote", steps)

    def _become_spare(self, conn: socket.socket) -> int:
        """Wait, gRPC initialized, until the zygote hands over a run. The first gRPC channel
        of a process initializes the library, which costs tens of milliseconds with the GIL
        held: a spare pays that before its run, not during it."""
        import grpc

        from weir_codeserver.worker import CancelFlag, install_cancel_handlers

        cancel = CancelFlag()
        signal.signal(signal.SIGUSR1, cancel.set)
        signal.signal(signal.SIGTERM, lambda *_: os._exit(0))  # idle: nothing to cancel
        signal.pthread_sigmask(signal.SIG_SETMASK, self._mask)
        steps = self._start_step_forker()  # before gRPC's first object, as it must be
        warm = grpc.insecure_channel("127.0.0.1:1")  # never used; kept so gRPC stays up
        frame = _wait_for_run(conn, zygote=os.getppid())
        if frame is None:
            return 0  # the zygote is gone
        os.setpgid(0, 0)  # the run outlives the code server's process group
        if steps is not None:
            steps.join_process_group()
        install_cancel_handlers(cancel)
        header, payload = frame
        try:
            return self._run(header, payload, cancel, "a warm worker of the zygote", steps)
        finally:
            warm.close()

    def _start_step_forker(self) -> StepForker | None:
        if not uses_multiprocess(self.defs):
            return None
        return StepForker.start(self.defs, self.resources)

    def _run(
        self,
        header: dict[str, Any],
        payload: bytes,
        cancel: Any,
        launch: str,
        steps: StepForker | None,
    ) -> int:
        from weir_codeserver.worker import run_worker_process

        return run_worker_process(
            self.defs,
            self.resources,
            payload,
            launch=launch,
            accepted_at=header["accepted_at"],
            status=self.status,
            cancel=cancel,
            steps=steps,
        )

    # ---- exits -------------------------------------------------------------------------

    def _reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            run_id = self.children.pop(pid, None)
            if run_id is None:  # an idle spare died; the next run forks instead
                self.spares = deque(s for s in self.spares if s.pid != pid)
                continue
            note = {
                "kind": "exit",
                "run_id": run_id,
                "pid": pid,
                "code": os.waitstatus_to_exitcode(status),
            }
            with contextlib.suppress(OSError):
                self.status(note)


def _wait_for_run(conn: socket.socket, zygote: int) -> tuple[dict[str, Any], bytes] | None:
    """The run the zygote hands over, or None once the zygote is gone: its end of `conn`
    closing says so, and so does this process being re-parented (should the socket be
    held open elsewhere)."""
    while os.getppid() == zygote:
        ready, _, _ = select.select([conn], [], [], _SPARE_CHECK_SECONDS)
        if ready:
            return ipc.recv_frame(conn)
    return None


_SPARE_CHECK_SECONDS = 1.0


def _os_thread_count() -> int:
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:  # no /proc: count the threads Python knows about
        import threading

        return threading.active_count()


def _share_with_zygote(defs: Definitions) -> list[Any]:
    """Do in the server, before the fork, what would make the zygote copy the server's
    pages: read every asset's type hints (reading an object writes its reference count,
    and a page written in either process stops being shared); move everything that exists
    out of the cyclic collector's sight (its collections write to every object they walk);
    give the C heap's free pages back, which the zygote would otherwise hold too. Returns
    the distinct hints, whose type checkers the zygote builds: only workers use them."""
    hints = _distinct_hints(defs)
    # The young generations only: a full collection finds next to nothing after a load
    # and walks every object (0.1 s of the server's start-up at 10,000 assets).
    gc.collect(1)
    gc.freeze()
    release_free_heap()
    return hints


def _load_worker_modules() -> None:
    """Import, in the zygote, what every worker runs with (grpc, the reporter, the default
    I/O manager's storage), so the workers it forks share it; once, at the first run. What
    the import made is kept from the garbage collector like the rest (see serve)."""
    if "weir_codeserver.worker" in sys.modules:
        return
    import grpc  # noqa: F401  (no gRPC object is made here: the zygote must stay fork-safe)
    import weir._fs_values  # noqa: F401

    import weir_codeserver.worker  # noqa: F401

    gc.freeze()


def _distinct_hints(defs: Definitions) -> list[Any]:
    hints: dict[str, Any] = {}
    owners: list[AssetsDefinition | AssetChecksDefinition] = [*defs.assets, *defs.asset_checks]
    for owner in owners:
        if owner.fn is None:  # an external asset: nothing to check
            continue
        params = owner.params
        for hint in (unwrap_output_hint(params.return_hint), *params.input_params.values()):
            if hint is not None and len(hints) < _MAX_WARM_HINTS:
                hints.setdefault(repr(hint), hint)
    return list(hints.values())


def _build_type_checkers(hints: Iterable[Any]) -> None:
    """Build, once for every worker, the type checkers of the assets' type hints (a
    pydantic TypeAdapter costs milliseconds to build and is cached per process)."""
    for hint in hints:
        with contextlib.suppress(Exception):  # a mismatch is expected; the adapter is built
            check_value(hint, _NO_VALUE, what="warm-up")


class _NoValue:
    pass


_NO_VALUE = _NoValue()
_MAX_WARM_HINTS = 1000


def _drain(fd: int) -> None:
    try:
        while os.read(fd, 4096):
            pass
    except BlockingIOError:
        pass
