"""ControlPlane: wires storage, code locations, runs and the API, and starts and stops them.

plane = ControlPlane(ControlPlaneConfig(workspace=load_workspace("weir.yaml")))
plane.start()      # gRPC + HTTP listening, locations loaded, queue running
...
plane.stop()
"""

from __future__ import annotations

import logging
import math
import socket
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import uvicorn

from weir_controlplane import heap
from weir_controlplane.api.host_check import is_loopback
from weir_controlplane.auth.authenticator import Authenticator
from weir_controlplane.auth.run_tokens import RunTokens
from weir_controlplane.automation import AutomationDaemon, AutomationSettings
from weir_controlplane.backfills.daemon import BackfillDaemon, BackfillSettings
from weir_controlplane.daemons import Clock, DaemonSet, DaemonSettings, build_daemons
from weir_controlplane.errors import InvalidSettingError
from weir_controlplane.locations import (
    CodeLocationRegistry,
    HealthSettings,
    LocationHealthWatcher,
    LocationSpec,
)
from weir_controlplane.runs import RunCoordinator, RunSettings
from weir_controlplane.storage import DEFAULT_DEPLOYMENT, Storage, TagConcurrencyLimit
from weir_controlplane.tenancy import DeploymentReaper, DeploymentService

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from weir_controlplane.api import ControlPlaneApi, GrpcApiServer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ControlPlaneConfig:
    host: str = "127.0.0.1"
    grpc_port: int = 4000  # 0 picks a free port
    http_port: int = 3000
    database_url: str | None = None  # None: $WEIR_DATABASE_URL, else SQLite under $WEIR_HOME
    workspace: tuple[LocationSpec, ...] = field(default_factory=tuple)
    max_concurrent_runs: int = 10  # per deployment
    tag_concurrency_limits: tuple[TagConcurrencyLimit, ...] = ()
    heartbeat_interval: float = 2.0
    heartbeat_timeout: float = 20.0
    # Seconds between health checks of the code locations.
    health_check_interval: float = 1.0

    # Host names the HTTP API answers besides loopback and `host` (a proxy's, a DNS name).
    allowed_hosts: tuple[str, ...] = ()
    # Require a bearer token on every API call. Off is allowed only on loopback.
    auth: bool = True
    # Seconds between sweeps for expired branch deployments.
    deployment_reap_interval: float = 10.0
    # Seconds between ticks of the automation evaluator (per deployment).
    automation_interval: float = 30.0
    # Run the scheduler, the sensor runner and the automation evaluator in this process
    # (off: `weir daemon` runs them).
    daemons: bool = True
    # Seconds a sensor or schedule function may take before its tick fails.
    evaluation_timeout: float = 60.0
    # Runs of one backfill in the run queue at once; the rest wait in its plan.
    backfill_max_queued: int = 50
    # Seconds a replica holds a backfill it stopped driving before another takes it over.
    backfill_lease: float = 10.0

    def __post_init__(self) -> None:
        """Refuse settings that cannot work, before anything opens or listens."""
        for port in ("grpc_port", "http_port"):
            _check_int(port, getattr(self, port), low=0, high=65535, requirement="must be a port")
        _check_int(
            "max_concurrent_runs",
            self.max_concurrent_runs,
            low=1,
            requirement="must be at least 1 (with no slot, runs would stay queued)",
        )
        _check_int(
            "backfill_max_queued",
            self.backfill_max_queued,
            low=1,
            requirement="must be at least 1 (with no room, backfills would never launch)",
        )
        if not _positive_seconds(self.backfill_lease):
            raise InvalidSettingError(
                "backfill_lease", "must be a positive number of seconds", self.backfill_lease
            )
        if not self.auth and not is_loopback(self.host):
            raise InvalidSettingError(
                "auth",
                f"must be on when listening on {self.host!r}, beyond loopback: anyone who "
                "can reach the port could do anything (listen on 127.0.0.1, or turn auth on "
                "and create a token with `weir admin bootstrap`)",
                self.auth,
            )
        if not _positive_seconds(self.automation_interval):
            raise InvalidSettingError(
                "automation_interval",
                "must be a positive number of seconds",
                self.automation_interval,
            )
        if not _positive_seconds(self.deployment_reap_interval):
            raise InvalidSettingError(
                "deployment_reap_interval",
                "must be a positive number of seconds",
                self.deployment_reap_interval,
            )
        if not _positive_seconds(self.evaluation_timeout):
            raise InvalidSettingError(
                "evaluation_timeout",
                "must be a positive number of seconds",
                self.evaluation_timeout,
            )
        for limit in self.tag_concurrency_limits:
            _check_int(
                "tag_concurrency_limits",
                limit.limit,
                low=0,
                requirement=f"limit of tag '{limit.key}' must be an integer of at least 0",
            )
        interval, timeout = self.heartbeat_interval, self.heartbeat_timeout
        if not _positive_seconds(interval):
            raise InvalidSettingError(
                "heartbeat_interval", "must be a positive number of seconds", interval
            )
        if not _positive_seconds(timeout) or timeout <= interval:
            raise InvalidSettingError(
                "heartbeat_timeout",
                f"must be longer than heartbeat_interval ({interval} s), or every run "
                "would be failed as lost",
                timeout,
            )


