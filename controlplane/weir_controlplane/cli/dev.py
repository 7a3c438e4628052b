"""`weir dev` and `weir controlplane`: run the control plane in the foreground.

`weir dev -f defs.py` is the one-command development setup: SQLite under $WEIR_HOME, the
code location started as a child process, everything stopped cleanly on Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from weir_controlplane.cli import CommandError
from weir_controlplane.errors import ApiError, InvalidSettingError

# The server's modules (the locations package, storage, SQLAlchemy, Alembic, uvicorn) are
# imported inside the commands that serve: `weir --help` and the client commands load this
# module too, and should not pay seconds of imports for a server they never start.
if TYPE_CHECKING:
    from weir_controlplane.app import ControlPlane
    from weir_controlplane.daemons import RetentionSettings
    from weir_controlplane.locations import LocationSpec
    from weir_controlplane.locations.process import LocationProcess
    from weir_controlplane.runs.kubernetes import KubernetesLauncherSettings
    from weir_controlplane.runs.queue_config import RunQueueConfig


def register(subparsers: argparse._SubParsersAction) -> None:
    dev = subparsers.add_parser("dev", help="control plane + code location, for development")
    code = dev.add_mutually_exclusive_group(required=True)
    code.add_argument("-f", "--python-file", help="a file defining weir.Definitions")
    code.add_argument("-m", "--module", help="a module defining weir.Definitions")
    code.add_argument("-w", "--workspace", help="a weir.yaml listing code locations")
    _server_options(dev)
    _auth_option(dev, default=False)
    dev.set_defaults(handler=run_dev)

    plane = subparsers.add_parser("controlplane", help="run the control plane")
    plane.add_argument("-w", "--workspace", help="a weir.yaml listing code locations")
    _server_options(plane)
    _auth_option(plane, default=True)
    plane.add_argument(
        "--daemons",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="run the scheduler, sensors and automation here (--no-daemons: leave them to "
        "`weir daemon`)",
    )
    plane.set_defaults(handler=run_controlplane)

    daemon = subparsers.add_parser(
        "daemon", help="the scheduler and the sensor runner alone, on a control plane's database"
    )
    daemon.add_argument(
        "-w",
        "--workspace",
        required=True,
        help="the control plane's weir.yaml (the same file: the two keep one list of locations)",
    )
    daemon.add_argument(
        "--database-url",
        default=os.environ.get("WEIR_DATABASE_URL"),
        help="SQLAlchemy URL (default: SQLite under $WEIR_HOME, ~/.weir)",
    )
    _daemon_options(daemon)
    daemon.add_argument("-v", "--verbose", action="store_true", help="log at INFO")
    daemon.set_defaults(handler=run_daemon)


def _daemon_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--evaluation-timeout",
        type=float,
        default=60.0,
        help="seconds a sensor or schedule function may take before its tick fails",
    )
    parser.add_argument(
        "--daemon-lease",
        type=float,
        default=10.0,
        help="seconds before another replica takes over a schedule, sensor or automation "
        "tick whose replica died mid-tick (a live one renews its claim)",
    )
    history = (
        ("ticks", 1000, "ticks of each schedule and sensor"),
        ("evaluations", 100, "automation evaluations of each asset"),
    )
    for name, count, what in history:
        parser.add_argument(
            f"--keep-{name}", type=int, default=count, help=f"the newest {what} kept, however old"
        )
        parser.add_argument(
            f"--keep-{name}-days",
            type=float,
            default=7.0,
            help=f"{what} younger than this are kept too (default 7)",
        )


def _retention(args: argparse.Namespace) -> RetentionSettings:
    from datetime import timedelta

    from weir_controlplane.daemons import RetentionSettings

    for flag, days in (
        ("--keep-ticks-days", args.keep_ticks_days),
        ("--keep-evaluations-days", args.keep_evaluations_days),
    ):
        if not 0 <= days < 1e6:  # also refuses nan
            raise CommandError(f"{flag} must be a number of days, 0 or more (got {days})")
    return RetentionSettings(
        ticks=args.keep_ticks,
        tick_age=timedelta(days=args.keep_ticks_days),
        evaluations=args.keep_evaluations,
        evaluation_age=timedelta(days=args.keep_evaluations_days),
    )


def _auth_option(parser: argparse.ArgumentParser, *, default: bool) -> None:
    parser.add_argument(
        "--auth",
        action=argparse.BooleanOptionalAction,
        default=default,
        help="require a bearer token on every API call (create the first with "
        "`weir admin bootstrap`); --no-auth is refused beyond loopback "
        f"(default: {'on' if default else 'off'})",
    )


def _server_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on")
    parser.add_argument("--http-port", type=int, default=3000, help="HTTP/JSON API and UI")
    parser.add_argument("--grpc-port", type=int, default=4000, help="gRPC API and run reports")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("WEIR_DATABASE_URL"),
        help="SQLAlchemy URL (default: SQLite under $WEIR_HOME, ~/.weir)",
    )
    parser.add_argument(
        "--max-concurrent-runs",
        type=int,
        default=None,
        help="runs in progress at once per deployment (default: weir.yaml's run_queue, else 10)",
    )
    parser.add_argument(
        "--backfill-max-queued",
        type=int,
        default=50,
        help="runs of one backfill in the run queue at once (default 50)",
    )
    parser.add_argument(
        "--backfill-lease",
        type=float,
        default=10.0,
        help="seconds before another replica takes over a backfill whose driver stopped",
    )
    parser.add_argument(
        "--reporting-service-address",
        default=None,
        help="one gRPC address in front of every control-plane replica that run workers "
        "report to (default: each worker gets every live replica's address)",
    )
    parser.add_argument(
        "--replica-lease",
        type=float,
        default=5.0,
        help="seconds without a membership heartbeat before another replica takes over "
        "this one's runs (it heartbeats every second, or thrice per lease if shorter)",
    )
    parser.add_argument("--heartbeat-interval", type=float, default=2.0, help="seconds")
    parser.add_argument("--heartbeat-timeout", type=float, default=20.0, help="seconds")
    parser.add_argument(
        "--automation-interval",
        type=float,
        default=30.0,
        help="seconds between evaluations of the assets' automation conditions",
    )
    parser.add_argument(
        "--freshness-interval",
        type=float,
        default=5.0,
        help="longest seconds between freshness evaluations (materializations and "
        "deadlines wake it sooner)",
    )
    parser.add_argument(
        "--allowed-host",
        action="append",
        default=[],
        metavar="NAME",
        help="a host name the HTTP API answers besides loopback and --host (repeatable)",
    )
    parser.add_argument(
        "--reporting-address",
        default=os.environ.get("WEIR_REPORTING_ADDRESS", ""),
        metavar="HOST:PORT",
        help="the gRPC address run workers report to, as they reach it (a Service or proxy; "
        "default --host:--grpc-port, or $WEIR_REPORTING_ADDRESS)",
    )
    _daemon_options(parser)
    parser.add_argument("-v", "--verbose", action="store_true", help="log at INFO")


def run_dev(args: argparse.Namespace) -> int:
    from weir_controlplane.locations.workspace import LocationSpec, codeserver_command

    if args.workspace:
        specs = _workspace(args.workspace)
    else:
        target = args.python_file or args.module
        if args.python_file and not Path(args.python_file).exists():
            raise CommandError(f"{args.python_file} does not exist")
        name = Path(target).stem if args.python_file else target.split(".")[0]
        command = codeserver_command(
            python_file=str(Path(args.python_file).resolve()) if args.python_file else None,
            module=args.module,
        )
        specs = [LocationSpec(name, command=command, working_directory=os.getcwd())]
    return _serve(args, specs)


def run_controlplane(args: argparse.Namespace) -> int:
    return _serve(args, _workspace(args.workspace) if args.workspace else [])


def _workspace(path: str) -> list[LocationSpec]:
    from weir_controlplane.locations.workspace import load_workspace

    try:
        return load_workspace(path)
    except ApiError as exc:
        raise CommandError(exc.message) from None


def _run_queue(path: str | None) -> RunQueueConfig:
    from weir_controlplane.runs.queue_config import RunQueueConfig, load_run_queue

    if path is None:
        return RunQueueConfig()
    try:
        return load_run_queue(path)
    except ApiError as exc:
        raise CommandError(exc.message) from None


def _run_launcher(path: str | None) -> KubernetesLauncherSettings | None:
    from weir_controlplane.runs.launcher_config import load_run_launcher

    if path is None:
        return None
    try:
        return load_run_launcher(path)
    except ApiError as exc:
        raise CommandError(exc.message) from None


def _first(*values: int | None) -> int:
    return next(value for value in values if value is not None)


def _serve(args: argparse.Namespace, specs: list[LocationSpec]) -> int:
    from weir_controlplane import heap

    heap.pause_collection()  # until the server's modules are in: see heap.py
    try:
        from weir_controlplane.locations.process import LocationProcess

        # The code servers first: they load the user's code while this process imports
        # the server and opens storage, instead of after. The registry adopts them;
        # whatever it did not (a start that failed first) is stopped here.
        spawned = {
            spec.name: LocationProcess(spec, args.host).spawn() for spec in specs if spec.managed
        }
        try:
            return _serve_with(args, specs, spawned)
        finally:
            for process in spawned.values():
                process.stop()
    finally:
        heap.resume_collection()


def _serve_with(
    args: argparse.Namespace, specs: list[LocationSpec], spawned: dict[str, LocationProcess]
) -> int:
    # Imported here: `weir runs list` and friends should not pay for the server's imports.
    from weir_controlplane.app import ControlPlane, ControlPlaneConfig
    from weir_controlplane.storage.errors import DatabaseUnavailableError, InvalidDatabaseUrlError

    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    queue = _run_queue(args.workspace)
    launcher = _run_launcher(args.workspace)
    try:
        config = ControlPlaneConfig(
            host=args.host,
            grpc_port=args.grpc_port,
            http_port=args.http_port,
            database_url=args.database_url,
            workspace=tuple(specs),
            max_concurrent_runs=_first(args.max_concurrent_runs, queue.max_concurrent_runs, 10),
            tag_concurrency_limits=queue.tag_concurrency_limits,
            heartbeat_interval=args.heartbeat_interval,
            heartbeat_timeout=args.heartbeat_timeout,
            automation_interval=args.automation_interval,
            freshness_interval=args.freshness_interval,
            backfill_max_queued=args.backfill_max_queued,
            backfill_lease=args.backfill_lease,
            reporting_service_address=args.reporting_service_address,
            replica_lease=args.replica_lease,
            # Several beats per lease, so one slow beat never costs a replica its runs.
            replica_heartbeat_interval=min(1.0, args.replica_lease / 3),
            allowed_hosts=tuple(args.allowed_host),
            auth=args.auth,
            daemons=getattr(args, "daemons", True),
            evaluation_timeout=args.evaluation_timeout,
            reporting_address=args.reporting_address,
            run_launcher=launcher,
            daemon_lease=args.daemon_lease,
            retention=_retention(args),
        )
    except InvalidSettingError as exc:
        if exc.setting == "auth":
            raise CommandError(
                f"--host {args.host} without --auth would expose the API to anyone who can "
                "reach it; add --auth (and create a token with `weir admin bootstrap`) or "
                "listen on 127.0.0.1"
            ) from None
        flag = "--" + exc.setting.replace("_", "-")
        requirement = exc.requirement.replace("heartbeat_interval", "--heartbeat-interval")
        raise CommandError(f"{flag} {requirement} (got {exc.value})") from None
    plane = ControlPlane(config, spawned=spawned)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        plane.start()
    except OSError as exc:
        plane.stop()
        raise CommandError(
            f"Cannot listen: {exc}. Choose other ports with --http-port / --grpc-port"
        ) from None
    except (DatabaseUnavailableError, InvalidDatabaseUrlError) as exc:
        plane.stop()
        raise CommandError(_database_error(exc, config.database_url)) from None
    except ApiError as exc:  # e.g. a run launcher that cannot be set up
        plane.stop()
        raise CommandError(exc.message) from None
    _print_status(plane)
    _wait_for_signal(stop)
    print("Stopping…", flush=True)
    plane.stop()
    return 0


def run_daemon(args: argparse.Namespace) -> int:
    from weir_controlplane.app import DaemonProcess
    from weir_controlplane.daemons import DaemonSettings
    from weir_controlplane.storage.errors import DatabaseUnavailableError, InvalidDatabaseUrlError

    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for flag, seconds in (
        ("--evaluation-timeout", args.evaluation_timeout),
        ("--daemon-lease", args.daemon_lease),
    ):
        if not seconds > 0:
            raise CommandError(f"{flag} must be a positive number of seconds (got {seconds})")
    try:
        settings = DaemonSettings(
            evaluation_timeout=args.evaluation_timeout,
            lease_ttl=args.daemon_lease,
            retention=_retention(args),
        )
    except InvalidSettingError as exc:
        flag = "--" + exc.setting.replace("_", "-")
        raise CommandError(f"{flag} {exc.requirement} (got {exc.value})") from None
    specs = _workspace(args.workspace)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        process = DaemonProcess(
            database_url=args.database_url,
            workspace=tuple(specs),
            settings=settings,
        )
    except (DatabaseUnavailableError, InvalidDatabaseUrlError) as exc:
        raise CommandError(_database_error(exc, args.database_url)) from None
    process.start()
    print("WEIR_DAEMON_READY", flush=True)
    _wait_for_signal(stop)
    print("Stopping…", flush=True)
    process.stop()
    return 0


def _wait_for_signal(stop: threading.Event) -> None:
    """Wait until a signal handler sets `stop`. With a timeout, not one long wait: the
    kernel may deliver the signal to another thread, and then the handler runs only once
    this (the main) thread runs Python code again."""
    while not stop.wait(0.5):
        pass


def _database_error(exc: Exception, url: str | None) -> str:
    """One line on a database the control plane cannot use; its password is never shown."""
    from weir_controlplane.storage.engine import default_database_url, masked
    from weir_controlplane.storage.errors import InvalidDatabaseUrlError

    if isinstance(exc, InvalidDatabaseUrlError):
        return f"--database-url: {exc}"
    url = url or default_database_url()
    # The driver's own reason (say, "Connection refused"), first line only.
    reason = str(getattr(exc.__cause__, "orig", None) or exc).strip().splitlines()[0]
    password = _password_of(url)
    if password:
        reason = reason.replace(password, "***")
    return f"Cannot reach the database at {masked(url)}: {reason}. Check --database-url"


def _password_of(url: str) -> str | None:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).password
    except ValueError:
        return None


def _print_status(plane: ControlPlane) -> None:
    from weir_controlplane.api.web_ui import ui_built

    assert plane.registry is not None and plane.storage is not None
    scope = plane.storage.deployments.get_scope("prod")
    print(f"Weir control plane: {plane.http_url} (HTTP/JSON), grpc {plane.config.host}:"
          f"{plane.grpc_port}")  # fmt: skip
    print(f"  web UI: {plane.http_url}/" + ("" if ui_built() else " (not built: run `make ui`)"))
    print("  auth: " + ("bearer tokens required (weir admin bootstrap makes the first)"
                        if plane.config.auth else "off (loopback only)"))  # fmt: skip
    for state in plane.registry.list_locations(scope):
        detail = f"{state.asset_count} assets" if state.error is None else state.error
        print(f"  code location {state.name}: {state.status.value} ({detail})")
    print(f"WEIR_CONTROLPLANE_READY grpc={plane.grpc_port} http={plane.http_port}", flush=True)
    sys.stdout.flush()
