"""The code-location gRPC server: CodeLocationService, health and reflection.

Order matters at startup: load the user's code, fork the run-worker zygote, and only then
import grpc and build the server, so the zygote never holds gRPC state. (grpc is imported
inside `create_server` for that reason.)

    server, port = create_server(ServerConfig(CodeTarget(python_file="defs.py")))
    server.start()
    ...
    server.stop()
"""

from __future__ import annotations

import gc
import logging
import os
import signal
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from weir_codeserver import ipc
from weir_codeserver.loader import CodeTarget
from weir_codeserver.location import LoadedLocation

if TYPE_CHECKING:
    from weir_codeserver.supervisor import RunSupervisor

log = logging.getLogger("weir_codeserver")

READY_LINE = "WEIR_CODESERVER_READY port={port}"
MAX_MESSAGE_BYTES = 512 * 1024 * 1024


@dataclass(frozen=True)
class ServerConfig:
    target: CodeTarget
    host: str = "127.0.0.1"
    port: int = 0  # 0: any free port (create_server returns the one chosen)
    max_concurrent_rpcs: int = 32
    shutdown_grace_seconds: float = 10.0
    # Fork run workers from a zygote (fast). When off, or when grpc is already loaded in
    # this process, every worker is a fresh interpreter.
    use_zygote: bool = True
    # Workers the zygote keeps forked ahead of need once a run has started, gRPC
    # initialized: a run handed to one starts in about a millisecond. 0 forks one per run.
    spare_workers: int = 1


class CodeServer:
    """A started-or-not code-location server; `stop` is safe to call more than once."""

    def __init__(
        self,
        grpc_server: Any,
        health: Any,
        location: LoadedLocation,
        supervisor: RunSupervisor | None,
        grace: float,
    ):
        self.grpc_server = grpc_server
        self.health = health
        self.location = location
        self.supervisor = supervisor
        self.grace = grace
        self._stopped = threading.Event()
        self._stop_lock = threading.Lock()

    def start(self) -> None:
        self.grpc_server.start()

    def stop(self, grace: float | None = None) -> None:
        """NOT_SERVING, finish in-flight calls, then stop. Live runs go on in their own
        worker processes and report to the control plane themselves."""
        grace = self.grace if grace is None else grace
        with self._stop_lock:
            if self._stopped.is_set():
                return
            self.health.enter_graceful_shutdown()
            stopped = self.grpc_server.stop(grace)
            if self.supervisor is not None:
                self.supervisor.shutdown(grace)
            stopped.wait(grace)
            self._stopped.set()

    def wait(self, timeout: float | None = None) -> bool:
        return self._stopped.wait(timeout)


def create_server(config: ServerConfig) -> tuple[CodeServer, int]:
    """Load the code, start the zygote, and build (not start) the server on host:port."""
    location = LoadedLocation.load(config.target)
    if location.load_error is not None:
        log.error("%s", location.load_error.message)
    status_receiving, status_sending = ipc.status_pair()
    zygote = _start_zygote(config, location, status_receiving, status_sending)

    import grpc
    from grpc_health.v1 import health, health_pb2, health_pb2_grpc
    from grpc_reflection.v1alpha import reflection

    from weir_codeserver.service import SERVICE_NAME, CodeLocationServicer, add_to_server
    from weir_codeserver.supervisor import RunSupervisor

    supervisor = None
    if location.definitions is not None:
        supervisor = RunSupervisor(location, status_receiving, status_sending, zygote)
    grpc_server = grpc.server(
        ThreadPoolExecutor(max_workers=config.max_concurrent_rpcs, thread_name_prefix="weir-rpc"),
        options=[
            ("grpc.max_send_message_length", -1),
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
            # Not SO_REUSEPORT (gRPC's default): a taken port fails the start instead of
            # sharing its connections with whichever server holds it.
            ("grpc.so_reuseport", 0),
        ],
    )
    add_to_server(CodeLocationServicer(location, supervisor), grpc_server)
    health_servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, grpc_server)
    # Serving even with a load error: the RPCs report it, and the process stays up.
    for name in ("", SERVICE_NAME):
        health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    reflection.enable_server_reflection(
        (SERVICE_NAME, health.SERVICE_NAME, reflection.SERVICE_NAME), grpc_server
    )
    try:
        port = grpc_server.add_insecure_port(f"{config.host}:{config.port}")
    except RuntimeError:  # grpc's word for a failed bind
        port = 0
    if port == 0:
        raise OSError(f"Cannot listen on {config.host}:{config.port} (in use?)")
    server = CodeServer(
        grpc_server, health_servicer, location, supervisor, config.shutdown_grace_seconds
    )
    return server, port


def _start_zygote(
    config: ServerConfig, location: LoadedLocation, status_receiving: Any, status_sending: Any
) -> Any:
    from weir_codeserver.launchers import ZygoteLauncher
    from weir_codeserver.zygote import ZygoteUnsafeError, fork_zygote

    if location.definitions is None or not config.use_zygote:
        return None
    try:
        zygote = fork_zygote(
            location.definitions,
            location.resources,
            status_sending,
            close_in_child=(status_receiving,),
            spare_workers=config.spare_workers,
        )
    except ZygoteUnsafeError as exc:
        log.warning("No zygote (%s); run workers will start as fresh interpreters", exc)
        return None
    return ZygoteLauncher(zygote)


def serve(config: ServerConfig) -> int:
    """Run until SIGTERM or SIGINT; prints the ready line with the port when serving."""
    server, port = create_server(config)
    # The loaded definitions live as long as the server: keep the cyclic collector from
    # walking them, or every full collection (during a run's planning, say) costs time
    # in proportion to the location's size.
    gc.freeze()
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    server.start()
    location = server.location
    if location.snapshot is not None:
        log.info(
            "Serving %s (%d assets, %s) on %s:%d",
            config.target.describe(),
            location.snapshot.asset_count,
            location.snapshot.content_hash[:19],
            config.host,
            port,
        )
    print(READY_LINE.format(port=port), flush=True)
    parent = _starting_parent()
    while not stop.wait(1.0):
        if parent is not None and not _alive(parent):
            # The control plane that started us died without stopping us (e.g. kill -9):
            # a server nobody can reach would only hold its port and memory.
            log.warning("The process that started this code server is gone; shutting down")
            break
    log.info("Shutting down")
    server.stop()
    sys.stdout.flush()
    return 0


def _starting_parent() -> int | None:
    """The pid of the control plane that started this server, when it said so. The pid is
    watched itself, not our parent: a wrapper (`sh -c`, `uv run`) may stand between."""
    value = os.environ.get("WEIR_CODESERVER_PARENT_PID", "")
    return int(value) if value.isdigit() and int(value) > 1 else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user
    return not _zombie(pid)


def _zombie(pid: int) -> bool:
    """A parent that died but was not yet reaped still answers signal 0."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False
