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
    from weir_controlplane.locations import LocationSpec
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
    _evaluation_timeout_option(daemon)
    daemon.add_argument("-v", "--verbose", action="store_true", help="log at INFO")
    daemon.set_defaults(handler=run_daemon)


def _evaluation_timeout_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--evaluation-timeout",
        type=float,
        default=60.0,
        help="seconds a sensor or schedule function may take before its tick fails",
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
    parser.add_argument("--heartbeat-interval", type=float, default=2.0, help="seconds")
    parser.add_argument("--heartbeat-timeout", type=float, default=20.0, help="seconds")
    parser.add_argument(
        "--automation-interval",
        type=float,
        default=30.0,
        help="seconds between evaluations of the assets' automation conditions",
    )
    parser.add_argument(
        "--allowed-host",
        action="append",
        default=[],
        metavar="NAME",
        help="a host name the HTTP API answers besides loopback and --host (repeatable)",
    )
    _evaluation_timeout_option(parser)
    parser.add_argument("-v", "--verbose", action="store_true", help="log at INFO")


def run_dev(args: argparse.Namespace) -> int:
    from weir_controlplane.locations import LocationSpec
    from weir_controlplane.locations.workspace import codeserver_command

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
    from weir_controlplane.locations import load_workspace

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


def _first(*values: int | None) -> int:
    return next(value for value in values if value is not None)


def _serve(args: argparse.Namespace, specs: list[LocationSpec]) -> int:
    # Imported here: `weir runs list` and friends should not pay for the server's imports.
    from weir_controlplane.app import ControlPlane, ControlPlaneConfig
    from weir_controlplane.storage.errors import DatabaseUnavailableError, InvalidDatabaseUrlError

    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    queue = _run_queue(args.workspace)
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
            backfill_max_queued=args.backfill_max_queued,
            backfill_lease=args.backfill_lease,
            allowed_hosts=tuple(args.allowed_host),
            auth=args.auth,
            daemons=getattr(args, "daemons", True),
            evaluation_timeout=args.evaluation_timeout,
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
    plane = ControlPlane(config)
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
    _print_status(plane)
    stop.wait()
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
    if not args.evaluation_timeout > 0:
        raise CommandError(
            f"--evaluation-timeout must be a positive number of seconds (got "
            f"{args.evaluation_timeout})"
        )
    specs = _workspace(args.workspace)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        process = DaemonProcess(
            database_url=args.database_url,
            workspace=tuple(specs),
            settings=DaemonSettings(evaluation_timeout=args.evaluation_timeout),
        )
    except (DatabaseUnavailableError, InvalidDatabaseUrlError) as exc:
        raise CommandError(_database_error(exc, args.database_url)) from None
    process.start()
    print("WEIR_DAEMON_READY", flush=True)
    stop.wait()
    print("Stopping…", flush=True)
    process.stop()
    return 0


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
    assert plane.registry is not None and plane.storage is not None
    scope = plane.storage.deployments.get_scope("prod")
    print(f"Weir control plane: {plane.http_url} (HTTP/JSON), grpc {plane.config.host}:"
          f"{plane.grpc_port}")  # fmt: skip
    print("  auth: " + ("bearer tokens required (weir admin bootstrap makes the first)"
                        if plane.config.auth else "off (loopback only)"))  # fmt: skip
    for state in plane.registry.list_locations(scope):
        detail = f"{state.asset_count} assets" if state.error is None else state.error
        print(f"  code location {state.name}: {state.status.value} ({detail})")
    print(f"WEIR_CONTROLPLANE_READY grpc={plane.grpc_port} http={plane.http_port}", flush=True)
    sys.stdout.flush()
