"""Server processes and HTTP calls for the control-plane workloads (standard library only).

A server runs in its own process group, so stopping it stops whatever it started (code
servers, run workers); every wait is bounded, and the group is stopped at exit even when a
measurement fails halfway.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import queue
import re
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

# Loopback calls must not go through a proxy the environment may name.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class ServerProcess:
    """A command started in a new process group, its stdout read line by line.

    >>> server = ServerProcess(["weir", "controlplane"], log=Path("/tmp/cp.log"))
    >>> match = server.wait_for(r"WEIR_CONTROLPLANE_READY grpc=(\\d+) http=(\\d+)", 120)
    >>> server.stop()
    """

    def __init__(
        self,
        args: Sequence[str],
        *,
        log: Path,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        merge_stderr: bool = False,
    ):
        self.args = list(args)
        self.log_path = log
        self._log = open(log, "a")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            self.args,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT if merge_stderr else self._log,
            stdin=subprocess.DEVNULL,
            text=True,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            start_new_session=True,
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()
        atexit.register(self.stop)

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._log.write(line)
            self._lines.put(line)
        self._lines.put(None)

    def wait_for(self, pattern: str, timeout: float) -> re.Match[str]:
        """The first stdout line matching `pattern`; fails on exit or after `timeout` s."""
        deadline = time.monotonic() + timeout
        regex = re.compile(pattern)
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise RuntimeError(f"{self.args[0]}: no {pattern!r} within {timeout:g} s")
            try:
                line = self._lines.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                raise RuntimeError(
                    f"{' '.join(self.args[:3])} exited ({self.process.wait()}) before "
                    f"{pattern!r}; log: {self.log_path}\n{self.tail()}"
                )
            match = regex.search(line)
            if match:
                return match

    def tail(self, lines: int = 20) -> str:
        self._log.flush()
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self, timeout: float = 20) -> None:
        """SIGTERM to the whole group, then SIGKILL to whatever is left of it."""
        if self.process.returncode is None:
            for sig in (signal.SIGTERM, signal.SIGKILL):
                try:
                    os.killpg(self.process.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    self.process.wait(timeout)
                    break
                except subprocess.TimeoutExpired:
                    continue
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)  # the leader is gone; its children?
        if not self._log.closed:
            self._log.flush()


def start_weir_controlplane(directory: Path, defs: Path) -> tuple[ServerProcess, str]:
    """`weir controlplane` (no auth, free ports, SQLite under `directory`) serving `defs`
    as the code location "bench"; the server and its API's URL prefix."""
    (directory / "weir.yaml").write_text(f"locations:\n  - name: bench\n    python_file: {defs}\n")
    env = {**os.environ, "WEIR_HOME": str(directory / "home"), "PYTHONUNBUFFERED": "1"}
    weir = Path(sys.executable).parent / "weir"
    server = ServerProcess(
        [str(weir), "controlplane", "--no-auth", "-w", str(directory / "weir.yaml"),
         "--grpc-port", "0", "--http-port", "0"],
        log=directory / "controlplane.log",
        env=env,
    )  # fmt: skip
    ready = server.wait_for(r"WEIR_CONTROLPLANE_READY grpc=(\d+) http=(\d+)", 120)
    return server, f"http://127.0.0.1:{ready.group(2)}/weir.v1.ControlPlaneService"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def post_json(url: str, body: Mapping[str, Any], timeout: float = 60) -> Any:
    """POST a JSON body, return the decoded JSON reply; a non-2xx reply raises with its body."""
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"content-type": "application/json"},
        method="POST",
    )
    try:
        with _OPENER.open(request, timeout=timeout) as reply:
            return json.loads(reply.read())
    except urllib.error.HTTPError as exc:
        raise RuntimeError(f"POST {url}: HTTP {exc.code}: {exc.read()[:500]!r}") from None


def connect_stream(url: str, body: Mapping[str, Any], timeout: float = 60) -> Iterator[Any]:
    """The messages of a Connect server-streaming call (`application/connect+json`).

    Each message is enveloped: one flags byte, a 4-byte big-endian length, the JSON.
    Flag 0x02 marks the end-of-stream message, which carries any error.
    """
    payload = json.dumps(body).encode()
    request = urllib.request.Request(
        url,
        data=struct.pack(">BI", 0, len(payload)) + payload,
        headers={"content-type": "application/connect+json"},
        method="POST",
    )
    with _OPENER.open(request, timeout=timeout) as reply:
        while True:
            header = reply.read(5)
            if len(header) < 5:
                return
            flags, length = struct.unpack(">BI", header)
            message = json.loads(reply.read(length))
            if flags & 0x02:
                if message.get("error"):
                    raise RuntimeError(f"{url}: {message['error']}")
                return
            yield message