def _check_int(
    setting: str, value: object, *, low: int, high: int | None = None, requirement: str
) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or value < low
        or (high is not None and value > high)
    ):
        if high is not None:
            requirement = f"{requirement} ({low} to {high})"
        raise InvalidSettingError(setting, requirement, value)


def _positive_seconds(value: object) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value > 0
    )


class ControlPlane:
    def __init__(self, config: ControlPlaneConfig, *, clock: Clock | None = None):
        self.config = config
        self.clock = clock  # the daemons' time; None is the system clock
        self.daemons: DaemonSet | None = None
        self.storage: Storage | None = None
        self.registry: CodeLocationRegistry | None = None
        self.coordinator: RunCoordinator | None = None
        self.health: LocationHealthWatcher | None = None
        self.reaper: DeploymentReaper | None = None
        self.automation: AutomationDaemon | None = None
        self.backfills: BackfillDaemon | None = None
        self.grpc_port = 0
        self.http_port = 0
        self._grpc_server: GrpcApiServer | None = None
        self._api: ControlPlaneApi | None = None
        self._http: uvicorn.Server | None = None
        self._http_thread: threading.Thread | None = None

    @property
    def http_url(self) -> str:
        return f"http://{self.config.host}:{self.http_port}"

    def start(self) -> None:
        from weir_controlplane.api import (
            ControlPlaneApi,
            GrpcServerConfig,
            create_connect_app,
            create_server,
        )

        config = self.config
        self.storage = storage = Storage.open(config.database_url)
        self.registry = CodeLocationRegistry(storage, host=config.host)
        settings = RunSettings(
            max_concurrent_runs=config.max_concurrent_runs,
            tag_concurrency_limits=config.tag_concurrency_limits,
            heartbeat_interval=config.heartbeat_interval,
            heartbeat_timeout=config.heartbeat_timeout,
        )
        self.coordinator = RunCoordinator(storage, self.registry, settings)
        authenticator = None
        if config.auth:
            authenticator = Authenticator(storage.access)
            self.coordinator.run_tokens = RunTokens(storage.access, storage.deployments)
        deployment_service = DeploymentService(storage.deployments, self.registry)
        self.backfills = BackfillDaemon(
            storage.backfills,
            storage.deployments,
            self.coordinator,
            BackfillSettings(
                max_queued=config.backfill_max_queued, lease_seconds=config.backfill_lease
            ),
        )
        self._api = api = ControlPlaneApi.build(
            storage,
            self.registry,
            self.coordinator,
            authenticator=authenticator,
            deployment_service=deployment_service,
            wake_backfills=self.backfills.wake,
        )
        self.reaper = DeploymentReaper(
            storage.deployments, deployment_service, interval=config.deployment_reap_interval
        )
        # Listen before loading locations or launching: run workers report to this port.
        self._grpc_server, self.grpc_port = create_server(
            GrpcServerConfig(api=api, host=config.host, port=config.grpc_port)
        )
        self._grpc_server.start()
        self.coordinator.reporting_address = f"{config.host}:{self.grpc_port}"
        self._start_http(
            create_connect_app(
                api,
                storage.deployments,
                bind_host=config.host,
                allowed_hosts=config.allowed_hosts,
            )
        )
        scope = storage.deployments.get_scope(DEFAULT_DEPLOYMENT)
        self.registry.sync(scope, list(config.workspace))
        self.health = LocationHealthWatcher(
            self.registry, HealthSettings(interval=config.health_check_interval)
        )
        self.health.start()
        self.coordinator.start()
        self.backfills.start()
        self.reaper.start()
        if config.daemons:
            self.daemons = build_daemons(
                storage,
                self.registry,
                self.coordinator,
                DaemonSettings(evaluation_timeout=config.evaluation_timeout),
                clock=self.clock,
            )
            self.daemons.start()
            self.automation = automation_daemon(
                storage, self.registry, self.coordinator, config.automation_interval
            )
            self.automation.start()
        heap.settle_after_startup()

    def _start_http(self, app: Starlette) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.config.host, self.config.http_port))
        self.http_port = sock.getsockname()[1]
        server = uvicorn.Server(
            uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False)
        )
        self._http = server
        self._http_thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="http", daemon=True
        )
        self._http_thread.start()
        while not server.started and self._http_thread.is_alive():
            threading.Event().wait(0.01)

    def stop(self) -> None:
        """Stop accepting work, let in-flight calls finish, then close everything."""
        if self._api is not None:
            self._api.set_serving(False)  # health checks see the drain before the stop
        if self.automation is not None:
            self.automation.stop()
        if self.daemons is not None:
            self.daemons.stop()
        if self.reaper is not None:
            self.reaper.stop()
        if self.backfills is not None:
            self.backfills.stop()
        if self.coordinator is not None:
            self.coordinator.stop()
        if self.health is not None:
            self.health.stop()
        if self._http is not None:
            self._http.should_exit = True
            if self._http_thread is not None:
                self._http_thread.join(10)
        if self._grpc_server is not None:
            self._grpc_server.stop(grace=5).wait(10)
        if self._api is not None:
            self._api.close()
        if self.registry is not None:
            self.registry.stop()
        if self.storage is not None:
            self.storage.close()


