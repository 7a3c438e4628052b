"""The zygote: a process with the user's code loaded that forks one run worker per run.

Forked from the code server after the definitions are loaded and before the server has
imported grpc (grpcio's threads and polling state do not survive fork; a process that
never created a gRPC object forks safely). The zygote then imports grpc itself, without
creating any gRPC object, so each worker it forks has user code, the SDK and grpc
already loaded and starts executing within milliseconds.

The zygote serves one kind of request on the control stream, "start this run", and
notes each worker's exit on the status socket. It exits when the server closes the
control stream or on SIGTERM.
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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from weir import Definitions

from weir_codeserver import ipc


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
) -> Zygote:
    """Fork the zygote from this process, which must run no other thread yet.

    Any gRPC channel or server starts threads, so a single-threaded process holds no gRPC
    state a child could inherit half-made (importing grpc alone starts none).
    """
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
            code = _ZygoteLoop(zygote_end, status_sending, defs, resources).serve()
        except BaseException:
            traceback.print_exc()
        finally:
            os._exit(code)
    zygote_end.close()
    return Zygote(pid, server_end)


class _ZygoteLoop:
    def __init__(
        self,
        control: socket.socket,
        status_sending: socket.socket,
        defs: Definitions,
        resources: Mapping[str, Any],
    ):
        self.control = control
        self.status = ipc.StatusSender(status_sending)
        self.status_socket = status_sending
        self.defs = defs
        self.resources = resources
        self.children: dict[int, str] = {}

    def serve(self) -> int:
        # The server decides about shutdown (Ctrl-C reaches the whole process group);
        # SIGTERM (e.g. the group being stopped) ends the zygote at once.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_r, False)
        os.set_blocking(self.wake_w, False)
        signal.set_wakeup_fd(self.wake_w)
        signal.signal(signal.SIGCHLD, lambda *_: None)  # wakes select via the wakeup fd
        _warm_up(self.defs)
        # Objects that exist now are shared with every worker; keep the garbage collector
        # from touching them, so forked workers do not copy their pages.
        gc.collect()
        gc.freeze()
        while True:
            ready, _, _ = select.select([self.control, self.wake_r], [], [])
            if self.wake_r in ready:
                _drain(self.wake_r)
                self._reap()
            if self.control in ready:
                frame = ipc.recv_frame(self.control)
                if frame is None:
                    return 0  # the server is gone or shutting down
                header, payload = frame
                self._start(header, payload)

    def _start(self, header: dict[str, Any], payload: bytes) -> None:
        from weir_codeserver.worker import CANCEL_SIGNALS

        run_id = header["run_id"]
        # Cancel signals stay blocked until the worker has its handlers, so a cancel sent
        # the moment the server learns the pid is never lost.
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, CANCEL_SIGNALS)
        try:
            pid = os.fork()
        except OSError as exc:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)
            ipc.send_frame(self.control, {"error": f"fork failed: {exc}"})
            return
        if pid == 0:
            self._become_worker(header, payload, previous)
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
        self.children[pid] = run_id
        ipc.send_frame(self.control, {"pid": pid})

    def _become_worker(self, header: dict[str, Any], payload: bytes, mask: Any) -> None:
        code = 4
        try:
            from weir_codeserver.worker import (
                CancelFlag,
                install_cancel_handlers,
                run_worker_process,
            )

            self.control.close()
            signal.set_wakeup_fd(-1)
            os.close(self.wake_r)
            os.close(self.wake_w)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            cancel = CancelFlag()
            install_cancel_handlers(cancel)
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
            code = run_worker_process(
                self.defs,
                self.resources,
                payload,
                launch="forked from the zygote",
                accepted_at=header["accepted_at"],
                status=self.status,
                cancel=cancel,
            )
        except BaseException:
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)

    def _reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            run_id = self.children.pop(pid, None)
            if run_id is None:
                continue
            note = {
                "kind": "exit",
                "run_id": run_id,
                "pid": pid,
                "code": os.waitstatus_to_exitcode(status),
            }
            with contextlib.suppress(OSError):
                self.status(note)


def _os_thread_count() -> int:
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:  # no /proc: count the threads Python knows about
        import threading

        return threading.active_count()


def _warm_up(defs: Definitions) -> None:
    """Do once what every worker would otherwise do first: import grpc (making no gRPC
    object) and the worker, and build the type checkers of the assets' type hints (a
    pydantic TypeAdapter costs milliseconds to build and is cached per process)."""
    import grpc  # noqa: F401
    from weir._execution.typecheck import check_value, unwrap_output_hint

    import weir_codeserver.worker  # noqa: F401

    hints: dict[str, Any] = {}
    for owner in (*defs.assets, *defs.asset_checks):
        params = getattr(owner, "params", None)
        if params is None or getattr(owner, "fn", None) is None:
            continue
        for hint in (unwrap_output_hint(params.return_hint), *params.input_params.values()):
            if hint is not None and len(hints) < _MAX_WARM_HINTS:
                hints.setdefault(repr(hint), hint)
    for hint in hints.values():
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
