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
from weir_controlplane.alerts import AlertDeliveryWorker, DeliverySettings
from weir_controlplane.api.host_check import is_loopback
from weir_controlplane.auth.authenticator import Authenticator
from weir_controlplane.auth.run_tokens import RunTokens
from weir_controlplane.automation import AutomationDaemon, AutomationSettings
from weir_controlplane.backfills.daemon import BackfillDaemon, BackfillSettings
from weir_controlplane.daemons import (
    Clock,
    DaemonSet,
    DaemonSettings,
    RetentionSettings,
    build_daemons,
)
from weir_controlplane.errors import InvalidSettingError
from weir_controlplane.locations import (
    CodeLocationRegistry,
    HealthSettings,
    LocationHealthWatcher,
    LocationSpec,
)
from weir_controlplane.runs import RunCoordinator, RunSettings
from weir_controlplane.runs.kubernetes import KubernetesLauncherSettings, KubernetesRunLauncher
from weir_controlplane.runs.launcher import CodeLocationLauncher, RunLauncher
from weir_controlplane.runs.membership import MembershipSettings, ReplicaMembership
from weir_controlplane.storage import DEFAULT_DEPLOYMENT, Storage, TagConcurrencyLimit
from weir_controlplane.tenancy import DeploymentReaper, DeploymentService

