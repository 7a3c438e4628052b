"""A PostgreSQL cluster of a test's own, on a free loopback port, so a test can stop,
kill and restart its database without touching the server every other test shares.

The server refuses to run as root, so when the tests run as root the cluster belongs to
the `postgres` user (its data directory too) and every command runs through `runuser`.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ports import free_port

SERVER_USER = "postgres"


def find_bindir() -> Path | None:
    """The directory holding `initdb` and `pg_ctl`, or None when PostgreSQL is absent."""
    candidates: list[str] = []
    if pg_config := shutil.which("pg_config"):
        found = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True)
        candidates.append(found.stdout.strip())
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for candidate in candidates:
        if candidate and all((Path(candidate) / tool).exists() for tool in ("initdb", "pg_ctl")):
            return Path(candidate)
    return None


class PrivatePostgres:
    """One cluster: `start()`, `stop()` (fast shutdown), `kill()` (kill -9 of the
    postmaster), `restart()`; `url` reaches database `postgres` with trust auth."""

    def __init__(self, bindir: Path, root: Path) -> None:
        self.bindir = bindir
        self.data = root / "data"
        self.port = free_port()
        self.url = f"postgresql+psycopg://{SERVER_USER}@127.0.0.1:{self.port}/postgres"
        self._as_server_user = os.geteuid() == 0
        if self._as_server_user:
            shutil.chown(root, user=SERVER_USER)
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", SERVER_USER, "--no-sync")

    def _run(self, tool: str, *args: str) -> None:
        command = [str(self.bindir / tool), *args]
        if self._as_server_user:
            command = ["runuser", "-u", SERVER_USER, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            raise RuntimeError(f"{tool} failed ({done.returncode}):\n{done.stdout}{done.stderr}")

    def start(self) -> None:
        # fsync off for speed: a commit still reaches the kernel before it is acknowledged,
        # so killing the server loses nothing (synchronous_commit=off would lose the last
        # commits on kill -9, which no client can be expected to survive).
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={self.port} -c fsync=off"
            " -c full_page_writes=off -c unix_socket_directories=''"
        )
        log = self.data.parent / "server.log"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(log), "-o", options, "-w", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def kill(self) -> None:
        """kill -9 of the postmaster; its backends notice and exit on their own."""
        pid = int((self.data / "postmaster.pid").read_text().split()[0])
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 15
        while Path(f"/proc/{pid}").exists():
            if time.monotonic() > deadline:
                raise RuntimeError(f"postmaster {pid} outlived kill -9")
            time.sleep(0.02)

    def restart(self) -> None:
        self.stop()
        self.start()

    def running(self) -> bool:
        pidfile = self.data / "postmaster.pid"
        if not pidfile.exists():
            return False
        return Path(f"/proc/{pidfile.read_text().split()[0]}").exists()

    def close(self) -> None:
        if self.running():
            try:
                self.stop()
            except RuntimeError:
                self.kill()


@contextmanager
def private_postgres(bindir: Path) -> Iterator[PrivatePostgres]:
    """A started cluster, stopped and deleted afterwards whatever the test did to it."""
    root = Path(tempfile.mkdtemp(prefix="weir-pg-"))
    try:
        cluster = PrivatePostgres(bindir, root)
        try:
            cluster.start()
            yield cluster
        finally:
            cluster.close()
    finally:
        shutil.rmtree(root, ignore_errors=True)
