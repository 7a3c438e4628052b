"""Ways the code server starts a run worker: fork it from the zygote (fast), or, when there
is no zygote, spawn a fresh interpreter that loads the user's code itself (slow, correct).
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Callable

from weir_codeserver import ipc
from weir_codeserver.loader import CodeTarget
from weir_codeserver.zygote import Zygote

log = logging.getLogger(__name__)

ExitCallback = Callable[[str, int, int], None]  # run_id, pid, exit code


class LauncherUnavailableError(RuntimeError):
    """This launcher cannot start workers any more (e.g. its zygote died)."""


class ZygoteLauncher:
    name = "zygote"

    def __init__(self, zygote: Zygote):
        self.zygote = zygote
        self._lock = threading.Lock()
        self._dead = False

    @property
    def alive(self) -> bool:
        if self._dead:
            return False
        try:
            pid, _ = os.waitpid(self.zygote.pid, os.WNOHANG)
        except ChildProcessError:
            pid = self.zygote.pid
        if pid != 0:
            self._dead = True
        return not self._dead

    def launch(self, run_id: str, request: bytes, accepted_at: float) -> int:
        with self._lock:
            if not self.alive:
                raise LauncherUnavailableError("the zygote is not running")
            try:
                ipc.send_frame(
                    self.zygote.control, {"run_id": run_id, "accepted_at": accepted_at}, request
                )
                reply = ipc.recv_frame(self.zygote.control)
            except OSError:
                reply = None
            if reply is None:
                self._dead = True
                raise LauncherUnavailableError("the zygote closed its control stream")
            header, _ = reply
            if "error" in header:
                raise LauncherUnavailableError(header["error"])
            return int(header["pid"])

    def close(self) -> None:
        """Close the control stream, which ends the zygote, and reap it."""
        self.zygote.control.close()
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.zygote.pid, 0)


class SpawnLauncher:
    """Starts `python -m weir_codeserver.worker_main` for each run."""

    name = "spawn"

    def __init__(self, target: CodeTarget, status_sending: socket.socket, on_exit: ExitCallback):
        self.target = target
        self.status_fd = status_sending.fileno()
        self.on_exit = on_exit

    def launch(self, run_id: str, request: bytes, accepted_at: float) -> int:
        command = [
            sys.executable,
            "-m",
            "weir_codeserver.worker_main",
            "--status-fd",
            str(self.status_fd),
            "--accepted-at",
            repr(accepted_at),
            *self.target.to_args(),
        ]
        # Its own process group: stopping the code server's group leaves the run going.
        process = subprocess.Popen(
            command, stdin=subprocess.PIPE, pass_fds=(self.status_fd,), process_group=0
        )
        assert process.stdin is not None
        process.stdin.write(request)
        process.stdin.close()
        threading.Thread(
            target=self._wait, args=(run_id, process), name=f"weir-wait-{run_id}", daemon=True
        ).start()
        return process.pid

    def _wait(self, run_id: str, process: subprocess.Popen[bytes]) -> None:
        self.on_exit(run_id, process.pid, process.wait())

    def close(self) -> None:
        pass