if TYPE_CHECKING:
    from collections.abc import Mapping

    from starlette.applications import Starlette

    from weir_controlplane.api import ControlPlaneApi, GrpcApiServer
    from weir_controlplane.locations.process import LocationProcess

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
    # Longest seconds between freshness passes (materializations and due times wake it).
    freshness_interval: float = 5.0
    # Run the scheduler, the sensor runner and the automation evaluator in this process
    # (off: `weir daemon` runs them).
    daemons: bool = True
    # Seconds a sensor or schedule function may take before its tick fails.
    evaluation_timeout: float = 60.0
    # Seconds a schedule's, sensor's or automation tick's claim outlives a replica that
    # died holding it (a live one renews its claims while it evaluates).
    daemon_lease: float = 10.0
    # How much tick and automation evaluation history the daemons keep.
    retention: RetentionSettings = field(default_factory=RetentionSettings)
    # Runs of one backfill in the run queue at once; the rest wait in its plan.
    backfill_max_queued: int = 50
    # Seconds a replica holds a backfill it stopped driving before another takes it over.
    backfill_lease: float = 10.0
    # This replica's gRPC address as run workers reach it (a pod address, a host name);
    # "" is host:grpc_port, which only works where the workers share this host.
    reporting_address: str = ""
    # Where runs execute: None is inside their code-location server; a Kubernetes
    # launcher runs the locations it lists as one Job per run (weir.yaml's run_launcher).
    run_launcher: KubernetesLauncherSettings | None = None
    # One address in front of every control-plane replica (a load balancer or a DNS name
    # resolving to them all) that run workers report to. None: each run's worker gets the
    # reporting address of every live replica and moves between them by itself.
    reporting_service_address: str | None = None
    # Seconds between a replica's membership heartbeats, and how long without one before
    # a live replica takes over its runs.
    replica_heartbeat_interval: float = 1.0
    replica_lease: float = 5.0
    # How alerts are posted to webhooks: attempts, backoff, timeout, concurrency.
    alerts: DeliverySettings = field(default_factory=DeliverySettings)

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
        if not _positive_seconds(self.replica_heartbeat_interval):
            raise InvalidSettingError(
                "replica_heartbeat_interval",
                "must be a positive number of seconds",
                self.replica_heartbeat_interval,
            )
        if not _positive_seconds(self.replica_lease) or (
            self.replica_lease <= self.replica_heartbeat_interval
        ):
            raise InvalidSettingError(
                "replica_lease",
                f"must be longer than replica_heartbeat_interval "
                f"({self.replica_heartbeat_interval} s), or every replica would be taken "
                "over between its own heartbeats",
                self.replica_lease,
            )
        if self.reporting_service_address is not None and not (
            self.reporting_service_address.strip()
        ):
            raise InvalidSettingError(
                "reporting_service_address",
                "must be a gRPC target such as weir.internal:4000, or unset",
                self.reporting_service_address,
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
        if not _positive_seconds(self.freshness_interval):
            raise InvalidSettingError(
                "freshness_interval",
                "must be a positive number of seconds",
                self.freshness_interval,
            )
        if not _positive_seconds(self.deployment_reap_interval):
            raise InvalidSettingError(
                "deployment_reap_interval",
                "must be a positive number of seconds",
                self.deployment_reap_interval,
            )
        if not _positive_seconds(self.daemon_lease):
            raise InvalidSettingError(
                "daemon_lease", "must be a positive number of seconds", self.daemon_lease
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
    def __init__(
        self,
        config: ControlPlaneConfig,
        *,
        clock: Clock | None = None,
        spawned: Mapping[str, LocationProcess] | None = None,
    ):
        self.config = config
        # Code servers of the workspace already started, by location name: `weir dev`
        # starts them first so they load the user's code while this process starts.
        self.spawned = dict(spawned or {})
        self.clock = clock  # the daemons' time; None is the system clock
        self.daemons: DaemonSet | None = None
        self.storage: Storage | None = None
        self.registry: CodeLocationRegistry | None = None
        self.coordinator: RunCoordinator | None = None
        self.health: LocationHealthWatcher | None = None
        self.reaper: DeploymentReaper | None = None
        self.automation: AutomationDaemon | None = None
        self.backfills: BackfillDaemon | None = None
        self.membership: ReplicaMembership | None = None
        self.alerts: AlertDeliveryWorker | None = None
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
        from weir_controlplane.api.web_ui import ui_routes

        heap.freeze_imported()  # see heap.py: the collection at the end walks less
        config = self.config
        self.storage = storage = Storage.open(config.database_url)
        self.registry = CodeLocationRegistry(storage, host=config.host)
        settings = RunSettings(
            max_concurrent_runs=config.max_concurrent_runs,
            tag_concurrency_limits=config.tag_concurrency_limits,
            heartbeat_interval=config.heartbeat_interval,
            heartbeat_timeout=config.heartbeat_timeout,
            service_address=config.reporting_service_address,
        )
        self.coordinator = RunCoordinator(
            storage, self.registry, settings, run_launcher(config.run_launcher, self.registry)
        )
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
        self.coordinator.reporting_address = (
            config.reporting_address or f"{config.host}:{self.grpc_port}"
        )
        self._start_http(
            create_connect_app(
                api,
                storage.deployments,
                routes=ui_routes(),
                bind_host=config.host,
                allowed_hosts=config.allowed_hosts,
            )
        )
        # Registered before the queue runs: every claim names this replica.
        self.membership = ReplicaMembership(
            storage,
            self.coordinator,
            http_address=self.http_url,
            settings=MembershipSettings(
                interval=config.replica_heartbeat_interval, lease=config.replica_lease
            ),
        )
        self.membership.start()
        scope = storage.deployments.get_scope(DEFAULT_DEPLOYMENT)
        self.registry.sync(scope, list(config.workspace), self.spawned)
        self.health = LocationHealthWatcher(
            self.registry, HealthSettings(interval=config.health_check_interval)
        )
        self.health.start()
        self.coordinator.start()
        self.backfills.start()
        self.reaper.start()
        # Posts alerts on threads of its own; the daemons and ingest only queue them.
        self.alerts = AlertDeliveryWorker(storage.alerts, storage.deployments, config.alerts)
        self.alerts.start()
        if config.daemons:
            self.daemons = build_daemons(
                storage,
                self.registry,
                self.coordinator,
                DaemonSettings(
                    evaluation_timeout=config.evaluation_timeout,
                    lease_ttl=config.daemon_lease,
                    retention=config.retention,
                    freshness_interval=config.freshness_interval,
                ),
                clock=self.clock,
            )
            self.daemons.start()
            self.automation = automation_daemon(
                storage,
                self.registry,
                self.coordinator,
                config.automation_interval,
                lease=config.daemon_lease,
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
        if self.alerts is not None:
            self.alerts.stop()
        if self.backfills is not None:
            self.backfills.stop()
        if self.coordinator is not None:
            self.coordinator.stop()
        if self.membership is not None:
            self.membership.stop()
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
        lease = (settings or DaemonSettings()).lease_ttl
        self.automation = automation_daemon(
            storage, self.registry, self.coordinator, automation_interval, lease=lease
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


def run_launcher(
    settings: KubernetesLauncherSettings | None, registry: CodeLocationRegistry
) -> RunLauncher:
    in_servers = CodeLocationLauncher(registry)
    if settings is None:
        return in_servers
    return KubernetesRunLauncher(settings, in_servers)


def automation_daemon(
    storage: Storage,
    registry: CodeLocationRegistry,
    coordinator: RunCoordinator,
    interval: float,
    *,
    lease: float,
) -> AutomationDaemon:
    settings = AutomationSettings(interval=interval, lease=lease)
    return AutomationDaemon(storage, storage.automation, registry, coordinator, settings)