class DaemonProcess:
    """`weir daemon`: the scheduler, the sensor runner and the automation evaluator
    without the API servers.

    It loads the workspace's code locations and queues the runs its ticks request; a
    control plane on the same database launches them (run workers report to its port).
    """

    def __init__(
        self,
        *,
        database_url: str | None,
        workspace: tuple[LocationSpec, ...],
        settings: DaemonSettings | None = None,
        clock: Clock | None = None,
        health_check_interval: float = 1.0,
        automation_interval: float = 30.0,
    ) -> None:
        self.storage = storage = Storage.open(database_url)
        self.registry = CodeLocationRegistry(storage)
        # Only submits: its queue never runs here, so nothing is launched from this process.
        self.coordinator = RunCoordinator(storage, self.registry, RunSettings())
        self._workspace = list(workspace)
        self._health = LocationHealthWatcher(
            self.registry, HealthSettings(interval=health_check_interval)
        )
        self.daemons = build_daemons(
            storage, self.registry, self.coordinator, settings, clock=clock
        )
        self.automation = automation_daemon(
            storage, self.registry, self.coordinator, automation_interval
        )

    def start(self) -> None:
        scope = self.storage.deployments.get_scope(DEFAULT_DEPLOYMENT)
        self.registry.sync(scope, self._workspace)
        self._health.start()
        self.daemons.start()
        self.automation.start()

    def stop(self) -> None:
        self.automation.stop()
        self.daemons.stop()
        self._health.stop()
        self.registry.stop()
        self.storage.close()


def automation_daemon(
    storage: Storage,
    registry: CodeLocationRegistry,
    coordinator: RunCoordinator,
    interval: float,
) -> AutomationDaemon:
    return AutomationDaemon(
        storage, storage.automation, registry, coordinator, AutomationSettings(interval=interval)
    )
