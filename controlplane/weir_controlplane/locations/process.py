"""Starts a code-location server as a child process and learns the port it serves on."""

from __future__ import annotations

import logging
import os
import re
import signal
import subprocess
import threading
import time
from collections import deque

from weir_controlplane.locations.workspace import LocationSpec

log = logging.getLogger(__name__)
_READY = re.compile(r"WEIR_CODESERVER_READY\s+port=(\d+)")
# The control plane's own credentials: user code (the code server, its run workers) never
# sees the database or a user token; a run reports with the run token it is given.
CONTROL_PLANE_SECRETS = frozenset({"WEIR_DATABASE_URL", "WEIR_TOKEN"})


class LocationStartError(Exception):
    """The process exited or never said it was ready; `output` holds its last lines."""


class LocationProcess:
    """One managed code-location server. Its own process group, so stopping it stops the run
    workers it forked too."""

    def __init__(self, spec: LocationSpec, host: str = "127.0.0.1"):
        assert spec.command is not None
        self.spec = spec
        self.host = host
        self.port: int | None = None
        self._proc: subprocess.Popen[str] | None = None
        self._output: deque[str] = deque(maxlen=50)
        self._ready = threading.Event()

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def spawn(self) -> LocationProcess:
        """Start the server without waiting for it to serve (a live one is left running).

        `weir dev` spawns its code servers before importing the rest of the control plane
        and opening storage, so the user's code loads meanwhile; `start` then waits.
        """
        if self.alive:
            return self
        env = {
            **{k: v for k, v in os.environ.items() if k not in CONTROL_PLANE_SECRETS},
            "WEIR_CODESERVER_HOST": self.host,
            "WEIR_CODESERVER_PORT": "0",
            # Lets the server notice that we died without stopping it, and exit.
            "WEIR_CODESERVER_PARENT_PID": str(os.getpid()),
        }
        command = list(self.spec.command or ())
        if "weir_codeserver" in command:
            command += ["--host", self.host, "--port", "0"]
        self._ready.clear()
        self._proc = subprocess.Popen(
            command,
            cwd=self.spec.working_directory,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        threading.Thread(target=self._pump, name=f"location-{self.spec.name}", daemon=True).start()
        return self

    def start(self, timeout: float = 60.0) -> str:
        """Start the server (unless `spawn` did) and wait until it serves; returns its gRPC
        address."""
        self.spawn()
        assert self._proc is not None
        deadline = time.monotonic() + timeout
        while not self._ready.wait(0.05):
            if self._proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                tail = "\n".join(self._output)
                why = "exited" if self._proc.returncode is not None else "did not become ready"
                raise LocationStartError(f"Code location '{self.spec.name}' {why}:\n{tail}")
        return self.address

    @property
    def serving(self) -> bool:
        """Alive and has said which port it serves on."""
        return self.alive and self._ready.is_set()

    def _pump(self) -> None:
        proc = self._proc
        assert proc is not None and proc.stdout is not None
        with proc.stdout:  # closed at the server's end, not left to the collector
            for line in proc.stdout:
                line = line.rstrip("\n")
                self._output.append(line)
                match = _READY.search(line)
                if match and not self._ready.is_set():
                    self.port = int(match.group(1))
                    self._ready.set()
                else:
                    log.info("[%s] %s", self.spec.name, line)

    def stop(self, grace: float = 10.0) -> None:
        proc = self._proc
        if proc is None or proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        except ProcessLookupError:
            pass
